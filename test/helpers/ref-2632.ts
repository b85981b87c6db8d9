/**
 * A second, deliberately plain model of seed 003 (mainline mm/ksm.c of
 * Linux 2.6.32) for differential tests of src/engine/merge/mainline-2632.ts.
 * It is written from the seed, function for function and in the seed's
 * order, not from the engine:
 *
 * - rmap_items and mm_slots are objects; their lists are the kernel's
 *   circular doubly linked list_heads (list_add, list_add_tail, list_del,
 *   list_move, list_empty), with a fake "list_entry of the head" where the
 *   seed uses one (ksm_scan.rmap_item);
 * - the two unions of struct rmap_item are kept as unions: { oldchecksum,
 *   next } is one field, so `next = NULL` makes oldchecksum read 0;
 * - the rb_node of each rmap_item lives in a small struct-of-arrays store
 *   indexed by the item's id, so that src/engine/rbtree.ts (lib/rbtree.c of
 *   the era) gives the kernel's tree shapes;
 * - page references are taken and dropped where the seed does
 *   (follow_page with FOLL_GET, get_page, put_page), on a Memory of its own;
 * - checksums (jhash2 of lookup2 over the page's 1024 words, initval 17) and
 *   memcmp are computed from the page bytes on every call: no caches.
 *
 * What is not mm/ksm.c comes from the engine's memory model, which is not
 * under test: page tables, write faults and copy-on-write (Memory.breakKsm
 * is handle_mm_fault(FAULT_FLAG_WRITE) on a KSM page), write_protect_page's
 * pte update (Memory.writeProtect, given the seed's "+ 2"), replace_page
 * (Memory.replacePage), fork, mmput, munmap, and sys_madvise's VMA walk
 * (src/kernel/madvise.ts). Where the seed is silent the engine's documented
 * choices are followed, and marked OUTSIDE THE SEED:
 * - ksm_fork / ksm_exit (include/linux/ksm.h of 2.6.32): a child of a
 *   registered mm is registered (__ksm_enter, behind the cursor) before its
 *   VMAs are copied; only registered mms reach __ksm_exit;
 * - page_address_in_vma / page_check_address are the memory model's
 *   "the page is mapped at that address" (spec algorithms.md §0: merges fail
 *   only on content or policy, not on kernel-internal lookups).
 */
import { PAGE_SIZE, VM_DONTCOPY, VM_DONTEXPAND, VM_HUGETLB, VM_INSERTPAGE, VM_IO, VM_LOCKED, VM_MAYSHARE, VM_MERGEABLE, VM_MIXEDMAP, VM_PFNMAP, VM_RESERVED, VM_SAO, VM_SHARED } from '../../src/engine/constants.js';
import { ERRNO } from '../../src/engine/errno.js';
import { jhash2 } from '../../src/engine/hash/jhash-lookup2.js';
import { FRAME_ANON, FRAME_KSM } from '../../src/engine/memory/frames.js';
import type { Memory } from '../../src/engine/memory/memory.js';
import { MMF_VM_MERGEABLE, type Mm, type Vma } from '../../src/engine/memory/mm.js';
import { type RbLink, type RbRoot, type RbStore, rbErase, rbInsertColor, rbLinkNode, rbReplaceNode } from '../../src/engine/rbtree.js';
import { type MadviseBehavior, sysMadvise } from '../../src/kernel/madvise.js';

const MADV_DONTNEED = 4;
const MADV_DONTFORK = 10;
const MADV_DOFORK = 11;
const MADV_MERGEABLE = 12;
const MADV_UNMERGEABLE = 13;

export const SEQNR_MASK = 0x0ff; /* low bits of unstable tree seqnr */
export const NODE_FLAG = 0x100; /* is a node of unstable or stable tree */
export const STABLE_FLAG = 0x200; /* is a node or list item of stable tree */

export const KSM_RUN_STOP = 0;
export const KSM_RUN_MERGE = 1;
export const KSM_RUN_UNMERGE = 2;

/* handle_mm_fault's result bits that break_ksm tests (linux/mm.h). */
const VM_FAULT_OOM = 0x0001;
const VM_FAULT_SIGBUS = 0x0002;
const VM_FAULT_WRITE = 0x0008;

const UINT_MAX = 0xffffffff;

// ------------------------------------------------------------ list.h

/** struct list_head; `entry` is what list_entry() of this link gives (null for a list head). */
export class ListHead<T> {
  prev: ListHead<T> = this;
  next: ListHead<T> = this;
  constructor(readonly entry: T | null) {}
}

function __listAdd<T>(n: ListHead<T>, prev: ListHead<T>, next: ListHead<T>): void {
  next.prev = n;
  n.next = next;
  n.prev = prev;
  prev.next = n;
}

/** list_add: insert n just after head. */
function listAdd<T>(n: ListHead<T>, head: ListHead<T>): void {
  __listAdd(n, head, head.next);
}

/** list_add_tail: insert n just before head. */
function listAddTail<T>(n: ListHead<T>, head: ListHead<T>): void {
  __listAdd(n, head.prev, head);
}

function listDel<T>(entry: ListHead<T>): void {
  entry.next.prev = entry.prev;
  entry.prev.next = entry.next;
}

function listMove<T>(entry: ListHead<T>, head: ListHead<T>): void {
  listDel(entry);
  listAdd(entry, head);
}

function listEmpty<T>(head: ListHead<T>): boolean {
  return head.next === head;
}

// ------------------------------------------------------------ structures

/**
 * struct rmap_item - reverse mapping item for virtual addresses.
 * `address` and `flags` are one word in the C (`address` + flags in its low
 * bits); they are two fields here because addresses exceed 32 bits.
 */
