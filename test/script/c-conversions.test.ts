/**
 * Three more places where a script gave a wrong result without an error,
 * found porting the kernel's ksm_tests.c line by line (issue 21): a bool
 * kept any value (C makes every nonzero 1), arithmetic and comparisons
 * between signed and unsigned operands ignored C's usual arithmetic
 * conversions (`-1L < 256UL` was 1, `-1L % 256UL` was -1), and a header of
 * the program's own (`#include "util.h"`) was skipped, its macros missed
 * later or, under #ifdef, silently. The expected values are gcc's on
 * x86-64 (the same lines compiled as C print them).
 */
import test from 'ava';
import { runText } from '../helpers/script.js';

const run = (source: string) => runText('t.ksm', source, { trace: false });

test('a bool holds 0 or 1, whatever is stored in it (C99 6.3.1.2)', (t) => {
  t.is(run('bool b = 256\nbool c = 2\nbool z = 0\nprint b, c, z\nb = -7\nprint b, (bool)512\n').stdout, '1 1 0\n1 1\n');
  t.is(run('int f(bool x) {\n\treturn x\n}\nprint f(5)\n').stdout, '1\n');
});

test('signed and unsigned operands meet as C converts them: the unsigned type where it is as wide', (t) => {
  const r = run([
    'long a = -1',
    'unsigned long m = 256',
    'print a % m, a / m, a < m',
    'int s = -2',
    'unsigned u = 1',
    'print s < u, s / u, s + u',
    'unsigned x = 0',
    'print x - 1 > 5, x - 1',
    'long l = -1',
    'unsigned int v = 1',
    'print l < v',
    'print -1 < 1, 7 / -2, -7 % 3',
    'print (unsigned char)200 + (unsigned char)100, sizeof(int) - 8 > 0',
    '',
  ].join('\n'));
  t.is(r.stdout, '255 72057594037927935 0\n0 4294967294 4294967295\n1 4294967295\n1\n1 -3 -1\n300 1\n', r.text);
});

test('#include "file.h" of the program\'s own is an error at its place; ksm.h and system headers are the script\'s', (t) => {
  const r = run('#include "util.h"\n#ifdef X\nprint 1\n#endif\n');
  t.is(r.status, 2);
  t.regex(r.text, /^t\.ksm:1:1: #include "util\.h": a script reads no header of its own/m);
  t.is(run('#include <stdio.h>\n#include "ksm.h"\nprint 1\n').stdout, '1\n');
});
