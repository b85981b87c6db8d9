/**
 * The shipped JSON Schema (schema/workload.schema.json) is the format: an
 * editor validating with it and ksmctl agree. Every workload of the
 * repository and of the docs follows it; "$schema" is accepted; and on
 * random documents (the fuzzer's generator) plain ajv, as an editor runs it,
 * accepts exactly the files ksmctl's schema check accepts.
 */
import test from 'ava';
import { Ajv } from 'ajv';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWorkloadText, WorkloadError } from '../../src/workload/schema.js';
import { schemaProblem, WORKLOAD_SCHEMA } from '../../src/workload/validate.js';
import { parseJson } from '../../src/workload/json.js';
import { builtinNames, builtinWorkload } from '../../src/workload/builtin.js';
import { stringifyWorkloadJson, workloadToJson } from '../../src/workload/schema.js';
import { ROOT } from '../helpers/golden.js';

const shipped = JSON.parse(readFileSync(join(ROOT, 'schema', 'workload.schema.json'), 'utf8')) as object;
/** The schema as an editor runs it: plain ajv, the file as JSON.parse reads it. */
const editor = new Ajv({ allErrors: true, strict: false }).compile(shipped);

const workloadFiles = (dir: string) =>
  readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.json') && !f.endsWith('.expected.json'))
    .map((f) => join(dir, f));

test('the validator compiles the very file the package ships', (t) => {
  t.deepEqual(WORKLOAD_SCHEMA, shipped);
});

test('every workload file of the repository follows the schema, for ksmctl and for an editor', (t) => {
  const files = [...workloadFiles('examples/workloads'), ...workloadFiles('test/fixtures/workloads'), ...workloadFiles('test/fixtures/oracle-618')];
  t.true(files.length >= 20);
  for (const f of files) {
    const text = readFileSync(join(ROOT, f), 'utf8');
    t.notThrows(() => parseWorkloadText(text, f), f);
    t.true(editor(JSON.parse(text)), `${f}: ${JSON.stringify(editor.errors)}`);
  }
});

test('the built-in workloads, written out, follow the schema', (t) => {
  for (const name of builtinNames()) {
    const w = builtinWorkload(name)!;
    const text = stringifyWorkloadJson(workloadToJson(w));
    t.true(editor(JSON.parse(text)), `${name}: ${JSON.stringify(editor.errors)}`);
  }
});

test('the workloads written in the docs follow the schema', (t) => {
  let n = 0;
  for (const page of ['docs/workload-format.md', 'docs/workload-extensions.md']) {
    const md = readFileSync(join(ROOT, page), 'utf8');
    for (const m of md.matchAll(/^```json\n([\s\S]*?)^```$/gm)) {
      const doc = JSON.parse(m[1]) as Record<string, unknown>;
      if (!('processes' in doc)) continue; // a settings file
      n++;
      t.notThrows(() => parseWorkloadText(m[1], page), page);
      t.true(editor(doc), `${page}: ${JSON.stringify(editor.errors)}`);
    }
  }
  t.true(n >= 3);
});

test('a workload may name its schema in "$schema"', (t) => {
  const w = parseWorkloadText('{"$schema": "../../schema/workload.schema.json", "processes": {"a": [{"pages": 1, "content": "zero"}]}, "steps": []}');
  t.is(w.processes.length, 1);
  t.throws(() => parseWorkloadText('{"$schema": 1, "processes": {}, "steps": []}'), { instanceOf: WorkloadError, message: 'top level: $schema must be a string' });
});

/** A small random JSON document shaped like a workload, with mistakes. */
function randomDoc(seed: number): unknown {
  let x = seed * 2654435761 + 1;
  const rnd = (n: number) => {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    return x % n;
  };
  const pick = <T>(a: T[]): T => a[rnd(a.length)];
  const num = () => (rnd(4) > 0 ? pick([1, 2, 7]) : pick([0, 255, 256, -1, 2 ** 31, 2 ** 32, 1.5, '3', null]));
  const content = () => pick<unknown>(['zero', 'zero', { seed: 1 }, 'one', 7, {}, { fill: num() }, { seed: num() }, { tail: num() }, { seedFrom: num() }, { tailFrom: num() }, { cycle: [] }, { cycle: ['zero', { fill: 1 }] }, { cycle: [{ seedFrom: 1 }] }, { fill: 1, seed: 2 }]);
  const region = () => pick<unknown>([{ pages: num(), content: content() }, { runs: [{ pages: num(), content: content() }] }, { runs: [] }, { pages: 1, content: 'zero', node: num() }, { pages: 1 }, 5]);
  const step = () => pick<unknown>([{ register: 'a' }, { fullScans: 1 }, { scan: 5 }, { register: 'a', region: num() }, { scan: num() }, { fullScans: num() }, { exit: 'a' }, { snapshot: pick(['s', 7]) }, { write: { proc: 'a', region: 0, page: num(), content: content() } }, { write: 'a' }, {}, { scan: 1, exit: 'a' }, []]);
  const doc: Record<string, unknown> = { processes: { a: [region()], ...(rnd(3) === 0 ? { '': [] } : {}) }, steps: Array.from({ length: rnd(4) }, step) };
  if (rnd(3) === 0) doc.pagesToScan = num();
  if (rnd(4) === 0) doc.hashTables = pick<unknown>([{ pageHash: num() }, { bogus: 1 }, []]);
  if (rnd(5) === 0) doc.kernel = pick(['6.18', '4.19', 3]);
  if (rnd(5) === 0) doc.sysfs = pick<unknown>([{ run: num() }, { 'a/b': 1 }, { advisor_mode: 'scan-time' }, [1]]);
  if (rnd(8) === 0) doc[pick(['extra', 'name', 'description'])] = pick<unknown>([1, 'x', null]);
  return doc;
}

test('an editor and ksmctl accept the same documents (3000 random ones)', (t) => {
  let accepted = 0;
  for (let seed = 1; seed <= 3000; seed++) {
    const text = JSON.stringify(randomDoc(seed));
    // Whole-number doubles such as 2 ** 31 are written without a fraction, so JSON.parse and ksmctl read the same values.
    const ours = schemaProblem(parseJson(text));
    const theirs = editor(JSON.parse(text));
    t.is(ours === null, theirs, `${text}\nksmctl: ${JSON.stringify(ours)}\neditor: ${JSON.stringify(editor.errors?.[0])}`);
    if (theirs) accepted++;
  }
  t.true(accepted > 100, `only ${accepted} accepted: the generator is too hostile to compare acceptance`);
});
