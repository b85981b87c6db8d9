/**
 * /sys/kernel/mm/ksm of each kernel version: the file set in the order of
 * that version's ksm_attrs, the defaults, the modes, and the 6.18 stores'
 * parsing and errno values, which were checked against the running 6.18
 * kernel (the table below lists what it answered).
 */
import test from 'ava';
import { ERRNO } from '../../src/engine/errno.js';
import { V3Kernel } from '../../src/v3-sysfs/kernel.js';
import { KERNEL_VERSIONS, SYSFS_FILES } from '../../src/v3-sysfs/kernels.js';
import { pass, seed, world } from '../helpers/v3x.js';

for (const kernel of KERNEL_VERSIONS) {
  test(`${kernel}: the files of its ksm_attrs, in order`, (t) => {
    const k = new V3Kernel({ kernel });
    t.deepEqual(k.sysfs.names(), SYSFS_FILES[kernel]);
  });
}

test('the defaults of each version: run, pages_to_scan, sleep_millisecs, and the version-only files', (t) => {
  const read = (k: V3Kernel<'2.6.32' | '3.9' | '6.18'>, f: string) => k.readSysfs(f);
  const old = new V3Kernel();
  const k39 = new V3Kernel({ kernel: '3.9' });
  const k618 = new V3Kernel({ kernel: '6.18' });
  t.deepEqual([read(old, 'run'), read(old, 'pages_to_scan'), read(old, 'sleep_millisecs'), read(old, 'max_kernel_pages')], ['1\n', '200\n', '20\n', '2000\n']);
  t.deepEqual([read(k39, 'run'), read(k39, 'pages_to_scan'), read(k39, 'sleep_millisecs'), read(k39, 'merge_across_nodes')], ['0\n', '100\n', '20\n', '1\n']);
  t.is(read(k39, 'max_kernel_pages'), -ERRNO.ENOENT);
  t.is(read(old, 'merge_across_nodes'), -ERRNO.ENOENT);
  const defaults618: Record<string, string> = {
    sleep_millisecs: '20', pages_to_scan: '100', run: '0', pages_scanned: '0', pages_shared: '0', pages_sharing: '0',
    pages_unshared: '0', pages_volatile: '0', pages_skipped: '0', ksm_zero_pages: '0', full_scans: '0', merge_across_nodes: '1',
    max_page_sharing: '256', stable_node_chains: '0', stable_node_dups: '0', stable_node_chains_prune_millisecs: '2000',
    use_zero_pages: '0', general_profit: '0', smart_scan: '1', advisor_mode: '[none] scan-time', advisor_max_cpu: '70',
    advisor_min_pages_to_scan: '500', advisor_max_pages_to_scan: '30000', advisor_target_scan_time: '200',
  };
  for (const [f, v] of Object.entries(defaults618)) t.is(read(k618, f), `${v}\n`, f);
  t.is(read(k618, 'max_kernel_pages'), -ERRNO.ENOENT);
});

