import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  loadWorkload,
  parseWorkloadText,
  regionPage,
  stringifyWorkloadJson,
  totalPages,
  workloadToJson,
  WorkloadError,
} from '../../src/workload/schema.js';

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../fixtures/workloads/${name}`, import.meta.url));

// ------------------------------------------------------------ the examples

test('two-guests.json: processes, regions, steps', (t) => {
  const w = loadWorkload(fixture('two-guests.json'));
  t.is(w.name, 'two-guests');
  t.is(w.pagesToScan, 200);
  t.deepEqual(w.hashTables, { pageHash: 4099, rmapHash: 4099, sha1Cache: 1031 });
  t.is(w.source, fixture('two-guests.json'));
  t.deepEqual(
    w.processes.map((p) => p.name),
    ['guest-a', 'guest-b'],
  );
  const a = w.processes[0].regions;
  t.deepEqual(a[0], { pages: 256, runs: [{ pages: 256, content: { kind: 'zero' } }] });
  t.deepEqual(a[1], { pages: 512, runs: [{ pages: 512, content: { kind: 'seedFrom', seed: 10000 } }] });
  t.deepEqual(regionPage(a[1], 5), { kind: 'seed', seed: 10005 });
  t.deepEqual(regionPage(w.processes[1].regions[2], 127), { kind: 'seed', seed: 30127 });
  t.is(totalPages(w), 2 * (256 + 512 + 128));
  t.is(w.steps.length, 11);
  t.deepEqual(w.steps[0], { index: 0, kind: 'register', proc: 'guest-a' });
  t.false('region' in w.steps[0]);
  t.deepEqual(w.steps[2], { index: 2, kind: 'fullScans', count: 3 });
  t.deepEqual(w.steps[3], {
    index: 3,
    kind: 'write',
    proc: 'guest-a',
    region: 2,
    page: 0,
    content: { kind: 'seed', seed: 40000 },
  });
  t.deepEqual(w.steps[5], {
    index: 5,
    kind: 'write',
    proc: 'guest-b',
    region: 0,
    page: 9,
    content: { kind: 'fill', value: 1 },
  });
  t.deepEqual(w.steps[6], { index: 6, kind: 'snapshot', label: 'after-writes' });
  t.deepEqual(w.steps[8], { index: 8, kind: 'exit', proc: 'guest-b' });
});

test('worked-example.json: regions made of runs', (t) => {
  const w = loadWorkload(fixture('worked-example.json'));
  t.is(w.name, 'worked-example');
  t.is(w.pagesToScan, 100); // the default
  t.is(w.processes.length, 2);
  const [r] = w.processes[0].regions;
  t.is(r.pages, 8);
  t.deepEqual(r.runs, [
    { pages: 3, content: { kind: 'seed', seed: 7 } },
    { pages: 5, content: { kind: 'seedFrom', seed: 100 } },
  ]);
  t.deepEqual(
    Array.from({ length: 8 }, (_, i) => regionPage(r, i)),
    [7, 7, 7, 100, 101, 102, 103, 104].map((seed) => ({ kind: 'seed', seed })),
  );
  t.throws(() => regionPage(r, 8), { instanceOf: RangeError });
  t.deepEqual(
    w.steps.map((s) => s.kind),
    ['register', 'register', 'fullScans'],
  );
});

test('ksmpages-small.json: tailFrom runs are bigint', (t) => {
  const w = loadWorkload(fixture('ksmpages-small.json'));
  t.is(w.pagesToScan, 512);
  const [r] = w.processes[1].regions;
  t.deepEqual(r.runs[0], { pages: 2048, content: { kind: 'tailFrom', n: 0n } });
  t.deepEqual(regionPage(r, 2047), { kind: 'tail', n: 2047n });
});

test('scan-steps.json: cycles and scan steps', (t) => {
  const w = loadWorkload(fixture('scan-steps.json'));
  const [r] = w.processes[0].regions;
  t.deepEqual(r.runs[0].content, {
    kind: 'cycle',
    items: [{ kind: 'zero' }, { kind: 'fill', value: 1 }, { kind: 'seed', seed: 5 }, { kind: 'tail', n: 3n }],
  });
  t.deepEqual(regionPage(r, 6), { kind: 'seed', seed: 5 });
  t.deepEqual(regionPage(w.processes[1].regions[0], 7), { kind: 'tail', n: 4n });
  t.deepEqual(
    w.steps.filter((s) => s.kind === 'scan').map((s) => (s.kind === 'scan' ? s.pages : 0)),
    [10, 10, 10, 40, 64],
  );
  t.deepEqual(w.steps[11], { index: 11, kind: 'snapshot', label: 's134' });
});

test('workloadToJson and stringifyWorkloadJson give the workload back', (t) => {
  for (const f of ['two-guests.json', 'worked-example.json', 'ksmpages-small.json', 'scan-steps.json']) {
    const w = loadWorkload(fixture(f));
    const again = parseWorkloadText(stringifyWorkloadJson(workloadToJson(w)), w.source);
    t.deepEqual(again, w, f);
    const viaJsonStringify = parseWorkloadText(JSON.stringify(workloadToJson(w)), w.source);
    t.deepEqual(viaJsonStringify, w, f);
  }
  const big = parseWorkloadText(
    '{"hashTables": {"pageHash": 7}, "processes": {"2": [{"pages": 2, "content": {"tailFrom": 18446744073709551614}}], "10": [{"runs": [{"pages": 1, "content": {"tail": 18446744073709551615}}, {"pages": 1, "content": "zero"}]}]}, "steps": [{"register": "10", "region": 0}]}',
    'big.json',
  );
  const text = stringifyWorkloadJson(workloadToJson(big));
  t.true(text.includes('18446744073709551614'));
  t.true(text.indexOf('"2"') < text.indexOf('"10"'));
  t.deepEqual(parseWorkloadText(text, 'big.json'), big);
  t.deepEqual((workloadToJson(big) as { hashTables: unknown }).hashTables, {
    pageHash: 7,
    rmapHash: 4099,
    sha1Cache: 1031,
  });
});

// ------------------------------------------------------------ valid edge cases

test('integers are exact up to 2^64-1', (t) => {
  const w = parseWorkloadText(
    JSON.stringify({
      processes: { a: [{ pages: 2, content: { cycle: [{ tail: '@18446744073709551615' }, { tail: '@9007199254740993' }] } }] },
      steps: [{ write: { proc: 'a', region: 0, page: 1, content: { tail: '@18446744073709551615' } } }],
    }).replace(/"@(\d+)"/g, '$1'),
  );
  t.deepEqual(w.processes[0].regions[0].runs[0].content, {
    kind: 'cycle',
    items: [
      { kind: 'tail', n: 18446744073709551615n },
      { kind: 'tail', n: 9007199254740993n },
    ],
  });
  const s = w.steps[0];
  t.deepEqual(s.kind === 'write' ? s.content : null, { kind: 'tail', n: 2n ** 64n - 1n });
  // tailFrom/seedFrom may end exactly at their maximum.
  const edge = parseWorkloadText(
    '{"processes": {"a": [{"runs": [{"pages": 2, "content": {"tailFrom": 18446744073709551614}}, {"pages": 3, "content": {"seedFrom": 4294967293}}]}]}, "steps": []}',
  );
  const [r] = edge.processes[0].regions;
  t.deepEqual(regionPage(r, 1), { kind: 'tail', n: 2n ** 64n - 1n });
  t.deepEqual(regionPage(r, 4), { kind: 'seed', seed: 4294967295 });
});

test('defaults: name from the file name, description, pagesToScan, hashTables; -0 is the integer 0', (t) => {
  const text = '{"name": null, "processes": {"a": [{"pages": 1, "content": {"fill": -0}}]}, "steps": []}';
  const w = parseWorkloadText(text, 'some/dir/my.workload.json');
  t.is(w.name, 'my.workload');
  t.is(w.description, '');
  t.is(w.pagesToScan, 100);
  t.deepEqual(w.hashTables, { pageHash: 4099, rmapHash: 4099, sha1Cache: 1031 });
  t.deepEqual(w.processes[0].regions[0].runs[0].content, { kind: 'fill', value: 0 });
  t.is(parseWorkloadText(text).name, 'workload');
  t.is(parseWorkloadText(text, '.hidden').name, '.hidden');
  const dir = mkdtempSync(join(tmpdir(), 'ksm-schema-'));
  try {
    const file = join(dir, 'from-file.json');
    writeFileSync(file, text);
    t.is(loadWorkload(file).name, 'from-file');
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('processes keep file order, even names that look like numbers; empty region lists are allowed', (t) => {
  const w = parseWorkloadText('{"processes": {"b": [], "10": [], "2": [], "__proto__": []}, "steps": [{"exit": "__proto__"}]}');
  t.deepEqual(
    w.processes.map((p) => p.name),
    ['b', '10', '2', '__proto__'],
  );
});

// ------------------------------------------------------------ malformed files

const BASE = {
  processes: {
    a: [
      { pages: 4, content: 'zero' },
      { runs: [{ pages: 2, content: { seed: 1 } }, { pages: 3, content: { seedFrom: 5 } }] },
    ],
    b: [{ pages: 8, content: { fill: 3 } }],
  },
  steps: [{ register: 'a' }, { register: 'b', region: 0 }, { fullScans: 1 }],
};
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A copy of BASE changed by `edit`; strings "@<digits or number>" become raw JSON numbers. */
function variant(edit: (d: Doc) => unknown): string {
  const d = structuredClone(BASE) as Doc;
  const r = edit(d);
  return JSON.stringify(r === undefined ? d : r).replace(/"@([-0-9.eE+]+)"/g, '$1');
}

const rejects = test.macro({
  exec(t, text: string, place: string, what: RegExp) {
    const e = t.throws(() => parseWorkloadText(text, 'bad.json'), { instanceOf: WorkloadError });
    if (!e) return;
    t.true(e.message.startsWith(`bad.json: ${place}: `), e.message);
    t.regex(e.message, what);
    t.is(e.file, 'bad.json');
    t.is(e.place, place);
    t.false(e.message.includes('\n'));
  },
  title: (provided, _text: string, place: string) => `rejects ${provided ?? ''} at ${place}`,
});

const cases: Array<[string, (d: Doc) => unknown, string, RegExp]> = [
  // top level
  ['not an object', () => [1], 'top level', /a workload must be a JSON object/],
  ['an unknown top-level key', (d) => void (d.foo = 1), 'top level', /unknown key "foo" \(allowed: name, description, pagesToScan, hashTables, processes, steps, kernel, sysfs, host, timeline\)/],
  ['a name that is not a string', (d) => void (d.name = 3), 'top level', /name must be a string/],
  ['a null description', (d) => void (d.description = null), 'top level', /description must be a string/],
  ['pagesToScan 0', (d) => void (d.pagesToScan = 0), 'top level', /pagesToScan must be in 1\.\.2147483647, got 0/],
  ['pagesToScan 2^31', (d) => void (d.pagesToScan = 2 ** 31), 'top level', /pagesToScan must be in 1\.\.2147483647, got 2147483648/],
  ['pagesToScan 1.5', (d) => void (d.pagesToScan = 1.5), 'top level', /pagesToScan must be an integer, got 1\.5/],
  ['pagesToScan 1e3', (d) => void (d.pagesToScan = '@1e3'), 'top level', /pagesToScan must be an integer, got 1e3/],
  ['pagesToScan true', (d) => void (d.pagesToScan = true), 'top level', /pagesToScan must be an integer, got true/],
  ['pagesToScan "100"', (d) => void (d.pagesToScan = '100'), 'top level', /pagesToScan must be an integer, got "100"/],
  ['hashTables not an object', (d) => void (d.hashTables = [4099]), 'top level', /hashTables must be an object/],
  ['an unknown hashTables key', (d) => void (d.hashTables = { pageHash: 7, bogus: 1 }), 'hashTables', /unknown key "bogus" \(allowed: pageHash, rmapHash, sha1Cache\)/],
  ['rmapHash 0', (d) => void (d.hashTables = { rmapHash: 0 }), 'hashTables', /rmapHash must be in 1\.\.2147483647, got 0/],
  ['sha1Cache 2^31', (d) => void (d.hashTables = { sha1Cache: 2 ** 31 }), 'hashTables', /sha1Cache must be in 1\.\.2147483647/],
  ['pageHash 1.0', (d) => void (d.hashTables = { pageHash: '@1.0' }), 'hashTables', /pageHash must be an integer, got 1\.0/],
  // processes and regions
  ['processes as a list', (d) => void (d.processes = []), 'top level', /"processes" must be an object/],
  ['no processes', (d) => void delete d.processes, 'top level', /"processes" must be an object/],
  ['an empty process name', (d) => void (d.processes[''] = []), 'processes', /a process name must not be empty/],
  ['regions not a list', (d) => void (d.processes.c = { pages: 1 }), 'processes.c', /must be a list of regions/],
  ['a region that is not an object', (d) => void d.processes.a.push(5), 'processes.a[2]', /a region must be an object/],
  ['an unknown key in a region', (d) => void (d.processes.a[0].x = 1), 'processes.a[0]', /unknown key "x" \(allowed: pages, content, node\)/],
  ['pages next to runs', (d) => void (d.processes.a[1].pages = 5), 'processes.a[1]', /unknown key "pages" \(allowed: runs, node\)/],
  ['empty runs', (d) => void (d.processes.a[1].runs = []), 'processes.a[1]', /runs must be a non-empty list/],
  ['a run that is not an object', (d) => void (d.processes.a[1].runs[0] = 'zero'), 'processes.a[1].runs[0]', /a run must be an object/],
  ['an unknown key in a run', (d) => void (d.processes.a[1].runs[1].contents = 'zero'), 'processes.a[1].runs[1]', /unknown key "contents"/],
  ['a run of 0 pages', (d) => void (d.processes.a[1].runs[1].pages = 0), 'processes.a[1].runs[1]', /pages must be in 1\.\.1099511627776, got 0/],
  ['a region of 2^40+1 pages', (d) => void (d.processes.b[0].pages = 2 ** 40 + 1), 'processes.b[0]', /pages must be in 1\.\.1099511627776, got 1099511627777/],
  ['a region without pages', (d) => void delete d.processes.b[0].pages, 'processes.b[0]', /missing "pages"/],
  ['a region without content', (d) => void delete d.processes.a[0].content, 'processes.a[0]', /missing "content"/],
  // contents
  ['fill 256', (d) => void (d.processes.b[0].content = { fill: 256 }), 'processes.b[0].content', /fill must be in 0\.\.255, got 256/],
  ['fill -1', (d) => void (d.processes.b[0].content = { fill: -1 }), 'processes.b[0].content', /fill must be in 0\.\.255, got -1/],
  ['seed 2^32', (d) => void (d.processes.b[0].content = { seed: 2 ** 32 }), 'processes.b[0].content', /seed must be in 0\.\.4294967295, got 4294967296/],
  ['seed 7.5', (d) => void (d.processes.b[0].content = { seed: 7.5 }), 'processes.b[0].content', /seed must be an integer, got 7\.5/],
  ['tail 2^64', (d) => void (d.processes.b[0].content = { tail: '@18446744073709551616' }), 'processes.b[0].content', /tail must be in 0\.\.18446744073709551615, got 18446744073709551616/],
  ['tail -1', (d) => void (d.processes.b[0].content = { tail: -1 }), 'processes.b[0].content', /tail must be in 0\.\.18446744073709551615, got -1/],
  ['seedFrom running past 2^32-1', (d) => void (d.processes.a[1].runs[1].content = { seedFrom: 2 ** 32 - 2 }), 'processes.a[1].runs[1].content', /seedFrom 4294967294 with 3 pages goes past seed 2\^32-1/],
  ['seedFrom 2^32', (d) => void (d.processes.b[0].content = { seedFrom: 2 ** 32 }), 'processes.b[0].content', /seedFrom must be in 0\.\.4294967295/],
  ['tailFrom running past 2^64-1', (d) => void (d.processes.b[0].content = { tailFrom: '@18446744073709551609' }), 'processes.b[0].content', /tailFrom 18446744073709551609 with 8 pages goes past 2\^64-1/],
  ['an unknown string content', (d) => void (d.processes.b[0].content = 'zeros'), 'processes.b[0].content', /unknown content "zeros" \(the only string form is "zero"\)/],
  ['a content with two forms', (d) => void (d.processes.b[0].content = { fill: 1, seed: 2 }), 'processes.b[0].content', /exactly one of fill, seed, tail, seedFrom, tailFrom, cycle, got \{"fill": 1, "seed": 2\}/],
  ['a numeric content', (d) => void (d.processes.b[0].content = 0), 'processes.b[0].content', /content must be "zero" or an object/],
  ['an unknown content form', (d) => void (d.processes.b[0].content = { random: 1 }), 'processes.b[0].content', /unknown content form "random"/],
  ['an empty cycle', (d) => void (d.processes.b[0].content = { cycle: [] }), 'processes.b[0].content', /cycle must be a non-empty list/],
  ['a run form inside a cycle', (d) => void (d.processes.b[0].content = { cycle: ['zero', { seedFrom: 1 }] }), 'processes.b[0].content.cycle[1]', /seedFrom is not allowed here/],
  ['a bad value inside a cycle', (d) => void (d.processes.a[1].runs[0].content = { cycle: [{ fill: 300 }] }), 'processes.a[1].runs[0].content.cycle[0]', /fill must be in 0\.\.255, got 300/],
  ['a two-form content inside a cycle', (d) => void (d.processes.b[0].content = { cycle: [{}] }), 'processes.b[0].content.cycle[0]', /exactly one of fill, seed, tail, got \{\}/],
  // steps
  ['steps as an object', (d) => void (d.steps = {}), 'top level', /"steps" must be a list/],
  ['no steps', (d) => void delete d.steps, 'top level', /"steps" must be a list/],
  ['a step that is not an object', (d) => void d.steps.push([1]), 'steps[3]', /a step must be an object, got \[1\]/],
  ['a step with two kinds', (d) => void d.steps.push({ scan: 1, fullScans: 2 }), 'steps[3]', /exactly one of register, unregister, scan, fullScans, write, exit, snapshot, got keys scan, fullScans/],
  ['a step with no kind', (d) => void d.steps.splice(1, 0, { foo: 1 }), 'steps[1]', /got keys foo/],
  ['an empty step', (d) => void d.steps.push({}), 'steps[3]', /got keys none/],
  ['an unknown key in a step', (d) => void d.steps.push({ scan: 1, region: 2 }), 'steps[3] (scan)', /unknown key "region" \(allowed: scan\)/],
  ['region in an unregister step', (d) => void d.steps.push({ unregister: 'a', region: 0 }), 'steps[3] (unregister)', /unknown key "region" \(allowed: unregister\)/],
  ['scan 0', (d) => void d.steps.push({ scan: 0 }), 'steps[3] (scan)', /scan must be in 1\.\.1099511627776, got 0/],
  ['fullScans 2^20+1', (d) => void d.steps.push({ fullScans: 2 ** 20 + 1 }), 'steps[3] (fullScans)', /fullScans must be in 1\.\.1048576, got 1048577/],
  ['fullScans 2.0', (d) => void d.steps.push({ fullScans: '@2.0' }), 'steps[3] (fullScans)', /fullScans must be an integer, got 2\.0/],
  ['an unknown process', (d) => void d.steps.push({ register: 'zz' }), 'steps[3] (register)', /unknown process "zz" \(known: a, b\)/],
  ['a process that is not a string', (d) => void d.steps.push({ exit: 1 }), 'steps[3] (exit)', /exit needs a process name \(string\), got 1/],
  ['an unknown region', (d) => void (d.steps[1] = { register: 'b', region: 1 }), 'steps[1] (register)', /unknown region 1 of process "b" \(it has 1 region\)/],
  ['a negative region', (d) => void d.steps.push({ register: 'a', region: -1 }), 'steps[3] (register)', /unknown region -1 of process "a" \(it has 2 regions\)/],
  ['a region that is not an integer', (d) => void d.steps.push({ register: 'a', region: '@1.0' }), 'steps[3] (register)', /region must be an integer index, got 1\.0/],
  ['a step after the exit step', (d) => void d.steps.push({ exit: 'b' }, { snapshot: 'x' }, { unregister: 'b' }), 'steps[5] (unregister)', /process "b" already exited at step 3/],
  ['a second exit', (d) => void d.steps.push({ exit: 'a' }, { exit: 'a' }), 'steps[4] (exit)', /process "a" already exited at step 3/],
  ['a register after the exit step', (d) => void d.steps.splice(0, 0, { exit: 'a' }), 'steps[1] (register)', /process "a" already exited at step 0/],
  ['a snapshot without a string label', (d) => void d.steps.push({ snapshot: 1 }), 'steps[3] (snapshot)', /snapshot needs a label \(string\), got 1/],
  ['a write that is not an object', (d) => void d.steps.push({ write: 'a' }), 'steps[3] (write)', /write needs an object \{proc, region, page, content\}/],
  ['an unknown key in a write', (d) => void d.steps.push({ write: { proc: 'a', region: 0, page: 0, content: 'zero', x: 1 } }), 'steps[3] (write)', /unknown key "x" \(allowed: proc, region, page, content\)/],
  ['a write without page', (d) => void d.steps.push({ write: { proc: 'a', region: 0, content: 'zero' } }), 'steps[3] (write)', /write is missing "page"/],
  ['a write to an unknown process', (d) => void d.steps.push({ write: { proc: 'c', region: 0, page: 0, content: 'zero' } }), 'steps[3] (write)', /unknown process "c"/],
  ['a write to an unknown region', (d) => void d.steps.push({ write: { proc: 'a', region: 2, page: 0, content: 'zero' } }), 'steps[3] (write)', /unknown region 2 of process "a"/],
  ['a write to an unknown page', (d) => void d.steps.push({ write: { proc: 'a', region: 1, page: 5, content: 'zero' } }), 'steps[3] (write)', /unknown page 5 of region 1 of process "a" \(it has 5 pages\)/],
  ['a write to a huge page index', (d) => void d.steps.push({ write: { proc: 'a', region: 1, page: '@1000000000000000000000', content: 'zero' } }), 'steps[3] (write)', /unknown page 1000000000000000000000 of region 1/],
  ['a write with a page that is not an integer', (d) => void d.steps.push({ write: { proc: 'a', region: 1, page: '0', content: 'zero' } }), 'steps[3] (write)', /page must be an integer index, got "0"/],
  ['a write of a run form', (d) => void d.steps.push({ write: { proc: 'a', region: 1, page: 4, content: { seedFrom: 3 } } }), 'steps[3] (write).content', /seedFrom is not allowed here \(only a single-page content/],
  ['a write of a cycle', (d) => void d.steps.push({ write: { proc: 'a', region: 1, page: 4, content: { cycle: ['zero'] } } }), 'steps[3] (write).content', /cycle is not allowed here/],
  ['a write of tail 2^64', (d) => void d.steps.push({ write: { proc: 'b', region: 0, page: 7, content: { tail: '@18446744073709551616' } } }), 'steps[3] (write).content', /tail must be in 0\.\.18446744073709551615, got 18446744073709551616/],
];
for (const [title, edit, place, what] of cases) test(title, rejects, variant(edit), place, what);

test('at least 25 malformed inputs', (t) => {
  t.true(cases.length >= 25);
});

// ------------------------------------------------------------ invalid JSON

const badJson = test.macro({
  exec(t, text: string, line: number, column: number, what: RegExp) {
    const e = t.throws(() => parseWorkloadText(text, 'bad.json'), { instanceOf: WorkloadError });
    if (!e) return;
    t.true(e.message.startsWith(`bad.json:${line}:${column}: invalid JSON: `), e.message);
    t.regex(e.message, what);
    t.is(e.line, line);
    t.is(e.column, column);
    t.false(e.message.includes('\n'));
  },
  title: (provided, _text: string, line: number, column: number) => `invalid JSON: ${provided ?? ''} at ${line}:${column}`,
});

test('a trailing comma', badJson, '{\n  "steps": [\n    {"scan": 1},\n  ]\n}', 4, 3, /expected a value/);
test('a leading zero', badJson, '{\n  "pagesToScan": 01 }', 2, 19, /expected ','/);
test('an empty file', badJson, '', 1, 1, /expected a value \(got the end of the input\)/);
test('a tab inside a string', badJson, '{"name": "x\ty"}', 1, 12, /control character in string/);
test('a bad escape', badJson, '{\n "name": "a\\qb"}', 2, 12, /invalid escape/);
test('a comment', badJson, '{"steps": []} // done', 1, 15, /comments are not allowed/);
test('NaN', badJson, '{"pagesToScan": NaN}', 1, 17, /unexpected character \(got "NaN"\)/);
test('single quotes', badJson, "{\n\n  'steps': []}", 3, 3, /unexpected character \(got "'"\)/);
test('an unterminated string', badJson, '{"name": "abc', 1, 10, /unterminated string/);
test('a missing comma after non-ASCII text', badJson, '{"é": 1 2}', 1, 9, /expected ','/);
test('text after the document', badJson, '{"steps": []} x', 1, 15, /unexpected character \(got "x"\)/);
test('a byte order mark', badJson, '\ufeff{"steps": []}', 1, 1, /byte order mark/);
test('a duplicate key', badJson, '{"processes": {"a": [],\n "a": []}, "steps": []}', 2, 2, /duplicate key "a"/);
test('nesting too deep', badJson, '{"steps": ' + '['.repeat(300) + ']'.repeat(300) + '}', 1, 266, /nested deeper than 256 levels/);
test('nesting far too deep', badJson, '['.repeat(100000) + ']'.repeat(100000), 1, 257, /nested deeper than 256 levels/);

test('loadWorkload: files that cannot be read, or are not UTF-8', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ksm-schema-'));
  try {
    const missing = join(dir, 'missing.json');
    const e = t.throws(() => loadWorkload(missing), { instanceOf: WorkloadError });
    t.is(e?.message, `${missing}: cannot read: No such file or directory`);
    const latin1 = join(dir, 'latin1.json');
    writeFileSync(latin1, Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d]));
    t.is(t.throws(() => loadWorkload(latin1))?.message, `${latin1}: cannot read: not valid UTF-8`);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"steps": [], "processes": {"a": []}, "pagesToScan": 0}');
    t.is(t.throws(() => loadWorkload(bad))?.message, `${bad}: top level: pagesToScan must be in 1..2147483647, got 0`);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('without a file name, messages start with the place', (t) => {
  t.is(t.throws(() => parseWorkloadText('[]'))?.message, 'top level: a workload must be a JSON object');
  t.is(t.throws(() => parseWorkloadText('{'))?.message, "<input>:1:2: invalid JSON: expected '}' (got the end of the input)");
});
