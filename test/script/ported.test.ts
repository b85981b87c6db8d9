/**
 * The historic programs of examples/scripts/ported/, byte for byte as
 * published, run under the script language (issue 21): ksmpages.c of March
 * 2009 registers its memory on the 2009 /dev/ksm and its pages merge as the
 * tree algorithm merges them; the read-loop variant prints its timings once
 * a virtual second until the run's time limit stops it.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/golden.js';
import { runText } from '../helpers/script.js';

const DIR = join(ROOT, 'examples', 'scripts', 'ported');
const SMALL = { SIZE: '(1UL*16*1024*1024)' };

test('ksmpages.c runs unmodified on v1:2009 and leaves its 4096 pages registered', (t) => {
  const src = readFileSync(join(DIR, 'ksmpages.ksm'), 'utf8');
  t.true(src.startsWith("/* ksmpages.c: exercise KSM (C) Red Hat Inc. GPL'd */\n"));
  t.true(src.includes('goto out_free1;'));
  const r = runText('ksmpages.ksm', src, { era: 'v1:2009', defines: SMALL });
  t.is(r.status, 0, r.text.slice(0, 2000));
  t.is(r.stdout, 'registered into ksm, run outside VM\n');
  t.regex(r.text, /ioctl\(4, KSM_REGISTER_MEMORY_REGION, \{npages=4096, pad=0, addr=0x[0-9a-f]+, reserved_bits=0\}\) = 0/);
  t.regex(r.text, /pause\( <unfinished \.\.\.>/);
  t.is(r.alive.length, 1);
});

test('ksmpages.c on a kernel without /dev/ksm takes its goto out path and says so', (t) => {
  const r = runText('ksmpages.ksm', readFileSync(join(DIR, 'ksmpages.ksm'), 'utf8'), { era: 'v3:6.18', defines: SMALL, trace: false });
  t.is(r.status, 0, r.text);
  t.is(r.stdout, 'failed to register into ksm, run inside VM\n');
});

test('the read-loop ksmpages.c prints a timing every virtual second until the limit', (t) => {
  const r = runText('ksmpages-readloop.ksm', readFileSync(join(DIR, 'ksmpages-readloop.ksm'), 'utf8'), { era: 'v1:2009', defines: SMALL, trace: false, maxVirtualMicros: 3_500_000 });
  t.is(r.stdout, 'registered into ksm, run outside VM\n0 usec\n0 usec\n0 usec\n');
  t.is(r.status, 2);
  t.regex(r.error ?? '', /^ksmpages-readloop\.ksm:69:3: this run may let 3\.5 s of virtual time pass/);
});
