/**
 * The mainline KSM merger of Linux 2.6.32 (seed 003, mm/ksm.c), function for
 * function. Names follow the seed in camelCase so the two can be diffed.
 *
 * A few notes about the KSM scanning process, to make it easier to
 * understand the data structures below (after the seed's own essay):
 *
 * KSM sorts the memory pages by their contents into a data structure that
 * holds pointers to the pages' locations. Since the contents of the pages may
 * change at any moment, KSM cannot just insert the pages into a normal sorted
 * tree and expect it to find anything. So it uses two trees:
 *
 * - The stable tree holds the merged (KSM) pages, sorted by content. They are
 *   write-protected, so searching it is reliable. A stable node is an
 *   rmap_item (NODE_FLAG|STABLE_FLAG); the other rmap_items mapping the same
 *   KSM page hang off it in a doubly linked list (STABLE_FLAG only) through
 *   the `next` (union with oldchecksum) and `prev` fields.
 * - The unstable tree holds pages that have been "unchanged for a period of
 *   time": a page enters it only if its checksum equals the one recorded at
 *   the scanner's previous visit. Its nodes are rmap_items with NODE_FLAG and
 *   the low byte of the scan sequence number. It is not write-protected and so
 *   may be corrupted by writes; it is flushed (root reset) at the start of
 *   every full scan and rebuilt.
 *
 * The scanner walks every registered mm (mm_slot list, one cursor) in address
 * order. Each mm keeps its rmap_items in a list sorted by address; an item
 * whose address is no longer met is freed as the cursor passes.
 *
 * Page references are modelled as the seed takes them (follow_page with
 * FOLL_GET, get_page/put_page), so a page KSM is looking at stays alive even
 * when its mapping goes away meanwhile, exactly as in the kernel.
 */
import type { Merger, PassCounters } from './merger.js';
import { PAGE_SIZE, VM_DONTEXPAND, VM_HUGETLB, VM_INSERTPAGE, VM_IO, VM_MAYSHARE, VM_MERGEABLE, VM_MIXEDMAP, VM_PFNMAP, VM_RESERVED, VM_SAO, VM_SHARED } from '../constants.js';
import { ERRNO } from '../errno.js';
import { ChecksumCache } from '../memory/checksum-cache.js';
import type { Memory } from '../memory/memory.js';
import { MMF_VM_MERGEABLE, type Mm, type Vma } from '../memory/mm.js';
import { type ChecksumName, pageChecksum } from '../hash/page-checksum.js';
import { type RbRoot, rbErase, rbInsertColor, rbLinkNode, rbReplaceNode } from '../rbtree.js';
import { calcChecksum, type MainlineCounters, mainlineCounters, memcmpPages, pageAnon, pageKsm, pagesVolatile } from './mainline-common.js';
import { RmapItems } from './rmap-items.js';
import { MmSlot } from './mm-slots.js';
import { type MergeStats, type MergeWork, mergeWork, newMergeStats } from './stats.js';

export const SEQNR_MASK = 0x0ff; /* low bits of unstable tree seqnr */
export const NODE_FLAG = 0x100; /* is a node of unstable or stable tree */
export const STABLE_FLAG = 0x200; /* is a node or list item of stable tree */

export const KSM_RUN_STOP = 0;
export const KSM_RUN_MERGE = 1;
export const KSM_RUN_UNMERGE = 2;

/** The MADV_* values ksm_madvise switches on (asm-generic/mman-common.h). */
export const MADV_MERGEABLE = 12;
export const MADV_UNMERGEABLE = 13;

/** VMAs whose MADV_MERGEABLE advice ksm_madvise silently ignores (003). */
const MERGEABLE_IGNORED = VM_MERGEABLE | VM_SHARED | VM_MAYSHARE | VM_PFNMAP | VM_IO | VM_DONTEXPAND
  | VM_RESERVED | VM_HUGETLB | VM_INSERTPAGE | VM_MIXEDMAP | VM_SAO;

export { MmSlot };

/** The five counters of /sys/kernel/mm/ksm plus the rmap_item count behind pages_volatile. */
export type Counters2632 = MainlineCounters;

