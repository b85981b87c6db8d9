/**
 * The memory guard: a workload's memory is estimated before it runs
 * (src/workload/memory-need.ts) and a run larger than the machine's
 * available memory is refused in one line, exit 2, at once; an allocation
 * that fails anyway is one line too (src/cli/memory-guard.ts).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { CliError } from '../../src/cli/errors.js';
import { checkMemory, checkWorkloadMemory, isSizeError, memoryAvailable, memoryBudget } from '../../src/cli/memory-guard.js';
import { PER_FULL_CONTENT, PER_SEEDED_CONTENT, PER_SHORT_CONTENT, workloadMemoryNeed } from '../../src/workload/memory-need.js';
import { parseWorkloadText } from '../../src/workload/schema.js';
import { ksmctl, STACK } from '../helpers/cli.js';

const GiB = 1024 ** 3;
const dir = mkdtempSync(join(tmpdir(), 'ksmctl-memory-'));

const doc = (processes: Record<string, unknown>) => parseWorkloadText(JSON.stringify({ name: 'm', processes, steps: [] }), 'm.json');

test('distinct contents are counted once however many pages and processes share them', (t) => {
  // Two guests of one image (seeds 100..1099) and private heaps (2000.., 2500..: overlapping by 500).
  const w = doc({
    a: [{ pages: 1000, content: { seedFrom: 100 } }, { pages: 1000, content: { seedFrom: 2000 } }, { pages: 64, content: 'zero' }],
    b: [{ pages: 1000, content: { seedFrom: 100 } }, { pages: 1000, content: { seedFrom: 2500 } }, { pages: 64, content: { fill: 7 } }],
  });
  const n = workloadMemoryNeed(w, 'v3:2.6.32');
  t.is(n.pages, 4128);
  t.is(n.fullContents, 1000 + 1500);
  t.is(n.shortContents, 2);
  // Seeded contents stay seeds (a few hundred bytes) except under the 2008 merger, which keeps them whole.
  t.true(n.bytes >= n.fullContents * PER_SEEDED_CONTENT + n.shortContents * PER_SHORT_CONTENT);
  t.true(workloadMemoryNeed(w, 'v1:2008').bytes >= n.fullContents * PER_FULL_CONTENT);
  // The 2008 hash merger writes every page whole: its short contents cost a page each.
  const tails = doc({ a: [{ pages: 10_000, content: { tailFrom: 0 } }] });
  t.true(workloadMemoryNeed(tails, 'v1:2008').bytes > 10_000 * 4096);
  t.true(workloadMemoryNeed(tails, 'v3:6.18').bytes < 10_000 * 1024);
});

test('a run over the budget is refused in one line naming the workload, its size and the way past', (t) => {
  const w = doc({ a: [{ pages: 1 << 20, content: { seedFrom: 1 } }] });
  const e = t.throws(() => checkWorkloadMemory('big.json', w, ['v1:2008'], { available: 2 * GiB }), { instanceOf: CliError });
  t.is(e.exitCode, 2);
  t.regex(e.message, /^big\.json \(1,048,576 pages, 1,048,576 distinct contents\) needs about 4\.\d GiB of memory, more than this machine has available \(2\.0 GiB, 1\.0 GiB after headroom\); --force-memory runs it anyway$/);
  t.notThrows(() => checkWorkloadMemory('big.json', w, ['v1:2008'], { available: 64 * GiB }));
  t.notThrows(() => checkWorkloadMemory('big.json', w, ['v1:2008'], { available: 2 * GiB, force: true }));
  // compare: every configuration at once holds its own copy; fewer jobs may fit.
  const four = ['v1:2008', 'v1:2009', 'v2', 'v3:2.6.32'];
  const c = t.throws(() => checkWorkloadMemory('big.json', w, four, { available: 8 * GiB, concurrent: 4 }), { instanceOf: CliError });
  t.regex(c.message, /4 configurations at once.*; --jobs 3 runs 3 configurations at a time within it; --force-memory/);
  t.notThrows(() => checkWorkloadMemory('big.json', w, four, { available: 8 * GiB, concurrent: 3 }));
});

test('the budget leaves headroom of what the machine has', (t) => {
  t.true(memoryAvailable() > 0);
  t.is(memoryBudget(8 * GiB), 6 * GiB);
  t.is(memoryBudget(1 * GiB), 0);
  t.throws(() => checkMemory('x', 1, { available: 1 * GiB }), { instanceOf: CliError });
});

test('V8 allocation failures are recognised, also as a compare worker passes them on', (t) => {
  t.true(isSizeError(new RangeError('Invalid typed array length: 4294967298')));
  t.true(isSizeError(new Error('v3:2.6.32: Array buffer allocation failed')));
  t.false(isSizeError(new RangeError('Maximum call stack size exceeded')));
});

test('workload run: a region of 4,194,304 seeded pages under v1:2008 (its hash merger keeps every page whole) is refused at once, exit 2', (t) => {
  const file = join(dir, 'big.json');
  writeFileSync(file, JSON.stringify({ name: 'big', processes: { a: [{ pages: 4194304, content: { seedFrom: 1 } }] }, steps: [{ register: 'a' }, { fullScans: 1 }] }));
  const r = ksmctl(['workload', 'run', file, '--json', '--era', 'v1:2008']);
  if (memoryBudget() > 20 * GiB) return t.pass(`this machine has ${(memoryAvailable() / GiB).toFixed(0)} GiB available: the workload fits`);
  t.is(r.status, 2);
  t.is(r.stdout, '');
  t.regex(r.stderr, /^ksmctl: .*big\.json \(4,194,304 pages, 4,194,304 distinct contents\) needs about 1\d\.\d GiB of memory, more than this machine has available .*--force-memory runs it anyway\n$/);
  // The TUI's private session too (here without a terminal: its table instead).
  const tui = ksmctl(['tui', file, '--no-host', '--era', 'v1:2008']);
  t.is(tui.status, 2);
  t.regex(tui.stderr, /^ksmctl: .*big\.json \(4,194,304 pages, .*--force-memory runs it anyway$/m);
});

test('compare: 1024 guests of 4,194,304 pages is one line, exit 2, and with --force-memory the failed allocation is one line too', (t) => {
  const spec = 'builtin:identical-guests:n=1024,pages=4194304';
  const r = ksmctl(['compare', spec]);
  t.is(r.status, 2);
  t.regex(r.stderr, /^ksmctl: builtin:identical-guests:n=1024,pages=4194304 \(4,294,967,296 pages, .*\) needs about \d+\.\d GiB of memory, more than this machine has available .*\n$/);
  const f = ksmctl(['compare', spec, '--force-memory', '--eras', 'v3', '--jobs', '1']);
  t.is(f.status, 2);
  t.regex(f.stderr, /^ksmctl: out of memory: an allocation failed \(v3:2\.6\.32: Invalid typed array length: \d+\)/);
  t.notRegex(f.stderr, STACK);
  t.is(f.stderr.trim().split('\n').length, 1);
});
