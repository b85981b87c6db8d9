/** `ksmctl workloads [--json]`: the built-in workloads, with their parameters. */
import { builtinNames, builtinWorkload } from '../../workload/builtin.js';
import { findGenerator } from '../../workload/library.js';
import { formatTable } from '../../format/table.js';

export interface WorkloadInfo {
  name: string;
  description: string;
  /** Parameters (`name=default`) of a parameterized one; empty for the fixed ones. */
  params: Array<{ name: string; default: number | string; doc: string; min?: number; max?: number; repeat?: boolean }>;
}

export function listWorkloads(): WorkloadInfo[] {
  return builtinNames().map((name) => {
    const g = findGenerator(name);
    if (g !== undefined) return { name, description: g.summary, params: g.params.map((p) => ({ ...p })) };
    return { name, description: builtinWorkload(name)?.description ?? '', params: [] };
  });
}

export function formatWorkloads(list: WorkloadInfo[], json: boolean): string {
  if (json) return JSON.stringify(list, null, 2);
  const lines: string[] = ['Built-in workloads: builtin:NAME, or builtin:NAME:key=value,key=value for the parameterized ones.', ''];
  for (const w of list) {
    lines.push(`${w.name}  ${w.description}`);
    if (w.params.length) {
      const rows = w.params.map((p) => [`  ${p.name}=${p.default}`, p.min !== undefined ? `${p.min}..${p.max}` : p.repeat ? 'repeatable' : '', p.doc]);
      lines.push(formatTable(['  parameter=default', 'range', ''], rows));
    }
    lines.push('');
  }
  lines.push('Example: ksmctl compare builtin:identical-guests:n=8,pages=2048');
  return lines.join('\n');
}