export class Mainline2632 implements Merger {
  readonly algorithm = 'mainline-2632';
  /* Tunables, with the seed's defaults. */
  /** ksm_thread_pages_to_scan: pages per ksmd batch. */
  pagesToScan = 200;
  /** ksm_thread_sleep_millisecs */
  sleepMillisecs = 20;
  /** ksm_run */
  run = KSM_RUN_MERGE;
  /** ksm_max_kernel_pages: limit on the KSM pages (stable nodes); 0 = unlimited (unsigned long). */
  maxKernelPages = 2000n;

  /* Counters. */
  /** The number of nodes in the stable tree */
  pagesShared = 0;
  /** The number of page slots additionally sharing those nodes */
  pagesSharing = 0;
  /** The number of nodes in the unstable tree */
  pagesUnshared = 0;
  /** The number of rmap_items in use: to calculate pages_volatile */
  rmapItems = 0;

  readonly items = new RmapItems();
  readonly stableRoot: RbRoot = { node: 0 };
  readonly unstableRoot: RbRoot = { node: 0 };
  /** ksm_mm_head: the sentinel of the mm_slot list. */
  readonly mmHead: MmSlot;
  /** mm_slots_hash */
  readonly slots = new Map<number, MmSlot>();
  /** struct ksm_scan - cursor for scanning (ksm_scan). */
  readonly scan: { mmSlot: MmSlot; address: number; rmapItem: number; seqnr: number };
  readonly stats: MergeStats = newMergeStats();

  /** The work record: the counters above and the copy-on-write breaks of the memory. */
  work(): MergeWork {
    return mergeWork(this.stats, this.memory.cowBreaks);
  }

  private checksums: ChecksumCache;
  /** Second result of the tree searches (the C code's page2[0]). */
  private page2 = 0;
  /** The page scanGetNextRmapItem returns beside its rmap_item (*page). */
  private scanPage = 0;

  constructor(readonly memory: Memory) {
    this.mmHead = new MmSlot(null, this.items.newList());
    this.scan = { mmSlot: this.mmHead, address: 0, rmapItem: this.mmHead.rmapList, seqnr: 0 };
    // calc_checksum: jhash2(page, PAGE_SIZE / 4, 17) of the lookup2 generation.
    this.checksums = new ChecksumCache(memory.contents, pageChecksum('lookup2'));
    memory.hooks = {
      // ksm_fork (include/linux/ksm.h of 2.6.32, outside the seed): a child of
      // a registered mm is registered too; its rmap_items are not copied.
      fork: (parent, child) => (parent.flags & MMF_VM_MERGEABLE ? this.ksmEnter(child) : 0),
      // ksm_exit (include/linux/ksm.h): only registered mms reach __ksm_exit.
      exit: (mm) => {
        if (mm.flags & MMF_VM_MERGEABLE) this.ksmExit(mm);
      },
    };
  }

  /**
   * Computes page checksums with `name` instead of 2.6.32's jhash2 of the
   * lookup2 generation: an experiment for comparisons (ksmctl compare
   * --checksum), not era behaviour. Call before the first scan.
   */
  useChecksum(name: ChecksumName): void {
    this.checksums.use(pageChecksum(name));
  }

  /** pages_volatile as pages_volatile_show computes it, clamped at 0. */
  get pagesVolatile(): number {
    return pagesVolatile(this);
  }

  counters(): Counters2632 {
    return mainlineCounters(this);
  }

  passes(): number {
    return this.scan.seqnr;
  }

  passCounters(): PassCounters {
    return mainlineCounters(this);
  }

  // ------------------------------------------------------------ helpers

  private mmOf(item: number): Mm {
    return this.memory.mmById[this.items.mmId(item)];
  }

  private inStableTree(item: number): boolean {
    return (this.items.flagsOf(item) & STABLE_FLAG) !== 0;
  }

  private putPage(f: number): void {
    this.memory.frames.put(f);
  }

  private allocRmapItem(): number {
    const id = this.items.alloc();
    this.rmapItems++;
    this.stats.itemAllocs++;
    return id;
  }

  private freeRmapItem(item: number): void {
    this.rmapItems--;
    this.items.release(item);
  }

  /** A VMA lookup that must contain addr: find_vma plus the vm_start check of the seed. */
  private vmaContaining(mm: Mm, addr: number): Vma | null {
    const vma = mm.findVma(addr);
    return vma === null || vma.start > addr ? null : vma;
  }

  // ------------------------------------------------------------ seed functions