export class RmapItem {
  /** link into mm_slot's rmap_list (rmap_list is per mm) */
  readonly link = new ListHead<RmapItem>(this);
  /** the memory structure this rmap_item is pointing into */
  mm: Mm | null = null;
  /** the virtual address this rmap_item tracks (rmap_item->address & PAGE_MASK) */
  address = 0;
  /** the low bits of rmap_item->address: SEQNR_MASK, NODE_FLAG, STABLE_FLAG */
  flags = 0;
  /** union { unsigned int oldchecksum; struct rmap_item *next; } */
  private u: number | RmapItem = 0;
  /** union { struct rb_node node; struct rmap_item *prev; }: the rb_node is in RbNodes at `id`. */
  prev: RmapItem | null = null;

  constructor(readonly id: number) {}

  /** The C address word: address with the flags in its low bits (for the comparisons the seed makes on it). */
  get addressWord(): number {
    return this.address + this.flags;
  }

  get oldchecksum(): number {
    if (typeof this.u !== 'number') throw new Error(`rmap_item ${this.id}: oldchecksum read while next points to an item`);
    return this.u;
  }

  set oldchecksum(v: number) {
    this.u = v >>> 0;
  }

  get next(): RmapItem | null {
    if (typeof this.u === 'number') {
      if (this.u !== 0) throw new Error(`rmap_item ${this.id}: next read while it holds a checksum`);
      return null;
    }
    return this.u;
  }

  /** next = NULL is the same store as oldchecksum = 0. */
  set next(v: RmapItem | null) {
    this.u = v ?? 0;
  }
}

/** struct mm_slot - ksm information per mm that is being scanned. */
export class MmSlot {
  /** link into the mm_slots list, rooted in ksm_mm_head */
  readonly mmList = new ListHead<MmSlot>(this);
  /** head for this mm_slot's list of rmap_items */
  readonly rmapList = new ListHead<RmapItem>(null);
  constructor(public mm: Mm | null) {}
}

/** The rb_nodes of all rmap_items, by item id. */
class RbNodes implements RbStore {
  left = new Int32Array(64);
  right = new Int32Array(64);
  parent = new Int32Array(64);
  color = new Uint8Array(64);
  readonly items: Array<RmapItem | undefined> = [undefined];

  add(item: RmapItem): void {
    this.items[item.id] = item;
    if (item.id >= this.left.length) {
      const n = this.left.length * 2;
      const grow = <A extends Int32Array | Uint8Array>(a: A, b: A): A => {
        b.set(a);
        return b;
      };
      this.left = grow(this.left, new Int32Array(n));
      this.right = grow(this.right, new Int32Array(n));
      this.parent = grow(this.parent, new Int32Array(n));
      this.color = grow(this.color, new Uint8Array(n));
    }
  }

  item(id: number): RmapItem {
    const it = this.items[id];
    if (it === undefined) throw new Error(`no rmap_item ${id}`);
    return it;
  }
}

export interface RefCounters {
  pagesShared: number;
  pagesSharing: number;
  pagesUnshared: number;
  pagesVolatile: number;
  fullScans: number;
  rmapItems: number;
}

export class Ref2632 {
  /* The stable and unstable tree heads */
  readonly rootStableTree: RbRoot = { node: 0 };
  readonly rootUnstableTree: RbRoot = { node: 0 };
  readonly nodes = new RbNodes();

  /** mm_slots_hash */
  readonly mmSlotsHash = new Map<Mm, MmSlot>();

  readonly ksmMmHead = new MmSlot(null);
  /** struct ksm_scan; rmapItem is the current item's link, or a slot's rmap_list head (list_entry of the head). */
  readonly ksmScan: { mmSlot: MmSlot; address: number; rmapItem: ListHead<RmapItem>; seqnr: number } = {
    mmSlot: this.ksmMmHead,
    address: 0,
    rmapItem: this.ksmMmHead.rmapList,
    seqnr: 0,
  };

  /* The number of nodes in the stable tree */
  ksmPagesShared = 0;
  /* The number of page slots additionally sharing those nodes */
  ksmPagesSharing = 0;
  /* The number of nodes in the unstable tree */
  ksmPagesUnshared = 0;
  /* The number of rmap_items in use: to calculate pages_volatile */
  ksmRmapItems = 0;
  /* Limit on the number of unswappable pages used (unsigned long) */
  ksmMaxKernelPages = 2000n;
  /* Number of pages ksmd should scan in one batch */
  ksmThreadPagesToScan = 200;
  /* Milliseconds ksmd should sleep between batches */
  ksmThreadSleepMillisecs = 20;
  ksmRun = KSM_RUN_MERGE;

  private nextItemId = 1;
  /** Pages ksm_do_scan has looked at (a statistic for the workload runner; no effect). */
  pagesScanned = 0;
  /** How often each interesting branch of the seed was taken (coverage for the tests; no effect). */
  readonly events = new Map<string, number>();

  private hit(event: string): void {
    this.events.set(event, (this.events.get(event) ?? 0) + 1);
  }

  constructor(readonly memory: Memory) {
    // OUTSIDE THE SEED: include/linux/ksm.h of 2.6.32, called from dup_mmap and mmput.
    memory.hooks = {
      fork: (oldmm, mm) => (oldmm.flags & MMF_VM_MERGEABLE ? this.__ksmEnter(mm) : 0),
      exit: (mm) => {
        if (mm.flags & MMF_VM_MERGEABLE) this.__ksmExit(mm);
      },
    };
  }

  // ------------------------------------------------------------ page helpers (struct page)

