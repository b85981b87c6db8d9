/**
 * An estimate as a self-contained HTML page in the style of compare's
 * report (compare/report.ts): the terminal's tables, and a Chart.js chart
 * of the pages saved over virtual time for each era, Chart.js inlined and
 * no request allowed by the page's Content-Security-Policy.
 */
import { chartJsSource, esc, REPORT_HEAD, scriptJson } from '../compare/report.js';
import type { Estimate } from './estimate.js';
import { formatEstimate } from './format.js';

const PAGE_SCRIPT = `
const x = JSON.parse(document.getElementById('ksm-estimate').textContent);
new Chart(document.getElementById('saved'), {
  type: 'line',
  data: { datasets: x.eras.map((e) => ({ label: e.replay.era, data: e.replay.curve.map(([t, s]) => ({ x: t / 1000, y: s })), stepped: true, pointRadius: 0 })) },
  options: { animation: false, maintainAspectRatio: false, parsing: false, scales: { x: { type: 'linear', title: { display: true, text: 'virtual time (s)' } }, y: { title: { display: true, text: 'pages saved' } } } },
});`;

export function renderEstimateReport(x: Estimate, command?: string): string {
  return `${REPORT_HEAD}<title>ksmctl estimate: ${esc(x.snapshot.files.join(', '))}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } pre { background: #f7f7f7; padding: 1em; overflow-x: auto; font-size: 12px; }
.box { position: relative; height: 360px; border: 1px solid #ddd; border-radius: 6px; padding: 0.8em; }
.meta { color: #555; font-size: 0.92em; } code { background: #f3f3f3; padding: 1px 4px; }
</style>
</head>
<body>
<h1>What KSM would save: ${esc(x.snapshot.files.join(', '))}</h1>
${command ? `<p class="meta">Produced by <code>${esc(command)}</code></p>` : ''}
<h2>Pages saved over virtual time</h2>
<div class="box"><canvas id="saved" role="img" aria-label="pages saved over virtual time"></canvas></div>
<pre>${esc(formatEstimate(x))}</pre>
<script type="application/json" id="ksm-estimate">${scriptJson(x)}</script>
<script>${chartJsSource()}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
