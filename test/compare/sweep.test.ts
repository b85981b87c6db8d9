/**
 * Sweeps past one machine: a sweep run whole, and the same sweep as 3 shards
 * in 3 processes (and through GNU parallel when it is installed), merged:
 * the same table, the same JSON. And the one-line refusals of --merge.
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KSMCTL, ksmctl, STACK } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'ksm-sweep-'));
const workload = join(dir, 'storm.json');
writeFileSync(
  workload,
  JSON.stringify({
    name: 'small-storm',
    pagesToScan: 100,
    host: { ramPages: 1100 },
    processes: Object.fromEntries(['a', 'b', 'c'].map((g, i) => [g, [{ runs: [{ pages: 200, content: { seedFrom: 1000 } }, { pages: 100, content: { seedFrom: 50000 + i * 100 } }] }]])),
    steps: [{ register: 'a' }, { fullScans: 1 }],
    timeline: { until: 40000, events: [{ at: 0, start: 'a' }, { at: 5000, start: 'b' }, { at: 10000, start: 'c' }, { at: 12000, churn: 'b', region: 0, pagesPerSecond: 5, revert: 50 }, { at: 30000, exit: 'c' }] },
  }),
);
const SWEEP = [workload, '--eras', 'v3:2.6.32,v3:6.18', '--policies', 'fixed,mom', '--sweep', 'pages_to_scan=50,200', '--jobs', '1'];

function run(args: string[]): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [KSMCTL, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (status) => resolve({ status, stderr }));
  });
}

test('--list prints one line per run: eras x knob values x policies, in order', (t) => {
  const r = ksmctl(['compare', ...SWEEP, '--list']);
  t.is(r.status, 0, r.stderr);
  t.deepEqual(r.stdout.trimEnd().split('\n'), [
    '0\tv3:2.6.32 pages_to_scan=50 fixed',
    '1\tv3:2.6.32 pages_to_scan=50 mom',
    '2\tv3:2.6.32 pages_to_scan=200 fixed',
    '3\tv3:2.6.32 pages_to_scan=200 mom',
    '4\tv3:6.18 pages_to_scan=50 fixed',
    '5\tv3:6.18 pages_to_scan=50 mom',
    '6\tv3:6.18 pages_to_scan=200 fixed',
    '7\tv3:6.18 pages_to_scan=200 mom',
  ]);
  t.regex(r.stderr, /^sweep [0-9a-f]{16}: 8 runs$/m);
});

test('a sweep as 1 shard and as 3 shards in 3 processes merges into the same table and JSON as one run of it', async (t) => {
  const whole = ksmctl(['compare', ...SWEEP, '--json']);
  t.is(whole.status, 0, whole.stderr);
  const table = ksmctl(['compare', ...SWEEP]);
  t.is(table.status, 0, table.stderr);
  t.regex(table.stdout, /pages_to_scan=200 mom/);

  const one = join(dir, 'one.jsonl');
  t.is((await run(['compare', ...SWEEP, '--shard', '1/1', '--out', one])).status, 0);
  const parts = [1, 2, 3].map((i) => join(dir, `part-${i}.jsonl`));
  const rs = await Promise.all(parts.map((f, i) => run(['compare', ...SWEEP, '--shard', `${i + 1}/3`, '--out', f])));
  for (const r of rs) t.is(r.status, 0, r.stderr);
  // Shard i holds the runs i-1, i-1+3, ...
  t.deepEqual(readFileSync(parts[1], 'utf8').trimEnd().split('\n').slice(1).map((l) => JSON.parse(l).index), [1, 4, 7]);

  const merged = ksmctl(['compare', '--merge', ...parts, '--json']);
  t.is(merged.status, 0, merged.stderr);
  t.deepEqual(JSON.parse(merged.stdout), JSON.parse(whole.stdout));
  t.deepEqual(JSON.parse(ksmctl(['compare', '--merge', one, '--json']).stdout), JSON.parse(whole.stdout));
  t.is(ksmctl(['compare', '--merge', parts[2], parts[0], parts[1]]).stdout, table.stdout, 'the parts in any order');

  const report = join(dir, 'sweep.html');
  const withReport = ksmctl(['compare', '--merge', ...parts, '--report', report]);
  t.is(withReport.status, 0, withReport.stderr);
  const html = readFileSync(report, 'utf8');
  t.regex(html, /<table id="runs">/);
  t.regex(html, /v3:6\.18 pages_to_scan=200 mom/);
});

test('the shards through GNU parallel, when it is installed', async (t) => {
  if (spawnSync('sh', ['-c', 'command -v parallel'], { encoding: 'utf8' }).status !== 0) {
    t.pass('GNU parallel is not installed here: the plain-process test covers the shards');
    return;
  }
  const out = join(dir, 'gnu');
  const r = spawnSync('parallel', ['--will-cite', process.execPath, KSMCTL, 'compare', ...SWEEP, '--shard', '{}/3', '--out', `${out}-{}.jsonl`, ':::', '1', '2', '3'], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  const merged = ksmctl(['compare', '--merge', `${out}-1.jsonl`, `${out}-2.jsonl`, `${out}-3.jsonl`, '--json']);
  t.deepEqual(JSON.parse(merged.stdout), JSON.parse(ksmctl(['compare', ...SWEEP, '--json']).stdout));
});

test('--merge refuses in one line: a missing run, a run twice, parts of another sweep, a file that is no part', async (t) => {
  const parts = [1, 2].map((i) => join(dir, `m-${i}.jsonl`));
  for (const [i, f] of parts.entries()) t.is((await run(['compare', ...SWEEP, '--shard', `${i + 1}/2`, '--out', f])).status, 0);
  const other = join(dir, 'other.jsonl');
  t.is((await run(['compare', workload, '--eras', 'v3:3.9', '--policies', 'fixed', '--until', '5', '--shard', '1/1', '--out', other])).status, 0);
  const junk = join(dir, 'junk.jsonl');
  writeFileSync(junk, 'hello\n');
  const cases: Array<[string[], RegExp]> = [
    [[parts[0]], /^ksmctl: sweep [0-9a-f]{16} has 8 runs; missing from the parts: 1, 3, 5, 7$/],
    [[parts[0], parts[1], parts[0]], /^ksmctl: run 0 \(v3:2\.6\.32 pages_to_scan=50 fixed\) is in both .*m-1\.jsonl and .*m-1\.jsonl$/],
    [[parts[0], other], /^ksmctl: .*other\.jsonl is of sweep [0-9a-f]{16}, .*m-1\.jsonl of sweep [0-9a-f]{16}: parts of different sweeps cannot be merged$/],
    [[junk], /^ksmctl: .*junk\.jsonl:1: not a line of a sweep part/],
  ];
  for (const [files, message] of cases) {
    const r = ksmctl(['compare', '--merge', ...files]);
    t.is(r.status, 2, r.stderr);
    t.regex(r.stderr.trim(), message);
    t.notRegex(r.stderr, STACK);
  }
});

test('bad sweep options are one line, exit 2', (t) => {
  const cases: Array<[string[], string]> = [
    [[workload, '--policies', 'nope'], 'ksmctl: unknown policy "nope" in --policies (known: fixed, ksmtuned, mom, kubevirt, kata, advisor, zero-pages)'],
    [[workload, '--sweep', 'pages_to_scan'], 'ksmctl: --sweep pages_to_scan: no values (KNOB=V1,V2,...)'],
    [[workload, '--sweep', 'a=1', '--sweep', 'a=2'], 'ksmctl: --sweep a given twice'],
    [[workload, '--policies', 'fixed', '--shard', '4/3'], 'ksmctl: --shard 4/3: I must be from 1 to N, N at least 1'],
  ];
  for (const [args, message] of cases) {
    const r = ksmctl(['compare', ...args]);
    t.is(r.status, 2, r.stderr);
    t.is(r.stderr.trim(), message);
  }
});

test('a policy an era cannot run is a refused run with its one line, the others run', (t) => {
  const r = ksmctl(['compare', workload, '--eras', 'v3:3.9,v3:6.18', '--policies', 'advisor', '--until', '5', '--jobs', '1']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^0 +v3:3\.9 advisor +refused/m);
  t.regex(r.stdout, /^#0 v3:3\.9 advisor: refused: policy advisor needs advisor_mode, advisor_target_scan_time \(the scan-time advisor appeared in Linux 6\.7\); era v3:3\.9 has no \/sys\/kernel\/mm\/ksm\/advisor_mode, advisor_target_scan_time$/m);
  t.regex(r.stdout, /^1 +v3:6\.18 advisor +[0-9,]+ /m);
  const c = ksmctl(['compare', workload, '--policies', 'fixed', '--checksum', 'xxhash']);
  t.is(c.status, 2);
  t.is(c.stderr.trim(), 'ksmctl: --checksum is for comparisons of eras over passes; a sweep runs the timeline (--until SECONDS)');
});

test('on a terminal each run shows its progress and a line when it ends, with --jobs on every core', (t) => {
  if (spawnSync('sh', ['-c', 'command -v script'], { encoding: 'utf8' }).status !== 0) {
    t.pass('no script(1) here to give the command a terminal');
    return;
  }
  const cmd = [process.execPath, KSMCTL, 'compare', ...SWEEP.filter((a, i) => a !== '--jobs' && SWEEP[i - 1] !== '--jobs')].map((a) => `'${a}'`).join(' ');
  const r = spawnSync('script', ['-qfc', cmd, '/dev/null'], { encoding: 'utf8', timeout: 120_000 });
  t.is(r.status, 0, r.stderr);
  const text = r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  for (let k = 1; k <= 8; k++) t.regex(text, new RegExp(`\\[${k}/8\\] #\\d v3:`));
  t.regex(text, /pages saved/);
});
