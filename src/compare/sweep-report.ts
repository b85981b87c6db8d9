/**
 * A sweep as a self-contained HTML page (the same head as compare's report:
 * no network at all, Chart.js inlined): the table of sweep-format.ts, pages
 * saved and free memory over virtual time (one line per run), and the times
 * to 50 % / 90 % of the final saving.
 */
import { esc, REPORT_HEAD, chartJsSource, reportStyle, scriptJson } from './report.js';
import { SWEEP_NOTES, sweepColumns, sweepHeader } from './sweep-format.js';
import type { SweepResult } from './sweep.js';

interface Series {
  id: string;
  title: string;
  y: string;
  kind: 'line' | 'bar';
  labels?: string[];
  datasets: Array<{ label: string; data: Array<{ x: number; y: number }> | Array<number | null> }>;
}

function seriesOf(s: SweepResult): Series[] {
  const ran = s.runs.filter((r) => r.refused === undefined);
  const line = (pick: (r: (typeof ran)[number]) => Array<[number, number]>) => ran.map((r) => ({ label: r.label, data: pick(r).map(([t, y]) => ({ x: t / 1000, y })) }));
  return [
    { id: 'saved', title: 'Pages saved over virtual time', y: 'pages saved', kind: 'line', datasets: line((r) => r.saved) },
    { id: 'free', title: 'Free memory over virtual time', y: 'free pages', kind: 'line', datasets: line((r) => r.free) },
    { id: 'pages-to-scan', title: 'pages_to_scan as the policies set it', y: 'pages_to_scan', kind: 'line', datasets: line((r) => r.pagesToScan) },
    {
      id: 'convergence',
      title: 'Time to 50 % and 90 % of the final saving',
      y: 'seconds of virtual time',
      kind: 'bar',
      labels: ran.map((r) => r.label),
      datasets: [
        { label: '50 %', data: ran.map((r) => (r.t50Ms === null ? null : r.t50Ms / 1000)) },
        { label: '90 %', data: ran.map((r) => (r.t90Ms === null ? null : r.t90Ms / 1000)) },
      ],
    },
  ];
}

const PAGE_SCRIPT = `
(function () {
  var specs = JSON.parse(document.getElementById('ksm-charts').textContent);
  var palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];
  specs.forEach(function (s) {
    var canvas = document.getElementById('chart-' + s.id);
    var scales = s.kind === 'line'
      ? { x: { type: 'linear', title: { display: true, text: 'virtual time (s)' } }, y: { beginAtZero: true, title: { display: true, text: s.y } } }
      : { y: { beginAtZero: true, title: { display: true, text: s.y } } };
    new Chart(canvas, {
      type: s.kind,
      data: { labels: s.labels, datasets: s.datasets.map(function (d, i) { var c = palette[i % palette.length]; return { label: d.label, data: d.data, borderColor: c, backgroundColor: s.kind === 'line' ? c : c + 'cc', stepped: s.kind === 'line' ? 'after' : false, pointRadius: 0, borderWidth: 1.5 }; }) },
      options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { position: 'bottom', labels: { boxWidth: 10 } } }, scales: scales }
    });
  });
  document.documentElement.setAttribute('data-charts', String(specs.length));
})();
`;

export function renderSweepReport(s: SweepResult, command?: string): string {
  const cols = sweepColumns(s);
  const specs = seriesOf(s);
  const head = cols.map((c) => `<th>${esc(c.head)}</th>`).join('');
  const body = s.runs.map((r) => `<tr>${cols.map((c) => `<td>${esc(c.cell(r))}</td>`).join('')}</tr>`).join('\n');
  const refused = s.runs.filter((r) => r.refused !== undefined).map((r) => `<li>#${r.index} ${esc(r.label)}: ${esc(r.refused!)}</li>`).join('\n');
  const charts = specs.map((c) => `<section class="chart"><h2>${esc(c.title)}</h2><div class="box"><canvas id="chart-${c.id}" role="img" aria-label="${esc(c.title)}"></canvas></div></section>`).join('\n');
  return `${REPORT_HEAD}<title>ksmctl compare sweep: ${esc(s.workload.name)}</title>
${reportStyle({ maxWidth: 1200, labelColumn: 'nth-child(2)', chartMin: 520, chartHeight: 360 })}
</head>
<body>
<h1>KSM tuning sweep: ${esc(s.workload.name)}</h1>
${sweepHeader(s).map((l) => `<p class="meta">${esc(l)}</p>`).join('\n')}
${command ? `<p class="meta">Produced by <code>${esc(command)}</code></p>` : ''}
<table id="runs">
<thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody>
</table>
${refused ? `<ul class="note">${refused}</ul>` : ''}
<div class="charts">
${charts}
</div>
${SWEEP_NOTES.map((n) => `<p class="note">${esc(n)}</p>`).join('\n')}
<script type="application/json" id="ksm-charts">${scriptJson(specs)}</script>
<script type="application/json" id="ksm-sweep">${scriptJson(s)}</script>
<script>${chartJsSource()}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