  /** break_cow: give addr a private copy of the KSM page mapped there. */
  breakCow(mm: Mm, addr: number): void {
    if (mm.exiting) return;
    const vma = this.vmaContaining(mm, addr);
    if (vma === null) return;
    if (!(vma.flags & VM_MERGEABLE) || !vma.anonVma) return;
    this.memory.breakKsm(vma, addr);
  }

  /**
   * get_mergeable_page, without its reference: the anonymous page at the
   * item's address, or 0. The tree walks take the reference only for the
   * page they keep (get_ksm_page likewise); nothing can observe the
   * difference: the seed's get/put pairs on the pages it passes by cancel
   * out before anything else happens.
   */
  private lookupMergeablePage(item: number): number {
    const mm = this.memory.mmById[this.items.mmId(item)];
    if (mm.exiting) return 0;
    const addr = this.items.addr(item);
    const vma = this.vmaContaining(mm, addr);
    if (vma === null) return 0;
    if (!(vma.flags & VM_MERGEABLE) || !vma.anonVma) return 0;
    const f = vma.frames[(addr - vma.start) / PAGE_SIZE];
    return f !== 0 && pageAnon(this.memory.frames, f) ? f : 0;
  }

  /** get_ksm_page without its reference: the KSM page still mapped at the item's address, or 0. */
  private lookupKsmPage(item: number): number {
    const f = this.lookupMergeablePage(item);
    return f !== 0 && pageKsm(this.memory.frames, f) ? f : 0;
  }

  /** remove_rmap_item_from_tree */
  removeRmapItemFromTree(item: number): void {
    const it = this.items;
    const flags = it.flagsOf(item);
    if (flags & STABLE_FLAG) {
      const nextItem = it.word[item];
      if (flags & NODE_FLAG) {
        if (nextItem) {
          rbReplaceNode(it, item, nextItem, this.stableRoot);
          it.orFlags(nextItem, NODE_FLAG);
          this.pagesSharing--;
        } else {
          rbErase(it, item, this.stableRoot);
          this.pagesShared--;
        }
      } else {
        const prevItem = it.prev[item];
        if (it.word[prevItem] !== item) throw new Error('BUG: stable list corrupted');
        it.word[prevItem] = nextItem;
        if (nextItem) it.prev[nextItem] = prevItem;
        this.pagesSharing--;
      }
      it.word[item] = 0; // rmap_item->next = NULL, which is also oldchecksum
    } else if (flags & NODE_FLAG) {
      // Usually ksmd can and must skip the rb_erase, because the unstable
      // root was already reset; but an item inserted by this scan is erased.
      const age = (this.scan.seqnr - flags) & 0xff;
      if (age > 1) throw new Error(`BUG: unstable node of age ${age}`);
      if (age === 0) rbErase(it, item, this.unstableRoot);
      this.pagesUnshared--;
    }
    it.setFlags(item, 0);
  }

  /**
   * remove_trailing_rmap_items: free every item after list position `prev`
   * to the end of the slot's list (the seed passes prev's successor, `cur`;
   * the list here is singly linked, so the walk keeps the item before it).
   */
  private removeTrailingRmapItems(slot: MmSlot, prev: number): void {
    const it = this.items;
    for (let cur = it.lnext[prev]; cur !== slot.rmapList; cur = it.lnext[prev]) {
      this.removeRmapItemFromTree(cur);
      it.unlinkAfter(prev);
      this.freeRmapItem(cur);
    }
  }

  /**
   * unmerge_ksm_pages: break COW on every KSM page in [start, end) of vma.
   * Returns 0 or -errno (never fails here: no signals, no OOM).
   */
  unmergeKsmPages(vma: Vma, start: number, end: number): number {
    for (let addr = start; addr < end; addr += PAGE_SIZE) {
      if (vma.mm.exiting) break;
      this.memory.breakKsm(vma, addr);
    }
    return 0;
  }

  /** unmerge_and_remove_all_rmap_items: what writing 2 to run does. */
  unmergeAndRemoveAllRmapItems(): number {
    this.scan.mmSlot = this.mmHead.next;
    for (let slot = this.scan.mmSlot; slot !== this.mmHead; slot = this.scan.mmSlot) {
      const mm = slot.mm!;
      for (const vma of [...mm.vmas]) {
        if (mm.exiting) break;
        if (!(vma.flags & VM_MERGEABLE) || !vma.anonVma) continue;
        const err = this.unmergeKsmPages(vma, vma.start, vma.end);
        if (err) {
          this.scan.mmSlot = this.mmHead;
          return err;
        }
      }
      this.removeTrailingRmapItems(slot, slot.rmapList);
      this.scan.mmSlot = slot.next;
      if (mm.exiting) this.dropSlot(slot);
    }
    this.scan.seqnr = 0;
    return 0;
  }

