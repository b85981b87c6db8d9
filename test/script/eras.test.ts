/**
 * `ksmctl run` on every era of the registry: a program of the era's family
 * registers memory with the era's own call and waits for passes; the calls
 * a kernel lacks answer as that kernel did (prctl's KSM options EINVAL
 * before 6.4, /proc/PID/ksm_stat ENOENT before 6.1); and how the era of a
 * run is chosen: the command line, then the script's pragmas, then its
 * includes, with v1's one default ABI where nothing names one.
 */
import test from 'ava';
import { ERAS } from '../../src/eras/registry.js';
import { parseScript } from '../../src/script/parser.js';
import { scriptSettings, ScriptOptionError } from '../../src/script/run.js';
import { registerScript, runText } from '../helpers/script.js';

for (const era of ERAS) {
  test(`run --era ${era.id}: a program registers memory with the era's call and its pages merge`, (t) => {
    const r = runText('reg.ksm', registerScript(era), { era: era.id, trace: false });
    t.is(r.status, 0, r.text);
    t.is(r.settings?.era, era);
  });

  test(`run --era ${era.id}: prctl(PR_SET_MEMORY_MERGE) and /proc/self/ksm_stat as that kernel answers them`, (t) => {
    const has = era.id === 'v3:6.18';
    const src = [
      'r = prctl(PR_SET_MEMORY_MERGE, 1)',
      has ? 'expect r == 0' : 'expect r == -1 && errno == EINVAL',
      'r = prctl(PR_GET_MEMORY_MERGE)',
      has ? 'expect r == 1' : 'expect r == -1 && errno == EINVAL',
      'n = cat /proc/self/ksm_merging_pages',
      has ? 'expect n == 0' : 'expect n == -1 && errno == ENOENT',
      'cat /proc/self/ksm_stat',
      '',
    ].join('\n');
    const r = runText('prctl.ksm', src, { era: era.id });
    t.is(r.status, 0, r.text);
    t.true(r.text.includes(has ? 'prctl(PR_SET_MEMORY_MERGE, 0x1, 0, 0, 0) = 0' : 'prctl(PR_SET_MEMORY_MERGE, 0x1, 0, 0, 0) = -1 EINVAL (Invalid argument)'), r.text);
    t.true(r.text.includes(has ? 'ksm_merge_any: yes' : 'cat: /proc/self/ksm_stat: No such file or directory'), r.text);
  });
}

test('/proc/PID/ksm_stat of another user\'s process is EACCES (S_IRUSR), of a pid that does not exist ENOENT', (t) => {
  const src = 'int pid = fork()\nif (pid == 0) { setuid(1000); pause() }\nusleep(10)\nsetuid(1001)\nr = cat /proc/101/ksm_stat\nexpect r == -1 && errno == EACCES\nr = cat /proc/999/ksm_stat\nexpect r == -1 && errno == ENOENT\n';
  const r = runText('proc.ksm', src, { era: 'v3:6.18' });
  t.is(r.status, 0, r.text);
});

test('an unknown prctl option is shown in hex, as strace shows it', (t) => {
  const r = runText('p.ksm', 'r = prctl(1234, 5)\nexpect errno == EINVAL\n', { era: 'v3:6.18' });
  t.regex(r.text, /^prctl\(0x4d2 \/\* PR_\?\?\? \*\/, 0x5, 0, 0, 0\) = -1 EINVAL/m);
});

/** The era a script would run on, with these command-line options. */
function eraOf(source: string, opts: { era?: string; abi?: string; kernel?: string } = {}): string {
  return scriptSettings(parseScript('t.ksm', source), opts).era.id;
}

test('the era of a run: the command line, then #pragma era/abi/kernel, then a ksm header, else v3', (t) => {
  t.is(eraOf('x = 1\n'), 'v3:2.6.32');
  t.is(eraOf('#include "ksm.h"\n'), 'v1:2008', 'a ksm header: v1, with the one default ABI');
  t.is(eraOf('#include "ksm-2009.h"\n'), 'v1:2009', 'the header a script includes decides its ABI');
  t.is(eraOf('#pragma era v1\n'), 'v1:2008');
  t.is(eraOf('#pragma era v1\n#pragma abi 2009\n'), 'v1:2009');
  t.is(eraOf('#pragma abi 2009\n'), 'v1:2009', 'an ABI names the family');
  t.is(eraOf('#pragma era v3:6.18\n'), 'v3:6.18');
  t.is(eraOf('#pragma era v3\n#pragma kernel 3.9\n'), 'v3:3.9');
  t.is(eraOf('#pragma kernel 6.18\n'), 'v3:6.18');
  t.is(eraOf('#pragma era v3-6.18\n'), 'v3:6.18', 'the registry\'s aliases');
  // The command line wins.
  t.is(eraOf('#pragma era v1\n#include "ksm-2009.h"\n', { era: 'v3:3.9' }), 'v3:3.9');
  t.is(eraOf('#pragma era v1\n#pragma abi 2009\n', { era: 'v1:2008' }), 'v1:2008');
  t.is(eraOf('#pragma era v1\n#pragma abi 2009\n', { era: 'v1' }), 'v1:2009', 'a bare family leaves the version to the script');
  t.is(eraOf('#include "ksm-2009.h"\n', { abi: '2008' }), 'v1:2008', 'a 2009 program on a 2008 kernel');
  t.is(eraOf('x = 1\n', { era: 'v3', kernel: '6.18' }), 'v3:6.18');
  t.is(eraOf('x = 1\n', { kernel: '3.9' }), 'v3:3.9');
  t.is(eraOf('#pragma era v2\n', { era: 'v1', abi: '2009' }), 'v1:2009');
});

test('a bad era is an error at its place (a pragma) or a command-line error (an option)', (t) => {
  const at = (source: string) => t.throws(() => eraOf(source), { message: /^#pragma (era|abi|kernel): / });
  at('#pragma era v9\n');
  at('#pragma era v1\n#pragma abi 2010\n');
  at('#pragma era v1:2009\n#pragma abi 2008\n');
  at('#pragma era v2\n#pragma kernel 6.18\n');
  t.throws(() => eraOf('x = 1\n', { era: 'v9' }), { instanceOf: ScriptOptionError, message: /^unknown --era "v9"/ });
  t.throws(() => eraOf('x = 1\n', { era: 'v3:6.18', abi: '2008' }), { instanceOf: ScriptOptionError, message: /--abi applies to --era v1 only/ });
  const r = runText('t.ksm', 'x = 1\n#pragma era v4\n');
  t.is(r.status, 2);
  t.regex(r.error ?? '', /^t\.ksm:2:1: #pragma era: unknown --era "v4": not one of/);
});
