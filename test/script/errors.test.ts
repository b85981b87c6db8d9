/**
 * Parse and runtime errors of scripts, case by case: each is reported as
 * `file:line:col: message`, then the offending line and a caret under the
 * column, with exit status 2 (1 for a failed expect), never a stack trace.
 */
import test from 'ava';
import { STACK } from '../helpers/cli.js';
import { runText } from '../helpers/script.js';

const V1 = '#pragma era v1\n#include "ksm-2009.h"\n';

/** Runs `source` as t.ksm and returns its error text. */
function error(source: string, status: 0 | 1 | 2 = 2): (t: import('ava').ExecutionContext) => string {
  return (t) => {
    const r = runText('t.ksm', source);
    t.is(r.status, status, r.text);
    t.truthy(r.error);
    t.notRegex(r.text, STACK);
    return r.error ?? '';
  };
}

const cases: Array<{ title: string; source: string; expected: string; status?: number }> = [
  {
    title: 'an unterminated string',
    source: 'printf("hello\\n);\n',
    expected: 't.ksm:1:8: unterminated string\nprintf("hello\\n);\n       ^',
  },
  {
    title: 'an unknown constant, with the closest name',
    source: `${V1}fd = open("/dev/ksm", O_RDWR)\nr = ioctl(fd, KSM_CREATE_SHARED_MEMORY_AERA)\n`,
    expected: 't.ksm:4:15: unknown constant KSM_CREATE_SHARED_MEMORY_AERA (did you mean KSM_CREATE_SHARED_MEMORY_AREA?)\nr = ioctl(fd, KSM_CREATE_SHARED_MEMORY_AERA)\n              ^',
  },
  {
    title: 'a constant of the other header',
    source: `${V1}fd = open("/dev/ksm", O_RDWR)\nr = ioctl(fd, KSM_CREATE_SCAN)\n`,
    expected:
      't.ksm:4:15: KSM_CREATE_SCAN is not in the Mar 2009 linux/ksm.h (seed 002); it is in the Nov 2008 linux/ksm.h (seed 001) (#include "ksm-2008.h")\nr = ioctl(fd, KSM_CREATE_SCAN)\n              ^',
  },
  {
    title: 'a call with the wrong number of arguments',
    source: `${V1}fd = open("/dev/ksm", O_RDWR)\nr = ioctl(fd, KSM_GET_API_VERSION, 0, 1)\n`,
    expected: 't.ksm:4:5: ioctl() takes 2 to 3 arguments, got 4\nr = ioctl(fd, KSM_GET_API_VERSION, 0, 1)\n    ^',
  },
  {
    title: 'a function of the script called with the wrong number of arguments',
    source: 'int twice(int x) { return 2 * x; }\nprint twice(1, 2)\n',
    expected: 't.ksm:2:7: twice() takes 1 argument, got 2\nprint twice(1, 2)\n      ^',
  },
  {
    title: 'an ioctl on a closed fd whose failure the script ignores',
    source: `${V1}fd = open("/dev/ksm", O_RDWR)\nclose(fd)\nioctl(fd, KSM_GET_API_VERSION)\n`,
    expected:
      't.ksm:5:1: ioctl() failed with EBADF (Bad file descriptor), and the script does not check it (assign the result to test it)\nioctl(fd, KSM_GET_API_VERSION)\n^',
  },
  {
    title: 'a field the struct does not have, in a {...} argument',
    source: `${V1}fd = open("/dev/ksm", O_RDWR)\nsma = ioctl(fd, KSM_CREATE_SHARED_MEMORY_AREA)\nr = ioctl(sma, KSM_REGISTER_MEMORY_REGION, {npage: 1, addr: 0})\n`,
    expected:
      "t.ksm:5:45: struct ksm_memory_region has no field 'npage' (fields: npages, pad, addr, reserved_bits)\nr = ioctl(sma, KSM_REGISTER_MEMORY_REGION, {npage: 1, addr: 0})\n                                            ^",
  },
  {
    title: 'a field the struct does not have, on a struct variable',
    source: `${V1}struct ksm_kthread_info info;\ninfo.max_pages_to_merge = 5\n`,
    expected:
      "t.ksm:4:6: struct ksm_kthread_info has no field 'max_pages_to_merge' (fields: sleep, pages_to_scan, flags, pad, reserved_bits)\ninfo.max_pages_to_merge = 5\n     ^",
  },
  {
    title: 'a syntax error names what was expected',
    source: 'for (i = 0; i < 3 {\n}\n',
    expected: "t.ksm:1:19: expected ';', found '{'\nfor (i = 0; i < 3 {\n                  ^",
  },
  {
    title: 'a failed expect exits 1 and shows both sides',
    source: 'x = 3\nexpect x * 2 == 7\n',
    expected: 't.ksm:2:1: expect failed: x * 2 == 7 (left: 6, right: 7)\nexpect x * 2 == 7\n^',
    status: 1,
  },
  {
    title: 'a store outside the mappings is a segmentation fault, not a crash',
    source: '*(unsigned long *)0x1000 = 1\n',
    expected: 't.ksm:1:1: segmentation fault: the process cannot write 8 bytes at 0x1000\n*(unsigned long *)0x1000 = 1\n^',
  },
  {
    title: 'waiting for scans that never come',
    source: 'wait_full_scans(1)\n',
    expected:
      't.ksm:1:1: wait_full_scans(1) would wait forever: ksmd is not scanning (start it first: ksmctl start, or echo 1 > /sys/kernel/mm/ksm/run)\nwait_full_scans(1)\n^',
  },
];

for (const c of cases) {
  test(c.title, (t) => {
    t.is(error(c.source, (c.status ?? 2) as 0 | 1 | 2)(t), c.expected);
  });
}

test('a failed call the script assigns returns -1 and sets errno (no error)', (t) => {
  const r = runText('t.ksm', `${V1}fd = open("/dev/ksm", O_RDWR)\nclose(fd)\nr = ioctl(fd, KSM_GET_API_VERSION)\nexpect r == -1 && errno == EBADF\n`);
  t.is(r.status, 0, r.text);
  t.regex(r.text, /^ioctl\(3, KSM_GET_API_VERSION\) = -1 EBADF \(Bad file descriptor\)$/m);
});
