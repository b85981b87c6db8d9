/**
 * Scripts that used to end in an internal error (or never end) now end as
 * the program would, or with a clear error at their place: deep nesting,
 * huge expressions, printf widths, memset past a mapping, unbounded
 * recursion, and the run limits the host puts on a request (statements,
 * virtual time, ksmd batches, memory, output). Exit statuses follow exit()
 * and main's return.
 */
import test from 'ava';
import { STACK } from '../helpers/cli.js';
import { runText } from '../helpers/script.js';

function failsAt(t: import('ava').ExecutionContext, r: ReturnType<typeof runText>, place: RegExp, message: RegExp): void {
  t.is(r.status, 2, r.text.slice(0, 2000));
  t.regex(r.error ?? '', place);
  t.regex(r.error ?? '', message);
  t.notRegex(r.text, STACK);
}

test('100,000 nested parentheses are a parse error at the first one too many', (t) => {
  const r = runText('t.ksm', `x = ${'('.repeat(100_000)}1${')'.repeat(100_000)}\n`);
  failsAt(t, r, /^t\.ksm:1:105: /, /more than 100 parentheses, brackets and braces open at once/);
  // The line shown is cut around the column.
  t.true((r.error ?? '').length < 1000);
  t.is(runText('t.ksm', `x = ${'('.repeat(100)}1${')'.repeat(100)}\nprint x\n`).stdout, '1\n');
});

test('a 200,000-term expression is a parse error, not a stack overflow', (t) => {
  // 2,000,000 terms are refused before parsing, as a file (or request) over the size limit: test/host/attacks.test.ts.
  const r = runText('t.ksm', `x = ${Array(200_000).fill('1').join('+')}\n`);
  failsAt(t, r, /^t\.ksm:1:\d+: /, /nested too deeply: more than 1000 levels/);
  t.is(runText('t.ksm', `x = ${Array(999).fill('1').join('+')}\nprint x\n`).stdout, '999\n');
});

test('a long run of prefix operators is a parse error where the parser gave up', (t) => {
  failsAt(t, runText('t.ksm', `x = ${'-'.repeat(100_000)}1\n`), /^t\.ksm:1:\d+: /, /nested too deeply/);
});

test('printf %999999999d is the program\'s error, not a string too long for the simulator', (t) => {
  failsAt(t, runText('t.ksm', 'printf("%999999999d\\n", 1)\n'), /^t\.ksm:1:1: /, /printf: a field width of 999999999 is more than a run may write/);
  // A width from a negative * argument left-justifies, as in C.
  t.is(runText('t.ksm', 'printf("[%*d]\\n", -4, 7)\n').stdout, '[7   ]\n');
});

test('memset of 1 TiB on a 4 KiB mapping writes the page and faults at the next one', (t) => {
  const r = runText('t.ksm', 'char *p = memalign(4096, 4096)\nmemset(p, 1, 1 << 40)\n');
  failsAt(t, r, /^t\.ksm:2:1: /, /segmentation fault: memset of 1099511627776 bytes at 0x2aaaaaaab000 cannot write at 0x2aaaaaaac000/);
  const ok = runText('t.ksm', 'char *p = memalign(4096, 8192)\nmemset(p + 10, 7, 5000)\nprint *(unsigned char *)(p + 5009), *(unsigned char *)(p + 5010)\n');
  t.is(ok.stdout, '7 0\n', ok.text);
});

test('unbounded recursion as a statement is the program\'s stack overflow at the call', (t) => {
  const r = runText('t.ksm', 'int f(int n) {\n f(n + 1);\n return 0;\n}\nint main(void) {\n f(0);\n return 0;\n}\n');
  failsAt(t, r, /^t\.ksm:2:2: /, /segmentation fault: stack overflow: f\(\) called 65,536 calls deep/);
});

test('unbounded recursion inside an expression stops at 256 levels with the same error', (t) => {
  const r = runText('t.ksm', 'int f(int n) {\n return f(n + 1) + 1;\n}\nprint f(0)\n');
  failsAt(t, r, /^t\.ksm:2:9: /, /stack overflow: f\(\) called 256 calls deep inside expressions/);
  t.is(runText('t.ksm', 'int f(int n) {\n if (n == 0) return 0;\n return f(n - 1) + 1;\n}\nprint f(200)\n').stdout, '200\n');
});

test('exit(3) and return 4 from main are the exit status, as in C', (t) => {
  t.is(runText('t.ksm', 'int main(void) {\n exit(3);\n}\n').status, 3);
  t.is(runText('t.ksm', 'int main(void) {\n return 4;\n}\n').status, 4);
  t.is(runText('t.ksm', 'int main(void) {\n return 260;\n}\n').status, 4);
  t.is(runText('t.ksm', 'print 1\n').status, 0);
  // A child's status is its own: the run's is the first process's.
  t.is(runText('t.ksm', 'int pid = fork()\nif (pid == 0) exit(9)\nusleep(10)\n').status, 0);
});

test('while (1) { } ends at the statement limit, at the loop', (t) => {
  failsAt(t, runText('t.ksm', 'x = 1\nwhile (1) { }\n', { maxSteps: 10_000 }), /^t\.ksm:2:1: /, /more than 10,000 statements run/);
});

test('sleep takes an unsigned int, so sleep(-1) is 136 years, and a run bounded in virtual time stops at it', (t) => {
  const r = runText('t.ksm', 'x = 1\nsleep(-1)\n', { maxVirtualMicros: 3_600_000_000 });
  failsAt(t, r, /^t\.ksm:2:1: /, /may let 3,600 s of virtual time pass, and this would take it to 4,294,967,295 s/);
  // 2^400 seconds is 0 as an unsigned int.
  t.is(runText('t.ksm', 'sleep(1 << 400)\nprint 1\n').status, 0);
});

test('a run bounded in ksmd batches stops in a long sleep with ksmd scanning every microsecond', (t) => {
  const src = '#pragma era v3\nchar *p = memalign(4096, 16 * 4096)\npages(p, 16) = {fill: 1}\nmadvise(p, 16 * 4096, MADV_MERGEABLE)\necho 0 > /sys/kernel/mm/ksm/sleep_millisecs\necho 1 > /sys/kernel/mm/ksm/run\nsleep(3600)\n';
  failsAt(t, runText("t.ksm", src, { maxBatches: 50_000 }), /^t\.ksm:7:1: /, /may let 50,000 ksmd batches run/);
});

test('a run bounded in memory stops at the write that passes it', (t) => {
  const r = runText('t.ksm', 'char *p = memalign(4096, 4096 * 4096)\npages(p, 4096) = {seedFrom: 1}\n', { maxContentBytes: 8 << 20 });
  failsAt(t, r, /^t\.ksm:2:1: /, /out of memory: the machine holds more than 8 MiB of page contents/);
});

test('a run bounded in output stops at the write that passes it', (t) => {
  const r = runText('t.ksm', 'for (i = 0; i < 100000; i++) printf("%060d\\n", i)\n', { maxOutputBytes: 1 << 20 });
  failsAt(t, r, /^t\.ksm:1:30: /, /the run wrote more than 1 MiB/);
});
