/**
 * This repository's workload extensions (docs/workload-extensions.md): the
 * kernel version ("kernel"), sysfs knobs ("sysfs") and the NUMA node of a
 * region ("node"). Files without them read exactly as before, with the
 * reference validator's messages.
 */
import test from 'ava';
import { parseWorkloadText, stringifyWorkloadJson, workloadToJson, WorkloadError } from '../../src/workload/schema.js';

const doc = (extra: Record<string, unknown>, region: Record<string, unknown> = { pages: 2, content: 'zero' }) =>
  JSON.stringify({ processes: { a: [region] }, steps: [{ register: 'a' }, { fullScans: 1 }], ...extra });

test('"kernel" names the kernel version of the v3 era', (t) => {
  t.is(parseWorkloadText(doc({ kernel: '6.18' })).kernel, '6.18');
  t.is(parseWorkloadText(doc({})).kernel, undefined);
  const e = t.throws(() => parseWorkloadText(doc({ kernel: '4.19' })), { instanceOf: WorkloadError });
  t.regex(e!.message, /^top level: kernel must be one of "2\.6\.32", "3\.9", "6\.18", got "4\.19"$/);
  t.throws(() => parseWorkloadText(doc({ kernel: 6.18 })), { message: /kernel must be one of/ });
});

test('"sysfs" lists /sys/kernel/mm/ksm files to write, in file order; integers become their decimal text', (t) => {
  const w = parseWorkloadText(doc({ sysfs: { use_zero_pages: 1, advisor_mode: 'scan-time', max_page_sharing: 2 } }));
  t.deepEqual(w.sysfs, [['use_zero_pages', '1'], ['advisor_mode', 'scan-time'], ['max_page_sharing', '2']]);
  t.throws(() => parseWorkloadText(doc({ sysfs: { 'run/x': 1 } })), { message: /^sysfs: not a \/sys\/kernel\/mm\/ksm file name: "run\/x"$/ });
  t.throws(() => parseWorkloadText(doc({ sysfs: { run: 1.5 } })), { message: /^sysfs\.run: the value must be an integer or a string, got 1\.5$/ });
  t.throws(() => parseWorkloadText(doc({ sysfs: [1] })), { message: /sysfs must be an object/ });
});

test('"node" on a region, in either region form', (t) => {
  const one = parseWorkloadText(doc({}, { pages: 2, content: 'zero', node: 1 }));
  t.deepEqual(one.processes[0].regions[0], { pages: 2, runs: [{ pages: 2, content: { kind: 'zero' } }], node: 1 });
  const runs = parseWorkloadText(doc({}, { runs: [{ pages: 1, content: 'zero' }], node: 3 }));
  t.is(runs.processes[0].regions[0].node, 3);
  t.false('node' in parseWorkloadText(doc({})).processes[0].regions[0]);
  t.throws(() => parseWorkloadText(doc({}, { pages: 2, content: 'zero', node: 1024 })), { message: /^processes\.a\[0\]: node must be in 0\.\.1023, got 1024$/ });
  t.throws(() => parseWorkloadText(doc({}, { pages: 2, content: 'zero', node: -1 })), { message: /node must be in 0\.\.1023/ });
});

test('unknown keys are refused, the message listing every key the schema accepts there (the extensions too)', (t) => {
  t.throws(() => parseWorkloadText(doc({ extra: 1 })), { message: 'top level: unknown key "extra" (allowed: name, description, pagesToScan, hashTables, processes, steps, kernel, sysfs, host, timeline)' });
  t.throws(() => parseWorkloadText(doc({}, { runs: [{ pages: 1, content: 'zero' }], pages: 1 })), { message: 'processes.a[0]: unknown key "pages" (allowed: runs, node)' });
  t.throws(() => parseWorkloadText(doc({}, { pages: 1, content: 'zero', nodes: 1 })), { message: 'processes.a[0]: unknown key "nodes" (allowed: pages, content, node)' });
});

test('workloadToJson keeps the extensions, and the text reads back the same', (t) => {
  const w = parseWorkloadText(doc({ kernel: '3.9', sysfs: { merge_across_nodes: 0, advisor_mode: 'none' } }, { pages: 2, content: 'zero', node: 1 }));
  const again = parseWorkloadText(stringifyWorkloadJson(workloadToJson(w)));
  t.deepEqual(again, w);
});
