/**
 * The functions a script can call besides its own, with their argument
 * counts (checked before the script runs) and what they are.
 */

export interface BuiltinInfo {
  min: number;
  max: number;
  /** Must be a statement of its own (`f(...)` or `v = f(...)`): the process waits, forks or blocks there. */
  statement?: boolean;
  /** A system call whose failure the script must look at: called as a bare statement, a failure is an error. */
  checked?: boolean;
  doc: string;
}

const INF = Number.POSITIVE_INFINITY;

export const BUILTINS: Readonly<Record<string, BuiltinInfo>> = {
  open: { min: 2, max: 3, checked: true, doc: 'open(path, flags[, mode]): a file descriptor (/dev/ksm in the v1 era)' },
  close: { min: 1, max: 1, checked: true, doc: 'close(fd)' },
  ioctl: { min: 2, max: 3, checked: true, doc: 'ioctl(fd, request[, arg]): arg is &struct_var, {field: value, ...}, x"raw bytes" or an address' },
  mmap: { min: 6, max: 6, checked: true, doc: 'mmap(addr, length, prot, flags, fd, offset) of anonymous memory' },
  munmap: { min: 2, max: 2, checked: true, doc: 'munmap(addr, length)' },
  madvise: { min: 3, max: 3, checked: true, doc: 'madvise(addr, length, advice)' },
  prctl: { min: 1, max: 5, checked: true, doc: 'prctl(option[, arg2, arg3, arg4, arg5]): PR_SET_MEMORY_MERGE / PR_GET_MEMORY_MERGE on Linux 6.4 and later (v3:6.18); EINVAL on the kernels without them' },
  memalign: { min: 2, max: 2, checked: true, doc: 'memalign(alignment, size): an address, or 0 (NULL) with errno' },
  free: { min: 1, max: 1, doc: 'free(ptr) of a memalign block' },
  fork: { min: 0, max: 0, statement: true, checked: true, doc: 'fork(): 0 in the child, its pid in the parent; the child runs first' },
  exit: { min: 1, max: 1, doc: 'exit(status): the process ends' },
  _exit: { min: 1, max: 1, doc: '_exit(status)' },
  pause: { min: 0, max: 0, statement: true, doc: 'pause(): the process sleeps forever (its memory stays; with --host it lives on in the host)' },
  sleep: { min: 1, max: 1, statement: true, doc: 'sleep(seconds) on the virtual clock: ksmd runs meanwhile' },
  usleep: { min: 1, max: 1, statement: true, doc: 'usleep(microseconds) on the virtual clock' },
  wait_full_scans: { min: 1, max: 1, statement: true, doc: 'wait_full_scans(n): the virtual clock runs until the scanner completes n more passes' },
  full_scans: { min: 0, max: 0, doc: 'full_scans(): passes completed so far (full_scans, or the scan cursor\'s wraps in the eras without that counter)' },
  ksm_pages: { min: 2, max: 2, doc: 'ksm_pages(addr, n): how many of the n pages at addr map a KSM page now (an observation of the simulated memory, not a system call)' },
  getpid: { min: 0, max: 0, doc: 'getpid()' },
  getuid: { min: 0, max: 0, doc: 'getuid()' },
  setuid: { min: 1, max: 1, checked: true, doc: 'setuid(uid): root becomes another user for good (its capabilities go)' },
  setgid: { min: 1, max: 1, checked: true, doc: 'setgid(gid)' },
  chmod: { min: 2, max: 2, checked: true, doc: 'chmod(path, mode) of /dev/ksm (v1) or of a /sys/kernel/mm/ksm file (v2, v3): the owner (root) only' },
  printf: { min: 1, max: INF, doc: 'printf(format, ...): to stdout' },
  puts: { min: 1, max: 1, doc: 'puts(s)' },
  perror: { min: 1, max: 1, doc: 'perror(s): "s: strerror(errno)" to stderr' },
  strerror: { min: 1, max: 1, doc: 'strerror(errnum): the message' },
  memset: { min: 3, max: 3, doc: 'memset(addr, byte, n)' },
  read: { min: 3, max: 3, checked: true, doc: 'read(fd, buf, count): into a char buffer, from a sysfs or proc file (a read at offset 0 shows the value now)' },
  write: { min: 3, max: 3, checked: true, doc: 'write(fd, buf, count): to stdout (1), stderr (2), or a store to a sysfs file' },
  pread: { min: 4, max: 4, checked: true, doc: 'pread(fd, buf, count, offset): read at offset, the file offset unchanged' },
  pwrite: { min: 4, max: 4, checked: true, doc: 'pwrite(fd, buf, count, offset): write at offset, the file offset unchanged' },
  err: { min: 1, max: INF, doc: 'err(status, format, ...): "prog: message: strerror(errno)" to stderr, then exit(status) (err.h)' },
  errx: { min: 1, max: INF, doc: 'errx(status, format, ...): "prog: message" to stderr, then exit(status)' },
  warn: { min: 0, max: INF, doc: 'warn(format, ...): "prog: message: strerror(errno)" to stderr' },
  warnx: { min: 0, max: INF, doc: 'warnx(format, ...): "prog: message" to stderr' },
  ffs: { min: 1, max: 1, doc: 'ffs(i): the position of the lowest set bit (1-based), 0 for 0' },
  ffsl: { min: 1, max: 1, doc: 'ffsl(l): ffs of a long' },
  ffsll: { min: 1, max: 1, doc: 'ffsll(ll): ffs of a long long' },
  lseek: { min: 3, max: 3, checked: true, doc: 'lseek(fd, offset, SEEK_SET | SEEK_CUR | SEEK_END) of a sysfs or proc file' },
  fopen: { min: 2, max: 2, doc: 'fopen(path, mode): a FILE of a sysfs or proc file, or NULL with errno' },
  fclose: { min: 1, max: 1, doc: 'fclose(f)' },
  fgets: { min: 3, max: 3, doc: 'fgets(buf, size, f): a line into buf, or NULL at the end' },
  fscanf: { min: 2, max: INF, doc: 'fscanf(f, format, &var, ...): %d %i %u %x %o %s %c with l, ll, h, hh; the count, or EOF' },
  sscanf: { min: 2, max: INF, doc: 'sscanf(s, format, &var, ...)' },
  fprintf: { min: 2, max: INF, doc: 'fprintf(stream, format, ...): stdout, stderr, or a sysfs file opened with fopen(path, "w")' },
  fputs: { min: 2, max: 2, doc: 'fputs(s, stream)' },
  fflush: { min: 1, max: 1, doc: 'fflush(stream): 0 (output is never held back)' },
  putchar: { min: 1, max: 1, doc: 'putchar(c)' },
  snprintf: { min: 3, max: INF, doc: 'snprintf(buf, size, format, ...): into a char buffer, cut at size - 1; the length it wanted' },
  sprintf: { min: 2, max: INF, doc: 'sprintf(buf, format, ...): into a char buffer (its size is checked: an overflow is an error)' },
  atoi: { min: 1, max: 1, doc: 'atoi(s)' },
  atol: { min: 1, max: 1, doc: 'atol(s)' },
  atoll: { min: 1, max: 1, doc: 'atoll(s)' },
  strtol: { min: 3, max: 3, doc: 'strtol(s, &end or NULL, base): ERANGE when out of range' },
  strtoul: { min: 3, max: 3, doc: 'strtoul(s, &end or NULL, base)' },
  strtoll: { min: 3, max: 3, doc: 'strtoll(s, &end or NULL, base)' },
  strtoull: { min: 3, max: 3, doc: 'strtoull(s, &end or NULL, base)' },
  strcmp: { min: 2, max: 2, doc: 'strcmp(a, b)' },
  strncmp: { min: 3, max: 3, doc: 'strncmp(a, b, n)' },
  strlen: { min: 1, max: 1, doc: 'strlen(s)' },
  strcpy: { min: 2, max: 2, doc: 'strcpy(buf, s)' },
  strncpy: { min: 3, max: 3, doc: 'strncpy(buf, s, n)' },
  strcat: { min: 2, max: 2, doc: 'strcat(buf, s)' },
  strchr: { min: 2, max: 2, doc: 'strchr(s, c): the rest of s from c, or NULL' },
  strstr: { min: 2, max: 2, doc: 'strstr(s, t): the rest of s from t, or NULL' },
  getenv: { min: 1, max: 1, doc: 'getenv(name): the value, or NULL (ksmctl run passes its environment)' },
  clock_gettime: { min: 2, max: 2, doc: 'clock_gettime(clock, &ts): the virtual clock into a struct timespec (every clock reads it)' },
  gettimeofday: { min: 2, max: 2, doc: 'gettimeofday(&tv, NULL): the virtual clock into a struct timeval' },
  sysconf: { min: 1, max: 1, doc: 'sysconf(_SC_PAGESIZE): 4096' },
  getpagesize: { min: 0, max: 0, doc: 'getpagesize(): 4096' },
  access: { min: 2, max: 2, doc: 'access(path, F_OK | R_OK | W_OK): 0 if the sysfs or proc file (or /sys/kernel/mm/ksm itself) is there, else -1 with errno' },
  getopt: { min: 3, max: 3, doc: 'getopt(argc, argv, optstring): the next option as glibc finds it (optarg, optind, opterr, optopt; stops at the first argument that is no option, and at --), or -1' },
  time: { min: 1, max: 1, doc: 'time(NULL): seconds of virtual time since boot' },
  page: { min: 1, max: 1, doc: 'page(addr) = CONTENT writes the whole page at addr ("zero", {fill: b}, {seed: s}, {tail: n})' },
  pages: { min: 2, max: 2, doc: 'pages(addr, n) = CONTENT writes n pages (also {seedFrom: s}, {tailFrom: n}, {cycle: [...]})' },
};

export function arityText(name: string, b: BuiltinInfo): string {
  const n = (k: number) => `${k} argument${k === 1 ? '' : 's'}`;
  if (b.min === b.max) return `${name}() takes ${n(b.min)}`;
  if (b.max === INF) return `${name}() takes at least ${n(b.min)}`;
  return `${name}() takes ${b.min} to ${n(b.max)}`;
}
