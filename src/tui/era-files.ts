/**
 * The rows the counters panel shows under the five counters for an era
 * with files of its own: what 6.18 exposes and people look at first
 * (general_profit, ksm_zero_pages, the chains, pages_skipped), then the
 * knobs the keys write, then the rest in the era's order; and the NUMA
 * nodes where the era files KSM pages per node (it has merge_across_nodes)
 * or the machine has more than one. Eras without a file show none of it.
 */
import type { EraFile, NodeInfo } from '../session/session.js';
import { bytes, count } from './format.js';
import { bindingOfFile, selectedValue, showKey } from './keys.js';
import type { Sample } from './model.js';

/** The files shown first, most looked-at first; the others follow in the era's order. */
const FIRST = [
  'general_profit',
  'ksm_zero_pages',
  'stable_node_chains',
  'stable_node_dups',
  'pages_skipped',
  'pages_scanned',
  'merge_across_nodes',
  'use_zero_pages',
  'max_page_sharing',
  'smart_scan',
  'advisor_mode',
];

/** Files whose figure is in bytes. */
const BYTES = new Set(['general_profit']);

export interface FileRow {
  name: string;
  /** The value as shown: a number shortened, a choice's selected word (`[none] scan-time` → none). */
  value: string;
  /** Past values of a counter file, for its sparkline; absent for knobs. */
  history?: number[];
  /** Shown where a sparkline would be: the key that writes a knob, or the nodes' KSM pages. */
  note?: string;
}


export function fileRows(files: readonly EraFile[], nodes: readonly NodeInfo[], samples: readonly Sample[]): FileRow[] {
  const rank = (name: string) => {
    const i = FIRST.indexOf(name);
    return i < 0 ? FIRST.length : i;
  };
  const ordered = files.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f.name) - rank(b.f.name) || a.i - b.i);
  const rows: FileRow[] = [];
  for (const { f } of ordered) {
    const n = f.value === null || f.value === '' ? Number.NaN : Number(f.value);
    const value = f.value === null ? '?' : !Number.isFinite(n) ? selectedValue(f.value) : BYTES.has(f.name) ? bytes(n) : count(n);
    const key = bindingOfFile(f.name);
    if (f.writable) rows.push({ name: f.name, value, note: key !== undefined ? `${showKey(key.keys[0])}: change` : undefined });
    else rows.push({ name: f.name, value, history: Number.isFinite(n) ? samples.map((s) => s.files[f.name] ?? 0) : undefined });
    if (f.name === 'merge_across_nodes') rows.push(...nodeRows(nodes));
  }
  if (nodes.length > 1 && !files.some((f) => f.name === 'merge_across_nodes')) rows.push(...nodeRows(nodes));
  return rows;
}

/** A row per NUMA node: the KSM pages on it. */
function nodeRows(nodes: readonly NodeInfo[]): FileRow[] {
  return nodes.map((n) => ({ name: `node ${n.node}`, value: count(n.ksmPages), note: 'KSM pages on the node' }));
}
