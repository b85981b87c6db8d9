/**
 * A comparison as text: the table (metrics down, configurations across),
 * pages saved per pass, and a terminal chart of it (asciichart). The rows
 * are shared with the HTML report.
 */
import asciichart from 'asciichart';
import { PAGE_SIZE } from '../engine/constants.js';
import wrapAnsi from 'wrap-ansi';
import { formatTableFit } from '../format/table.js';
import { ERAS, type EraEntry } from '../eras/registry.js';
import type { Comparison } from './compare.js';
import { eraColor } from './palette.js';
import type { ConfigResult, PassRecord } from './run.js';

/** The families of metrics: one chart each in the HTML report. */
export const FAMILIES = {
  savings: 'Pages saved per pass',
  convergence: 'Convergence',
  scanning: 'Scanning and hashing',
  comparing: 'Page comparisons',
  trees: 'Tree shape',
  buckets: 'Hash buckets',
  cow: 'Copy-on-write breaks',
  metadata: 'Metadata and profit',
  cpu: 'ksmd CPU (model)',
} as const;
export type Family = keyof typeof FAMILIES;

export interface Row {
  family: Family;
  metric: string;
  values: string[];
}

export const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** Bytes in binary units: `512 B`, `4.0 KiB`, `12.3 MiB`. */
export function bytes(n: number): string {
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  if (v < 1024) return `${sign}${v} B`;
  for (const unit of ['KiB', 'MiB', 'GiB', 'TiB']) {
    v /= 1024;
    if (v < 1024 || unit === 'TiB') return `${sign}${v.toFixed(1)} ${unit}`;
  }
  return `${sign}${v}`;
}

export function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** The state at the end of the last pass (the end state when no pass ran). */
export function lastPass(r: ConfigResult): PassRecord {
  return r.passes[r.passes.length - 1] ?? r.end;
}

/** The registry's entry of a result's era (results are plain data, from JSON or a worker). */
export function eraOf(r: ConfigResult): EraEntry | undefined {
  return ERAS.find((e) => e.id === r.era);
}

export function profitBytes(r: ConfigResult): number {
  return r.end.pagesSaved * PAGE_SIZE - r.end.metadataBytes;
}

const NONE = '-';

