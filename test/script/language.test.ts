/**
 * The C of issue 21's programs that scripts now have: goto, switch, do-while,
 * static locals, enum, arrays and char buffers, char literals, function-like
 * macros, argc/argv, the libc string and number functions, file I/O on the
 * era's sysfs and proc files, and the exit status of exit() and main's
 * return through the real command line. What scripts still lack is an error
 * at its place, never taken and ignored.
 */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ksmctl, STACK } from '../helpers/cli.js';
import { runText } from '../helpers/script.js';

const out = (source: string, opts: Parameters<typeof runText>[2] = {}) => {
  const r = runText('t.ksm', source, { trace: false, ...opts });
  if (r.status !== 0) return `status ${r.status}: ${r.text}`;
  return r.stdout;
};

test('goto: forward to an error path, backward as a loop, into a nested block', (t) => {
  const src = `int f(int fail) {
	int r = 1;
	if (fail)
		goto out;
	r = 0;
out:
	return r;
}
int main(void) {
	int i = 0;
again:
	i++;
	if (i < 3)
		goto again;
	printf("%d %d %d\\n", f(1), f(0), i);
	goto inner;
	printf("skipped\\n");
	{
		printf("never\\n");
inner:
		printf("inner\\n");
	}
	return 0;
}
`;
  t.is(out(src), '1 0 3\ninner\n');
});

test('switch with fallthrough, default and break; do-while; continue inside a switch in a loop', (t) => {
  const src = `for (i = 0; i < 4; i++) {
	switch (i) {
	case 0:
		print "zero"
	case 1:
		print "zero or one"
		break
	case 2:
		continue
	default:
		print "default"
	}
	print "after", i
}
j = 0
do {
	j++
} while (j < 5)
print j
do j--; while (0);
print j
`;
  t.is(out(src), 'zero\nzero or one\nafter 0\nzero or one\nafter 1\ndefault\nafter 3\n5\n4\n');
});

test('static locals keep their value from call to call, each process its own after fork', (t) => {
  const src = `int next(void) {
	static int n = 10;
	return n++;
}
static int g = 1;
int main(void) {
	next();
	next();
	int pid = fork();
	if (pid == 0) {
		printf("child %d\\n", next());
		exit(0);
	}
	usleep(10);
	printf("parent %d %d\\n", next(), g);
	return 0;
}
`;
  t.is(out(src), 'child 12\nparent 12 1\n');
});

test('enum, char literals, arrays, char buffers and sizeof', (t) => {
  const src = `enum mode { OFF, ON = 5, AUTO };
int a[4] = {1, 2, 3};
char buf[16];
char name[] = "ksmd";
a[3] = a[0] + a[2];
buf[0] = 'o';
buf[1] = 'k';
print OFF, ON, AUTO, 'A', '\\n', '\\0', '\\x41'
print a[3], sizeof(a), sizeof(buf), sizeof(name), buf, name[1], strlen(name)
enum mode m = AUTO
print m == 6
`;
  t.is(out(src), '0 5 6 65 10 0 65\n4 16 16 5 ok 115 4\n1\n');
});

test('function-like macros, #x and ##, multi-line uses and definitions', (t) => {
  const src = `#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define STR(x) #x
#define CAT(a, b) a ## b
#define SQUARE(x) \\
	((x) * (x))
value12 = 4
print MAX(1, 2), MAX(MAX(3, 9),
	4), STR(hello), CAT(value, 12), SQUARE(3)
print __LINE_AFTER__
`.replace('print __LINE_AFTER__\n', 'r = 1\n#if MAX(1, 2) == 2\nprint "pp", r\n#endif\n');
  t.is(out(src), '2 9 hello 4 9\npp 1\n');
});

