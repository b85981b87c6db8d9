/** `ksmctl eras`: the era registry as a table and as JSON, every entry with its facts and spellings. */
import test from 'ava';
import { buildProgram, type Io } from '../../src/cli/program.js';
import { formatEras, listEras, wrap } from '../../src/cli/commands/eras.js';
import { ERA_IDS, ERAS, parseEra } from '../../src/eras/registry.js';
import { ksmctl, STACK } from '../helpers/cli.js';

async function inProcess(args: string[]): Promise<string> {
  const out: string[] = [];
  const io: Io = { out: (s) => out.push(s), err: (s) => out.push(`stderr: ${s}`), isTTY: false };
  await buildProgram(io).parseAsync(['node', 'ksmctl', ...args]);
  return out.join('\n');
}

test('--json: one object per registry entry, in its order, with its facts and no functions', async (t) => {
  const rows = JSON.parse(await inProcess(['eras', '--json'])) as Array<Record<string, unknown>>;
  t.deepEqual(
    rows.map((r) => r.id),
    [...ERA_IDS],
  );
  for (const [i, r] of rows.entries()) {
    const e = ERAS[i];
    t.like(r, { id: e.id, family: e.family, seed: e.seed, date: e.date, registration: e.registration, control: e.control, merger: e.merger, algorithm: e.algorithm, checksum: e.checksum });
    t.deepEqual(r.exposed, [...e.exposed]);
    t.false(Object.values(r).some((v) => typeof v === 'function'));
    // Every alias it lists is a spelling --era takes for it.
    for (const a of r.aliases as string[]) t.is(parseEra(a).id, e.id, a);
  }
  t.deepEqual(rows.find((r) => r.id === 'v3:2.6.32')?.aliases, ['v3', 'v3-2.6.32']);
  t.deepEqual(
    rows.filter((r) => r.default).map((r) => r.id),
    ['v3:2.6.32'],
  );
  t.like(rows.find((r) => r.id === 'v1:2009'), { abi: '2009', kernel: null, exposed: [] });
  t.like(rows.find((r) => r.id === 'v3:6.18'), { abi: null, kernel: '6.18' });
});

test('the table: a header with the asked columns, a block per era, the other spellings under it', async (t) => {
  const text = await inProcess(['eras']);
  t.is(text, formatEras(listEras(), false));
  const lines = text.split('\n');
  t.regex(lines[0], /^era\s+date\s+seed\s+registers with\s+control\s+merger\s+counters exposed$/);
  for (const e of ERAS) t.regex(text, new RegExp(`^${e.id.replace(/\./g, '\\.')}\\s+${e.date}\\s`, 'm'), e.id);
  t.regex(text, /^v1:2008 .* none$/m);
  t.regex(text, /^v2 .* pages_shared$/m);
  t.regex(text, /^v3:6\.18 .* all five$/m);
  t.regex(text, /Every --era also takes: v1 = v1:2008, .* v3-6\.18 = v3:6\.18; and --era v1 --abi 2009, --era v3 --kernel 6\.18\./);
  // Cells are wrapped: no line is much wider than the columns.
  t.true(Math.max(...lines.slice(0, -3).map((l) => l.length)) < 160);
});

test('wrap breaks at blanks and after the commas of a long word', (t) => {
  t.deepEqual(wrap('a bb ccc dddd', 6), ['a bb', 'ccc', 'dddd']);
  t.deepEqual(wrap('/sys/{sleep,pages,run} and more', 12), ['/sys/{sleep,', 'pages,run}', 'and more']);
  t.deepEqual(wrap('', 5), ['']);
  t.deepEqual(wrap('averyveryverylongword x', 5), ['averyveryverylongword', 'x']);
});

test('ksmctl eras --json from the command line', (t) => {
  const r = ksmctl(['eras', '--json']);
  t.is(r.status, 0, r.stderr);
  t.notRegex(r.stderr, STACK);
  t.deepEqual(
    (JSON.parse(r.stdout) as Array<{ id: string }>).map((x) => x.id),
    [...ERA_IDS],
  );
});
