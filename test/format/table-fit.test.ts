/**
 * Tables no wider than the terminal: formatTableFit pages columns with the
 * key column repeated; compare's whole text output keeps to 80 columns (or
 * the width given) for several era counts, --checksum and long runs, and
 * `--wide` (Infinity) leaves the table whole.
 */
import test from 'ava';
import fc from 'fast-check';
import { compare, type Comparison } from '../../src/compare/compare.js';
import { configurations, parseChecksums } from '../../src/compare/configs.js';
import { formatComparison } from '../../src/compare/format.js';
import { ERA_IDS, type EraId } from '../../src/eras/registry.js';
import { formatTable, formatTableFit } from '../../src/format/table.js';
import { builtinWorkload } from '../../src/workload/builtin.js';

const widest = (text: string) => Math.max(...text.split('\n').map((l) => [...l].length));

test('a table that fits is formatTable unchanged', (t) => {
  const h = ['metric', 'a', 'b'];
  const rows = [['x', '1', '22']];
  t.is(formatTableFit(h, rows, [false, true, true], 80), formatTable(h, rows, [false, true, true]));
});

test('every line within the width, every cell on some page, the key column on every page', (t) => {
  t.notThrows(() => fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 14 }),
      fc.array(fc.string({ minLength: 1, maxLength: 40, unit: fc.constantFrom('a', 'b', 'x', '1', ' ', '/') }), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 40, max: 160 }),
      (cols, keys, width) => {
        const header = ['metric', ...Array.from({ length: cols }, (_, i) => `era-${i}`)];
        const rows = keys.map((k, r) => [k, ...Array.from({ length: cols }, (_, i) => `${r * 1000 + i} MiB`)]);
        const out = formatTableFit(header, rows, header.map((_, i) => i > 0), width);
        if (widest(out) > width) return false;
        for (const h of header.slice(1)) if (!out.includes(h)) return false;
        for (const r of rows) for (const v of r.slice(1)) if (!out.includes(v)) return false;
        const pages = out.split('\n\n');
        return pages.every((p) => p.startsWith('metric'));
      },
    ),
  ));
});

test('pages share the columns out evenly (7 columns: 4 + 3, not 6 + 1)', (t) => {
  const header = ['metric', ...Array.from({ length: 7 }, (_, i) => `column-${i}`)];
  const out = formatTableFit(header, [['m', ...header.slice(1).map(() => '1')]], [], 70);
  t.deepEqual(
    out.split('\n\n').map((p) => p.split('\n')[0].split(/\s+/).length - 1),
    [4, 3],
  );
});

const W = 'identical-guests:n=3,pages=64,passes=1';
const run = (eras: readonly EraId[], checksum: string | null = null, passes = 0): Promise<Comparison> =>
  compare({ workload: builtinWorkload(W)! }, configurations(eras, checksum === null ? null : parseChecksums(checksum)), passes ? { mode: 'passes', passes } : { mode: 'until-converged', passes: 20 }, { jobs: 0 });

test('compare fits 80 columns: 1, 4 and 6 eras, --checksum (12 and 18 configurations), 150 passes; --wide is whole', async (t) => {
  const cases: Array<[string, Comparison]> = [
    ['v2', await run(['v2'])],
    ['four eras', await run(['v1:2008', 'v1:2009', 'v2', 'v3:2.6.32'])],
    ['six eras', await run([...ERA_IDS])],
    ['four eras --checksum', await run(['v1:2008', 'v1:2009', 'v2', 'v3:2.6.32'], 'lookup2,lookup3,xxhash')],
    ['six eras --checksum', await run([...ERA_IDS], 'lookup2,lookup3,xxhash')],
    ['150 passes', await run(['v2', 'v3:6.18'], null, 150)],
  ];
  for (const [name, c] of cases) {
    for (const color of [false, true]) {
      const out = formatComparison(c, { color });
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
      t.true(widest(plain) <= 80, `${name}${color ? ' (colour)' : ''}: ${widest(plain)} columns`);
      for (const r of c.configurations) t.true(plain.includes(r.label), `${name}: ${r.label} shown`);
    }
    t.true(widest(formatComparison(c, { color: false, width: 60 })) <= 60, `${name} at 60 columns`);
  }
  const wide = formatComparison(cases[3][1], { color: false, width: Infinity });
  t.true(widest(wide) > 80, '--wide: the table whole');
  t.regex(wide, /^metric +v1:2008\+lookup2 +v1:2008\+lookup3 .* v3:2\.6\.32\+xxhash$/m);
});

test('the chart tells configurations apart without colour: one small chart per distinct line, those that coincide named together', async (t) => {
  const c = await run(['v1:2008', 'v1:2009', 'v2']);
  const out = formatComparison(c, { color: false });
  t.notRegex(out, /\((blue|red|green)\)/, 'no legend naming colours');
  t.notRegex(out, /\x1b\[/);
  const chart = out.slice(out.indexOf('pages saved per pass'));
  const series = c.configurations.map((r) => r.passes.map((p) => p.pagesSaved).join(','));
  if (series[1] === series[2]) t.regex(chart, /^v1:2009, v2 \(the same at every pass\): \d+/m);
  t.regex(chart, /^v1:2008: \d+/m);
  const colored = formatComparison(c, { color: true });
  t.regex(colored, /\x1b\[\d+m/);
});
