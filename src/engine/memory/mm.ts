/**
 * Address spaces: mm_struct and vm_area_struct.
 *
 * A Vma is one mapping [start, end) with its vm_flags and its page table:
 *   frames[i]  frame mapped at start + i * PAGE_SIZE, 0 when pte_none
 *   pte[i]     PTE_* bits of that entry (PTE_WRITE: writable)
 * One page table per VMA keeps lookups O(1) and splits cheap (two slices).
 */
import { PAGE_SIZE } from '../constants.js';

/** pte_write(): the entry allows writes without a fault. */
export const PTE_WRITE = 1;

/** linux/sched.h: the mm has been registered with KSM (2.6.32 bit 16). */
export const MMF_VM_MERGEABLE = 1 << 16;

/** x86_64 TASK_UNMAPPED_BASE (legacy bottom-up layout): where mmap starts looking. */
export const TASK_UNMAPPED_BASE = 0x2aaaaaaab000;
/**
 * The largest mm id: rmap_items pack the mm id in 17 bits beside the
 * address's high bits. Ids count up to it, then the ids of freed mms are
 * reused (Memory.createMm), so a machine may create any number of mms over
 * its life, with at most this many alive (or held by KSM) at once.
 */
export const MM_ID_MAX = (1 << 17) - 1;

/** x86_64 TASK_SIZE: the end of user space. */
export const TASK_SIZE = 0x7ffffffff000;

export class Vma {
  frames: Int32Array;
  pte: Uint8Array;
  /** vma->anon_vma: set at the first anonymous fault (anon_vma_prepare). */
  anonVma = false;
  /** NUMA node new pages of this mapping are allocated on. */
  node = 0;

  constructor(
    readonly mm: Mm,
    public start: number,
    public end: number,
    public flags: number,
    frames?: Int32Array,
    pte?: Uint8Array,
  ) {
    const n = (end - start) / PAGE_SIZE;
    this.frames = frames ?? new Int32Array(n);
    this.pte = pte ?? new Uint8Array(n);
  }

  get pages(): number {
    return (this.end - this.start) / PAGE_SIZE;
  }

  index(addr: number): number {
    return (addr - this.start) / PAGE_SIZE;
  }
}

export class Mm {
  vmas: Vma[] = [];
  /** mm_users: 0 means the mm is exiting (ksm_test_exit). */
  users = 1;
  /**
   * mm_count: references to the struct itself, one for all the users
   * together and one for each holder that outlives them (a KSM mm_slot:
   * __ksm_enter's atomic_inc, the slot's mmdrop). At 0 the mm is freed and
   * its id may be reused (Memory.mmdrop).
   */
  count = 1;
  /** mm->flags bits (MMF_*). */
  flags = 0;
  /** Copy-on-write faults this mm took on KSM pages (a statistic: writes that undid a merge). */
  ksmCowBreaks = 0;

  constructor(readonly id: number) {}

  /** find_vma: the first VMA that ends above addr, or null. */
  findVma(addr: number): Vma | null {
    const i = this.findVmaIndex(addr);
    return i < this.vmas.length ? this.vmas[i] : null;
  }

  /** Index in `vmas` of the first VMA ending above addr (vmas.length if none). */
  findVmaIndex(addr: number): number {
    let lo = 0;
    let hi = this.vmas.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.vmas[mid].end > addr) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** The VMA containing addr, or null. */
  vmaAt(addr: number): Vma | null {
    const v = this.findVma(addr);
    return v !== null && v.start <= addr ? v : null;
  }

  /** The VMA after `vma` in address order (vma->vm_next), or null. */
  nextVma(vma: Vma): Vma | null {
    const i = this.vmas.indexOf(vma);
    return i >= 0 && i + 1 < this.vmas.length ? this.vmas[i + 1] : null;
  }

  get exiting(): boolean {
    return this.users === 0;
  }
}