  /** try_to_merge_one_page: map `newpage` read-only in place of `oldpage` at addr of vma. */
  private tryToMergeOnePage(vma: Vma, addr: number, oldpage: number, newpage: number): number {
    if (!(vma.flags & VM_MERGEABLE)) return -ERRNO.EFAULT;
    if (!pageAnon(this.memory.frames, oldpage)) return -ERRNO.EFAULT;
    this.stats.mergeAttempts++;
    // write_protect_page: the caller holds one reference to oldpage (follow_page).
    if (!this.memory.writeProtect(vma, addr, oldpage, 1)) return -ERRNO.EFAULT;
    // unlock_page(oldpage): the owner may write from here on (a test's hook).
    const window = this.memory.mergeWindow;
    if (window !== null) window({ window: 'write-protected', vma, addr, oldpage, newpage });
    this.stats.comparisons++;
    this.stats.bytesCompared += PAGE_SIZE;
    if (this.memory.frames.content[oldpage] !== this.memory.frames.content[newpage]) return -ERRNO.EFAULT;
    if (window !== null) window({ window: 'compared', vma, addr, oldpage, newpage });
    return this.memory.replacePage(vma, addr, oldpage, newpage) ? 0 : -ERRNO.EFAULT;
  }

  /** try_to_merge_with_ksm_page: like tryToMergeTwoPages, but kpage is already a KSM page. */
  private tryToMergeWithKsmPage(mm1: Mm, addr1: number, page1: number, kpage: number): number {
    if (mm1.exiting) return -ERRNO.EFAULT;
    const vma = this.vmaContaining(mm1, addr1);
    if (vma === null) return -ERRNO.EFAULT;
    return this.tryToMergeOnePage(vma, addr1, page1, kpage);
  }