  private PageAnon(page: number): boolean {
    // 2.6.32: a KSM page is a PageAnon page with a NULL anon_vma.
    return (this.memory.frames.flags[page] & (FRAME_ANON | FRAME_KSM)) !== 0;
  }

  private PageKsm(page: number): boolean {
    return (this.memory.frames.flags[page] & FRAME_KSM) !== 0;
  }

  private getPage(page: number): void {
    this.memory.frames.get(page);
  }

  private putPage(page: number): void {
    this.memory.frames.put(page);
  }

  private pageMapcount(page: number): number {
    return this.memory.frames.mapcount[page];
  }

  /** follow_page(vma, address, FOLL_GET): the page mapped there, with a reference, or 0. */
  private followPage(vma: Vma, address: number): number {
    const page = this.memory.followPage(vma, address);
    if (page) this.getPage(page);
    return page;
  }

  /** find_vma: the first vma with vm_end > addr, or null. */
  private findVma(mm: Mm, addr: number): Vma | null {
    return mm.findVma(addr);
  }

  // ------------------------------------------------------------ the seed

  private allocRmapItem(): RmapItem {
    const rmapItem = new RmapItem(this.nextItemId++); /* kmem_cache_zalloc */
    this.nodes.add(rmapItem);
    this.ksmRmapItems++;
    return rmapItem;
  }

  private freeRmapItem(rmapItem: RmapItem): void {
    this.ksmRmapItems--;
    rmapItem.mm = null; /* debug safety */
    this.nodes.items[rmapItem.id] = undefined;
  }

  private allocMmSlot(): MmSlot {
    return new MmSlot(null);
  }

  private getMmSlot(mm: Mm): MmSlot | null {
    return this.mmSlotsHash.get(mm) ?? null;
  }

  private insertToMmSlotsHash(mm: Mm, mmSlot: MmSlot): void {
    mmSlot.mm = mm;
    mmSlot.rmapList.next = mmSlot.rmapList; /* INIT_LIST_HEAD */
    mmSlot.rmapList.prev = mmSlot.rmapList;
    this.mmSlotsHash.set(mm, mmSlot);
  }

  private inStableTree(rmapItem: RmapItem): boolean {
    return (rmapItem.flags & STABLE_FLAG) !== 0;
  }

  private ksmTestExit(mm: Mm): boolean {
    return mm.users === 0;
  }

  /** break_ksm: returns 0 (handle_mm_fault never fails here). */
  private breakKsm(vma: Vma, addr: number): number {
    let ret = 0;
    do {
      const page = this.followPage(vma, addr);
      if (!page) break;
      if (this.PageKsm(page)) ret = this.handleMmFaultWrite(vma, addr);
      else ret = VM_FAULT_WRITE;
      this.putPage(page);
    } while (!(ret & (VM_FAULT_WRITE | VM_FAULT_SIGBUS | VM_FAULT_OOM)));
    return ret & VM_FAULT_OOM ? -ERRNO.ENOMEM : 0;
  }

  /** handle_mm_fault(mm, vma, addr, FAULT_FLAG_WRITE) on a KSM page: do_wp_page copies it. */
  private handleMmFaultWrite(vma: Vma, addr: number): number {
    this.memory.breakKsm(vma, addr);
    return VM_FAULT_WRITE;
  }

  breakCow(mm: Mm, addr: number): void {
    if (this.ksmTestExit(mm)) return;
    const vma = this.findVma(mm, addr);
    if (!vma || vma.start > addr) return;
    if (!(vma.flags & VM_MERGEABLE) || !vma.anonVma) return;
    this.breakKsm(vma, addr);
  }

  private getMergeablePage(rmapItem: RmapItem): number {
    const mm = rmapItem.mm!;
    const addr = rmapItem.address;
    if (this.ksmTestExit(mm)) return 0;
    const vma = this.findVma(mm, addr);
    if (!vma || vma.start > addr) return 0;
    if (!(vma.flags & VM_MERGEABLE) || !vma.anonVma) return 0;
    const page = this.followPage(vma, addr);
    if (!page) return 0;
    if (this.PageAnon(page)) return page;
    this.putPage(page);
    return 0;
  }

  /**
   * get_ksm_page: checks if the page at the virtual address in rmap_item
   * is still PageKsm, in which case we can trust the content of the page,
   * and it returns the gotten page; but 0 if the page has been zapped.
   */
  private getKsmPage(rmapItem: RmapItem): number {
    let page = this.getMergeablePage(rmapItem);
    if (page && !this.PageKsm(page)) {
      this.putPage(page);
      page = 0;
    }
    return page;
  }

  removeRmapItemFromTree(rmapItem: RmapItem): void {
    if (this.inStableTree(rmapItem)) {
      const nextItem = rmapItem.next;
      if (rmapItem.flags & NODE_FLAG) {
        if (nextItem) {
          this.hit('stable node replaced by its next item');
          rbReplaceNode(this.nodes, rmapItem.id, nextItem.id, this.rootStableTree);
          nextItem.prev = null; // its prev shares storage with the rb_node just written
          nextItem.flags |= NODE_FLAG;
          this.ksmPagesSharing--;
        } else {
          this.hit('stable node erased');
          rbErase(this.nodes, rmapItem.id, this.rootStableTree);
          this.ksmPagesShared--;
        }
      } else {
        const prevItem = rmapItem.prev!;
        if (prevItem.next !== rmapItem) throw new Error('BUG_ON(prev_item->next != rmap_item)');
        prevItem.next = nextItem;
        if (nextItem) {
          if (nextItem.prev !== rmapItem) throw new Error('BUG_ON(next_item->prev != rmap_item)');
          nextItem.prev = rmapItem.prev;
        }
        this.ksmPagesSharing--;
      }
      rmapItem.next = null;
    } else if (rmapItem.flags & NODE_FLAG) {
      // Usually ksmd can and must skip the rb_erase, because root_unstable_tree
      // was already reset to RB_ROOT. But be careful when an mm is exiting: do
      // the rb_erase if this rmap_item was inserted by this scan, rather than
      // left over from before.
      const age = (this.ksmScan.seqnr - rmapItem.addressWord) & 0xff; /* unsigned char */
      if (age > 1) throw new Error(`BUG_ON(age > 1): age ${age}`);
      if (!age) {
        this.hit('unstable node of this scan erased');
        rbErase(this.nodes, rmapItem.id, this.rootUnstableTree);
      }
      this.ksmPagesUnshared--;
    }
    rmapItem.flags = 0; /* rmap_item->address &= PAGE_MASK */
  }

