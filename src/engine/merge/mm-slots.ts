/**
 * The mm_slot list of the 3.x and 6.x mergers: the hash from mm to slot
 * (mm_slots_hash) and the circular list rooted in ksm_mm_head that the scan
 * cursor walks. The list operations are the same in both kernels; what
 * __ksm_enter and __ksm_exit decide stays in each merger.
 */
import type { Memory } from '../memory/memory.js';
import { MMF_VM_MERGEABLE, type Mm } from '../memory/mm.js';

/**
 * struct mm_slot - ksm information per mm that is being scanned
 * (the hash link is the merger's map from mm to slot; mm_list is prev/next).
 * 2.6.32 keeps its own list of them; 3.x and 6.x use MmSlots below.
 */
export class MmSlot {
  prev: MmSlot = this;
  next: MmSlot = this;
  constructor(
    readonly mm: Mm | null,
    /** Sentinel of this mm's rmap_list. */
    readonly rmapList: number,
  ) {}
}

/** The rmap_list sentinels of the slots live in the merger's item pool. */
export interface RmapListPool {
  newList(): number;
  release(id: number): void;
}

export class MmSlots {
  /** ksm_mm_head: the sentinel of the list (its rmapList is unused). */
  readonly head: MmSlot;
  /** mm_slots_hash */
  readonly byMm = new Map<number, MmSlot>();

  constructor(
    private readonly pool: RmapListPool,
    /** Where the slots' references to their mms are taken and dropped (mmgrab, mmdrop); none: not counted. */
    private readonly memory?: Memory,
  ) {
    this.head = new MmSlot(null, pool.newList());
  }

  /** list_empty(&ksm_mm_head.mm_list) */
  get empty(): boolean {
    return this.head.next === this.head;
  }

  /** mm_slot_lookup */
  lookup(mm: Mm): MmSlot | undefined {
    return this.byMm.get(mm.id);
  }

  /** alloc + mm_slot_insert + list_add_tail(&slot->mm_list, &before->mm_list): the new slot goes just before `before`. */
  insertBefore(mm: Mm, before: MmSlot): MmSlot {
    const slot = new MmSlot(mm, this.pool.newList());
    this.byMm.set(mm.id, slot);
    // __ksm_enter: atomic_inc(&mm->mm_count), dropped where the slot is freed.
    this.memory?.mmgrab(mm);
    slot.prev = before.prev;
    slot.next = before;
    before.prev.next = slot;
    before.prev = slot;
    return slot;
  }

  /** list_move(&slot->mm_list, &at->mm_list): the slot goes just after `at`. */
  moveAfter(slot: MmSlot, at: MmSlot): void {
    slot.prev.next = slot.next;
    slot.next.prev = slot.prev;
    slot.prev = at;
    slot.next = at.next;
    at.next.prev = slot;
    at.next = slot;
  }

  /** hash_del + list_del + mm_slot_free + clear_bit(MMF_VM_MERGEABLE) and the other bits named in `flags`, then mmdrop. */
  remove(slot: MmSlot, flags = MMF_VM_MERGEABLE): void {
    this.byMm.delete(slot.mm!.id);
    slot.prev.next = slot.next;
    slot.next.prev = slot.prev;
    this.pool.release(slot.rmapList);
    slot.mm!.flags &= ~(flags | MMF_VM_MERGEABLE);
    this.memory?.mmdrop(slot.mm!);
  }

  /** The registered slots in list order. */
  list(): MmSlot[] {
    const out: MmSlot[] = [];
    for (let s = this.head.next; s !== this.head; s = s.next) out.push(s);
    return out;
  }
}