  /**
   * try_to_merge_two_pages: copy page1 into a newly allocated KSM page and map
   * it at both addresses; undo the first mapping if the second fails.
   */
  private tryToMergeTwoPages(mm1: Mm, addr1: number, page1: number, mm2: Mm, addr2: number, page2: number): number {
    // The number of nodes in the stable tree is the number of kernel pages that we hold.
    if (this.maxKernelPages !== 0n && this.maxKernelPages <= BigInt(this.pagesShared)) return -ERRNO.EFAULT;
    const fr = this.memory.frames;
    const content = fr.content[page1];
    this.memory.contents.ref(content);
    const kpage = fr.alloc(content, 0, fr.nodeOf(page1));
    let err = -ERRNO.EFAULT;
    const vma = mm1.exiting ? null : this.vmaContaining(mm1, addr1);
    if (vma !== null) {
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

  /**
   * stable_tree_search: the stable item whose KSM page equals `page`, with
   * that page in this.page2 (referenced), or 0. Stale items met on the way
   * are removed; a node whose items are all stale aborts the search.
   */
  private stableTreeSearch(page: number): number {
    const it = this.items;
    let node = this.stableRoot.node;
    while (node) {
      let treeItem = node;
      let p2 = 0;
      while (treeItem) {
        p2 = this.lookupKsmPage(treeItem);
        if (p2) break;
        const nextItem = it.word[treeItem];
        this.removeRmapItemFromTree(treeItem);
        treeItem = nextItem;
      }
      if (!treeItem) return 0;
      this.stats.stableLevels++;
      const ret = memcmpPages(this.memory, this.stats, page, p2);
      if (ret < 0) {
        node = it.left[node];
      } else if (ret > 0) {
        node = it.right[node];
      } else {
        this.memory.frames.get(p2);
        this.page2 = p2;
        return treeItem;
      }
    }
    return 0;
  }

  /**
   * stable_tree_insert: link `item`, whose address now maps the KSM page with
   * the content of `page`, as a new stable node. Returns item, or 0 when an
   * equal page is already there or a node on the way is entirely stale.
   */
  private stableTreeInsert(page: number, item: number): number {
    const it = this.items;
    let parent = 0;
    let side: 'left' | 'right' | 'root' = 'root';
    for (;;) {
      const cur = side === 'root' ? this.stableRoot.node : it[side][parent];
      if (!cur) break;
      let treeItem = cur;
      let treePage = 0;
      while (treeItem) {
        treePage = this.lookupKsmPage(treeItem);
        if (treePage) break;
        const nextItem = it.word[treeItem];
        this.removeRmapItemFromTree(treeItem);
        treeItem = nextItem;
      }
      if (!treeItem) return 0;
      this.stats.stableLevels++;
      const ret = memcmpPages(this.memory, this.stats, page, treePage);
      // parent = *new, read again: removing a stale node item above may have
      // promoted its successor into this very link.
      parent = side === 'root' ? this.stableRoot.node : it[side][parent];
      if (ret < 0) side = 'left';
      else if (ret > 0) side = 'right';
      else return 0; // not a bug: our page was not yet write-protected when searched
    }
    it.orFlags(item, NODE_FLAG | STABLE_FLAG);
    it.word[item] = 0;
    rbLinkNode(it, item, parent, side, this.stableRoot);
    rbInsertColor(it, item, this.stableRoot);
    this.pagesShared++;
    return item;
  }

  /**
   * unstable_tree_search_insert: the unstable item whose page equals `page`
   * (its page in this.page2, referenced), or 0 after inserting `item`.
   */
  private unstableTreeSearchInsert(page: number, item: number): number {
    const it = this.items;
    let parent = 0;
    let side: 'left' | 'right' | 'root' = 'root';
    for (;;) {
      const cur = side === 'root' ? this.unstableRoot.node : it[side][parent];
      if (!cur) break;
      const p2 = this.lookupMergeablePage(cur);
      if (!p2) return 0;
      // Don't substitute an unswappable ksm page just for one good swappable forked page.
      if (page === p2) return 0;
      this.stats.unstableLevels++;
      const ret = memcmpPages(this.memory, this.stats, page, p2);
      parent = cur;
      if (ret < 0) {
        side = 'left';
      } else if (ret > 0) {
        side = 'right';
      } else {
        this.memory.frames.get(p2);
        this.page2 = p2;
        return cur;
      }
    }
    it.orFlags(item, NODE_FLAG | (this.scan.seqnr & SEQNR_MASK));
    rbLinkNode(it, item, parent, side, this.unstableRoot);
    rbInsertColor(it, item, this.unstableRoot);
    this.pagesUnshared++;
    return 0;
  }

  /** stable_tree_append: hang `item` off the stable node item `treeItem`, right after it. */
  private stableTreeAppend(item: number, treeItem: number): void {
    const it = this.items;
    it.word[item] = it.word[treeItem];
    it.prev[item] = treeItem;
    if (it.word[treeItem]) it.prev[it.word[treeItem]] = item;
    it.word[treeItem] = item;
    it.orFlags(item, STABLE_FLAG);
    this.pagesSharing++;
  }

  /**
   * cmp_and_merge_page: first see if page can be merged into the stable tree;
   * if not, compare checksum to previous and if it's the same, see if page
   * can be inserted into the unstable tree, or merged with a page already
   * there and both transferred to the stable tree.
   */
  private cmpAndMergePage(page: number, item: number): void {
    const it = this.items;
    if (this.inStableTree(item)) this.removeRmapItemFromTree(item);

    let treeItem = this.stableTreeSearch(page);
    if (treeItem) {
      const p2 = this.page2;
      const err = page === p2 ? 0 /* forked */ : this.tryToMergeWithKsmPage(this.mmOf(item), it.addr(item), page, p2);
      this.putPage(p2);
      if (!err) {
        this.stats.merges++;
        this.stableTreeAppend(item, treeItem);
      }
      return;
    }

    // A ksm page might have got here by fork, but its other references have
    // already been removed from the stable tree: break it.
    if (pageKsm(this.memory.frames, page)) this.breakCow(this.mmOf(item), it.addr(item));

    const checksum = calcChecksum(this.memory, this.checksums, this.stats, page);
    if (it.word[item] !== checksum) {
      it.word[item] = checksum;
      return;
    }

    treeItem = this.unstableTreeSearchInsert(page, item);
    if (treeItem) {
      const p2 = this.page2;
      const err = this.tryToMergeTwoPages(this.mmOf(item), it.addr(item), page, this.mmOf(treeItem), it.addr(treeItem), p2);
      // As soon as we merge this page, we want to remove the rmap_item of the
      // page we have merged with from the unstable tree, and insert it
      // instead as new node in the stable tree.
      if (!err) {
        this.stats.merges++;
        rbErase(it, treeItem, this.unstableRoot);
        it.clearFlags(treeItem, NODE_FLAG);
        this.pagesUnshared--;
        // If we fail to insert the page into the stable tree, we will have 2
        // virtual addresses pointing to a ksm page left outside the stable
        // tree, in which case we need to break_cow on both.
        if (this.stableTreeInsert(p2, treeItem)) this.stableTreeAppend(item, treeItem);
        else {
          this.breakCow(this.mmOf(treeItem), it.addr(treeItem));
          this.breakCow(this.mmOf(item), it.addr(item));
        }
      }
      this.putPage(p2);
    }
  }

  /**
   * get_next_rmap_item: the item for addr after list position `prev` (the
   * seed passes prev's successor), freeing the items passed over.
   */
  private getNextRmapItem(slot: MmSlot, prev: number, addr: number): number {
    const it = this.items;
    for (let cur = it.lnext[prev]; cur !== slot.rmapList; cur = it.lnext[prev]) {
      const a = it.addr(cur);
      if (a === addr) {
        if (!this.inStableTree(cur)) this.removeRmapItemFromTree(cur);
        return cur;
      }
      if (a > addr) break;
      this.removeRmapItemFromTree(cur);
      it.unlinkAfter(prev);
      this.freeRmapItem(cur);
    }
    const item = this.allocRmapItem(); // it has already been zeroed
    it.setMmAddr(item, slot.mm!.id, addr);
    it.linkAfter(prev, item);
    return item;
  }

  /**
   * scan_get_next_rmap_item: advance the cursor to the next anonymous page of
   * a registered VMA; returns its rmap_item (the page, referenced, in
   * this.scanPage), or 0 when a full scan has just completed.
   */
  private scanGetNextRmapItem(): number {
    const it = this.items;
    const scan = this.scan;
    if (this.mmHead.next === this.mmHead) return 0;

    let slot = scan.mmSlot;
    if (slot === this.mmHead) {
      this.unstableRoot.node = 0;
      slot = this.mmHead.next;
      scan.mmSlot = slot;
      scan.address = 0;
      scan.rmapItem = slot.rmapList;
    }
    for (;;) {
      const mm = slot.mm!;
      const vmas = mm.vmas;
      for (let vi = mm.exiting ? vmas.length : mm.findVmaIndex(scan.address); vi < vmas.length; vi++) {
        const vma = vmas[vi];
        if (!(vma.flags & VM_MERGEABLE)) continue;
        if (scan.address < vma.start) scan.address = vma.start;
        if (!vma.anonVma) scan.address = vma.end;
        const frames = vma.frames;
        for (let i = vma.index(scan.address), n = frames.length; i < n; i++) {
          const f = frames[i];
          if (f !== 0 && pageAnon(this.memory.frames, f)) {
            scan.address = vma.start + i * PAGE_SIZE;
            this.memory.frames.get(f);
            const item = this.getNextRmapItem(slot, scan.rmapItem, scan.address);
            scan.rmapItem = item;
            scan.address += PAGE_SIZE;
            this.scanPage = f;
            return item;
          }
        }
        scan.address = vma.end;
      }

      if (mm.exiting) {
        scan.address = 0;
        scan.rmapItem = slot.rmapList;
      }
      // Nuke all the rmap_items that are above this current rmap: because
      // there were no VM_MERGEABLE vmas with such addresses.
      this.removeTrailingRmapItems(slot, scan.rmapItem);

      scan.mmSlot = slot.next;
      // A full scan of all vmas found no VM_MERGEABLE: do as __ksm_exit does.
      if (scan.address === 0) this.dropSlot(slot);

      slot = scan.mmSlot;
      if (slot !== this.mmHead) {
        scan.address = 0;
        scan.rmapItem = slot.rmapList;
        continue;
      }
      scan.seqnr++;
      return 0;
    }
  }

  /**
   * ksm_do_scan: the ksm scanner main worker function, one batch of up to
   * scanNpages pages; it ends early when a full scan completes.
   */
  ksmDoScan(scanNpages: number): void {
    while (scanNpages-- > 0) {
      const item = this.scanGetNextRmapItem();
      if (!item) return;
      const page = this.scanPage;
      this.stats.pagesScanned++;
      if (!pageKsm(this.memory.frames, page) || !this.inStableTree(item)) {
        this.cmpAndMergePage(page, item);
      } else if (this.memory.frames.mapcount[page] === 1) {
        // Replace now-unshared ksm page by ordinary page.
        this.breakCow(this.mmOf(item), this.items.addr(item));
        this.removeRmapItemFromTree(item);
        this.items.word[item] = calcChecksum(this.memory, this.checksums, this.stats, page);
      }
      this.putPage(page);
    }
  }

  /** ksmd_should_run */
  ksmdShouldRun(): boolean {
    return (this.run & KSM_RUN_MERGE) !== 0 && this.mmHead.next !== this.mmHead;
  }

  /** One iteration of ksm_scan_thread's loop body (under ksm_thread_mutex). */
  ksmdBatch(): void {
    if (this.ksmdShouldRun()) this.ksmDoScan(this.pagesToScan);
  }

  // ------------------------------------------------------------ registration

  /**
   * ksm_madvise: what MADV_MERGEABLE / MADV_UNMERGEABLE do to one VMA.
   * Returns the new vm_flags, or -errno.
   */
  ksmMadvise(vma: Vma, start: number, end: number, advice: number): { err: number; flags: number } {
    const mm = vma.mm;
    let flags = vma.flags;
    switch (advice) {
      case MADV_MERGEABLE:
        // Be somewhat over-protective for now!
        if (flags & MERGEABLE_IGNORED) return { err: 0, flags }; /* just ignore the advice */
        if (!(mm.flags & MMF_VM_MERGEABLE)) {
          const err = this.ksmEnter(mm);
          if (err) return { err, flags };
        }
        flags = (flags | VM_MERGEABLE) >>> 0;
        break;
      case MADV_UNMERGEABLE: {
        if (!(flags & VM_MERGEABLE)) return { err: 0, flags }; /* just ignore the advice */
        if (vma.anonVma) {
          const err = this.unmergeKsmPages(vma, start, end);
          if (err) return { err, flags };
        }
        flags = (flags & ~VM_MERGEABLE) >>> 0;
        break;
      }
    }
    return { err: 0, flags };
  }

  /** __ksm_enter: register mm, inserting its slot just behind the scanning cursor. */
  ksmEnter(mm: Mm): number {
    const slot = new MmSlot(mm, this.items.newList());
    this.slots.set(mm.id, slot);
    // atomic_inc(&mm->mm_count): the slot holds the struct until dropSlot's mmdrop.
    this.memory.mmgrab(mm);
    // Insert just behind the scanning cursor, to let the area settle down a little.
    const at = this.scan.mmSlot;
    slot.prev = at.prev;
    slot.next = at;
    at.prev.next = slot;
    at.prev = slot;
    mm.flags |= MMF_VM_MERGEABLE;
    return 0;
  }

  /**
   * __ksm_exit: free the slot at once if it has no rmap_items and is not
   * under the cursor; otherwise move it just after the cursor for ksmd.
   */
  ksmExit(mm: Mm): void {
    const slot = this.slots.get(mm.id);
    if (slot === undefined || this.scan.mmSlot === slot) return;
    if (this.items.lnext[slot.rmapList] === slot.rmapList) {
      this.dropSlot(slot);
      return;
    }
    slot.prev.next = slot.next;
    slot.next.prev = slot.prev;
    const at = this.scan.mmSlot;
    slot.prev = at;
    slot.next = at.next;
    at.next.prev = slot;
    at.next = slot;
  }

  /** The registered slots in list order (for inspection). */
  slotList(): MmSlot[] {
    const out: MmSlot[] = [];
    for (let s = this.mmHead.next; s !== this.mmHead; s = s.next) out.push(s);
    return out;
  }

  /** hlist_del + list_del + free_mm_slot + clear_bit(MMF_VM_MERGEABLE) + mmdrop. */
  private dropSlot(slot: MmSlot): void {
    this.slots.delete(slot.mm!.id);
    slot.prev.next = slot.next;
    slot.next.prev = slot.prev;
    this.items.release(slot.rmapList);
    slot.mm!.flags &= ~MMF_VM_MERGEABLE;
    this.memory.mmdrop(slot.mm!);
  }

  /** Typed-array bytes held for rmap_items and the checksum cache. */
  memoryBytes(): number {
    return this.items.memoryBytes() + this.checksums.memoryBytes();
  }
}