  private removeTrailingRmapItems(mmSlot: MmSlot, cur: ListHead<RmapItem>): void {
    while (cur !== mmSlot.rmapList) {
      this.hit('trailing rmap_item removed');
      const rmapItem = cur.entry!;
      cur = cur.next;
      this.removeRmapItemFromTree(rmapItem);
      listDel(rmapItem.link);
      this.freeRmapItem(rmapItem);
    }
  }

  /** unmerge_ksm_pages: no signals are ever pending here. */
  private unmergeKsmPages(vma: Vma, start: number, end: number): number {
    let err = 0;
    for (let addr = start; addr < end && !err; addr += PAGE_SIZE) {
      if (this.ksmTestExit(vma.mm)) break;
      err = this.breakKsm(vma, addr);
    }
    return err;
  }

  /** Only called through the sysfs control interface. */
  unmergeAndRemoveAllRmapItems(): number {
    this.ksmScan.mmSlot = this.ksmMmHead.mmList.next.entry!;
    for (let mmSlot = this.ksmScan.mmSlot; mmSlot !== this.ksmMmHead; mmSlot = this.ksmScan.mmSlot) {
      const mm = mmSlot.mm!;
      for (let vma: Vma | null = mm.vmas.length ? mm.vmas[0] : null; vma; vma = mm.nextVma(vma)) {
        if (this.ksmTestExit(mm)) break;
        if (!(vma.flags & VM_MERGEABLE) || !vma.anonVma) continue;
        const err = this.unmergeKsmPages(vma, vma.start, vma.end);
        if (err) {
          this.ksmScan.mmSlot = this.ksmMmHead;
          return err;
        }
      }
      this.removeTrailingRmapItems(mmSlot, mmSlot.rmapList.next);
      this.ksmScan.mmSlot = mmSlot.mmList.next.entry!;
      if (this.ksmTestExit(mm)) {
        this.mmSlotsHash.delete(mm); /* hlist_del */
        listDel(mmSlot.mmList);
        /* free_mm_slot */
        mm.flags &= ~MMF_VM_MERGEABLE;
      }
    }
    this.ksmScan.seqnr = 0;
    return 0;
  }

  /** calc_checksum: jhash2(addr, PAGE_SIZE / 4, 17), from the page's words. */
  private calcChecksum(page: number): number {
    const c = this.memory.contents;
    const id = this.memory.frames.content[page];
    return jhash2(c.wordsOf(id), c.offsetOf(id) / 4, PAGE_SIZE / 4, 17) >>> 0;
  }

  /** memcmp_pages: memcmp of the 4096 bytes, unsigned. */
  private memcmpPages(page1: number, page2: number): number {
    const c = this.memory.contents;
    const id1 = this.memory.frames.content[page1];
    const id2 = this.memory.frames.content[page2];
    const a = c.slabOf(id1);
    const ao = c.offsetOf(id1);
    const b = c.slabOf(id2);
    const bo = c.offsetOf(id2);
    for (let i = 0; i < PAGE_SIZE; i++) if (a[ao + i] !== b[bo + i]) return a[ao + i] - b[bo + i];
    return 0;
  }

  private pagesIdentical(page1: number, page2: number): boolean {
    return !this.memcmpPages(page1, page2);
  }

  /**
   * write_protect_page at the address the caller knows (page_address_in_vma
   * and page_check_address are the memory model's "page mapped there"); the
   * "+ 2" are follow_page's reference and try_to_merge_one_page's get_page.
   */
  private writeProtectPage(vma: Vma, addr: number, page: number): number {
    return this.memory.writeProtect(vma, addr, page, 2) ? 0 : -ERRNO.EFAULT;
  }

  /** replace_page (mm/ksm.c's, on the memory model's page tables). */
  private replacePage(vma: Vma, addr: number, oldpage: number, newpage: number): number {
    return this.memory.replacePage(vma, addr, oldpage, newpage) ? 0 : -ERRNO.EFAULT;
  }

  /**
   * try_to_merge_one_page - take two pages and merge them into one.
   * `addr` is where the caller found oldpage in vma (the C finds it again
   * with page_address_in_vma).
   */
  private tryToMergeOnePage(vma: Vma, addr: number, oldpage: number, newpage: number): number {
    let err = -ERRNO.EFAULT;
    if (!(vma.flags & VM_MERGEABLE)) return err;
    if (!this.PageAnon(oldpage)) return err;
    this.getPage(newpage);
    this.getPage(oldpage);
    /* trylock_page(oldpage) always succeeds */
    if (!this.writeProtectPage(vma, addr, oldpage)) {
      /* unlock_page(oldpage): from here the owner may write (Memory.mergeWindow lets a test do so) */
      this.memory.mergeWindow?.({ window: 'write-protected', vma, addr, oldpage, newpage });
      if (this.pagesIdentical(oldpage, newpage)) {
        this.memory.mergeWindow?.({ window: 'compared', vma, addr, oldpage, newpage });
        err = this.replacePage(vma, addr, oldpage, newpage);
      }
    }
    this.putPage(oldpage);
    this.putPage(newpage);
    return err;
  }

