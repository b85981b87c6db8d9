/**
 * The shipped example scripts (examples/scripts/) run, and their traces
 * (`ksmctl run --trace FILE 2>&1`) match the golden traces in
 * test/golden/scripts/. UPDATE_GOLDEN=1 rewrites them (review the diff).
 */
import test from 'ava';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERAS } from '../../src/eras/registry.js';
import { parseScript } from '../../src/script/parser.js';
import { scriptSettings } from '../../src/script/run.js';
import { ROOT } from '../helpers/golden.js';
import { runFile } from '../helpers/script.js';

const DIR = join(ROOT, 'examples', 'scripts');
const GOLDEN = join(ROOT, 'test', 'golden', 'scripts');
const examples = readdirSync(DIR).filter((f) => f.endsWith('.ksm'));

test('the examples are the ones the issues ask for', (t) => {
  t.deepEqual(examples.sort(), ['ksmpages.ksm', 'mergeable-3.9.ksm', 'mergeable-v3.ksm', 'prctl-6.18.ksm', 'qemu-2008.ksm', 'qemu-2009.ksm', 'shareable-v2.ksm']);
});

test('every era of the registry has an example, and it runs on that era', (t) => {
  const eras = examples.map((f) => scriptSettings(parseScript(f, readFileSync(join(DIR, f), 'utf8')), {}).era.id);
  t.deepEqual([...new Set(eras)].sort(), ERAS.map((e) => e.id).sort());
});

for (const f of examples) {
  test(`${f} runs and its trace matches the golden trace`, (t) => {
    // Paths as the command line shows them, relative to the repository.
    const r = runFile(join(DIR, f));
    t.is(r.status, 0, r.text);
    const golden = join(GOLDEN, f.replace(/\.ksm$/, '.trace'));
    if (process.env.UPDATE_GOLDEN || !existsSync(golden)) {
      if (!process.env.UPDATE_GOLDEN) t.fail(`golden trace ${golden} is missing (UPDATE_GOLDEN=1 creates it)`);
      mkdirSync(GOLDEN, { recursive: true });
      writeFileSync(golden, r.text);
    }
    t.is(r.text, readFileSync(golden, 'utf8'));
  });
}
