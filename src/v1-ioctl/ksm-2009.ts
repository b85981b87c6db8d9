/**
 * The device-side part of the March 2009 mm/ksm.c (seed 002) on the 2009
 * tree merger (engine/merge/tree-2009.ts): shared memory areas and their
 * slots, the kksmd tunables and ksm_dev_ioctl_start_stop_kthread, the
 * kthread loop body. The merger owns the global slot list, the trees and
 * the scan cursor; this file owns what 002 keeps beside them (the SMA lists,
 * the mm references of get_task_mm, kthread_sleep/pages_to_scan/ksmd_flags).
 */
import { ERRNO } from '../engine/errno.js';
import { jiffiesToUsecs, usecsToJiffies } from '../engine/jiffies.js';
import type { Mm } from '../engine/memory/mm.js';
import type { MemSlot, Tree2009 } from '../engine/merge/tree-2009.js';
import type { KthreadInfo2009, Ksm2009Device } from './device.js';
import { ksm_control_flags_run } from './linux-ksm-2009.js';

/** struct ksm_sma (002): the slots registered through one SMA fd, in order. */
export class KsmSma2009 {
  readonly slots: MemSlot[] = [];
}

/** What kksmd runs (its loop body), for the virtual clock. */
export interface Kthread2009 {
  shouldRun(): boolean;
  batch(): void;
  sleepMicros(): number;
  pagesScanned(): number;
}

/** Allocation sites of 002's device code whose failure the seed handles. */
export type Ksm2009AllocSite = 'ksm_sma' | 'ksm_mem_slot';

export class Ksm2009 implements Ksm2009Device {
  /** kthread_sleep (µs, an int) */
  kthreadSleep = 0;
  /** kthread_pages_to_scan (an int) */
  kthreadPagesToScan = 0;
  /** ksmd_flags (an int, every bit kept) */
  ksmdFlags = 0;
  /** wake_up_interruptible(&kthread_wait), wired to the simulated kksmd. */
  kthreadWait: { wake(): void } = { wake() {} };
  readonly kthread: Kthread2009;

  constructor(
    readonly tree: Tree2009,
    private readonly failAlloc: (site: Ksm2009AllocSite) => boolean = () => false,
  ) {
    this.kthread = {
      shouldRun: () => (this.ksmdFlags & ksm_control_flags_run) !== 0,
      batch: () => this.kthreadBatch(),
      sleepMicros: () => jiffiesToUsecs(usecsToJiffies(this.kthreadSleep)),
      pagesScanned: () => this.tree.positions,
    };
  }

  private get memory() {
    return this.tree.memory;
  }

  allocSma(): KsmSma2009 | null {
    return this.failAlloc('ksm_sma') ? null : new KsmSma2009();
  }

  /** ksm_sma_ioctl_register_memory_region (002): nothing is validated. */
  ksmSmaIoctlRegisterMemoryRegion(sma: unknown, current: Mm | null, mem: { npages: number; addr: bigint }): number {
    if (this.failAlloc('ksm_mem_slot')) return -ERRNO.ENOMEM;
    if (current === null || current.exiting) return -ERRNO.EPERM;
    this.memory.mmget(current); // get_task_mm
    // slot->addr: unsigned long (rounded above 2^53, where nothing is mapped); slot->npages: unsigned.
    const slot = this.tree.addSlot(current, Number(BigInt.asUintN(64, mem.addr)), mem.npages >>> 0);
    (sma as KsmSma2009).slots.push(slot);
    return 0;
  }

  /**
   * ksm_sma_ioctl_remove_memory_region (002): for each slot of the SMA, the
   * first slot of its mm leaves the trees and the list (which flushes the
   * unstable tree), the mm reference goes and the SMA's slot is freed, even
   * when it was not the one unlinked. Always 0.
   */
  ksmSmaIoctlRemoveMemoryRegion(sma: unknown): number {
    const s = sma as KsmSma2009;
    for (const slot of [...s.slots]) {
      if (this.tree.removeMmFromHashAndTree(slot.mm) === null) throw new Error('BUG: remove_mm_from_hash_and_tree found no slot of this mm');
      this.memory.mmput(slot.mm);
      s.slots.splice(s.slots.indexOf(slot), 1);
    }
    return 0;
  }

  /** ksm_sma_release */
  ksmSmaRelease(sma: unknown): number {
    return this.ksmSmaIoctlRemoveMemoryRegion(sma);
  }

  /**
   * ksm_dev_ioctl_start_stop_kthread (002): the run flag needs a non-zero
   * pages_to_scan, else EPERM (positive); every field is stored whole.
   */
  ksmDevIoctlStartStopKthread(info: KthreadInfo2009): number {
    if (info.flags & ksm_control_flags_run) {
      if (!info.pages_to_scan) return ERRNO.EPERM;
    }
    this.kthreadSleep = info.sleep | 0;
    this.kthreadPagesToScan = info.pages_to_scan | 0;
    this.ksmdFlags = info.flags | 0;
    if (this.ksmdFlags & ksm_control_flags_run) this.kthreadWait.wake();
    return 0;
  }

  /** ksm_dev_ioctl_get_info_kthread (002) */
  ksmDevIoctlGetInfoKthread(): KthreadInfo2009 {
    return { sleep: this.kthreadSleep >>> 0, pages_to_scan: this.kthreadPagesToScan >>> 0, flags: this.ksmdFlags >>> 0 };
  }

  /** One iteration of kthread_ksm_scan_thread: ksm_scan_start(&kthread_ksm_scan, kthread_pages_to_scan) if running. */
  kthreadBatch(): void {
    if (this.ksmdFlags & ksm_control_flags_run) this.tree.ksmScanStart(this.kthreadPagesToScan >>> 0);
  }
}
