/**
 * One process of the real-kernel measurement (bench/kernel.ts): maps
 * PAGES anonymous private pages with THP off, writes the ksmpages worst
 * case into them (page i is zero but for its last 8 bytes, which hold i;
 * every page is written, so every page is present), registers them with
 * madvise(MADV_MERGEABLE), prints "ready", and exits when its standard
 * input closes (or at once with SIGKILL from the parent).
 *
 *   node dist/bench/kernel-child.js PAGES
 *
 * mmap and madvise are called through koffi (an FFI library): Node itself
 * cannot map memory or give it advice.
 */
import koffi from 'koffi';

const PAGE_SIZE = 4096;
const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_PRIVATE = 0x02;
const MAP_ANONYMOUS = 0x20;
const MADV_MERGEABLE = 12;
const MADV_NOHUGEPAGE = 15;

const pages = Number(process.argv[2]);
if (!Number.isSafeInteger(pages) || pages <= 0) {
  process.stderr.write('kernel-child: PAGES must be a positive integer\n');
  process.exit(2);
}

const libc = koffi.load('libc.so.6');
const mmap = libc.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)');
const madvise = libc.func('int madvise(void *addr, size_t len, int advice)');

const len = pages * PAGE_SIZE;
const addr = mmap(null, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
if (addr === null || BigInt(koffi.address(addr)) === 2n ** 64n - 1n) fail('mmap');
if (madvise(addr, len, MADV_NOHUGEPAGE) !== 0) fail('madvise(MADV_NOHUGEPAGE)');
const words = new Uint32Array(koffi.view(addr, len));
for (let i = 0; i < pages; i++) {
  // Words 1022 and 1023 of page i: i as a little-endian 64-bit number (a write faults page 0 in too).
  words[i * 1024 + 1022] = i >>> 0;
  words[i * 1024 + 1023] = Math.floor(i / 4294967296);
}
if (madvise(addr, len, MADV_MERGEABLE) !== 0) fail('madvise(MADV_MERGEABLE)');
process.stdout.write('ready\n');
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));

function fail(call: string): never {
  process.stderr.write(`kernel-child: ${call} failed\n`);
  process.exit(1);
}
