/**
 * A comparison as a self-contained HTML page: the table, pages saved per
 * pass, and one Chart.js chart per family of metrics. Chart.js (its UMD
 * build, from node_modules) is inlined when the report is written, and the
 * page's Content-Security-Policy allows no request at all: it opens from a
 * file, offline, in any browser.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Comparison } from './compare.js';
import { eraOf, FAMILIES, type Family, header, lastPass, NOTES, profitBytes, rows } from './format.js';
import { DASHES, eraColor, POINT_STYLES } from './palette.js';
import type { ConfigResult } from './run.js';

interface Dataset {
  label: string;
  data: Array<number | null>;
  /** The right-hand axis (a second unit). */
  right?: boolean;
  /** A line of one configuration: its era's colour, and a dash, width and point shape that tell it from the others. */
  line?: { color: string; dash: number[]; width: number; point: string; radius: number };
}

/** One chart: what the page's script hands to Chart.js. */
export interface ChartSpec {
  family: Family;
  title: string;
  type: 'line' | 'bar';
  labels: string[];
  datasets: Dataset[];
  left: string;
  right?: string;
  /** Bar charts: one colour per bar, its configuration's era (a metric is a fill style, never a colour). */
  colors?: string[];
  note: string;
}

/**
 * The pages-saved lines: colour = era; among configurations of one era,
 * the dash and point shape; and a line drawn over another that is the same
 * at every pass is drawn thinner than it (Chart.js draws dataset 0 last,
 * on top), so both stay visible. Returns too the note naming such lines.
 */
function savingsLines(rs: readonly ConfigResult[]): { lines: NonNullable<Dataset['line']>[]; same: string } {
  const key = (r: ConfigResult) => r.passes.map((p) => p.pagesSaved).join(',');
  const perEra = new Map<string, number>();
  const groups = new Map<string, string[]>();
  const lines = rs.map((r, i) => {
    const k = perEra.get(r.era) ?? 0;
    perEra.set(r.era, k + 1);
    const above = rs.slice(0, i).filter((o) => key(o) === key(r)).length;
    groups.set(key(r), [...(groups.get(key(r)) ?? []), r.label]);
    return { color: eraColor(r.era).hex, dash: DASHES[k % DASHES.length], width: 2 + 3 * above, point: POINT_STYLES[i % POINT_STYLES.length], radius: 3 + 2 * above };
  });
  const same = [...groups.values()].filter((g) => g.length > 1).map((g) => `${g.slice(0, -1).join(', ')} and ${g[g.length - 1]} save the same at every pass: their lines lie on one another, each drawn wider than the one above it.`);
  return { lines, same: same.join(' ') };
}

const MiB = 1024 * 1024;
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** The charts of a comparison, one per family, in FAMILIES order. */
/**
 * The opening of every self-contained report (compare's, estimate's): no
 * network at all (Content-Security-Policy: nothing but inline scripts,
 * styles and data: images), then the page's own <title> and <style>.
 */
export const REPORT_HEAD = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
`;

/**
 * The stylesheet of the compare and sweep reports: figures in a table
 * (numbers right, the label column left) and charts in a grid.
 */
export function reportStyle(o: { maxWidth: number; labelColumn: 'first-child' | 'nth-child(2)'; chartMin: number; chartHeight: number }): string {
  return `<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: ${o.maxWidth}px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin: 0.2em 0; }
