/**
 * /sys/kernel/mm/ksm of Linux 6.18: the show/store pairs in the order of its
 * ksm_attrs array (CONFIG_NUMA, as on the machines compared with). Stores
 * parse with kstrtouint / kstrtoul / kstrtoint / kstrtobool as the 6.18
 * functions do, and return the byte count or -errno; the parse rules and
 * errno values were checked against the running 6.18 kernel.
 */
import type { Ksmd } from '../engine/clock.js';
import { ERRNO } from '../engine/errno.js';
import { KSM_ADVISOR_NONE, KSM_ADVISOR_SCAN_TIME, type Mainline618 } from '../engine/merge/mainline-618.js';
import { kstrtobool, kstrtoint, kstrtoul, sysfsStreq } from '../kernel/strtoul.js';
import { type SysfsAttr, SysfsDir } from '../kernel/sysfs.js';
import { KSM_SYSFS_DIR } from './constants.js';
import { counter, kstrtouintEinval, mergeAcrossNodesStore, runStore, RW, type Store, uintStore } from './ksm-attrs.js';
import type { OfflineGate } from './offline.js';

/** kstrtoul with any error turned into -EINVAL (the advisor knobs): an unsigned long. */
function ulong(buf: string): bigint | number {
  const v = kstrtoul(buf, 10);
  return typeof v === 'number' ? -ERRNO.EINVAL : v;
}

/** kstrtobool with its error turned into -EINVAL (use_zero_pages, smart_scan). */
function boolStore(set: (value: boolean) => void): Store {
  return (buf, count) => {
    const v = kstrtobool(buf);
    if (typeof v === 'number') return -ERRNO.EINVAL;
    set(v);
    return count;
  };
}

export function ksmSysfs618(ksm: Mainline618, ksmd: Ksmd, gate: OfflineGate): SysfsDir {
  // The unsigned long advisor limits, kept exactly for show (the merger uses them as numbers).
  let minPages = BigInt(ksm.advisorMinPagesToScan);
  let maxPages = BigInt(ksm.advisorMaxPagesToScan);
  let targetScanTime = BigInt(ksm.advisorTargetScanTime);
  const attrs: SysfsAttr[] = [
    {
      name: 'sleep_millisecs',
      mode: RW,
      show: () => `${ksm.sleepMillisecs}\n`,
      store: uintStore(kstrtouintEinval, (msecs) => {
        const changed = msecs !== ksm.sleepMillisecs;
        ksm.sleepMillisecs = msecs;
        // wake_up_interruptible(&ksm_iter_wait): ksmd's sleep ends when the value it slept with changed.
        if (changed) ksmd.kick();
      }),
    },
    {
      name: 'pages_to_scan',
      mode: RW,
      show: () => `${ksm.pagesToScan}\n`,
      store(buf, count) {
        if (ksm.advisorMode !== KSM_ADVISOR_NONE) return -ERRNO.EINVAL;
        const n = kstrtouintEinval(buf);
        if (n < 0) return n;
        ksm.pagesToScan = n;
        return count;
      },
    },
    { name: 'run', mode: RW, show: () => `${ksm.run}\n`, store: runStore(kstrtouintEinval, ksm, ksmd, gate) },
    counter('pages_scanned', () => ksm.pagesScanned),
    counter('pages_shared', () => ksm.pagesShared),
    counter('pages_sharing', () => ksm.pagesSharing),
    counter('pages_unshared', () => ksm.pagesUnshared),
    // It was not worth any locking to calculate that statistic, but it might
    // therefore sometimes be negative: conceal that.
    counter('pages_volatile', () => ksm.pagesVolatile),
    counter('pages_skipped', () => ksm.pagesSkipped),
    counter('ksm_zero_pages', () => ksm.ksmZeroPages),
    counter('full_scans', () => ksm.scan.seqnr),
    { name: 'merge_across_nodes', mode: RW, show: () => `${ksm.mergeAcrossNodes}\n`, store: mergeAcrossNodesStore(ksm, gate) },
    {
      name: 'max_page_sharing',
      mode: RW,
      show: () => `${ksm.maxPageSharing}\n`,
      store(buf, count) {
        const knob = kstrtoint(buf, 10);
        if (typeof knob === 'number') return knob;
        // When a KSM page is created it is shared by 2 mappings. This being a
        // signed comparison, it implicitly verifies it's not negative.
        if (knob < 2n) return -ERRNO.EINVAL;
        if (ksm.maxPageSharing === Number(knob)) return count;
        return gate.store(count, () => ksm.setMaxPageSharing(Number(knob)) || count);
      },
    },
    counter('stable_node_chains', () => ksm.stableNodeChains),
    counter('stable_node_dups', () => ksm.stableNodeDups),
    {
      name: 'stable_node_chains_prune_millisecs',
      mode: RW,
      show: () => `${ksm.stableNodeChainsPruneMillisecs}\n`,
      store: uintStore(kstrtouintEinval, (msecs) => { ksm.stableNodeChainsPruneMillisecs = msecs; }),
    },
    {
      name: 'use_zero_pages',
      mode: RW,
      show: () => `${ksm.useZeroPages ? 1 : 0}\n`,
      store: boolStore((v) => { ksm.useZeroPages = v; }),
    },
    counter('general_profit', () => ksm.generalProfit),
    {
      name: 'smart_scan',
      mode: RW,
      show: () => `${ksm.smartScan ? 1 : 0}\n`,
      store: boolStore((v) => { ksm.smartScan = v; }),
    },
    {
      name: 'advisor_mode',
      mode: RW,
      show: () => (ksm.advisorMode === KSM_ADVISOR_SCAN_TIME ? 'none [scan-time]\n' : '[none] scan-time\n'),
      store(buf, count) {
        const cur = ksm.advisorMode;
        if (sysfsStreq('scan-time', buf)) ksm.advisorMode = KSM_ADVISOR_SCAN_TIME;
        else if (sysfsStreq('none', buf)) ksm.advisorMode = KSM_ADVISOR_NONE;
        else return -ERRNO.EINVAL;
        /* Set advisor default values */
        if (cur !== ksm.advisorMode) ksm.setAdvisorDefaults();
        return count;
      },
    },
    {
      name: 'advisor_max_cpu',
      mode: RW,
      show: () => `${ksm.advisorMaxCpu}\n`,
      store(buf, count) {
        const v = ulong(buf);
        if (typeof v === 'number') return v;
        ksm.advisorMaxCpu = Number(v & 0xffffffffn); // an unsigned int assigned an unsigned long
        return count;
      },
    },
    {
      name: 'advisor_min_pages_to_scan',
      mode: RW,
      show: () => `${minPages}\n`,
      store(buf, count) {
        const v = ulong(buf);
        if (typeof v === 'number') return v;
        minPages = v;
        ksm.advisorMinPagesToScan = Number(v);
        return count;
      },
    },
    {
      name: 'advisor_max_pages_to_scan',
      mode: RW,
      show: () => `${maxPages}\n`,
      store(buf, count) {
        const v = ulong(buf);
        if (typeof v === 'number') return v;
        maxPages = v;
        ksm.advisorMaxPagesToScan = Number(v);
        return count;
      },
    },
    {
      name: 'advisor_target_scan_time',
      mode: RW,
      show: () => `${targetScanTime}\n`,
      store(buf, count) {
        const v = ulong(buf);
        if (typeof v === 'number') return v;
        if (v < 1n) return -ERRNO.EINVAL;
        targetScanTime = v;
        ksm.advisorTargetScanTime = Number(v);
        return count;
      },
    },
  ];
  return new SysfsDir(KSM_SYSFS_DIR, attrs);
}
