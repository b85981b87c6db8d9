/**
 * /sys/kernel/mm/ksm of Linux 2.6.32 (seed 003): the show/store pairs in the
 * order of the seed's ksm_attrs array. Stores parse with strict_strtoul and
 * return what the seed returns (the byte count, or -EINVAL).
 */
import type { Ksmd } from '../engine/clock.js';
import { ERRNO } from '../engine/errno.js';
import { KSM_RUN_MERGE, KSM_RUN_UNMERGE, type Mainline2632 } from '../engine/merge/mainline-2632.js';
import { strictStrtoul, UINT_MAX } from '../kernel/strtoul.js';
import { type SysfsAttr, SysfsDir } from '../kernel/sysfs.js';
import { KSM_SYSFS_DIR } from './constants.js';

/** KSM_ATTR: 0644; KSM_ATTR_RO uses __ATTR_RO, 0444. */
const RW = 0o644;
const RO = 0o444;

export function ksmSysfs2632(ksm: Mainline2632, ksmd: Ksmd): SysfsDir {
  const attrs: SysfsAttr[] = [
    {
      name: 'sleep_millisecs',
      mode: RW,
      show: () => `${ksm.sleepMillisecs}\n`,
      store(buf, count) {
        const v = strictStrtoul(buf, 10);
        if (typeof v === 'number' || v > UINT_MAX) return -ERRNO.EINVAL;
        ksm.sleepMillisecs = Number(v);
        return count;
      },
    },
    {
      name: 'pages_to_scan',
      mode: RW,
      show: () => `${ksm.pagesToScan}\n`,
      store(buf, count) {
        const v = strictStrtoul(buf, 10);
        if (typeof v === 'number' || v > UINT_MAX) return -ERRNO.EINVAL;
        ksm.pagesToScan = Number(v);
        return count;
      },
    },
    {
      name: 'run',
      mode: RW,
      show: () => `${ksm.run}\n`,
      store(buf, count) {
        const v = strictStrtoul(buf, 10);
        if (typeof v === 'number' || v > UINT_MAX) return -ERRNO.EINVAL;
        if (v > BigInt(KSM_RUN_UNMERGE)) return -ERRNO.EINVAL;
        const flags = Number(v);
        // KSM_RUN_MERGE sets ksmd running, and 0 stops it running.
        // KSM_RUN_UNMERGE stops it running and unmerges all rmap_items.
        let ret = count;
        if (ksm.run !== flags) {
          ksm.run = flags;
          if (flags & KSM_RUN_UNMERGE) {
            const err = ksm.unmergeAndRemoveAllRmapItems();
            if (err) {
              ksm.run = 0;
              ret = err;
            }
          }
        }
        if (flags & KSM_RUN_MERGE) ksmd.wake();
        return ret;
      },
    },
    {
      name: 'max_kernel_pages',
      mode: RW,
      show: () => `${ksm.maxKernelPages}\n`,
      store(buf, count) {
        const v = strictStrtoul(buf, 10);
        if (typeof v === 'number') return -ERRNO.EINVAL;
        ksm.maxKernelPages = v;
        return count;
      },
    },
    { name: 'pages_shared', mode: RO, show: () => `${ksm.pagesShared}\n` },
    { name: 'pages_sharing', mode: RO, show: () => `${ksm.pagesSharing}\n` },
    { name: 'pages_unshared', mode: RO, show: () => `${ksm.pagesUnshared}\n` },
    // It was not worth any locking to calculate that statistic, but it might
    // therefore sometimes be negative: conceal that.
    { name: 'pages_volatile', mode: RO, show: () => `${ksm.pagesVolatile}\n` },
    { name: 'full_scans', mode: RO, show: () => `${ksm.scan.seqnr}\n` },
  ];
  return new SysfsDir(KSM_SYSFS_DIR, attrs);
}