test('assignments inside parentheses, strings against NULL, enum lists over lines, getopt', (t) => {
  const src = `enum test_name {
	MERGE,
	UNMERGE
};
int main(int argc, char *argv[]) {
	int opt;
	int test = MERGE;
	long pages = 10;
	while ((opt = getopt(argc, argv, "p:U")) != -1) {
		switch (opt) {
		case 'p':
			pages = atol(optarg);
			break;
		case 'U':
			test = UNMERGE;
			break;
		default:
			return 1;
		}
	}
	printf("%d %ld %d %d\\n", test, pages, strchr("rw", 'w') != NULL, strchr("rw", 'x') == NULL);
	return 0;
}
`;
  t.is(out(src, { args: ['-U', '-p', '42'] }), '1 42 1 1\n');
  t.is(out(src, { args: ['-p7'] }), '0 7 1 1\n');
  const bad = runText('t.ksm', src, { trace: false, args: ['-x'] });
  t.is(bad.status, 1);
  t.is(bad.text, "t: invalid option -- 'x'\n");
});

test('argc and argv: main(argc, argv) and the globals of a script without main', (t) => {
  const withMain = 'int main(int argc, char *argv[]) {\n for (int i = 0; i < argc; i++) printf("%d:%s\\n", i, argv[i]);\n return argv[argc] == NULL ? 0 : 1;\n}\n';
  t.is(out(withMain, { args: ['start', '100'] }), '0:t\n1:start\n2:100\n');
  t.is(out('print argc, argv[1]\n', { args: ['x'] }), '2 x\n');
});

test('libc: atoi, strtol and its end pointer and ERANGE, strcmp, strncmp, snprintf, sprintf, getenv, strchr', (t) => {
  const src = `char *end
char buf[32]
print atoi(" 42x"), atoi("-7"), atol("99999999999")
v = strtol("0x1fzz", &end, 0)
print v, end
errno = 0
v = strtoul("99999999999999999999", NULL, 10)
print v, errno == ERANGE
print strcmp("a", "b"), strcmp("b", "a"), strcmp("x", "x"), strncmp("start", "stop", 2)
n = snprintf(buf, 4, "%d", 123456)
print n, buf
sprintf(buf, "%s/%s", "/sys", "kernel")
print buf, strchr(buf, 'k'), getenv("KSM_TEST_VAR"), getenv("NOPE") == NULL
`;
  t.is(out(src, { env: { KSM_TEST_VAR: 'yes' } }), '42 -7 99999999999\n31 zz\n18446744073709551615 1\n-1 1 0 0\n6 123\n/sys/kernel kernel yes 1\n');
});

test('sprintf past a buffer is an error at its place, not a longer buffer', (t) => {
  const r = runText('t.ksm', 'char b[4]\nsprintf(b, "%d", 12345)\n', { trace: false });
  t.is(r.status, 2);
  t.regex(r.error ?? '', /^t\.ksm:2:1: buffer overflow: 6 bytes into b\[4\]/);
});

test('open/read/write/lseek/close and fopen/fgets/fscanf/fprintf on sysfs, proc and /proc/meminfo', (t) => {
  const src = `#pragma era v3:2.6.32
char buf[64]
int fd = open("/sys/kernel/mm/ksm/pages_to_scan", O_RDWR)
n = read(fd, buf, sizeof(buf) - 1)
buf[n] = 0
print buf == "200\\n", read(fd, buf, 10)
write(fd, "321", 3)
lseek(fd, 0, SEEK_SET)
n = read(fd, buf, sizeof(buf) - 1)
buf[n] = 0
print buf
close(fd)
FILE *f = fopen("/sys/kernel/mm/ksm/sleep_millisecs", "w")
fprintf(f, "%d\\n", 77)
fclose(f)
f = fopen("/sys/kernel/mm/ksm/sleep_millisecs", "r")
int v
fscanf(f, "%d", &v)
fclose(f)
print v
f = fopen("/proc/meminfo", "r")
char line[128]
unsigned long total
while (fgets(line, sizeof(line), f))
	if (sscanf(line, "MemTotal: %lu kB", &total) == 1)
		print total > 0
fclose(f)
f = fopen("/sys/kernel/mm/ksm/none", "r")
print f == NULL, errno == ENOENT
r = write(99, "x", 1)
print r, errno == EBADF
`;
  t.is(out(src), '1 0\n321\n\n77\n1\n1 1\n-1 1\n');
});

