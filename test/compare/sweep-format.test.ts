import test from 'ava';
import { formatSweep } from '../../src/compare/sweep-format.js';
import { type RunResult, type SweepResult } from '../../src/compare/sweep.js';
import { newMergeStats } from '../../src/engine/merge/stats.js';

function result(cpu: boolean): SweepResult {
  const run = (index: number, refused?: string): RunResult => ({
    index,
    label: `v3:6.18 pages_to_scan=${100 * (index + 1)} fixed`,
    era: 'v3:6.18',
    policy: 'fixed',
    knobs: [['pages_to_scan', String(100 * (index + 1))]],
    ...(refused ? { refused } : {}),
    savedEnd: 1000,
    t50Ms: 12_000,
    t90Ms: 30_000,
    cowBreaks: 5,
    peakBytes: 8 << 20,
    profitBytes: 4 << 20,
    ...(cpu ? { ksmdCpu: { seconds: 1.5, share: 0.025 } } : {}),
    saved: [],
    free: [],
    pagesToScan: [],
    run: [],
    work: { pagesScanned: 0, checksums: 0, bytesHashed: 0, comparisons: 0, bytesCompared: 0, mergeAttempts: 0, merges: 0, batches: 0, passes: 0, stats: { ...newMergeStats(), cowBreaks: 0 } },
    trace: [],
    errors: [],
  });
  return {
    sweep: '0123456789abcdef',
    spec: { source: 'x', eras: ['v3:6.18'], knobs: [{ name: 'pages_to_scan', values: ['100', '200'] }], policies: ['fixed'], untilMs: null },
    workload: { name: 'w', description: '', ramPages: 1024, untilMs: 60_000, timeline: true },
    runs: [run(0), run(1, 'policy x needs y')],
  };
}

test('the table has a ksmd CPU column only when the runs carry a CPU model figure', (t) => {
  t.notRegex(formatSweep(result(false)), /ksmd CPU/);
  const text = formatSweep(result(true));
  t.regex(text, /ksmd CPU/);
  t.regex(text, /1\.50 s, 2\.5 %/);
});

test('a refused run is listed as refused, with its one line under the table', (t) => {
  const text = formatSweep(result(false));
  t.regex(text, /1 +v3:6\.18 pages_to_scan=200 fixed +refused/);
  t.regex(text, /^#1 v3:6\.18 pages_to_scan=200 fixed: refused: policy x needs y$/m);
  t.regex(text, /^0 +v3:6\.18 pages_to_scan=100 fixed +1,000 +12 s +30 s +5 +8\.0 MiB +4\.0 MiB$/m);
});
