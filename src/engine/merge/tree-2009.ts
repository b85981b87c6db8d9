/**
 * The 2009 tree merger: the algorithm of the March 2009 /dev/ksm patch
 * (seed 002) and of the April 2009 "alternative userspace" patch (seed 000),
 * which carry the same mm/ksm.c code apart from the front end. Function for
 * function; names follow the seeds in camelCase so the two can be diffed.
 *
 * A few notes about the ksm scanning process, to make it easier to
 * understand the data structures below (after the seeds' own essay):
 *
 * In order to reduce excessive scanning, ksm sorts the memory pages by their
 * contents into a data structure that holds pointers to the pages. Since the
 * contents of the pages may change at any moment, ksm cannot just insert the
 * pages into a normal sorted tree and expect it to find anything. So it uses
 * two red-black trees (lib/rbtree.c, the same code as the mainline merger):
 *
 * - The stable tree holds the merged pages (KSM pages) sorted by content.
 *   They are write-protected, so searching it is reliable. Its nodes are
 *   tree_items; each has a head pointer into a doubly linked chain of the
 *   rmap_items whose addresses joined that KSM page. The head need not be the
 *   first item of the chain (remove_rmap_item_from_tree moves it to the
 *   removed item's predecessor), and searches walk the chain forward from the
 *   head only, taking the first item whose address still maps a KSM page and
 *   removing the "zapped" ones met on the way; a node whose walk finds none
 *   aborts the whole search.
 * - The unstable tree holds pages that have been "unchanged for a period of
 *   time": a page enters it only when its checksum (jhash of the 4096 bytes,
 *   lookup2 generation, initval 17) equals the one recorded at its previous
 *   visit. It is not write-protected and so may be corrupted by writes; it is
 *   flushed (its root reset, nothing freed) every time the scan cursor wraps
 *   to the first slot, and, in 002, when a region is removed.
 *
 * Every address the scanner has looked at has at most one rmap_item, found
 * through a hash keyed by (mm, virtual address). An item is a holder (H: it
 * only remembers a checksum), unstable (U: it was inserted into the unstable
 * tree, maybe a tree flushed since) or stable (S: in a stable chain). An item
 * in state U is destroyed at its address's next visit (update_tree), so an
 * unchanged, unmatched page is in the unstable tree only every other pass;
 * an S item whose address no longer maps a KSM page is destroyed with `wait`
 * set, so no holder is created at that visit.
 *
 * Registered memory is a list of slots (mm, start address, number of pages)
 * in registration order, walked by one cursor (slot, page index) that
 * advances before it scans: a batch of N pages visits the N positions after
 * the cursor and then advances once more, so the position a batch starts on
 * is never scanned by it (spec/v1-ioctl.md §6). A page that is not anonymous
 * is taken for a KSM page (PageKsm is !PageAnon) and skipped.
 *
 * Merging two ordinary pages copies one into a newly allocated page and maps
 * both addresses onto it read-only; merging onto an existing KSM page maps
 * one address. Seed 000 counts each success in ksm_pages_shared (+1 per
 * merge, whatever the number of mappings it made) and never decrements it.
 *
 * Page references are modelled as the seeds take them (get_user_pages,
 * get_page/put_page), so a page KSM is looking at stays alive even when its
 * mapping changes meanwhile, exactly as in the kernel; the one reference the
 * seed leaks (stable_tree_insert meeting an equal page) is leaked too.
 */
import type { Merger, PassCounters } from './merger.js';
import { PAGE_SIZE, VM_IO, VM_PFNMAP, VM_READ, VM_SHARED, VM_WRITE } from '../constants.js';
import { ERRNO } from '../errno.js';
import { ChecksumCache } from '../memory/checksum-cache.js';
import { FRAME_ANON, FRAME_KSM } from '../memory/frames.js';
import type { Memory } from '../memory/memory.js';
import type { Mm, Vma } from '../memory/mm.js';
import { type ChecksumName, pageChecksum } from '../hash/page-checksum.js';
import { type RbLink, type RbRoot, rbErase, rbInsertColor, rbLinkNode } from '../rbtree.js';
import { RmapItems2009, TreeItems } from './tree-2009-items.js';
import { type MergeStats, type MergeWork, mergeWork, newMergeStats } from './stats.js';

/** Which patch the merger runs as: the March 2009 /dev/ksm one or the April 2009 madvise one. */
export type Seed2009 = '002' | '000';

/**
 * struct ksm_mem_slot - hold information for an userspace scanning range
 * (the scanning for this region will be from addr until addr + npages *
 * PAGE_SIZE inside mm).
 */
export class MemSlot {
  /** Whether the slot is on the global `slots` list (list_del takes it off). */
  linked = false;

  constructor(
    /** slot->mm: the address space scanned, pinned by the front end's get_task_mm. */
    readonly mm: Mm,
    /** slot->addr: the beginning of the virtual address, as registered (002 does not check alignment). */
    readonly addr: number,
    /** slot->npages: number of pages to scan, an `unsigned` (32 bits). */
    readonly npages: number,
  ) {}
}

/** struct ksm_scan - cursor for scanning. */
export interface KsmScan {
  /** slot_index: the current slot we are scanning (NULL before the first batch). */
  slotIndex: MemSlot | null;
  /** page_index: the page inside the slot that is currently being scanned. */
  pageIndex: number;
}

