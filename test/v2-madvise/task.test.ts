/** The libc-style API reads like a 2009 program; failures set errno, nothing throws. */
import test from 'ava';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/engine/constants.js';
import { ERRNO } from '../../src/engine/errno.js';
import { MADV_SHAREABLE, MADV_UNSHAREABLE } from '../../src/v2-madvise/constants.js';
import { V2Kernel } from '../../src/v2-madvise/kernel.js';
import { MAP_FAILED } from '../../src/v2-madvise/task.js';
import { problems } from '../helpers/v2.js';

test('two guests fill their RAM alike, advise it shareable, and the administrator starts kksmd', (t) => {
  const k = new V2Kernel();
  const len = 64 * 4096;
  const guests = ['qemu-a', 'qemu-b'].map((name) => {
    const g = k.task(k.spawn(name));
    const ram = g.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    t.not(ram, MAP_FAILED);
    t.is(g.memset(ram, 0x5a, len), 0);
    t.is(g.madvise(ram, len, MADV_SHAREABLE), 0);
    return { g, ram };
  });
  const admin = k.task(k.spawn('sh'));
  t.is(admin.writeFile('/sys/kernel/mm/ksm/pages_to_scan', '1000\n'), 5);
  t.is(admin.writeFile('/sys/kernel/mm/ksm/sleep', '10000\n'), 6);
  t.is(admin.writeFile('/sys/kernel/mm/ksm/run', '1\n'), 2);
  k.sleep(100);
  // 128 identical pages: 127 merge events.
  t.is(admin.readFile('/sys/kernel/mm/ksm/pages_shared'), '127\n');
  const [a, b] = guests;
  t.deepEqual(a.g.peek(a.ram + 4096 * 7, 4), new Uint8Array([0x5a, 0x5a, 0x5a, 0x5a]));
  // A guest writes: copy-on-write, the other guest is unaffected.
  t.is(b.g.memset(b.ram + 100, 1, 1), 0);
  t.deepEqual(a.g.peek(a.ram + 100, 1), new Uint8Array([0x5a]));
  t.deepEqual(b.g.peek(b.ram + 100, 1), new Uint8Array([1]));
  t.deepEqual(problems(k), []);
});

test('failures set errno as glibc does', (t) => {
  const k = new V2Kernel();
  const g = k.task(k.spawn('p'));
  const p = g.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  t.is(g.madvise(p, 4096, MADV_UNSHAREABLE), -1);
  t.is(g.errno, ERRNO.EINVAL);
  t.is(g.madvise(p + 1, 4096, MADV_SHAREABLE), -1);
  t.is(g.errno, ERRNO.EINVAL);
  t.is(g.madvise(0x10000, 4096, MADV_SHAREABLE), -1);
  t.is(g.errno, ERRNO.ENOMEM);
  t.is(g.mmap(0, 2 ** 46, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS), MAP_FAILED);
  t.is(g.errno, ERRNO.ENOMEM);
  t.is(g.memset(0x10000, 0, 10), -1);
  t.is(g.errno, ERRNO.EFAULT);
  t.is(g.memset(p, 0, -1), -1);
  t.is(g.peek(0x10000, 1), null);
  t.is(g.errno, ERRNO.EFAULT);
  // A refused sysfs write is not an error: write() returns 0.
  t.is(g.writeFile('/sys/kernel/mm/ksm/run', 'yes\n'), 0);
  t.is(g.writeFile('/sys/kernel/mm/ksm/pages_shared', '1\n'), -1);
  t.is(g.errno, ERRNO.EACCES);
  t.is(g.readFile('/sys/kernel/mm/ksm/full_scans'), null);
  t.is(g.errno, ERRNO.ENOENT);
  g.exit();
  t.is(g.madvise(p, 4096, MADV_SHAREABLE), -1);
  t.is(g.errno, ERRNO.ESRCH);
});