  private tryToMergeWithKsmPage(mm1: Mm, addr1: number, page1: number, kpage: number): number {
    let err = -ERRNO.EFAULT;
    if (this.ksmTestExit(mm1)) return err;
    const vma = this.findVma(mm1, addr1);
    if (!vma || vma.start > addr1) return err;
    err = this.tryToMergeOnePage(vma, addr1, page1, kpage);
    return err;
  }

  private tryToMergeTwoPages(mm1: Mm, addr1: number, page1: number, mm2: Mm, addr2: number, page2: number): number {
    let err = -ERRNO.EFAULT;
    // The number of nodes in the stable tree is the number of kernel pages that we hold.
    if (this.ksmMaxKernelPages && this.ksmMaxKernelPages <= BigInt(this.ksmPagesShared)) {
      this.hit('max_kernel_pages refused a merge');
      return err;
    }

    /* kpage = alloc_page(GFP_HIGHUSER): its content is set by copy_user_highpage below */
    const fr = this.memory.frames;
    const zero = this.memory.zero;
    this.memory.contents.ref(zero);
    const kpage = fr.alloc(zero, 0);

    out: {
      if (this.ksmTestExit(mm1)) break out;
      const vma = this.findVma(mm1, addr1);
      if (!vma || vma.start > addr1) break out;
      /* copy_user_highpage(kpage, page1, addr1, vma) */
      this.memory.contents.ref(fr.content[page1]);
      fr.setContent(kpage, fr.content[page1]);
      err = this.tryToMergeOnePage(vma, addr1, page1, kpage);
      if (!err) {
        err = this.tryToMergeWithKsmPage(mm2, addr2, page2, kpage);
        // If that fails, we have a ksm page with only one pte pointing to it: so break it.
        if (err) this.breakCow(mm1, addr1);
      }
    }
    this.putPage(kpage);
    return err;
  }

  /** stable_tree_search: page2[0] receives the identical KSM page, referenced. */
  private stableTreeSearch(page: number, page2: number[], _rmapItem: RmapItem): RmapItem | null {
    let node = this.rootStableTree.node;
    while (node) {
      let treeRmapItem: RmapItem | null = this.nodes.item(node);
      while (treeRmapItem) {
        if (!this.inStableTree(treeRmapItem)) throw new Error('BUG_ON(!in_stable_tree(tree_rmap_item))');
        page2[0] = this.getKsmPage(treeRmapItem);
        if (page2[0]) break;
        this.hit('stale item pruned by stable_tree_search');
        const nextRmapItem: RmapItem | null = treeRmapItem.next;
        this.removeRmapItemFromTree(treeRmapItem);
        treeRmapItem = nextRmapItem;
      }
      if (!treeRmapItem) {
        this.hit('stable_tree_search aborted on a stale node');
        return null;
      }

      const ret = this.memcmpPages(page, page2[0]);
      if (ret < 0) {
        this.putPage(page2[0]);
        node = this.nodes.left[node];
      } else if (ret > 0) {
        this.putPage(page2[0]);
        node = this.nodes.right[node];
      } else {
        return treeRmapItem;
      }
    }
    return null;
  }

  /** `*link` of the C's `struct rb_node **new`: the root or a child of parent. */
  private linkTarget(root: RbRoot, parent: number, link: RbLink): number {
    return link === 'root' ? root.node : this.nodes[link][parent];
  }

  private stableTreeInsert(page: number, rmapItem: RmapItem): RmapItem | null {
    const root = this.rootStableTree;
    // `struct rb_node **new` is (parent, link): the root, or parent's left or right child.
    let parent = 0;
    let link: RbLink = 'root'; /* new = &root_stable_tree.rb_node */

    while (this.linkTarget(root, parent, link)) {
      let treeRmapItem: RmapItem | null = this.nodes.item(this.linkTarget(root, parent, link));
      let treePage = 0;
      while (treeRmapItem) {
        if (!this.inStableTree(treeRmapItem)) throw new Error('BUG_ON(!in_stable_tree(tree_rmap_item))');
        treePage = this.getKsmPage(treeRmapItem);
        if (treePage) break;
        this.hit('stale item pruned by stable_tree_insert');
        const nextRmapItem: RmapItem | null = treeRmapItem.next;
        this.removeRmapItemFromTree(treeRmapItem);
        treeRmapItem = nextRmapItem;
      }
      if (!treeRmapItem) {
        this.hit('stable_tree_insert aborted on a stale node');
        return null;
      }

      const ret = this.memcmpPages(page, treePage);
      this.putPage(treePage);

      parent = this.linkTarget(root, parent, link); /* parent = *new */
      if (ret < 0) {
        link = 'left';
      } else if (ret > 0) {
        link = 'right';
      } else {
        this.hit('stable_tree_insert found an equal node');
        // It is not a bug that stable_tree_search() didn't find this node:
        // because at that time our page was not yet write-protected, so may
        // have changed since.
        return null;
      }
    }

    rmapItem.flags |= NODE_FLAG | STABLE_FLAG;
    rmapItem.next = null;
    rbLinkNode(this.nodes, rmapItem.id, parent, link, this.rootStableTree);
    rbInsertColor(this.nodes, rmapItem.id, this.rootStableTree);

    this.ksmPagesShared++;
    return rmapItem;
  }