table { border-collapse: collapse; margin: 1em 0; font-variant-numeric: tabular-nums; }
td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; } td:${o.labelColumn}, th:${o.labelColumn} { text-align: left; }
th { background: #f3f3f3; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(${o.chartMin}px, 1fr)); gap: 1.2em; }
.chart { border: 1px solid #ddd; border-radius: 6px; padding: 0.8em; }
.box { position: relative; height: ${o.chartHeight}px; }
.note, .meta { color: #555; font-size: 0.92em; }
code { background: #f3f3f3; padding: 1px 4px; }
</style>`;
}

export function chartSpecs(c: Comparison): ChartSpec[] {
  const rs = c.configurations;
  const labels = rs.map((r) => r.label);
  const per = (f: (r: ConfigResult) => number | null) => rs.map(f);
  const tree = (r: ConfigResult, which: 'stable' | 'unstable', k: 'maxDepth' | 'meanDepth') => {
    const s = lastPass(r)[which];
    return s === null ? null : round(s[k]);
  };
  const bucket = (r: ConfigResult, k: 'longest' | 'mean') => {
    const b = lastPass(r).buckets;
    return b === null ? null : round(b[k]);
  };
  const passes = Math.max(0, ...rs.map((r) => r.passes.length));
  const savings = savingsLines(rs);
  const specs: Record<Family, Omit<ChartSpec, 'family' | 'title'>> = {
    savings: {
      type: 'line',
      labels: Array.from({ length: passes }, (_, i) => String(i + 1)),
      datasets: rs.map((r, j) => ({ label: r.label, data: Array.from({ length: passes }, (_, i) => r.passes[i]?.pagesSaved ?? null), line: savings.lines[j] })),
      left: 'pages saved',
      note: `Pages saved (registered present pages minus the distinct frames behind them) at the end of each pass.${savings.same ? ` ${savings.same}` : ''}`,
    },
    convergence: {
      type: 'bar',
      labels,
      datasets: [
        { label: 'passes to converge', data: per((r) => r.converged?.pass ?? null) },
        { label: 'virtual time to converge (s)', data: per((r) => (r.converged ? round(r.converged.virtualMs / 1000, 3) : null)), right: true },
      ],
      left: 'passes',
      right: 'seconds of virtual time',
      note: `The last pass that changed anything, followed by ${c.plan.quietPasses} that changed nothing; virtual time is its batches x ${c.plan.sleepMs} ms. No bar: not converged.`,
    },
    scanning: {
      type: 'bar',
      labels,
      datasets: [
        { label: 'pages scanned', data: per((r) => r.end.pagesScanned) },
        { label: 'checksums computed', data: per((r) => r.end.checksums) },
        { label: 'bytes hashed (MiB)', data: per((r) => round(r.end.bytesHashed / MiB)), right: true },
      ],
      left: 'count',
      right: 'MiB',
      note: 'Totals over the run. The hash merger hashes every page it scans (bucket hash) and HMAC-SHA1s 128 bytes of each page pair it tries.',
    },
    comparing: {
      type: 'bar',
      labels,
      datasets: [
        { label: 'page comparisons', data: per((r) => r.end.comparisons) },
        { label: 'bytes compared (MiB)', data: per((r) => round(r.end.bytesCompared / MiB)), right: true },
      ],
      left: 'comparisons',
      right: 'MiB',
      note: 'memcmp of two pages (tree walks, the final check before a merge; the hash merger: its digest-and-memcmp check), and the bytes read up to the first difference.',
    },
    trees: {
      type: 'bar',
      labels,
      datasets: [
        { label: 'stable tree, max depth', data: per((r) => tree(r, 'stable', 'maxDepth')) },
        { label: 'stable tree, mean depth', data: per((r) => tree(r, 'stable', 'meanDepth')) },
        { label: 'unstable tree, max depth', data: per((r) => tree(r, 'unstable', 'maxDepth')) },
        { label: 'unstable tree, mean depth', data: per((r) => tree(r, 'unstable', 'meanDepth')) },
      ],
      left: 'depth (root = 1)',
      note: 'Red-black trees at the end of the last pass (the 2009 mergers: just before the unstable tree is flushed). The hash merger has none.',
    },
    buckets: {
      type: 'bar',
      labels,
      datasets: [
        { label: 'longest chain', data: per((r) => bucket(r, 'longest')) },
        { label: 'mean chain (used buckets)', data: per((r) => bucket(r, 'mean')) },
        { label: 'false hash matches', data: per((r) => (eraOf(r)?.algorithm === 'hash-2008' ? r.end.falseHashMatches : null)), right: true },
      ],
      left: 'entries per bucket',
      right: 'false matches',
      note: 'The hash merger only: page_hash chains at the end of the last pass, and bucket-mates tried whose contents differed.',
    },
    cow: {
      type: 'bar',
      labels,
      datasets: [{ label: 'copy-on-write breaks', data: per((r) => r.end.cowBreaks) }],
      left: 'breaks',
      note: 'Copy-on-write faults that copied a page mapped more than once: writes to merged pages, and the mergers breaking their own KSM pages.',
    },
    metadata: {
      type: 'bar',
      labels,
      datasets: [
        { label: 'metadata (KiB)', data: per((r) => round(r.end.metadataBytes / 1024, 1)) },
        { label: 'pages saved (KiB)', data: per((r) => r.end.pagesSaved * 4) },
        { label: 'profit (KiB)', data: per((r) => round(profitBytes(r) / 1024, 1)) },
      ],
      left: 'KiB',
      note: "Tracking items at their era's struct sizes (x86_64) at the end; profit = pages saved x 4 KiB - metadata.",
    },
    cpu: {
      type: 'bar',
      labels,
      datasets: [
        { label: 'ksmd CPU (ms)', data: per((r) => round(r.ksmdCpu.seconds * 1000, 1)) },
        { label: 'share of a core (%)', data: per((r) => (r.ksmdCpu.share === null ? null : round(r.ksmdCpu.share * 100, 2))), right: true },
      ],
      left: 'ms of CPU',
      right: '% of one core',
      note: `The run's work priced by the CPU model (profile ${rs[0]?.ksmdCpu.profile ?? 'default'}, measured on Linux 6.18; older eras' work at 6.18's costs: docs/cpu-model.md), over the virtual time of the run.`,
    },
  };
  const colors = rs.map((r) => eraColor(r.era).hex);
  return (Object.keys(FAMILIES) as Family[]).map((family) => ({ family, title: FAMILIES[family], ...specs[family], ...(specs[family].type === 'bar' ? { colors } : {}) }));
}

export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JSON that is safe inside a <script> element. */
export const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

/** Chart.js's UMD build, read from node_modules. */
export function chartJsSource(): string {
  const main = createRequire(import.meta.url).resolve('chart.js');
  return readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8').replace(/<\/script/gi, '<\\/script');
}

/**
 * Builds the Chart.js charts from the specs (runs in the page). Colour is
 * the era everywhere: a line chart's lines, a bar chart's bars (the x axis
 * is the configurations); a bar chart's metrics are fill styles (solid,
 * hatched, outlined, dotted), shown in grey in its legend.
 */
const PAGE_SCRIPT = `
(function () {
  var specs = JSON.parse(document.getElementById('ksm-charts').textContent);
  var FILLS = ['solid', 'hatch', 'outline', 'dots'];
  function fill(color, kind) {
    if (kind === 'solid') return color + 'dd';
    if (kind === 'outline') return color + '18';
    var c = document.createElement('canvas');
    c.width = c.height = 8;
    var g = c.getContext('2d');
    g.fillStyle = color + '18';
    g.fillRect(0, 0, 8, 8);
    g.strokeStyle = g.fillStyle = color;
    if (kind === 'hatch') { g.lineWidth = 2; g.beginPath(); g.moveTo(0, 8); g.lineTo(8, 0); g.moveTo(-2, 2); g.lineTo(2, -2); g.moveTo(6, 10); g.lineTo(10, 6); g.stroke(); }
    else { g.beginPath(); g.arc(4, 4, 1.6, 0, 2 * Math.PI); g.fill(); }
    return g.createPattern(c, 'repeat');
  }
  window.ksmCharts = {};
  specs.forEach(function (s) {
    var canvas = document.getElementById('chart-' + s.family);
    var scales = { y: { beginAtZero: true, title: { display: true, text: s.left } } };
    if (s.right) scales.y1 = { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: s.right } };
    if (s.type === 'line') scales.x = { title: { display: true, text: 'pass' } };
    var legend = { position: 'bottom' };
    if (s.type === 'bar') legend.labels = { generateLabels: function (chart) {
      return chart.data.datasets.map(function (d, i) {
        var kind = FILLS[i % FILLS.length];
        return { text: d.label, fillStyle: fill('#555555', kind), strokeStyle: '#555555', lineWidth: kind === 'outline' ? 2 : 1, hidden: !chart.isDatasetVisible(i), datasetIndex: i };
      });
    } };
    window.ksmCharts[s.family] = new Chart(canvas, {
      type: s.type,
      data: {
        labels: s.labels,
        datasets: s.datasets.map(function (d, i) {
          var base = { label: d.label, data: d.data, yAxisID: d.right ? 'y1' : 'y', spanGaps: false };
          if (s.type === 'line') {
            var l = d.line;
            return Object.assign(base, { borderColor: l.color, backgroundColor: l.color, borderDash: l.dash, borderWidth: l.width, pointStyle: l.point, pointRadius: l.radius, pointHoverRadius: l.radius + 2, stepped: 'after', order: i });
          }
          var kind = FILLS[i % FILLS.length];
          return Object.assign(base, { borderColor: s.colors, backgroundColor: s.colors.map(function (c) { return fill(c, kind); }), borderWidth: kind === 'outline' ? 2 : 1 });
        })
      },
      options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: legend }, scales: scales }
    });
  });
  document.documentElement.setAttribute('data-charts', String(specs.length));
})();
`;

/** The report: one self-contained HTML document. */
export function renderReport(c: Comparison, command?: string): string {
  const specs = chartSpecs(c);
  const table = rows(c);
  const th = c.configurations.map((r) => `<th>${esc(r.label)}</th>`).join('');
  const body = table.map((r) => `<tr><td>${esc(r.metric)}</td>${r.values.map((v) => `<td>${esc(v)}</td>`).join('')}</tr>`).join('\n');
  const passes = Math.max(0, ...c.configurations.map((r) => r.passes.length));
  const perPass = c.configurations
    .map((r) => `<tr><td>${esc(r.label)}</td>${Array.from({ length: passes }, (_, i) => `<td>${r.passes[i] ? r.passes[i].pagesSaved.toLocaleString('en-US') : ''}</td>`).join('')}</tr>`)
    .join('\n');
  const charts = specs
    .map((s) => `<section class="chart" data-family="${s.family}"><h2>${esc(s.title)}</h2><div class="box"><canvas id="chart-${s.family}" role="img" aria-label="${esc(s.title)}"></canvas></div><p class="note">${esc(s.note)}</p></section>`)
    .join('\n');
  return `${REPORT_HEAD}<title>ksmctl compare: ${esc(c.workload.name)}</title>
${reportStyle({ maxWidth: 1100, labelColumn: 'first-child', chartMin: 480, chartHeight: 300 })}
</head>
<body>
<h1>KSM eras compared: ${esc(c.workload.name)}</h1>
${header(c)
  .map((l) => `<p class="meta">${esc(l)}</p>`)
  .join('\n')}
${command ? `<p class="meta">Produced by <code>${esc(command)}</code></p>` : ''}
<table id="metrics">
<thead><tr><th>metric</th>${th}</tr></thead>
<tbody>
${body}
</tbody>
</table>
<div class="charts">
${charts}
</div>
<h2>Pages saved after each pass</h2>
<table id="per-pass">
<thead><tr><th>configuration</th>${Array.from({ length: passes }, (_, i) => `<th>${i + 1}</th>`).join('')}</tr></thead>
<tbody>
${perPass}
</tbody>
</table>
${NOTES.map((n) => `<p class="note">${esc(n)}</p>`).join('\n')}
<script type="application/json" id="ksm-charts">${scriptJson(specs)}</script>
<script type="application/json" id="ksm-comparison">${scriptJson(c)}</script>
<script>${chartJsSource()}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