/** ksmd CPU seconds: ms below one second. */
function cpuSeconds(s: number): string {
  return s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1000).toFixed(1)} ms`;
}

function depth(s: { nodes: number; maxDepth: number; meanDepth: number } | null): string {
  if (s === null) return NONE;
  return s.nodes === 0 ? 'empty' : `${s.maxDepth} / ${s.meanDepth.toFixed(1)}`;
}

/** The table's rows, in order. */
export function rows(c: Comparison): Row[] {
  const rs = c.configurations;
  const row = (family: Family, metric: string, f: (r: ConfigResult) => string): Row => ({ family, metric, values: rs.map(f) });
  return [
    row('savings', 'merger', (r) => eraOf(r)?.mergerShort ?? r.merger),
    row('savings', 'checksum', (r) => r.checksum),
    row('savings', 'pages saved (end)', (r) => int(r.end.pagesSaved)),
    row('savings', 'KSM pages (pages_shared)', (r) => int(r.end.pagesShared)),
    row('convergence', 'passes run', (r) => int(r.passes.length)),
    row('convergence', 'passes to converge', (r) => (r.converged ? int(r.converged.pass) : `not within ${r.passes.length}`)),
    row('convergence', 'virtual time to converge', (r) => (r.converged ? duration(r.converged.virtualMs) : NONE)),
    row('scanning', 'pages scanned', (r) => int(r.end.pagesScanned)),
    row('scanning', 'checksums computed', (r) => int(r.end.checksums)),
    row('scanning', 'bytes hashed', (r) => bytes(r.end.bytesHashed)),
    row('comparing', 'page comparisons', (r) => int(r.end.comparisons)),
    row('comparing', 'bytes compared', (r) => bytes(r.end.bytesCompared)),
    row('trees', 'stable tree nodes', (r) => (lastPass(r).stable ? int(lastPass(r).stable!.nodes) : NONE)),
    row('trees', 'stable tree depth max / mean', (r) => depth(lastPass(r).stable)),
    row('trees', 'unstable tree nodes', (r) => (lastPass(r).unstable ? int(lastPass(r).unstable!.nodes) : NONE)),
    row('trees', 'unstable tree depth max / mean', (r) => depth(lastPass(r).unstable)),
    row('buckets', 'hash buckets in use', (r) => (lastPass(r).buckets ? int(lastPass(r).buckets!.used) : NONE)),
    row('buckets', 'hash chain length max / mean', (r) => {
      const b = lastPass(r).buckets;
      return b === null ? NONE : `${int(b.longest)} / ${b.mean.toFixed(2)}`;
    }),
    row('buckets', 'false hash matches', (r) => (eraOf(r)?.algorithm === 'hash-2008' ? int(r.end.falseHashMatches) : NONE)),
    row('cow', 'copy-on-write breaks', (r) => int(r.end.cowBreaks)),
    row('metadata', 'tracking items', (r) => int(r.end.trackingItems)),
    row('metadata', 'metadata', (r) => bytes(r.end.metadataBytes)),
    row('metadata', 'profit (saved - metadata)', (r) => bytes(profitBytes(r))),
    row('cpu', 'ksmd CPU (model)', (r) => cpuSeconds(r.ksmdCpu.seconds)),
    row('cpu', 'ksmd share of a core', (r) => (r.ksmdCpu.share === null ? NONE : `${(r.ksmdCpu.share * 100).toFixed(2)} %`)),
  ];
}

export function describePlan(c: Comparison): string {
  const p = c.plan;
  const after = c.workload.source?.startsWith('builtin:') || c.workload.source === null ? "after the workload's steps" : `after the steps of ${c.workload.source}`;
  if (p.passes > 0 && !p.appended) return `the workload's steps only (nothing is left registered after them: no pass added)`;
  if (p.mode === 'passes') return p.passes ? `${after}: ${p.passes} more full pass${p.passes === 1 ? '' : 'es'}` : `the workload's steps only`;
  return `${after}: passes until ${p.quietPasses} in a row change nothing (at most ${p.passes})`;
}

export function header(c: Comparison): string[] {
  const w = c.workload;
  return [
    w.description ? `${w.name}: ${w.description}` : w.name,
    `${w.processes} processes, ${int(w.pages)} pages; batches of ${int(w.pagesToScan)} pages, one per ${c.plan.sleepMs} ms of virtual time; ${describePlan(c)}.`,
  ];
}

export const NOTES = [
  'Counts are totals over the whole run; tree depths and hash chains as at the end of the last pass.',
  'Converged: the last pass that changed pages saved, KSM pages, merges or copy-on-write breaks, followed by 2 passes that changed nothing.',
  "ksmd CPU: the run's work priced by the CPU model (docs/cpu-model.md, profile default: measured on Linux 6.18; older eras' work at 6.18's costs); share of a core over the virtual time.",
  "Metadata: the merger's tracking items (rmap_items, tree_items, hash entries, slots) at their era's struct sizes; profit = pages saved x 4 KiB - metadata.",
];

/** Pages saved per pass, configurations down, passes across (long runs elided in the middle). */
export function perPassTable(c: Comparison, maxColumns = 12, width = Infinity): string {
  const n = Math.max(0, ...c.configurations.map((r) => r.passes.length));
  if (n === 0) return '';
  let cols = Array.from({ length: n }, (_, i) => i);
  if (n > maxColumns) cols = [...cols.slice(0, maxColumns - 2), -1, n - 1];
  const head = ['pages saved after pass', ...cols.map((i) => (i < 0 ? '...' : String(i + 1)))];
  const body = c.configurations.map((r) => [r.label, ...cols.map((i) => (i < 0 ? '' : r.passes[i] !== undefined ? int(r.passes[i].pagesSaved) : ''))]);
  return formatTableFit(head, body, head.map((_, i) => i > 0), width);
}