  private unstableTreeSearchInsert(page: number, page2: number[], rmapItem: RmapItem): RmapItem | null {
    let parent = 0;
    let link: RbLink = 'root';

    while (this.linkTarget(this.rootUnstableTree, parent, link)) {
      const cur = this.linkTarget(this.rootUnstableTree, parent, link);
      const treeRmapItem = this.nodes.item(cur);
      page2[0] = this.getMergeablePage(treeRmapItem);
      if (!page2[0]) {
        this.hit('unstable search stopped at a node without a page');
        return null;
      }

      // Don't substitute an unswappable ksm page just for one good swappable forked page.
      if (page === page2[0]) {
        this.hit('unstable search met its own page');
        this.putPage(page2[0]);
        return null;
      }

      const ret = this.memcmpPages(page, page2[0]);

      parent = cur;
      if (ret < 0) {
        this.putPage(page2[0]);
        link = 'left';
      } else if (ret > 0) {
        this.putPage(page2[0]);
        link = 'right';
      } else {
        return treeRmapItem;
      }
    }

    rmapItem.flags |= NODE_FLAG;
    rmapItem.flags |= this.ksmScan.seqnr & SEQNR_MASK;
    rbLinkNode(this.nodes, rmapItem.id, parent, link, this.rootUnstableTree);
    rbInsertColor(this.nodes, rmapItem.id, this.rootUnstableTree);

    this.ksmPagesUnshared++;
    return null;
  }

  private stableTreeAppend(rmapItem: RmapItem, treeRmapItem: RmapItem): void {
    rmapItem.next = treeRmapItem.next;
    rmapItem.prev = treeRmapItem;

    if (treeRmapItem.next) treeRmapItem.next.prev = rmapItem;

    treeRmapItem.next = rmapItem;
    rmapItem.flags |= STABLE_FLAG;

    this.ksmPagesSharing++;
  }

  private cmpAndMergePage(page: number, rmapItem: RmapItem): void {
    const page2: number[] = [0];
    let err: number;

    if (this.inStableTree(rmapItem)) this.removeRmapItemFromTree(rmapItem);

    /* We first start with searching the page inside the stable tree */
    let treeRmapItem = this.stableTreeSearch(page, page2, rmapItem);
    if (treeRmapItem) {
      if (page === page2[0]) err = 0; /* forked */
      else {
        // OUTSIDE THE SEED: when page is itself a KSM page (forked, its own node
        // gone), 2.6.32's page_address_in_vma (mm/rmap.c) would refuse it, a KSM
        // page having no anon_vma; the model follows spec §0 and the memory
        // model, where write-protect and replace_page only need the mapping.
        if (this.PageKsm(page)) this.hit('stable match: the scanned page is another KSM page');
        err = this.tryToMergeWithKsmPage(rmapItem.mm!, rmapItem.address, page, page2[0]);
      }
      this.putPage(page2[0]);
      this.hit(page === page2[0] ? 'stable match: forked' : err ? 'stable match: merge failed' : 'stable match: merged');

      if (!err) {
        // The page was successfully merged: add its rmap_item to the stable tree.
        this.stableTreeAppend(rmapItem, treeRmapItem);
      }
      return;
    }

    // A ksm page might have got here by fork, but its other references have
    // already been removed from the stable tree.
    if (this.PageKsm(page)) {
      this.hit('unmatched KSM page broken');
      this.breakCow(rmapItem.mm!, rmapItem.address);
    }

    // In case the hash value of the page was changed from the last time we
    // have calculated it, this page to be changed frequely, therefore we don't
    // want to insert it to the unstable tree.
    const checksum = this.calcChecksum(page);
    if (rmapItem.oldchecksum !== checksum) {
      rmapItem.oldchecksum = checksum;
      return;
    }

    treeRmapItem = this.unstableTreeSearchInsert(page, page2, rmapItem);
    if (treeRmapItem) {
      err = this.tryToMergeTwoPages(rmapItem.mm!, rmapItem.address, page, treeRmapItem.mm!, treeRmapItem.address, page2[0]);
      // As soon as we merge this page, we want to remove the rmap_item of the
      // page we have merged with from the unstable tree, and insert it instead
      // as new node in the stable tree.
      this.hit(err ? 'unstable match: merge failed' : 'unstable match: merged');
      if (!err) {
        rbErase(this.nodes, treeRmapItem.id, this.rootUnstableTree);
        treeRmapItem.flags &= ~NODE_FLAG;
        this.ksmPagesUnshared--;

        // If we fail to insert the page into the stable tree, we will have 2
        // virtual addresses that are pointing to a ksm page left outside the
        // stable tree, in which case we need to break_cow on both.
        if (this.stableTreeInsert(page2[0], treeRmapItem)) {
          this.stableTreeAppend(rmapItem, treeRmapItem);
        } else {
          this.hit('stable_tree_insert failed: both broken');
          this.breakCow(treeRmapItem.mm!, treeRmapItem.address);
          this.breakCow(rmapItem.mm!, rmapItem.address);
        }
      }
      this.putPage(page2[0]);
    }
  }

