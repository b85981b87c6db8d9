/**
 * The HTML report in a real browser: headless Chromium (Debian's, driven by
 * playwright-core) opens it from a file with every network request refused,
 * and it must load without an error and show one chart per metric family.
 */
import test from 'ava';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compare } from '../../src/compare/compare.js';
import { configurations } from '../../src/compare/configs.js';
import { ERA_IDS } from '../../src/eras/registry.js';
import { FAMILIES } from '../../src/compare/format.js';
import { chartSpecs, renderReport } from '../../src/compare/report.js';
import { builtinWorkload } from '../../src/workload/builtin.js';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p !== undefined && p !== '' && existsSync(p));
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

async function report(): Promise<{ html: string; families: string[] }> {
  // Churn gives every family data: trees, buckets, copy-on-write breaks.
  const w = builtinWorkload('volatile-churn:n=2,pages=64,rounds=2')!;
  const c = await compare({ workload: w }, configurations([...ERA_IDS], null), { mode: 'until-converged', passes: 10 }, { jobs: 0 });
  return { html: renderReport(c, 'ksmctl compare builtin:volatile-churn:n=2,pages=64,rounds=2'), families: chartSpecs(c).map((s) => s.family) };
}

test('the report has one chart spec per family, in order', async (t) => {
  const { families } = await report();
  t.deepEqual(families, Object.keys(FAMILIES));
});

test('one colour per era in every chart; lines that coincide drawn wider beneath, and named in the note', async (t) => {
  const w = builtinWorkload('identical-guests:n=3,pages=64,passes=1')!;
  const c = await compare({ workload: w }, configurations(['v1:2008', 'v1:2009', 'v2', 'v3:2.6.32'], ['lookup2', 'xxhash']), { mode: 'until-converged', passes: 10 }, { jobs: 0 });
  const specs = chartSpecs(c);
  const savings = specs.find((s) => s.family === 'savings')!;
  const colorOf = new Map<string, string>();
  savings.datasets.forEach((d, i) => {
    const era = c.configurations[i].era;
    t.is(colorOf.get(era) ?? d.line!.color, d.line!.color, `${era}: one colour`);
    colorOf.set(era, d.line!.color);
  });
  t.is(new Set(colorOf.values()).size, 4, 'four eras, four colours');
  // Every line differs from every other in colour, dash, width or point shape.
  const looks = savings.datasets.map((d) => JSON.stringify([d.line!.color, d.line!.dash, d.line!.width, d.line!.point]));
  t.is(new Set(looks).size, looks.length);
  const key = (i: number) => c.configurations[i].passes.map((p) => p.pagesSaved).join(',');
  for (let i = 0; i < savings.datasets.length; i++) {
    for (let j = 0; j < i; j++) if (key(i) === key(j)) t.true(savings.datasets[i].line!.width > savings.datasets[j].line!.width, `${savings.datasets[i].label} beneath ${savings.datasets[j].label} is wider`);
  }
  if (key(2) === key(4)) t.regex(savings.note, /v1:2009\+lookup2.* and .*save the same at every pass/);
  for (const s of specs.filter((x) => x.type === 'bar')) t.deepEqual(s.colors, c.configurations.map((r) => colorOf.get(r.era)), `${s.family}: bars in their era's colour`);
});

const title = 'the HTML report opens in headless Chromium offline, without errors, with one chart per metric family';
if (CHROMIUM === undefined && !process.env.CI) {
  test.skip(`${title} (skipped: no Chromium found at /usr/bin/chromium; apt-get install chromium, or set CHROMIUM_PATH)`, () => {});
} else {
  test(title, async (t) => {
    t.timeout(120_000);
    if (CHROMIUM === undefined) return t.fail('no Chromium on the CI machine: .ci/run installs it (apt-get install chromium)');
    const { chromium } = await import('playwright-core');
    const dir = mkdtempSync(join(tmpdir(), 'ksm-report-'));
    const file = join(dir, 'report.html');
    writeFileSync(file, (await report()).html);
    const context = await chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000 });
    try {
      const errors: string[] = [];
      const refused: string[] = [];
      await context.route('**/*', (route) => {
        const url = route.request().url();
        if (url.startsWith('file:')) return route.continue();
        refused.push(url);
        return route.abort();
      });
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
      await page.goto(pathToFileURL(file).href, { timeout: 30_000 });
      await page.waitForSelector('html[data-charts]', { timeout: 30_000 });
      const charts = await page.evaluate(() => {
        const g = globalThis as unknown as { Chart: { getChart(c: unknown): { data: { datasets: Array<{ data: unknown[] }> } } | undefined }; document: any };
        return [...g.document.querySelectorAll('section.chart')].map((s: any) => {
          const canvases = s.querySelectorAll('canvas');
          const chart = canvases.length === 1 ? g.Chart.getChart(canvases[0]) : undefined;
          return {
            family: s.dataset.family as string,
            canvases: canvases.length as number,
            drawn: (canvases[0]?.width ?? 0) > 0 && (canvases[0]?.height ?? 0) > 0,
            datasets: chart?.data.datasets.length ?? 0,
            values: chart?.data.datasets.reduce((n, d) => n + d.data.filter((v) => v !== null).length, 0) ?? 0,
          };
        });
      });
      t.deepEqual(errors, []);
      t.deepEqual(refused, [], 'the page asked for nothing outside its file');
      t.deepEqual(
        charts.map((c) => c.family),
        Object.keys(FAMILIES),
      );
      for (const c of charts) {
        t.is(c.canvases, 1, c.family);
        t.true(c.drawn, c.family);
        t.true(c.datasets > 0 && c.values > 0, `${c.family}: ${JSON.stringify(c)}`);
      }
      t.is(await page.getAttribute('html', 'data-charts'), String(Object.keys(FAMILIES).length));
    } finally {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
