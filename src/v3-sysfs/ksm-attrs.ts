/**
 * What the /sys/kernel/mm/ksm tables of 2.6.32 (sysfs.ts), 3.9
 * (sysfs-39.ts) and 6.18 (sysfs-618.ts) share: the KSM_ATTR modes, each
 * kernel's parse of an unsigned int knob, the store of such a knob,
 * run_store and merge_across_nodes_store. Each table still lists its own
 * files, defaults and modes, so the versions read side by side.
 */
import type { Ksmd } from '../engine/clock.js';
import { ERRNO } from '../engine/errno.js';
import { kstrtoul, kstrtouint, strictStrtoul, UINT_MAX } from '../kernel/strtoul.js';
import type { SysfsAttr } from '../kernel/sysfs.js';
import { KSM_RUN_MERGE, KSM_RUN_STOP, KSM_RUN_UNMERGE } from './constants.js';
import type { OfflineGate } from './offline.js';

/** KSM_ATTR: 0644 in every era (__ATTR(_name, 0644, ...), later __ATTR_RW); KSM_ATTR_RO (__ATTR_RO): 0444. */
export const RW = 0o644;
export const RO = 0o444;

/** A store method of SysfsAttr: the byte count, or -errno. */
export type Store = (buf: string, count: number) => number;

/** How a kernel's store parses an unsigned int knob: the value, or the -errno the store returns. */
export type UintParser = (buf: string) => number;

/** 2.6.32: strict_strtoul, then "err || value > UINT_MAX" is -EINVAL. */
export function strictStrtoulUint(buf: string): number {
  const v = strictStrtoul(buf, 10);
  if (typeof v === 'number' || v > UINT_MAX) return -ERRNO.EINVAL;
  return Number(v);
}

/** 3.9: kstrtoul, then "err || value > UINT_MAX" is -EINVAL (its -ERANGE too). */
export function kstrtoulUint(buf: string): number {
  const v = kstrtoul(buf, 10);
  if (typeof v === 'number' || v > UINT_MAX) return -ERRNO.EINVAL;
  return Number(v);
}

/** 6.18: kstrtouint, with any error (its -ERANGE too) turned into -EINVAL, as most 6.18 stores do. */
export function kstrtouintEinval(buf: string): number {
  const v = kstrtouint(buf, 10);
  return typeof v === 'number' ? -ERRNO.EINVAL : Number(v);
}

/** A read-only counter (KSM_ATTR_RO): its value and a newline. */
export function counter(name: string, value: () => number): SysfsAttr {
  return { name, mode: RO, show: () => `${value()}\n` };
}

/** The store of an unsigned int knob (sleep_millisecs_store and its like): parse, set, the byte count. */
export function uintStore(parse: UintParser, set: (value: number) => void): Store {
  return (buf, count) => {
    const v = parse(buf);
    if (v < 0) return v;
    set(v);
    return count;
  };
}

/** What run_store needs of a merger. */
export interface RunKnob {
  run: number;
  unmergeAndRemoveAllRmapItems(): number;
}

/**
 * run_store: flags above KSM_RUN_UNMERGE are -EINVAL. From 3.9 on the
 * switch waits while memory is offlined (wait_while_offlining, the gate);
 * 2.6.32 has no hot-remove notifier and passes none.
 */
export function runStore(parse: UintParser, ksm: RunKnob, ksmd: Ksmd, gate?: OfflineGate): Store {
  return (buf, count) => {
    const flags = parse(buf);
    if (flags < 0) return flags;
    if (flags > KSM_RUN_UNMERGE) return -ERRNO.EINVAL;
    // KSM_RUN_MERGE sets ksmd running, and 0 stops it running.
    // KSM_RUN_UNMERGE stops it running and unmerges all rmap_items,
    // breaking COW to free the pages_shared (but leaves mm_slots on the
    // list for when ksmd may be set running again).
    const body = () => {
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
    };
    return gate ? gate.store(count, body) : body();
  };
}

/**
 * merge_across_nodes_store (3.9 and later): kstrtoul's error itself (not
 * -EINVAL), a knob above 1 is -EINVAL, then the switch (0 or -EBUSY from
 * the merger) once memory is not being offlined.
 */
export function mergeAcrossNodesStore(ksm: { setMergeAcrossNodes(knob: number): number }, gate: OfflineGate): Store {
  return (buf, count) => {
    const knob = kstrtoul(buf, 10);
    if (typeof knob === 'number') return knob; // [3.9] the error itself (seed 004 lacks the line)
    if (knob > 1n) return -ERRNO.EINVAL; // [3.9]
    return gate.store(count, () => ksm.setMergeAcrossNodes(Number(knob)) || count);
  };
}
