/**
 * /sys/kernel/mm/ksm of Linux 3.9 (seed 004): the show/store pairs in the
 * order of its ksm_attrs array. Stores parse with kstrtoul and return the
 * byte count or -errno; max_kernel_pages is gone, merge_across_nodes is new
 * (CONFIG_NUMA, as on the machines compared with).
 */
import type { Ksmd } from '../engine/clock.js';
import { ERRNO } from '../engine/errno.js';
import { KSM_RUN_MERGE, KSM_RUN_STOP, KSM_RUN_UNMERGE, type Mainline39 } from '../engine/merge/mainline-39.js';
import { kstrtoul, UINT_MAX } from '../kernel/strtoul.js';
import { type SysfsAttr, SysfsDir } from '../kernel/sysfs.js';
import { KSM_SYSFS_DIR } from './constants.js';
import type { OfflineGate } from './offline.js';

/** KSM_ATTR: 0644; KSM_ATTR_RO: 0444. */
const RW = 0o644;
const RO = 0o444;

/** kstrtoul, then "err || value > UINT_MAX" is -EINVAL: the unsigned int knobs of 3.9. */
function uintKnob(buf: string): number {
  const v = kstrtoul(buf, 10);
  if (typeof v === 'number' || v > UINT_MAX) return -ERRNO.EINVAL;
  return Number(v);
}

export function ksmSysfs39(ksm: Mainline39, ksmd: Ksmd, gate: OfflineGate): SysfsDir {
  const attrs: SysfsAttr[] = [
    {
      name: 'sleep_millisecs',
      mode: RW,
      show: () => `${ksm.sleepMillisecs}\n`,
      store(buf, count) {
        const v = uintKnob(buf);
        if (v < 0) return v;
        ksm.sleepMillisecs = v;
        return count;
      },
    },
    {
      name: 'pages_to_scan',
      mode: RW,
      show: () => `${ksm.pagesToScan}\n`,
      store(buf, count) {
        const v = uintKnob(buf);
        if (v < 0) return v;
        ksm.pagesToScan = v;
        return count;
      },
    },
    {
      name: 'run',
      mode: RW,
      show: () => `${ksm.run}\n`,
      store(buf, count) {
        const flags = uintKnob(buf);
        if (flags < 0) return flags;
        if (flags > KSM_RUN_UNMERGE) return -ERRNO.EINVAL;
        // KSM_RUN_MERGE sets ksmd running, and 0 stops it running.
        // KSM_RUN_UNMERGE stops it running and unmerges all rmap_items,
        // breaking COW to free the pages_shared (but leaves mm_slots on the
        // list for when ksmd may be set running again).
        return gate.store(count, () => {
          let ret = count;
          if (ksm.run !== flags) {
            ksm.run = flags;
            if (flags & KSM_RUN_UNMERGE) {
              const err = ksm.unmergeAndRemoveAllRmapItems();
              if (err) {
                ksm.run = KSM_RUN_STOP;
                ret = err;
              }
            }
          }
          if (flags & KSM_RUN_MERGE) ksmd.wake();
          return ret;
        });
      },
    },
    { name: 'pages_shared', mode: RO, show: () => `${ksm.pagesShared}\n` },
    { name: 'pages_sharing', mode: RO, show: () => `${ksm.pagesSharing}\n` },
    { name: 'pages_unshared', mode: RO, show: () => `${ksm.pagesUnshared}\n` },
    // It was not worth any locking to calculate that statistic, but it might
    // therefore sometimes be negative: conceal that.
    { name: 'pages_volatile', mode: RO, show: () => `${ksm.pagesVolatile}\n` },
    { name: 'full_scans', mode: RO, show: () => `${ksm.scan.seqnr}\n` },
    {
      name: 'merge_across_nodes',
      mode: RW,
      show: () => `${ksm.mergeAcrossNodes}\n`,
      store(buf, count) {
        const knob = kstrtoul(buf, 10);
        if (typeof knob === 'number') return knob; // [3.9] the error itself (seed 004 lacks the line)
        if (knob > 1n) return -ERRNO.EINVAL; // [3.9]
        return gate.store(count, () => {
          const err = ksm.setMergeAcrossNodes(Number(knob));
          return err || count;
        });
      },
    },
  ];
  return new SysfsDir(KSM_SYSFS_DIR, attrs);
}
