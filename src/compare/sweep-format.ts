/**
 * A sweep as text: one line per run (configurations down, metrics across),
 * the refusals, and what the columns mean. The rows are shared with the HTML
 * report (sweep-report.ts). A ksmd CPU column appears only when the runs
 * carry a CPU model's figure (`ksmdCpu`); without one there is no column.
 */
import { PAGE_SIZE } from '../engine/constants.js';
import { formatTable } from '../format/table.js';
import { bytes, int } from './format.js';
import type { RunResult, SweepResult } from './sweep.js';

const NONE = '-';

function seconds(ms: number | null): string {
  return ms === null ? NONE : `${(ms / 1000).toFixed(0)} s`;
}

/** The columns: header and one cell per run. */
export function sweepColumns(s: SweepResult): Array<{ head: string; cell: (r: RunResult) => string }> {
  const cpu = s.runs.some((r) => r.ksmdCpu !== undefined);
  const ok = (f: (r: RunResult) => string) => (r: RunResult) => (r.refused !== undefined ? NONE : f(r));
  return [
    { head: '#', cell: (r) => String(r.index) },
    { head: 'configuration', cell: (r) => r.label },
    { head: 'saved (end)', cell: (r) => (r.refused !== undefined ? 'refused' : int(r.savedEnd)) },
    { head: '50 % at', cell: ok((r) => seconds(r.t50Ms)) },
    { head: '90 % at', cell: ok((r) => seconds(r.t90Ms)) },
    ...(cpu ? [{ head: 'ksmd CPU', cell: ok((r) => (r.ksmdCpu ? `${r.ksmdCpu.seconds.toFixed(2)} s${r.ksmdCpu.share === null ? '' : `, ${(r.ksmdCpu.share * 100).toFixed(1)} %`}` : NONE)) }] : []),
    { head: 'COW breaks', cell: ok((r) => int(r.cowBreaks)) },
    { head: 'peak memory', cell: ok((r) => bytes(r.peakBytes)) },
    { head: 'profit', cell: ok((r) => bytes(r.profitBytes)) },
  ];
}

export function sweepHeader(s: SweepResult): string[] {
  const w = s.workload;
  const dims = [`${s.spec.eras.length} era${s.spec.eras.length === 1 ? '' : 's'}`, ...s.spec.knobs.map((k) => `${k.values.length} ${k.name}`), `${s.spec.policies.length} polic${s.spec.policies.length === 1 ? 'y' : 'ies'}`];
  return [
    w.description ? `${w.name}: ${w.description}` : w.name,
    `sweep ${s.sweep}: ${s.runs.length} run${s.runs.length === 1 ? '' : 's'} (${dims.join(' x ')}); host ${int(w.ramPages)} pages (${bytes(w.ramPages * PAGE_SIZE)}), ${int(w.untilMs / 1000)} s of virtual time${w.timeline ? '' : ' (no timeline: every process starts at 0)'}.`,
  ];
}

export const SWEEP_NOTES = [
  'saved: pages saved at the end (registered pages of live guests minus the frames behind them); 50 % / 90 % at: when pages saved first reached that share of the end\'s.',
  'peak memory: frames in use at their highest (a merged page once). profit: 6.18\'s general_profit formula for every era, (pages_sharing + ksm_zero_pages) x 4 KiB - rmap items x 64 B.',
];

export function formatSweep(s: SweepResult): string {
  const cols = sweepColumns(s);
  const table = formatTable(
    cols.map((c) => c.head),
    s.runs.map((r) => cols.map((c) => c.cell(r))),
    cols.map((c) => c.head !== 'configuration'),
  );
  const out = [...sweepHeader(s), '', table, '', ...SWEEP_NOTES];
  for (const r of s.runs) if (r.refused !== undefined) out.push(`#${r.index} ${r.label}: refused: ${r.refused}`);
  for (const r of s.runs) for (const e of r.errors) out.push(`#${r.index} ${r.label}: ${e}`);
  return out.join('\n');
}

/** `--list`: one line per run, its index and configuration. */
export function formatRunList(runs: ReadonlyArray<{ index: number; label: string }>): string {
  return runs.map((r) => `${r.index}\t${r.label}`).join('\n');
}