  private getNextRmapItem(mmSlot: MmSlot, cur: ListHead<RmapItem>, addr: number): RmapItem | null {
    while (cur !== mmSlot.rmapList) {
      const rmapItem = cur.entry!;
      if (rmapItem.address === addr) {
        if (!this.inStableTree(rmapItem)) this.removeRmapItemFromTree(rmapItem);
        return rmapItem;
      }
      if (rmapItem.addressWord > addr) break;
      this.hit('rmap_item passed over');
      cur = cur.next;
      this.removeRmapItemFromTree(rmapItem);
      listDel(rmapItem.link);
      this.freeRmapItem(rmapItem);
    }

    const rmapItem = this.allocRmapItem();
    /* It has already been zeroed */
    rmapItem.mm = mmSlot.mm;
    rmapItem.address = addr;
    listAddTail(rmapItem.link, cur);
    return rmapItem;
  }

  private scanGetNextRmapItem(page: number[]): RmapItem | null {
    if (listEmpty(this.ksmMmHead.mmList)) return null;

    const scan = this.ksmScan;
    let slot = scan.mmSlot;
    if (slot === this.ksmMmHead) {
      this.rootUnstableTree.node = 0; /* root_unstable_tree = RB_ROOT */
      slot = slot.mmList.next.entry!;
      scan.mmSlot = slot;
      /* next_mm: */
      scan.address = 0;
      scan.rmapItem = slot.rmapList;
    }

    for (;;) {
      const mm = slot.mm!;
      let vma = this.ksmTestExit(mm) ? null : this.findVma(mm, scan.address);

      for (; vma; vma = mm.nextVma(vma)) {
        if (!(vma.flags & VM_MERGEABLE)) continue;
        if (scan.address < vma.start) scan.address = vma.start;
        if (!vma.anonVma) scan.address = vma.end;

        while (scan.address < vma.end) {
          if (this.ksmTestExit(mm)) break;
          page[0] = this.followPage(vma, scan.address);
          if (page[0] && this.PageAnon(page[0])) {
            /* flush_anon_page, flush_dcache_page */
            const rmapItem = this.getNextRmapItem(slot, scan.rmapItem.next, scan.address);
            if (rmapItem) {
              scan.rmapItem = rmapItem.link;
              scan.address += PAGE_SIZE;
            } else this.putPage(page[0]);
            return rmapItem;
          }
          if (page[0]) this.putPage(page[0]);
          scan.address += PAGE_SIZE;
        }
      }

      if (this.ksmTestExit(mm)) {
        scan.address = 0;
        scan.rmapItem = slot.rmapList;
      }
      // Nuke all the rmap_items that are above this current rmap: because
      // there were no VM_MERGEABLE vmas with such addresses.
      this.removeTrailingRmapItems(slot, scan.rmapItem.next);

      scan.mmSlot = slot.mmList.next.entry!;
      if (scan.address === 0) {
        this.hit('mm_slot dropped by the scan');
        // We've completed a full scan of all vmas, holding mmap_sem throughout,
        // and found no VM_MERGEABLE: so do the same as __ksm_exit does to
        // remove this mm from all our lists now.
        this.mmSlotsHash.delete(mm); /* hlist_del */
        listDel(slot.mmList);
        /* free_mm_slot */
        mm.flags &= ~MMF_VM_MERGEABLE;
        /* mmdrop */
      }

      /* Repeat until we've completed scanning the whole list */
      slot = scan.mmSlot;
      if (slot !== this.ksmMmHead) {
        /* goto next_mm */
        scan.address = 0;
        scan.rmapItem = slot.rmapList;
        continue;
      }

      scan.seqnr++;
      return null;
    }
  }

  /** ksm_do_scan - the ksm scanner main worker function. */
  ksmDoScan(scanNpages: number): void {
    const page: number[] = [0];
    let n = scanNpages >>> 0; /* unsigned int */
    while (n--) {
      const rmapItem = this.scanGetNextRmapItem(page);
      if (!rmapItem) return;
      this.pagesScanned++;
      if (!this.PageKsm(page[0]) || !this.inStableTree(rmapItem)) {
        this.cmpAndMergePage(page[0], rmapItem);
      } else if (this.pageMapcount(page[0]) === 1) {
        // Replace now-unshared ksm page by ordinary page.
        this.hit('unshared KSM page replaced');
        this.breakCow(rmapItem.mm!, rmapItem.address);
        this.removeRmapItemFromTree(rmapItem);
        rmapItem.oldchecksum = this.calcChecksum(page[0]);
      }
      this.putPage(page[0]);
    }
  }

  ksmdShouldRun(): boolean {
    return (this.ksmRun & KSM_RUN_MERGE) !== 0 && !listEmpty(this.ksmMmHead.mmList);
  }

  /** One turn of ksm_scan_thread's loop, under ksm_thread_mutex. */
  ksmScanThreadBatch(): void {
    if (this.ksmdShouldRun()) this.ksmDoScan(this.ksmThreadPagesToScan);
  }

  ksmMadvise(vma: Vma, start: number, end: number, advice: number, vmFlags: { value: number }): number {
    const mm = vma.mm;
    switch (advice) {
      case MADV_MERGEABLE:
        // Be somewhat over-protective for now!
        if (vmFlags.value & (VM_MERGEABLE | VM_SHARED | VM_MAYSHARE
          | VM_PFNMAP | VM_IO | VM_DONTEXPAND
          | VM_RESERVED | VM_HUGETLB | VM_INSERTPAGE
          | VM_MIXEDMAP | VM_SAO)) return 0; /* just ignore the advice */
        if (!(mm.flags & MMF_VM_MERGEABLE)) {
          const err = this.__ksmEnter(mm);
          if (err) return err;
        }
        vmFlags.value = (vmFlags.value | VM_MERGEABLE) >>> 0;
        break;
      case MADV_UNMERGEABLE:
        if (!(vmFlags.value & VM_MERGEABLE)) return 0; /* just ignore the advice */
        if (vma.anonVma) {
          const err = this.unmergeKsmPages(vma, start, end);
          if (err) return err;
        }
        vmFlags.value = (vmFlags.value & ~VM_MERGEABLE) >>> 0;
        break;
    }
    return 0;
  }