test('6.18: the counters and general_profit are read-only (0444), the knobs root-writable (0644)', (t) => {
  const k = new V3Kernel({ kernel: '6.18' });
  const ro = ['pages_scanned', 'pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'pages_skipped', 'ksm_zero_pages', 'full_scans', 'stable_node_chains', 'stable_node_dups', 'general_profit'];
  for (const f of k.sysfs.names()) t.is(k.sysfs.mode(f), ro.includes(f) ? 0o444 : 0o644, f);
  for (const f of ro) t.is(k.writeSysfs(f, '0\n'), -ERRNO.EACCES);
});

/** What the running Linux 6.18 answered to `write(fd, TEXT)` on each file, and what it read back. */
const observed618: Array<[file: string, text: string, ret: number | string, readBack: string]> = [
  ['use_zero_pages', 'yes', 3, '1'],
  ['use_zero_pages', 'on', 2, '1'],
  ['use_zero_pages', 'off', 3, '0'],
  ['use_zero_pages', '2', 'EINVAL', '0'],
  ['use_zero_pages', '', 0, '0'],
  ['use_zero_pages', 'x', 'EINVAL', '0'],
  ['use_zero_pages', 'No\n', 3, '0'],
  ['use_zero_pages', '1\n\n', 3, '1'],
  ['smart_scan', 't', 1, '1'],
  ['smart_scan', 'F', 1, '0'],
  ['max_page_sharing', '1', 'EINVAL', '256'],
  ['max_page_sharing', '-5', 'EINVAL', '256'],
  ['max_page_sharing', 'abc', 'EINVAL', '256'],
  ['max_page_sharing', '99999999999', 'ERANGE', '256'],
  ['max_page_sharing', '+3', 2, '3'],
  ['max_page_sharing', '3\n', 2, '3'],
  ['merge_across_nodes', '2', 'EINVAL', '1'],
  ['merge_across_nodes', '-1', 'EINVAL', '1'],
  ['merge_across_nodes', '+1', 2, '1'],
  ['merge_across_nodes', '01', 2, '1'],
  ['pages_to_scan', '4294967296', 'EINVAL', '100'],
  ['pages_to_scan', '4294967295', 10, '4294967295'],
  ['pages_to_scan', '+7', 2, '7'],
  ['pages_to_scan', '-1', 'EINVAL', '100'],
  ['sleep_millisecs', '0x10', 'EINVAL', '20'],
  ['sleep_millisecs', '20 ', 'EINVAL', '20'],
  ['advisor_max_cpu', '4294967296', 10, '0'],
  ['advisor_max_cpu', '-1', 'EINVAL', '70'],
  ['advisor_target_scan_time', '0', 'EINVAL', '200'],
  ['stable_node_chains_prune_millisecs', '-1', 'EINVAL', '2000'],
  ['advisor_mode', 'scan', 'EINVAL', '[none] scan-time'],
  ['run', '3', 'EINVAL', '0'],
];

for (const [file, text, ret, readBack] of observed618) {
  test(`6.18: write(${file}, ${JSON.stringify(text)}) = ${ret}, then it reads ${JSON.stringify(readBack)}`, (t) => {
    const k = new V3Kernel({ kernel: '6.18' });
    t.is(k.writeSysfs(file, text), typeof ret === 'number' ? ret : -ERRNO[ret as 'EINVAL' | 'ERANGE']);
    t.is(k.readSysfs(file), `${readBack}\n`);
  });
}

test('6.18: max_page_sharing and merge_across_nodes change only while no KSM page exists (write 2 to run first)', (t) => {
  const { k } = world('6.18', [[seed(1), seed(1)]]);
  pass(k, 2);
  t.is(k.writeSysfs('max_page_sharing', '256\n'), 4, 'the same value is no change');
  t.is(k.writeSysfs('max_page_sharing', '10\n'), -ERRNO.EBUSY);
  t.is(k.writeSysfs('merge_across_nodes', '0\n'), -ERRNO.EBUSY);
  t.is(k.writeSysfs('run', '2\n'), 2);
  t.is(k.writeSysfs('max_page_sharing', '10\n'), 3);
  t.is(k.writeSysfs('merge_across_nodes', '0\n'), 2);
});

test('3.9: sleep_millisecs and pages_to_scan take kstrtoul up to UINT_MAX; run accepts 0, 1, 2', (t) => {
  const k = new V3Kernel({ kernel: '3.9' });
  t.is(k.writeSysfs('pages_to_scan', '4294967295\n'), 11);
  t.is(k.writeSysfs('pages_to_scan', '4294967296\n'), -ERRNO.EINVAL);
  t.is(k.writeSysfs('sleep_millisecs', '+5\n'), 3);
  t.is(k.readSysfs('sleep_millisecs'), '5\n');
  t.is(k.writeSysfs('run', '3\n'), -ERRNO.EINVAL);
  t.is(k.writeSysfs('run', '1\n'), 2);
  t.is(k.readSysfs('run'), '1\n');
});