/** Configurations whose pages saved are the same at every pass: one line in the chart. */
function sameLines(series: number[][]): number[][] {
  const groups = new Map<string, number[]>();
  series.forEach((s, i) => {
    const key = s.join(',');
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  return [...groups.values()];
}

/**
 * Pages saved per pass as terminal charts (asciichart), one small chart per
 * line: configurations that save the same pages at every pass share one,
 * named together, so no line hides another and none is told apart by colour
 * alone (with colour, each is drawn in its era's colour, src/compare/palette.ts).
 * All share one scale and one pass axis, so they compare by eye; the whole
 * is at most `width` columns (many passes: one column per sampled pass).
 */
export function terminalChart(c: Comparison, opts: { color: boolean; width?: number; height?: number } = { color: false }): string {
  const series = c.configurations.map((r) => r.passes.map((p) => p.pagesSaved));
  const n = Math.max(0, ...series.map((s) => s.length));
  if (n === 0) return '';
  const max = Math.max(1, ...series.flat());
  const labelWidth = int(max).length + 1;
  // asciichart: the label, a space, the axis character, then one column per value.
  const pad = ' '.repeat(labelWidth + 2);
  const plotWidth = Math.max(8, Math.min(60, (opts.width ?? 80) - pad.length - 1));
  // The pass each column shows: every pass as an equal run of columns, or every column a sampled pass.
  const step = Math.max(1, Math.floor(plotWidth / n));
  const columns = n * step <= plotWidth ? n * step : plotWidth;
  const passAt = (col: number) => (n * step <= plotWidth ? Math.floor(col / step) : Math.round((col * (n - 1)) / (columns - 1)));
  const groups = sameLines(series);
  const height = opts.height ?? (groups.length === 1 ? 10 : groups.length === 2 ? 5 : 3);
  const lines = ['pages saved per pass'];
  for (const g of groups) {
    const s = series[g[0]];
    // A configuration that ran fewer passes stops short (asciichart takes no gaps).
    const values: number[] = [];
    for (let col = 0; col < columns && passAt(col) < s.length; col++) values.push(s[passAt(col)]);
    if (values.length === 0) values.push(0);
    const color = eraColor(c.configurations[g[0]].era).ansi;
    const names = g.map((i) => c.configurations[i].label);
    const title = `${names.join(', ')}${g.length > 1 ? ' (the same at every pass)' : ''}: ${int(c.configurations[g[0]].end.pagesSaved)}`;
    lines.push(...wrapAnsi(opts.color ? `${color}──${asciichart.reset} ${title}` : title, opts.width ?? 80, { hard: true, trim: false }).split('\n'));
    lines.push(
      asciichart.plot(values, {
        height,
        min: 0,
        max,
        colors: opts.color ? [color] : undefined,
        format: (x: number) => int(x).padStart(labelWidth),
      }),
    );
  }
  let axis = '';
  for (let col = 0; col < columns; col++) {
    const p = passAt(col);
    if (col > 0 && passAt(col - 1) === p) continue;
    const t = String(p + 1);
    if (axis.length + (axis ? 1 : 0) <= col && col + t.length <= columns + 1) axis = axis.padEnd(col) + t;
  }
  const axisLine = `${pad}${axis}`;
  lines.push(axisLine.length + 8 <= (opts.width ?? 80) ? `${axisLine}  (pass)` : axisLine);
  return lines.join('\n');
}

/** Prose wrapped to the width (a word longer than it is cut). */
const wrap = (text: string, width: number) => (Number.isFinite(width) ? wrapAnsi(text, width, { hard: true }) : text);

/**
 * The whole text output: header, table, pages saved per pass, chart, notes;
 * no line wider than `width` (default 80: the tables paged by columns, the
 * prose wrapped); Infinity (`--wide`) leaves every table whole.
 */
export function formatComparison(c: Comparison, opts: { color: boolean; width?: number } = { color: false }): string {
  const width = opts.width ?? 80;
  const head = ['metric', ...c.configurations.map((r) => r.label)];
  const table = formatTableFit(
    head,
    rows(c).map((r) => [r.metric, ...r.values]),
    head.map((_, i) => i > 0),
    width,
  );
  const prose = (l: string) => wrap(l, width);
  const out = [...header(c).map(prose), '', table, '', perPassTable(c, 12, width), '', terminalChart(c, { color: opts.color, width: Number.isFinite(width) ? width : 80 }), '', ...NOTES.map(prose)];
  for (const r of c.configurations) for (const e of r.errors) out.push(prose(`${r.label}: step ${e.step} refused by the era with ${e.errno}`));
  return out.join('\n');
}