/**
 * The counters a workload snapshot needs, for the eras of this merger
 * (docs/workload-format.md, "v1 Mar 2009 and v2").
 */
export interface Counters2009 {
  /** ksm_pages_shared: +1 per successful merge, never decremented (000's sysfs file; 002 keeps no counter, the same count is derived). */
  pagesShared: number;
  /** Registered addresses mapping KSM frames, minus those frames. */
  pagesSharing: number;
  /** rmap_items linked in the current unstable tree (informational). */
  pagesUnshared: number;
  /** The other rmap_items in no tree: holders, and unstable items of a flushed tree (informational). */
  pagesVolatile: number;
  /** Wraps of the scan cursor to the first slot. */
  fullScans: number;
}

function sameSignature(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class Tree2009 implements Merger {
  readonly algorithm = 'tree-2009';
  /** The global `slots` list, in registration order (list_add_tail). */
  readonly slots: MemSlot[] = [];
  /** The scanner's cursor (kthread_ksm_scan; 002's front end may run others through ksmScanStart). */
  readonly scan: KsmScan = { slotIndex: null, pageIndex: 0 };
  readonly items = new RmapItems2009();
  readonly trees = new TreeItems();
  /** root_stable_tree */
  readonly stableRoot: RbRoot = { node: 0 };
  /** root_unstable_tree */
  readonly unstableRoot: RbRoot = { node: 0 };
  readonly stats: MergeStats = newMergeStats();

  /** The work record: the counters above and the copy-on-write breaks of the memory. */
  work(): MergeWork {
    return mergeWork(this.stats, this.memory.cowBreaks);
  }

  /**
   * ksm_pages_shared (000): +1 in try_to_merge_two_pages for each successful
   * merge, never decremented. 002 has no such variable; the same count is
   * kept for the derived pages_shared of the workload schema.
   */
  ksmPagesShared = 0;
  /** Wraps of the cursor to the first slot (each one flushes the unstable tree). */
  wraps = 0;
  /** Scanner positions visited, present or not (loop iterations of ksm_scan_start). */
  positions = 0;

  /* Bookkeeping for the informational counters (no kernel variable). */
  /** rmap_items allocated. */
  rmapItemCount = 0;
  /** rmap_items in state S. */
  stableItemCount = 0;
  /** rmap_items linked in the current unstable tree. */
  unstableItemCount = 0;
  /** Generation of the unstable tree: +1 at every flush (TreeItems.gen). */
  unstableGen = 1;
  /** Called at every wrap, wraps already counting it, just before the flush: the state at the end of a pass (tests take one snapshot per pass of a long batch). */
  onWrap: (() => void) | null = null;
  /** Page references the seed never drops (stable_tree_insert's equal case), by frame. */
  readonly leakedRefs = new Map<number, number>();

  /** rmap_hash: mm id -> virtual address -> rmap_item (get_rmap_item's buckets). */
  private readonly rmapHash = new Map<number, Map<number, number>>();
  private checksums: ChecksumCache;
  /** The page a successful tree search hands back (the C's page2[0]), referenced. */
  private page2 = 0;
  /** The page is_zapped_item found (its `page` out argument), referenced. */
  private itemPage = 0;
  /** update_tree's `*wait`. */
  private wait = 0;
  /** Changes to anything but holder/unstable items (merges, breaks, stable tree edits): the fast-forward's guard. */
  private mutations = 0;

  constructor(readonly memory: Memory, readonly seed: Seed2009 = '000') {
    this.checksums = new ChecksumCache(memory.contents, pageChecksum('lookup2-bytes'));
    // Neither patch has a fork or exit hook: registered mms are pinned by
    // their slots, and a child is never registered by its parent's slots.
    memory.hooks = {};
  }

  /**
   * Computes page checksums with `name` instead of the 2009 jhash of the
   * lookup2 generation: an experiment for comparisons (ksmctl compare
   * --checksum), not era behaviour. Call before the first scan.
   */
  useChecksum(name: ChecksumName): void {
    this.checksums.use(pageChecksum(name));
  }

  /** Whether ksm_pages_shared is a variable of the kernel (000) or derived for the schema (002). */
  get exposesPagesShared(): boolean {
    return this.seed === '000';
  }

  // ------------------------------------------------------------ slots

  /**
   * list_add_tail(&slot->link, &slots): append a registered range (the
   * common part of 000's ksm_register_memory and 002's
   * ksm_sma_ioctl_register_memory_region, after get_task_mm, which is the
   * caller's: it must hold a reference to mm for as long as the slot lives).
   * Nothing is validated, as in both seeds.
   */
  addSlot(mm: Mm, addr: number, npages: number): MemSlot {
    const slot = new MemSlot(mm, addr, npages >>> 0);
    slot.linked = true;
    // The struct stays while the slot is listed (mm_count), whatever happens to the caller's mm_users reference.
    this.memory.mmgrab(mm);
    this.slots.push(slot);
    return slot;
  }

  /**
   * remove_mm_from_hash_and_tree (002): take the FIRST slot of mm off the
   * list (not necessarily the one the caller frees), after flushing the
   * unstable tree for everybody and freeing the rmap_items of that slot's
   * pages. Returns the slot unlinked, or null when mm has no slot. 000
   * never calls it.
   */
  removeMmFromHashAndTree(mm: Mm): MemSlot | null {
    const slot = this.slots.find((s) => s.mm === mm);
    // Deviation from remove_mm_from_hash_and_tree (002): with no slot of mm
    // on the list, the seed's walk ends on the list head taken for a slot
    // (BUG_ON(!slot) cannot fire) and goes on with it; nothing happens here.
    if (slot === undefined) return null;
    this.flushUnstableTree();
    // for (pages_count = 0; pages_count < slot->npages; ++pages_count)
    //     remove_page_from_tree(mm, slot->addr + pages_count * PAGE_SIZE);
    // Done over the mm's items in the same ascending order: an address with
    // no item is a no-op, and npages may be near 2^32.
    const byAddr = this.rmapHash.get(mm.id);
    if (byAddr !== undefined) {
      const hits: number[] = [];
      for (const a of byAddr.keys()) {
        const k = (a - slot.addr) / PAGE_SIZE;
        if (Number.isInteger(k) && k >= 0 && k < slot.npages) hits.push(a);
      }
      hits.sort((x, y) => x - y);
      for (const a of hits) this.removePageFromTree(mm, a);
    }
    this.slots.splice(this.slots.indexOf(slot), 1);
    slot.linked = false;
    this.memory.mmdrop(mm);
    return slot;
  }

  /** remove_page_from_tree (002) */
  private removePageFromTree(mm: Mm, addr: number): void {
    const item = this.getRmapItem(mm, addr);
    if (!item) return;
    this.removeRmapItemFromTree(item);
  }

  // ------------------------------------------------------------ counters

  /** The counters of the workload schema for this merger's eras. */
  passes(): number {
    return this.wraps;
  }

  passCounters(): PassCounters {
    return this.counters();
  }

  counters(): Counters2009 {
    const { addresses, frames } = this.ksmMappings();
    return {
      pagesShared: this.ksmPagesShared,
      pagesSharing: addresses - frames,
      pagesUnshared: this.unstableItemCount,
      pagesVolatile: this.rmapItemCount - this.stableItemCount - this.unstableItemCount,
      fullScans: this.wraps,
    };
  }

  /**
   * Distinct registered addresses (page-aligned, over every slot on the
   * list) that map a KSM frame, and the distinct KSM frames they map.
   */
  ksmMappings(): { addresses: number; frames: number } {
    const fr = this.memory.frames;
    const ranges = new Map<Mm, Array<[number, number]>>();
    for (const s of this.slots) {
      if (s.npages === 0) continue;
      const start = s.addr - (s.addr % PAGE_SIZE);
      const list = ranges.get(s.mm) ?? [];
      list.push([start, start + s.npages * PAGE_SIZE]);
      ranges.set(s.mm, list);
    }
    const seen = new Set<number>();
    let addresses = 0;
    for (const [mm, list] of ranges) {
      list.sort((a, b) => a[0] - b[0]);
      let curEnd = -1;
      for (const [s0, e0] of list) {
        const s = Math.max(s0, curEnd);
        if (e0 <= s) continue;
        curEnd = e0;
        for (const v of mm.vmas) {
          if (v.end <= s || v.start >= e0) continue;
          for (let i = v.index(Math.max(v.start, s)), n = v.index(Math.min(v.end, e0)); i < n; i++) {
            const f = v.frames[i];
            if (f !== 0 && fr.flags[f] & FRAME_KSM) {
              addresses++;
              seen.add(f);
            }
          }
        }
      }
    }
    return { addresses, frames: seen.size };
  }

  // ------------------------------------------------------------ helpers

  private mmOf(item: number): Mm {
    return this.memory.mmById[this.items.mm[item]];
  }

  private putPage(f: number): void {
    this.memory.frames.put(f);
  }

  /**
   * PageKsm (002/000): !PageAnon, "each time we see !PageAnon(page) we are
   * hitting shared page". A page of a MAP_SHARED mapping is a shmem page in
   * Linux, not PageAnon; the memory model marks it FRAME_ANON, so the VMA
   * that maps it decides here.
   */
  private pageKsm(f: number, vma: Vma | null): boolean {
    return !(this.memory.frames.flags[f] & FRAME_ANON) || (vma !== null && (vma.flags & VM_SHARED) !== 0);
  }

  /** The VMA containing addr (find_vma plus the vm_start check), or null. */
  private vmaAt(mm: Mm, addr: number): Vma | null {
    return mm.vmaAt(addr);
  }

  /** is_present_pte: the page-table entry of the page containing addr maps a frame. */
  private isPresentPte(mm: Mm, addr: number): boolean {
    const vma = mm.vmaAt(addr);
    return vma !== null && vma.frames[Math.floor((addr - vma.start) / PAGE_SIZE)] !== 0;
  }

  /**
   * get_user_pages(current, mm, addr, 1, write, 0, page, NULL): the page
   * mapped at addr with a reference, or -EFAULT (no VMA, VM_IO/VM_PFNMAP, or
   * no VM_READ / VM_WRITE for the access, force being 0). A write access
   * takes the write fault first (breaking COW of a KSM page). Every caller
   * has checked that the entry is present, so no page is faulted in.
   */
  private getUserPages(mm: Mm, addr: number, write: boolean): number {
    const vma = mm.vmaAt(addr);
    if (vma === null || vma.flags & (VM_IO | VM_PFNMAP)) return -ERRNO.EFAULT;
    if (!(vma.flags & (write ? VM_WRITE : VM_READ))) return -ERRNO.EFAULT;
    const base = addr - (addr % PAGE_SIZE);
    if (write) this.memory.breakKsm(vma, base);
    const f = vma.frames[vma.index(base)];
    if (f === 0) return 0;
    this.memory.frames.get(f);
    return f;
  }

  /** calc_checksum: jhash(page, PAGE_SIZE, 17) of the lookup2 generation. */
  private calcChecksum(f: number): number {
    this.stats.checksums++;
    this.stats.bytesHashed += PAGE_SIZE;
    return this.checksums.of(this.memory.frames.content[f]);
  }

  /** memcmp_pages */
  private memcmpPages(f1: number, f2: number): number {
    const c = this.memory.contents;
    const a = this.memory.frames.content[f1];
    const b = this.memory.frames.content[f2];
    this.stats.comparisons++;
    if (a === b) {
      this.stats.bytesCompared += PAGE_SIZE;
      return 0;
    }
    const r = c.compare(a, b);
    this.stats.bytesCompared += c.lastCompareBytes;
    return r;
  }

  /** pages_identical: 1 if identical, 0 otherwise. */
  private pagesIdentical(f1: number, f2: number): boolean {
    return this.memcmpPages(f1, f2) === 0;
  }

  private flushUnstableTree(): void {
    this.unstableRoot.node = 0; // root_unstable_tree = RB_ROOT
    this.unstableGen++;
    this.unstableItemCount = 0;
  }

  // ------------------------------------------------------------ seed functions

  /** get_rmap_item: the rmap_item for a given virtual address, or 0. */
  getRmapItem(mm: Mm, addr: number): number {
    return this.rmapHash.get(mm.id)?.get(addr) ?? 0;
  }

  /**
   * remove_rmap_item_from_tree: frees the rmap_item, and if it was inside
   * the stable or unstable trees, removes the link from there as well.
   */
  private removeRmapItemFromTree(item: number): void {
    const ri = this.items;
    const ti = this.trees;
    const treeItem = ri.treeItem[item];
    ri.treeItem[item] = 0;
    const stable = ri.stableTree[item] !== 0;
    const prev = ri.prev[item];
    const next = ri.next[item];

    if (stable) {
      this.mutations++;
      this.stableItemCount--;
      if (prev) {
        if (ri.next[prev] !== item) throw new Error('BUG: rmap_item->prev->next != rmap_item');
        ri.next[prev] = next;
      }
      if (next) {
        if (ri.prev[next] !== item) throw new Error('BUG: rmap_item->next->prev != rmap_item');
        ri.prev[next] = prev;
      }
    }

    if (treeItem) {
      if (stable) {
        if (!next && !prev) {
          rbErase(ti, treeItem, this.stableRoot);
          ti.release(treeItem);
        } else if (!prev) {
          ti.rmapItem[treeItem] = next;
        } else {
          ti.rmapItem[treeItem] = prev;
        }
      } else {
        // Deviation from remove_rmap_item_from_tree (002/000): the seed frees
        // an unstable tree_item without rb_erase, assuming the tree has been
        // flushed since it was inserted. When the same address is visited
        // twice in one pass (a range registered twice) the node is still
        // linked and the seed goes on using freed memory; here it is erased
        // first, as 2.6.32 does for a node of the current scan.
        if (ti.gen[treeItem] === this.unstableGen) {
          rbErase(ti, treeItem, this.unstableRoot);
          this.unstableItemCount--;
          this.mutations++;
        }
        ti.release(treeItem);
      }
    }

    // hlist_del(&rmap_item->link); free_rmap_item(rmap_item)
    const byAddr = this.rmapHash.get(ri.mm[item]);
    byAddr?.delete(ri.address[item]);
    if (byAddr !== undefined && byAddr.size === 0) this.rmapHash.delete(ri.mm[item]);
    this.rmapItemCount--;
    this.memory.mmdrop(this.memory.mmById[ri.mm[item]]);
    ri.release(item);
  }

  /**
   * try_to_merge_one_page: map `newpage` read-only in place of `oldpage`.
   * Returns 0 if the pages were merged, 1 otherwise. `addr` is where oldpage
   * is mapped in vma: the seed computes it from page->index (addr_in_vma),
   * which in this model (no mremap) gives back the address the scanner or
   * the tree search found the page at.
   */
  private tryToMergeOnePage(mm: Mm, vma: Vma, addr: number, oldpage: number, newpage: number): number {
    const fr = this.memory.frames;
    let ret = 1;
    this.mutations++;
    fr.get(newpage);
    fr.get(oldpage);
    const pageAddrInVma = addr - (addr % PAGE_SIZE);
    out: {
      if (pageAddrInVma < vma.start || pageAddrInVma >= vma.end) break out; // -EFAULT
      // get_pte, pte_present, page_to_pfn(oldpage) == pte_pfn(orig_pte)
      if (vma.frames[vma.index(pageAddrInVma)] !== oldpage) break out;
      this.stats.mergeAttempts++;
      // page_wrprotect(oldpage, &odirect_sync, 2): the page may be mapped
      // writable only if nobody but its mappings, the caller's
      // get_user_pages and this function's get_page holds it.
      if (!this.memory.writeProtect(vma, pageAddrInVma, oldpage, 2)) break out;
      // unlock_page(oldpage): the owner may write from here on (a test's hook).
      const window = this.memory.mergeWindow;
      if (window !== null) window({ window: 'write-protected', vma, addr: pageAddrInVma, oldpage, newpage });
      if (this.pagesIdentical(oldpage, newpage)) {
        if (window !== null) window({ window: 'compared', vma, addr: pageAddrInVma, oldpage, newpage });
        ret = this.memory.replacePage(vma, pageAddrInVma, oldpage, newpage) ? 0 : 1;
      }
    }
    this.putPage(oldpage);
    this.putPage(newpage);
    return ret;
  }

  /**
   * try_to_merge_two_pages: if page2 is a KSM page, map page1's address onto
   * it; otherwise copy page1 into a new KSM page and map both addresses onto
   * it, breaking COW of the first again when the second fails. Returns 0 on
   * success, 1 otherwise. `page2Vma` is the mapping page2 was found in.
   */
  private tryToMergeTwoPages(mm1: Mm, page1: number, mm2: Mm, page2: number, addr1: number, addr2: number): number {
    const fr = this.memory.frames;
    let ret = 1;
    if (this.pageKsm(page2, this.vmaAt(mm2, addr2))) {
      const vma = mm1.findVma(addr1);
      if (vma === null) return ret;
      // Deviation from try_to_merge_two_pages (002/000): a page of a shared
      // mapping also counts as PageKsm there, and the seed would map it into
      // mm1 read-only, making writes of its owner visible; only a page KSM
      // installed is a merge target here.
      if (!(fr.flags[page2] & FRAME_KSM)) return ret;
      ret = this.tryToMergeOnePage(mm1, vma, addr1, page1, page2);
      if (!ret) {
        this.ksmPagesShared++;
        this.stats.merges++;
      }
    } else {
      // kpage = alloc_page(GFP_HIGHUSER): not PageAnon, hence PageKsm.
      const content = fr.content[page1];
      this.memory.contents.ref(content);
      const kpage = fr.alloc(content, 0, fr.nodeOf(page1));
      this.mutations++;
      let vma = mm1.findVma(addr1);
      if (vma === null) {
        this.putPage(kpage);
        return ret;
      }
      // copy_user_highpage(kpage, page1, addr1, vma): done by the alloc above.
      ret = this.tryToMergeOnePage(mm1, vma, addr1, page1, kpage);
      if (!ret) {
        vma = mm2.findVma(addr2);
        if (vma === null) {
          this.putPage(kpage);
          return 1;
        }
        ret = this.tryToMergeOnePage(mm2, vma, addr2, page2, kpage);
        // If the second try_to_merge_one_page call failed, we have a ksm
        // page with just one pte pointing to it: break it.
        if (ret) {
          // Deviation from try_to_merge_two_pages (002/000): the seed puts
          // tmppage[0] whenever get_user_pages returns non-zero, -EFAULT
          // included; only a page it really got is put here.
          const tmp = this.getUserPages(mm1, addr1, true);
          if (tmp > 0) this.putPage(tmp);
        } else {
          this.ksmPagesShared++;
          this.stats.merges += 2;
        }
      }
      this.putPage(kpage);
    }
    return ret;
  }

  /**
   * is_zapped_item: whether the address of an item no longer maps a KSM
   * page (not present, get_user_pages fails, or the page is anonymous).
   * When it does, the page is left in this.itemPage with a reference.
   */
  private isZappedItem(item: number): boolean {
    const mm = this.mmOf(item);
    const addr = this.items.address[item];
    let page = 0;
    if (this.isPresentPte(mm, addr)) page = this.getUserPages(mm, addr, false);
    // Deviation from is_zapped_item (002/000): the seed tests only for 0, so
    // a -EFAULT (a VMA without VM_READ) reads an unset page pointer; it is
    // taken as zapped here.
    if (page <= 0) return true;
    if (!this.pageKsm(page, this.vmaAt(mm, addr))) {
      this.putPage(page);
      return true;
    }
    this.itemPage = page;
    return false;
  }

  /**
   * stable_tree_search: the first live item of the stable node whose KSM
   * page equals `page` (the page in this.page2, referenced), or 0. Items
   * with the same (mm, address) as `rmapItem` are stepped over; zapped items
   * met on the way are removed; a node with no live item from its head on
   * aborts the search.
   */
  private stableTreeSearch(page: number, rmapItem: number): number {
    const ri = this.items;
    const ti = this.trees;
    let node = this.stableRoot.node;
    while (node) {
      let found = ti.rmapItem[node];
      while (found) {
        if (!ri.stableTree[found]) throw new Error('BUG: !found_rmap_item->stable_tree');
        if (!ri.treeItem[found]) throw new Error('BUG: !found_rmap_item->tree_item');
        if (!rmapItem || !(ri.mm[found] === ri.mm[rmapItem] && ri.address[found] === ri.address[rmapItem])) {
          if (!this.isZappedItem(found)) break;
          // The seed reads found->next after freeing it; it means the old next.
          const next = ri.next[found];
          this.removeRmapItemFromTree(found);
          found = next;
          continue;
        }
        found = ri.next[found];
      }
      if (!found) return 0;
      // We can trust the value of the memcmp as we know the pages are write protected.
      const p2 = this.itemPage;
      this.stats.stableLevels++;
      const ret = this.memcmpPages(page, p2);
      if (ret < 0) {
        this.putPage(p2);
        node = ti.left[node];
      } else if (ret > 0) {
        this.putPage(p2);
        node = ti.right[node];
      } else {
        this.page2 = p2;
        return found;
      }
    }
    return 0;
  }

  /**
   * stable_tree_insert: link `newTreeItem` as a stable node whose chain is
   * `rmapItem`, ordered by the contents of `page`. Returns 0 on success, 1
   * when a node on the way has no live item or an equal page is already
   * there (the caller ignores it).
   */
  private stableTreeInsert(page: number, newTreeItem: number, rmapItem: number): number {
    const ri = this.items;
    const ti = this.trees;
    let parent = 0;
    let link: RbLink = 'root';
    for (;;) {
      const cur = link === 'root' ? this.stableRoot.node : ti[link][parent];
      if (!cur) break;
      if (!ti.rmapItem[cur]) throw new Error('BUG: !tree_item->rmap_item');
      let ins = ti.rmapItem[cur];
      while (ins) {
        if (!ri.stableTree[ins]) throw new Error('BUG: !insert_rmap_item->stable_tree');
        if (!ri.treeItem[ins]) throw new Error('BUG: !insert_rmap_item->tree_item');
        if (!rmapItem || !(ri.mm[ins] === ri.mm[rmapItem] && ri.address[ins] === ri.address[rmapItem])) {
          if (!this.isZappedItem(ins)) break;
          const next = ri.next[ins];
          this.removeRmapItemFromTree(ins);
          ins = next;
          continue;
        }
        ins = ri.next[ins];
      }
      if (!ins) return 1;
      const p2 = this.itemPage;
      this.stats.stableLevels++;
      const ret = this.memcmpPages(page, p2);
      parent = cur;
      if (ret < 0) {
        this.putPage(p2);
        link = 'left';
      } else if (ret > 0) {
        this.putPage(p2);
        link = 'right';
      } else {
        // It isn't a bug when we are here: someone else could have merged an
        // identical page into the tree. The seed returns without put_page:
        // that reference is never dropped.
        this.leakedRefs.set(p2, (this.leakedRefs.get(p2) ?? 0) + 1);
        return 1;
      }
    }
    this.mutations++;
    ti.gen[newTreeItem] = 0;
    rbLinkNode(ti, newTreeItem, parent, link, this.stableRoot);
    rbInsertColor(ti, newTreeItem, this.stableRoot);
    ri.stableTree[rmapItem] = 1;
    ri.treeItem[rmapItem] = newTreeItem;
    this.stableItemCount++;
    return 0;
  }

  /**
   * unstable_tree_search_insert: the tree_item whose page equals `page` (that
   * page in this.page2, referenced), or 0 after inserting `pageRmapItem`
   * (nothing is inserted when it is 0: a pure search). A node whose address
   * is not present, or whose page cannot be got, ends the walk with 0.
   */
  private unstableTreeSearchInsert(page: number, pageRmapItem: number): number {
    const ri = this.items;
    const ti = this.trees;
    let parent = 0;
    let link: RbLink = 'root';
    for (;;) {
      const cur = link === 'root' ? this.unstableRoot.node : ti[link][parent];
      if (!cur) break;
      const item = ti.rmapItem[cur];
      if (!item) throw new Error('BUG: !rmap_item');
      const mm = this.mmOf(item);
      const addr = ri.address[item];
      // We don't want to swap in pages.
      if (!this.isPresentPte(mm, addr)) return 0;
      const p2 = this.getUserPages(mm, addr, false);
      // Deviation from unstable_tree_search_insert (002/000): the seed tests
      // only for 0 and would compare against an unset page after -EFAULT.
      if (p2 <= 0) return 0;
      this.stats.unstableLevels++;
      const ret = this.memcmpPages(page, p2);
      parent = cur;
      if (ret < 0) {
        this.putPage(p2);
        link = 'left';
      } else if (ret > 0) {
        this.putPage(p2);
        link = 'right';
      } else {
        this.page2 = p2;
        return cur;
      }
    }
    if (!pageRmapItem) return 0;
    const t = ti.alloc();
    this.stats.itemAllocs++;
    ri.treeItem[pageRmapItem] = t;
    ri.stableTree[pageRmapItem] = 0;
    ti.rmapItem[t] = pageRmapItem;
    ti.gen[t] = this.unstableGen;
    rbLinkNode(ti, t, parent, link, this.unstableRoot);
    rbInsertColor(ti, t, this.unstableRoot);
    this.unstableItemCount++;
    return 0;
  }

  /**
   * update_tree: drop an item whose tree state is out of date. Returns 1
   * when it removed (freed) the item: an unstable one, or a stable one whose
   * address is zapped (then `wait` is set: no holder is created at this
   * visit). Holders and live stable items stay (0).
   */
  private updateTree(item: number): number {
    const ri = this.items;
    if (!ri.stableTree[item]) {
      if (ri.treeItem[item]) {
        this.removeRmapItemFromTree(item);
        return 1;
      }
      return 0;
    }
    if (this.isZappedItem(item)) {
      this.removeRmapItemFromTree(item);
      this.wait = 1;
      return 1;
    }
    this.putPage(this.itemPage);
    return 0;
  }

  /** create_new_rmap_item: a holder for (mm, addr) with `checksum`, added to rmap_hash. */
  private createNewRmapItem(mm: Mm, addr: number, checksum: number): number {
    const ri = this.items;
    const item = ri.alloc();
    this.stats.itemAllocs++;
    ri.mm[item] = mm.id;
    // The item names its mm by id: the struct stays until the item is freed.
    this.memory.mmgrab(mm);
    ri.address[item] = addr;
    ri.oldchecksum[item] = checksum;
    ri.stableTree[item] = 0;
    ri.treeItem[item] = 0;
    let byAddr = this.rmapHash.get(mm.id);
    if (byAddr === undefined) {
      byAddr = new Map();
      this.rmapHash.set(mm.id, byAddr);
    }
    byAddr.set(addr, item);
    this.rmapItemCount++;
    return item;
  }

  /**
   * cmp_and_merge_page: the page at the cursor (anonymous, referenced by the
   * caller). First see if it can be merged into the stable tree; if not,
   * compare its checksum with the previous one and, if unchanged, search the
   * unstable tree, inserting it or merging with a page already there, which
   * then becomes a new stable node.
   */
  private cmpAndMergePage(page: number): void {
    const ri = this.items;
    const slot = this.scan.slotIndex!;
    const mm = slot.mm;
    const addr = slot.addr + this.scan.pageIndex * PAGE_SIZE;
    this.wait = 0;
    let rmapItem = this.getRmapItem(mm, addr);
    if (rmapItem && this.updateTree(rmapItem)) rmapItem = 0;

    // We first start with searching the page inside the stable tree.
    const treeRmapItem = this.stableTreeSearch(page, rmapItem);
    if (treeRmapItem) {
      const page2 = this.page2;
      const ret = this.tryToMergeTwoPages(mm, page, this.mmOf(treeRmapItem), page2, addr, ri.address[treeRmapItem]);
      this.putPage(page2);
      if (!ret) {
        // The page was successfully merged: insert its rmap_item into the
        // stable tree, right after the item it was found through.
        if (!rmapItem) rmapItem = this.createNewRmapItem(mm, addr, 0);
        ri.next[rmapItem] = ri.next[treeRmapItem];
        ri.prev[rmapItem] = treeRmapItem;
        if (ri.next[treeRmapItem]) ri.prev[ri.next[treeRmapItem]] = rmapItem;
        ri.next[treeRmapItem] = rmapItem;
        ri.stableTree[rmapItem] = 1;
        ri.treeItem[rmapItem] = ri.treeItem[treeRmapItem];
        this.stableItemCount++;
        this.mutations++;
      }
      return;
    }

    // A page whose checksum changed since we last computed it changes
    // frequently: do not insert it into the unstable tree, nor waste time
    // searching it.
    if (rmapItem) {
      const checksum = this.calcChecksum(page);
      if (ri.oldchecksum[rmapItem] !== checksum) {
        ri.oldchecksum[rmapItem] = checksum;
        return;
      }
    }

    const treeItem = this.unstableTreeSearchInsert(page, rmapItem);
    if (treeItem) {
      const partner = this.trees.rmapItem[treeItem];
      if (!partner) throw new Error('BUG: !rmap_item');
      const page2 = this.page2;
      const ret = this.tryToMergeTwoPages(mm, page, this.mmOf(partner), page2, addr, ri.address[partner]);
      // As soon as we merged this page, remove the item of the page we merged
      // with from the unstable tree and insert it as a new stable tree node.
      if (!ret) {
        rbErase(this.trees, treeItem, this.unstableRoot);
        this.trees.gen[treeItem] = 0;
        this.unstableItemCount--;
        this.stableTreeInsert(page2, treeItem, partner);
      }
      this.putPage(page2);
      return;
    }
    // When wait is 1 we don't want to calculate the checksum right now: we prefer to wait.
    if (!this.wait && !rmapItem) {
      const checksum = this.calcChecksum(page);
      this.createNewRmapItem(mm, addr, checksum);
    }
  }

  /**
   * scan_get_next_index: move the cursor by nscan pages; to the next slot at
   * the end of one; to the first slot, flushing the unstable tree, at the
   * end of the list. Returns 0, or -EAGAIN when no slot is registered.
   */
  private scanGetNextIndex(nscan: number): number {
    if (this.slots.length === 0) return -ERRNO.EAGAIN;
    const scan = this.scan;
    const slot = scan.slotIndex!;
    // Are there pages left in this slot to scan? The C computes
    // slot->npages - page_index - nscan in unsigned long, so "> 0" is "!= 0":
    // a slot of 0 pages, or a cursor beyond its end, never ends.
    if (slot.npages - scan.pageIndex - nscan !== 0) {
      scan.pageIndex += nscan;
      return 0;
    }
    const i = this.slots.indexOf(slot);
    if (i >= 0 && i + 1 < this.slots.length) {
      scan.pageIndex = 0;
      scan.slotIndex = this.slots[i + 1];
      return 0;
    }
    // Looks like we finished scanning the whole memory: start again.
    this.wraps++;
    this.onWrap?.();
    this.flushUnstableTree();
    scan.pageIndex = 0;
    scan.slotIndex = this.slots[0];
    return 0;
  }

  /**
   * scan_update_old_index: make sure the cursor points to valid data (the
   * slot it was on may have been removed); if not, restart at the first slot.
   */
  private scanUpdateOldIndex(): void {
    if (this.slots.length === 0) return;
    const slot = this.scan.slotIndex;
    if (slot !== null && slot.linked) return;
    this.scan.slotIndex = this.slots[0];
    this.scan.pageIndex = 0;
  }

  /**
   * ksm_scan_start - the ksm scanner main worker function: visit scanNpages
   * positions (an `unsigned int`), then advance the cursor once more.
   * Returns 0, or -EAGAIN when there are no slots to scan.
   */
  ksmScanStart(scanNpages: number): number {
    let n = scanNpages >>> 0;
    this.scanUpdateOldIndex();
    this.history.length = 0;
    while (n > 0) {
      const wraps = this.wraps;
      const ret = this.scanGetNextIndex(1);
      if (ret) return ret;
      if (this.wraps !== wraps && n >= this.fastForwardBudget) n = this.fastForward(n);
      const slot = this.scan.slotIndex!;
      const mm = slot.mm;
      const addr = slot.addr + this.scan.pageIndex * PAGE_SIZE;
      this.positions++;
      // If the page is swapped out or in swap cache, we don't want to scan it.
      if (this.isPresentPte(mm, addr)) {
        const page = this.getUserPages(mm, addr, false);
        if (page > 0) {
          this.stats.pagesScanned++;
          if (!this.pageKsm(page, this.vmaAt(mm, addr))) this.cmpAndMergePage(page);
          this.putPage(page);
        }
        n--;
      } else {
        n--;
        n = this.skipUnmapped(slot, addr, n);
      }
    }
    this.scanGetNextIndex(1);
    return 0;
  }

  // ------------------------------------------------------------ doing the seed's loop faster

  /**
   * Budgets from which ksmScanStart looks for a repeating state at wraps. A
   * negative pages_to_scan is a budget of over 2^31 pages per batch in the
   * seeds; these two shortcuts give the same result as running it page by page.
   */
  fastForwardBudget = 1 << 16;

  /** State at the last wraps of the current batch (fastForward). */
  private readonly history: Array<{ n: number; mutations: number; sig: Float64Array; wraps: number; gen: number; positions: number; stats: MergeStats }> = [];

  /**
   * The positions right after the cursor, in the same slot, whose pages lie
   * outside every VMA of the slot's mm can be neither present nor scanned:
   * each costs one page of budget and changes nothing. Passes over up to n
   * of them at once (a slot of 0 pages runs away through the address space)
   * and returns the budget left.
   */
  private skipUnmapped(slot: MemSlot, addr: number, n: number): number {
    if (n === 0 || slot.mm.vmaAt(addr) !== null) return n;
    const scan = this.scan;
    const v = slot.mm.findVma(addr);
    let k = v === null ? Number.POSITIVE_INFINITY : Math.ceil((v.start - slot.addr) / PAGE_SIZE) - scan.pageIndex - 1;
    if (scan.pageIndex < slot.npages) k = Math.min(k, slot.npages - 1 - scan.pageIndex);
    k = Math.min(k, n);
    if (k <= 0) return n;
    scan.pageIndex += k;
    this.positions += k;
    return n - k;
  }

  /**
   * Called right after a wrap with n pages of budget left. At a wrap the
   * unstable tree is empty and the cursor is at the first slot, so the rest
   * of the batch is a function of memory, the stable tree, the rmap_items and
   * n. When nothing but holder/unstable items changed over the last two
   * passes (no merge was tried, no stable item removed) and those items are
   * as they were two wraps ago, every later pair of passes repeats the last
   * one: skip as many whole pairs as the budget allows, adding what each
   * pair did to the counters.
   */
  private fastForward(n: number): number {
    const rec = { n, mutations: this.mutations, sig: this.itemSignature(), wraps: this.wraps, gen: this.unstableGen, positions: this.positions, stats: { ...this.stats } };
    const h = this.history;
    if (h.length === 2) {
      const old = h[0];
      if (old.mutations === rec.mutations && sameSignature(old.sig, rec.sig)) {
        const period = old.n - n;
        const m = Math.floor((n - 1) / period);
        if (m > 0) {
          this.wraps += m * (rec.wraps - old.wraps);
          this.unstableGen += m * (rec.gen - old.gen);
          this.positions += m * (rec.positions - old.positions);
          for (const k of Object.keys(this.stats) as Array<keyof MergeStats>) this.stats[k] += m * (rec.stats[k] - old.stats[k]);
          h.length = 0;
          return n - m * period;
        }
      }
      h.shift();
    }
    h.push(rec);
    return n;
  }

  /** Every rmap_item as (mm, address, state), sorted by mm and address. */
  private itemSignature(): Float64Array {
    const ri = this.items;
    const ids: number[] = [];
    for (const byAddr of this.rmapHash.values()) for (const id of byAddr.values()) ids.push(id);
    ids.sort((a, b) => ri.mm[a] - ri.mm[b] || ri.address[a] - ri.address[b]);
    const out = new Float64Array(ids.length * 3);
    ids.forEach((id, i) => {
      out[3 * i] = ri.mm[id];
      out[3 * i + 1] = ri.address[id];
      out[3 * i + 2] = ri.oldchecksum[id] * 4 + ri.stableTree[id] * 2 + (ri.treeItem[id] ? 1 : 0);
    });
    return out;
  }

  /** Typed-array bytes held for rmap_items and tree_items. */
  memoryBytes(): number {
    return this.items.memoryBytes() + this.trees.memoryBytes();
  }
}
