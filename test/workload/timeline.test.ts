import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/golden.js';
import { builtinWorkload } from '../../src/workload/builtin.js';
import { parseWorkloadText, stringifyWorkloadJson, workloadToJson } from '../../src/workload/schema.js';

const base = {
  name: 't',
  host: { ramPages: 1000 },
  processes: { a: [{ pages: 10, content: 'zero' }, { pages: 5, content: { seed: 1 } }], b: [{ pages: 10, content: 'zero' }] },
  steps: [{ register: 'a' }],
};
const parse = (timeline: unknown, extra: Record<string, unknown> = {}) => parseWorkloadText(JSON.stringify({ ...base, ...extra, timeline }), 'w.json');

test('host and timeline are read, events in time order, and written back', (t) => {
  const w = parse({ until: 5000, events: [{ at: 3000, exit: 'a' }, { at: 0, start: 'a' }, { at: 100, grow: 'a', region: 1 }, { at: 200, churn: 'a', region: 1, pagesPerSecond: 4, revert: 50 }] });
  t.is(w.host?.ramPages, 1000);
  t.deepEqual(w.timeline?.events.map((e) => `${e.at}:${e.kind}`), ['0:start', '100:grow', '200:churn', '3000:exit']);
  const again = parseWorkloadText(stringifyWorkloadJson(workloadToJson(w)), 'again');
  t.deepEqual(again.timeline, w.timeline);
  t.deepEqual(again.host, w.host);
});

const bad: Array<[string, unknown, string]> = [
  ['an unknown process', { until: 10, events: [{ at: 0, start: 'x' }] }, 'w.json: timeline.events[0] (start): unknown process "x" (known: a, b)'],
  ['a time past the end', { until: 10, events: [{ at: 11, start: 'a' }] }, 'w.json: timeline.events[0] (start): at must be in 0..10, got 11'],
  ['a fraction', { until: 10, events: [{ at: 1.5, start: 'a' }] }, 'w.json: timeline.events[0] (start): at must be an integer, got 1.5'],
  ['an event before the start', { until: 100, events: [{ at: 5, exit: 'a' }, { at: 10, start: 'a' }] }, 'w.json: timeline.events[0] (exit): process "a" has not started yet at 5 ms'],
  ['a write to a region that grows later', { until: 100, events: [{ at: 0, start: 'a' }, { at: 50, grow: 'a', region: 1 }, { at: 5, write: { proc: 'a', region: 1, page: 0, content: 'zero' } }] }, 'w.json: timeline.events[2] (write): region 1 of "a" is not mapped yet at 5 ms (it grows later)'],
  ['an event after the exit', { until: 100, events: [{ at: 0, exit: 'b' }, { at: 5, churn: 'b', region: 0, pagesPerSecond: 1 }] }, 'w.json: timeline.events[1] (churn): process "b" has exited at 0 ms (events[0])'],
  ['no until', { events: [] }, 'w.json: timeline: missing "until" (the end of the run, ms of virtual time)'],
];
for (const [what, timeline, message] of bad) {
  test(`a timeline with ${what} is refused in one line`, (t) => {
    t.throws(() => parse(timeline), { message });
  });
}

test('a host without ramPages is refused', (t) => {
  t.throws(() => parse({ until: 1, events: [] }, { host: {} }), { message: 'w.json: host: missing "ramPages" (the RAM of the machine in 4 KiB pages)' });
});

test('builtin:vm-boot-storm is a timeline workload: six guests 10 s apart, two exits, 28 MiB of RAM', (t) => {
  const w = builtinWorkload('vm-boot-storm')!;
  t.is(w.host?.ramPages, 7168);
  t.deepEqual(w.timeline!.events.filter((e) => e.kind === 'start').map((e) => e.at), [0, 10000, 20000, 30000, 40000, 50000]);
  t.is(w.timeline!.events.filter((e) => e.kind === 'exit').length, 2);
});

test('the example of docs/workload-extensions.md (host and timeline) is a valid workload', (t) => {
  const doc = readFileSync(join(ROOT, 'docs', 'workload-extensions.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Host and timeline'));
  const m = /```json\n([\s\S]*?)\n```/.exec(section);
  t.truthy(m);
  const w = parseWorkloadText(m![1], 'example.json');
  t.is(w.host?.ramPages, 4096);
  t.is(w.timeline?.events.length, 6);
});
