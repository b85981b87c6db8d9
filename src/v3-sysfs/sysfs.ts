/**
 * /sys/kernel/mm/ksm of Linux 2.6.32 (seed 003): the show/store pairs in the
 * order of the seed's ksm_attrs array. Stores parse with strict_strtoul and
 * return what the seed returns (the byte count, or -EINVAL).
 */
import type { Ksmd } from '../engine/clock.js';
import { ERRNO } from '../engine/errno.js';
import type { Mainline2632 } from '../engine/merge/mainline-2632.js';
import { strictStrtoul } from '../kernel/strtoul.js';
import { type SysfsAttr, SysfsDir } from '../kernel/sysfs.js';
import { KSM_SYSFS_DIR } from './constants.js';
import { counter, runStore, RW, strictStrtoulUint, uintStore } from './ksm-attrs.js';

export function ksmSysfs2632(ksm: Mainline2632, ksmd: Ksmd): SysfsDir {
  const attrs: SysfsAttr[] = [
    {
      name: 'sleep_millisecs',
      mode: RW,
      show: () => `${ksm.sleepMillisecs}\n`,
      store: uintStore(strictStrtoulUint, (msecs) => { ksm.sleepMillisecs = msecs; }),
    },
    {
      name: 'pages_to_scan',
      mode: RW,
      show: () => `${ksm.pagesToScan}\n`,
      store: uintStore(strictStrtoulUint, (nrPages) => { ksm.pagesToScan = nrPages; }),
    },
    // No memory hot-remove notifier in 2.6.32: run_store switches at once.
    { name: 'run', mode: RW, show: () => `${ksm.run}\n`, store: runStore(strictStrtoulUint, ksm, ksmd) },
    {
      name: 'max_kernel_pages',
      mode: RW,
      show: () => `${ksm.maxKernelPages}\n`,
      store(buf, count) {
        // strict_strtoul into an unsigned long: no UINT_MAX check on this one.
        const v = strictStrtoul(buf, 10);
        if (typeof v === 'number') return -ERRNO.EINVAL;
        ksm.maxKernelPages = v;
        return count;
      },
    },
    counter('pages_shared', () => ksm.pagesShared),
    counter('pages_sharing', () => ksm.pagesSharing),
    counter('pages_unshared', () => ksm.pagesUnshared),
    // It was not worth any locking to calculate that statistic, but it might
    // therefore sometimes be negative: conceal that.
    counter('pages_volatile', () => ksm.pagesVolatile),
    counter('full_scans', () => ksm.scan.seqnr),
  ];
  return new SysfsDir(KSM_SYSFS_DIR, attrs);
}