test('ksmctl run: arguments after the script, and the exit status of exit() and main\'s return', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ksm-lang-'));
  const file = join(dir, 'prog.ksm');
  writeFileSync(file, 'int main(int argc, char **argv) {\n if (argc < 2) {\n  fprintf(stderr, "usage: %s N\\n", argv[0]);\n  exit(1);\n }\n printf("%s %s\\n", argv[1], argv[2]);\n return atoi(argv[1]);\n}\n');
  const none = ksmctl(['run', file]);
  t.is(none.status, 1);
  t.is(none.stderr, 'usage: prog N\n');
  const some = ksmctl(['run', file, '5', 'x']);
  t.is(some.status, 5);
  t.is(some.stdout, '5 x\n');
  const dashed = ksmctl(['run', file, '--', '3', '-v']);
  t.is(dashed.status, 3);
  t.is(dashed.stdout, '3 -v\n');
  // An error keeps its own status, 2.
  writeFileSync(file, 'x = nope\n');
  const bad = ksmctl(['run', file]);
  t.is(bad.status, 2);
  t.regex(bad.stderr, /prog\.ksm:1:5: unknown name nope/);
});

const refused: Array<[string, RegExp]> = [
  ['struct foo { int a; };\n', /1:1: defining a struct is not supported/],
  ['typedef int x;\n', /1:1: 'typedef' is not supported/],
  ['x = 1.5\n', /1:5: floating-point constants are not supported/],
  ['p->x = 1\n', /1:2: '->' is not supported/],
  ['int a[2][3];\n', /1:9: arrays of arrays are not supported/],
  ['case 1: print 1\n', /1:1: case outside a switch/],
  ['int main(void) { goto nowhere; }\n', /1:18: goto nowhere: no label nowhere/],
  ['#if 1\nprint 1\n', /1:1: unterminated #if/],
  ['#else\n', /1:1: #else without #if/],
  ['#line 5\n', /1:1: #line is not supported/],
  ['#error stop here\n', /1:1: #error stop here/],
  ['#define F(a, b) a\nprint F(1)\n', /2:7: macro F takes 2 arguments, got 1/],
  ["c = 'ab'\n", /1:5: /],
  ['break\n', /1:1: break outside a loop or a switch/],
];
for (const [src, message] of refused) {
  test(`refused where it stands: ${JSON.stringify(src.split('\n')[0])}`, (t) => {
    const r = runText('t.ksm', src, { trace: false });
    t.is(r.status, 2, r.text);
    t.regex(r.error ?? '', message);
    t.notRegex(r.text, STACK);
  });
}

test('what ksm_tests.c also needed: inline, volatile bool, err/errx/warn/warnx, pread/pwrite, ffs/ffsl, MAP_NORESERVE', (t) => {
  t.is(out('static inline int twice(int x) { return 2 * x; }\nvolatile bool flag = 3\nprint twice(4), flag, ffsl(0x100), ffs(0), ffsll(1)\n'), '8 1 9 0 1\n');
  t.is(out('char *p = mmap(NULL, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)\nprint p != MAP_FAILED\n'), '1\n');
  const r = runText('t.ksm', 'warnx("a %d", 5)\nerrno = ENOENT\nwarn("b")\nerr(3, "c %s", "x")\nprint "not reached"\n', { trace: false });
  t.is(r.status, 3);
  t.is(r.stdout, '');
  t.regex(r.text, /^t: a 5\nt: b: No such file or directory\nt: c x: No such file or directory\n/m);
  // pread and pwrite at an offset leave the file's offset where it was.
  const src = '#pragma era v3:6.18\nchar buf[64]\nint fd = open("/sys/kernel/mm/ksm/pages_to_scan", O_RDWR)\nint n = pread(fd, buf, 63, 0)\nprint n, lseek(fd, 0, SEEK_CUR)\nprint pwrite(fd, "300", 3, 0)\nn = pread(fd, buf, 63, 0)\nbuf[n] = 0\nprint buf\n';
  t.is(out(src), '4 0\n3\n300\n\n');
});