  __ksmEnter(mm: Mm): number {
    const mmSlot = this.allocMmSlot();
    /* needs_wakeup: ksmd is stepped by the caller */
    this.insertToMmSlotsHash(mm, mmSlot);
    // Insert just behind the scanning cursor, to let the area settle down a
    // little; when fork is followed by immediate exec, we don't want ksmd to
    // waste time setting up and tearing down an rmap_list.
    listAddTail(mmSlot.mmList, this.ksmScan.mmSlot.mmList);
    mm.flags |= MMF_VM_MERGEABLE;
    /* atomic_inc(&mm->mm_count) */
    return 0;
  }

  __ksmExit(mm: Mm): void {
    let easyToFree = false;
    const mmSlot = this.getMmSlot(mm);
    if (mmSlot && this.ksmScan.mmSlot !== mmSlot) {
      if (listEmpty(mmSlot.rmapList)) {
        this.mmSlotsHash.delete(mm); /* hlist_del */
        listDel(mmSlot.mmList);
        easyToFree = true;
      } else {
        this.hit('__ksm_exit moved the slot after the cursor');
        listMove(mmSlot.mmList, this.ksmScan.mmSlot.mmList);
      }
    }
    if (easyToFree) {
      /* free_mm_slot */
      mm.flags &= ~MMF_VM_MERGEABLE;
      /* mmdrop */
    }
    /* else if (mm_slot): down_write + up_write of mmap_sem */
  }

  // ------------------------------------------------------------ sysfs

  pagesToScanStore(nrPages: number): number {
    if (nrPages > UINT_MAX) return -ERRNO.EINVAL;
    this.ksmThreadPagesToScan = nrPages;
    return 0;
  }

  /** run_store with a parsed value: 0, or -errno. */
  runStore(flags: number): number {
    if (flags > UINT_MAX) return -ERRNO.EINVAL;
    if (flags > KSM_RUN_UNMERGE) return -ERRNO.EINVAL;
    let ret = 0;
    if (this.ksmRun !== flags) {
      this.ksmRun = flags;
      if (flags & KSM_RUN_UNMERGE) {
        const err = this.unmergeAndRemoveAllRmapItems();
        if (err) {
          this.ksmRun = KSM_RUN_STOP;
          ret = err;
        }
      }
    }
    return ret;
  }

  maxKernelPagesStore(nrPages: bigint): number {
    this.ksmMaxKernelPages = nrPages;
    return 0;
  }

  /** pages_volatile_show: a signed long, concealed when negative. */
  pagesVolatileShow(): number {
    const v = this.ksmRmapItems - this.ksmPagesShared - this.ksmPagesSharing - this.ksmPagesUnshared;
    return v < 0 ? 0 : v;
  }

  counters(): RefCounters {
    return {
      pagesShared: this.ksmPagesShared,
      pagesSharing: this.ksmPagesSharing,
      pagesUnshared: this.ksmPagesUnshared,
      pagesVolatile: this.pagesVolatileShow(),
      fullScans: this.ksmScan.seqnr,
      rmapItems: this.ksmRmapItems,
    };
  }

  // ------------------------------------------------------------ madvise (mm/madvise.c, outside the seed)

  /**
   * sys_madvise of 2.6.32 for the advice values the tests use: the VMA walk
   * is src/kernel/madvise.ts; MADV_MERGEABLE / MADV_UNMERGEABLE go to
   * ksm_madvise, MADV_DONTNEED zaps the range (madvise_dontneed),
   * MADV_DONTFORK / MADV_DOFORK set and clear VM_DONTCOPY.
   */
  madvise(mm: Mm, start: number, len: number, advice: number): number {
    const behavior: MadviseBehavior = {
      valid: (a) => a === MADV_DONTNEED || a === MADV_DONTFORK || a === MADV_DOFORK || a === MADV_MERGEABLE || a === MADV_UNMERGEABLE,
      apply: (vma, s, e, a) => {
        if (a === MADV_DONTFORK) return vma.flags | VM_DONTCOPY;
        if (a === MADV_DOFORK) return vma.flags & VM_IO ? -ERRNO.EINVAL : vma.flags & ~VM_DONTCOPY;
        if (a === MADV_DONTNEED) {
          if (vma.flags & (VM_LOCKED | VM_HUGETLB | VM_PFNMAP)) return -ERRNO.EINVAL;
          for (let addr = s; addr < e; addr += PAGE_SIZE) this.memory.zapPage(vma, vma.index(addr));
          return vma.flags;
        }
        const vmFlags = { value: vma.flags };
        const err = this.ksmMadvise(vma, s, e, a, vmFlags);
        return err ? err : vmFlags.value;
      },
    };
    return sysMadvise(this.memory, mm, start, len, advice, behavior);
  }

  // ------------------------------------------------------------ inspection (for tests)

  /** The mm_slots in list order. */
  slots(): MmSlot[] {
    const out: MmSlot[] = [];
    for (let l = this.ksmMmHead.mmList.next; l !== this.ksmMmHead.mmList; l = l.next) out.push(l.entry!);
    return out;
  }

  /** A slot's rmap_items in list order. */
  rmapItems(slot: MmSlot): RmapItem[] {
    const out: RmapItem[] = [];
    for (let l = slot.rmapList.next; l !== slot.rmapList; l = l.next) out.push(l.entry!);
    return out;
  }
}
