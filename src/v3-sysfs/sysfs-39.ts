/**
 * /sys/kernel/mm/ksm of Linux 3.9 (seed 004): the show/store pairs in the
 * order of its ksm_attrs array. Stores parse with kstrtoul and return the
 * byte count or -errno; max_kernel_pages is gone, merge_across_nodes is new
 * (CONFIG_NUMA, as on the machines compared with).
 */
import type { Ksmd } from '../engine/clock.js';
import type { Mainline39 } from '../engine/merge/mainline-39.js';
import { type SysfsAttr, SysfsDir } from '../kernel/sysfs.js';
import { KSM_SYSFS_DIR } from './constants.js';
import { counter, kstrtoulUint, mergeAcrossNodesStore, runStore, RW, uintStore } from './ksm-attrs.js';
import type { OfflineGate } from './offline.js';

export function ksmSysfs39(ksm: Mainline39, ksmd: Ksmd, gate: OfflineGate): SysfsDir {
  const attrs: SysfsAttr[] = [
    {
      name: 'sleep_millisecs',
      mode: RW,
      show: () => `${ksm.sleepMillisecs}\n`,
      store: uintStore(kstrtoulUint, (msecs) => { ksm.sleepMillisecs = msecs; }),
    },
    {
      name: 'pages_to_scan',
      mode: RW,
      show: () => `${ksm.pagesToScan}\n`,
      store: uintStore(kstrtoulUint, (nrPages) => { ksm.pagesToScan = nrPages; }),
    },
    { name: 'run', mode: RW, show: () => `${ksm.run}\n`, store: runStore(kstrtoulUint, ksm, ksmd, gate) },
    counter('pages_shared', () => ksm.pagesShared),
    counter('pages_sharing', () => ksm.pagesSharing),
    counter('pages_unshared', () => ksm.pagesUnshared),
    // It was not worth any locking to calculate that statistic, but it might
    // therefore sometimes be negative: conceal that.
    counter('pages_volatile', () => ksm.pagesVolatile),
    counter('full_scans', () => ksm.scan.seqnr),
    { name: 'merge_across_nodes', mode: RW, show: () => `${ksm.mergeAcrossNodes}\n`, store: mergeAcrossNodesStore(ksm, gate) },
  ];
  return new SysfsDir(KSM_SYSFS_DIR, attrs);
}
