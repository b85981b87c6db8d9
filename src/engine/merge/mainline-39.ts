/**
 * The mainline KSM merger of Linux 3.9 (seed 004, mm/ksm.c), function for
 * function, with names that can be diffed against the C in camelCase.
 *
 * Read mainline-2632.ts first; 3.9 keeps its two trees, its checksum gate
 * (jhash2 of the lookup3 generation since 2.6.37) and its scan, and changes:
 *
 * - A stable node is its own object (struct stable_node, stable-nodes.ts):
 *   the frame of its KSM page (kpfn), its NUMA node, and an hlist of every
 *   rmap_item mapping that page. It holds no reference on the page;
 *   get_ksm_page() checks through the "keyhole" that the page still points
 *   back to the node, and removes the node as soon as it finds it stale.
 * - Merging happens in place: try_to_merge_two_pages turns the scanned page
 *   itself into the KSM page, then maps the unstable partner onto it.
 * - ksmd no longer unshares a KSM page mapped only once: it stays a KSM page
 *   while its rmap_item stays.
 * - merge_across_nodes = 0 gives every NUMA node its own stable and unstable
 *   tree; a page goes to the trees of the node its frame is on, and an
 *   unstable match on another node is not merged. The knob can change only
 *   while no KSM page exists (pages_shared 0: write 2 to run first).
 * - A stable node whose page is found on the wrong NUMA node (after page
 *   migration) moves to the migrate_nodes list until its page is met again.
 * - The stable-tree search still comes before the checksum gate: a page
 *   identical to an existing KSM page merges on its first visit.
 * - A search that meets a stale stable node gives up (returns NULL) rather
 *   than restarting, as later kernels do; the tree shape decides which
 *   stale nodes a search meets.
 *
 * Seed 004 lacks about half of its lines (shared/spec/README.md). Where a
 * missing line decides behaviour, the 3.9 source was followed, and the
 * comment says so with "[3.9]". Page references are taken where the C takes
 * them, except that tree walks take one only for the page they keep.
 */
import { PAGE_SIZE, VM_DONTEXPAND, VM_HUGETLB, VM_IO, VM_MAYSHARE, VM_MERGEABLE, VM_MIXEDMAP, VM_NONLINEAR, VM_PFNMAP, VM_SHARED } from '../constants.js';
import type { VirtualClock } from '../clock.js';
import { ERRNO } from '../errno.js';
import type { Memory } from '../memory/memory.js';
import { MMF_VM_MERGEABLE, type Mm, type Vma } from '../memory/mm.js';
import { type RbLink, type RbRoot, rbErase, rbInsertColor, rbLinkNode, rbReplaceNode } from '../rbtree.js';
import { MADV_MERGEABLE, MADV_UNMERGEABLE, Mainline3x, STABLE_FLAG, type Tunables3x, UNSTABLE_FLAG } from './mainline-3x.js';
import { calcChecksum, type MainlineCounters, mainlineCounters, memcmpPages, pageAnon } from './mainline-common.js';
import type { MmSlot } from './mm-slots.js';
import { IN_TREE, MIGRATE } from './stable-nodes.js';

export { KSM_RUN_MERGE, KSM_RUN_OFFLINE, KSM_RUN_STOP, KSM_RUN_UNMERGE, MADV_MERGEABLE, MADV_UNMERGEABLE, SEQNR_MASK, STABLE_FLAG, UNSTABLE_FLAG } from './mainline-3x.js';

/** VMAs whose MADV_MERGEABLE advice ksm_madvise silently ignores (3.9; VM_SAO exists on powerpc only). */
const MERGEABLE_IGNORED = VM_MERGEABLE | VM_SHARED | VM_MAYSHARE | VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_HUGETLB | VM_NONLINEAR | VM_MIXEDMAP;

/** The tunables of /sys/kernel/mm/ksm that the merger reads, set by the front end. */
export type Tunables39 = Tunables3x;

/** The five counters of /sys/kernel/mm/ksm of 3.9 plus the rmap_item count behind pages_volatile. */
export type Counters39 = MainlineCounters;

/**
 * The tunables, counters, trees, rmap_items, stable nodes, mm_slots and
 * the scan cursor are Mainline3x's (mainline-3x.ts), as are the functions
 * 3.9 shares with 6.18 unchanged (unstable_tree_search_insert,
 * try_to_merge_two_pages, get_mergeable_page, break_cow, __ksm_enter...).
 */
export class Mainline39 extends Mainline3x {
  readonly algorithm = 'mainline-39';
  constructor(memory: Memory, tunables: Tunables39, numaNodes = 1, readonly clock: VirtualClock | null = null) {
    // calc_checksum: jhash2(page, PAGE_SIZE / 4, 17) of the lookup3 generation.
    super(memory, tunables, numaNodes, 'lookup3');
    memory.hooks = {
      // ksm_fork (include/linux/ksm.h of 3.9): the child of a registered mm is registered.
      fork: (parent, child) => (parent.flags & MMF_VM_MERGEABLE ? this.ksmEnter(child) : 0),
      exit: (mm) => {
        if (mm.flags & MMF_VM_MERGEABLE) this.ksmExit(mm);
      },
    };
  }

  counters(): Counters39 {
    return mainlineCounters(this);
  }

  // ------------------------------------------------------------ helpers

  protected freeRmapItem(item: number): void {
    this.rmapItems--;
    this.items.release(item);
  }

  // ------------------------------------------------------------ stable nodes

  /** remove_node_from_stable_tree: every item leaves the node, the node goes. */
  private removeNodeFromStableTree(node: number): void {
    const it = this.items;
    const n = this.nodes;
    for (let item = n.hlist[node]; item; item = it.hnext[item]) {
      if (it.hnext[item]) this.pagesSharing--;
      else this.pagesShared--;
      it.setFlags(item, 0); // rmap_item->address &= PAGE_MASK
    }
    if (n.kind[node] === MIGRATE) n.listDel(node);
    else rbErase(n, node, this.rootStableTree[n.nid[node]]);
    n.release(node);
  }

  /**
   * get_ksm_page: the node's KSM page, referenced, if the page still points
   * back to the node; otherwise the node is stale: removed, and 0 returned.
   */
  private getKsmPage(node: number): number {
    const fr = this.memory.frames;
    const f = this.nodes.kpfn[node];
    if (fr.isUsed(f) && fr.isKsm(f) && fr.owner[f] === node) {
      fr.get(f);
      return f;
    }
    this.removeNodeFromStableTree(node);
    return 0;
  }

  /** remove_rmap_item_from_tree */
  removeRmapItemFromTree(item: number): void {
    const it = this.items;
    const flags = it.flagsOf(item);
    if (flags & STABLE_FLAG) {
      const node = it.head[item];
      const page = this.getKsmPage(node);
      if (!page) return;
      this.hlistDel(item, node);
      this.putPage(page);
      if (this.nodes.hlist[node]) this.pagesSharing--;
      else this.pagesShared--;
      it.setFlags(item, 0);
    } else if (flags & UNSTABLE_FLAG) {
      // Usually ksmd can and must skip the rb_erase, because
      // root_unstable_tree was already reset to RB_ROOT. But be careful
      // when an mm is exiting: do the rb_erase if this rmap_item was
      // inserted by this scan, rather than left over from before.
      const age = (this.scan.seqnr - flags) & 0xff;
      if (age > 1) throw new Error(`BUG: unstable node of age ${age}`);
      if (!age) rbErase(it, item, this.rootUnstableTree[it.nid[item]]);
      this.pagesUnshared--;
      it.setFlags(item, 0);
    }
  }

  // ------------------------------------------------------------ page table side

  /** break_ksm: a write fault on the KSM page at addr gives addr a private copy. */
  protected breakKsm(vma: Vma, addr: number): void {
    this.memory.breakKsm(vma, addr);
  }

  // ------------------------------------------------------------ run = 2 and merge_across_nodes

  /** remove_stable_node: 0, or -EBUSY while the KSM page is still mapped. */
  private removeStableNode(node: number): number {
    const page = this.getKsmPage(node);
    // get_ksm_page did remove_node_from_stable_tree itself.
    if (!page) return 0;
    let err: number;
    if (this.memory.frames.mapcount[page] !== 0) {
      // This should not happen: but if it does, just refuse to let
      // merge_across_nodes be switched - there is no need to panic.
      err = -ERRNO.EBUSY;
    } else {
      this.setPageStableNode(page, 0);
      this.removeNodeFromStableTree(node);
      err = 0;
    }
    this.putPage(page);
    return err;
  }

  /** remove_all_stable_nodes */
  removeAllStableNodes(): number {
    let err = 0;
    for (let nid = 0; nid < this.ksmNrNodeIds; nid++) {
      const root = this.rootStableTree[nid];
      while (root.node) {
        if (this.removeStableNode(root.node)) {
          err = -ERRNO.EBUSY;
          break; /* proceed to next nid */
        }
      }
    }
    const n = this.nodes;
    for (let node = n.lnext[this.migrateNodes]; node !== this.migrateNodes; ) {
      const next = n.lnext[node];
      if (this.removeStableNode(node)) err = -ERRNO.EBUSY;
      node = next;
    }
    return err;
  }

  /** unmerge_and_remove_all_rmap_items: what writing 2 to run does. */
  unmergeAndRemoveAllRmapItems(): number {
    const head = this.slots.head;
    this.scan.mmSlot = head.next;
    for (let slot = this.scan.mmSlot; slot !== head; slot = this.scan.mmSlot) {
      const mm = slot.mm!;
      for (const vma of [...mm.vmas]) {
        if (this.ksmTestExit(mm)) break;
        if (!(vma.flags & VM_MERGEABLE) || !vma.anonVma) continue;
        const err = this.unmergeKsmPages(vma, vma.start, vma.end);
        if (err) {
          this.scan.mmSlot = head;
          return err;
        }
      }
      this.removeTrailingRmapItems(slot, slot.rmapList);
      this.scan.mmSlot = slot.next;
      if (this.ksmTestExit(mm)) this.slots.remove(slot);
    }
    // Clean up stable nodes, but don't worry if some are still busy.
    this.removeAllStableNodes();
    this.scan.seqnr = 0; // [3.9] (a missing line of seed 004)
    return 0;
  }

  // ------------------------------------------------------------ merging

  /**
   * try_to_merge_one_page: map kpage in place of page at addr, or, with
   * kpage 0, turn page itself into a KSM page with no stable node yet.
   */
  private tryToMergeOnePage(vma: Vma, addr: number, page: number, kpage: number): number {
    if (page === kpage) return 0; /* ksm page forked */
    if (!(vma.flags & VM_MERGEABLE)) return -ERRNO.EFAULT;
    if (!pageAnon(this.memory.frames, page)) return -ERRNO.EFAULT;
    this.stats.mergeAttempts++;
    // write_protect_page: the caller holds one reference to page.
    if (!this.memory.writeProtect(vma, addr, page, 1)) return -ERRNO.EFAULT;
    if (!kpage) {
      this.setPageStableNode(page, 0);
      return 0;
    }
    this.stats.comparisons++;
    this.stats.bytesCompared += PAGE_SIZE;
    const fr = this.memory.frames;
    if (fr.content[page] !== fr.content[kpage]) return -ERRNO.EFAULT; // pages_identical
    return this.memory.replacePage(vma, addr, page, kpage) ? 0 : -ERRNO.EFAULT;
  }

  /** try_to_merge_with_ksm_page */
  protected tryToMergeWithKsmPage(item: number, page: number, kpage: number): number {
    const mm = this.mmOf(item);
    const addr = this.items.addr(item);
    if (this.ksmTestExit(mm)) return -ERRNO.EFAULT;
    const vma = mm.vmaAt(addr);
    if (vma === null) return -ERRNO.EFAULT;
    const err = this.tryToMergeOnePage(vma, addr, page, kpage);
    if (err) return err;
    // Unstable nid is in union with stable anon_vma: remove first.
    this.removeRmapItemFromTree(item);
    return 0;
  }

  /**
   * stable_tree_search: the KSM page (referenced) with the same content as
   * page, or 0. A stale node met on the way ends the search with 0 [3.9].
   */
  private stableTreeSearch(page: number): number {
    const n = this.nodes;
    const fr = this.memory.frames;
    const pageNode = this.pageStableNode(page);
    if (pageNode && n.kind[pageNode] !== MIGRATE) {
      /* ksm page forked */
      fr.get(page);
      return page;
    }
    const nid = this.getKpfnNid(page);
    const root = this.rootStableTree[nid];
    again: for (;;) {
      let parent = 0;
      let side: RbLink = 'root';
      for (;;) {
        const stableNode = this.link(root, n, parent, side);
        if (!stableNode) break;
        let treePage = this.getKsmPage(stableNode);
        if (!treePage) return 0; // [3.9]
        this.stats.stableLevels++;
        const ret = memcmpPages(this.memory, this.stats, page, treePage);
        this.putPage(treePage);
        parent = stableNode;
        if (ret < 0) side = 'left';
        else if (ret > 0) side = 'right';
        else {
          // Lock and unlock the stable_node's page (which might already have
          // been migrated) so that page migration is sure to notice its raised count.
          treePage = this.getKsmPage(stableNode);
          if (treePage) {
            if (this.getKpfnNid(n.kpfn[stableNode]) !== n.nid[stableNode]) {
              this.putPage(treePage);
              return this.stableTreeReplace(page, pageNode, stableNode, nid, root);
            }
            return treePage;
          }
          // There is now a place for page_node, but the tree may have been
          // rebalanced, so re-evaluate parent and new.
          if (pageNode) continue again;
          return 0;
        }
      }
      if (!pageNode) return 0;
      n.listDel(pageNode);
      n.kind[pageNode] = IN_TREE;
      n.nid[pageNode] = nid;
      rbLinkNode(n, pageNode, parent, side, root);
      rbInsertColor(n, pageNode, root);
      fr.get(page);
      return page;
    }
  }

  /** The `replace:` tail of stable_tree_search: the node found on the wrong NUMA node goes to migrate_nodes. */
  private stableTreeReplace(page: number, pageNode: number, stableNode: number, nid: number, root: RbRoot): number {
    const n = this.nodes;
    let result = page;
    if (pageNode) {
      n.listDel(pageNode);
      n.nid[pageNode] = nid;
      rbReplaceNode(n, stableNode, pageNode, root);
      n.kind[pageNode] = IN_TREE;
      this.memory.frames.get(page);
    } else {
      rbErase(n, stableNode, root);
      result = 0;
    }
    n.kind[stableNode] = MIGRATE;
    n.listAdd(stableNode, this.migrateNodes);
    return result;
  }

  /**
   * stable_tree_insert: a new stable node for kpage. 0 when a stale node is
   * met [3.9] or the content is already in the tree ("not a bug: our page
   * was not yet write-protected when stable_tree_search looked").
   */
  private stableTreeInsert(kpage: number): number {
    const n = this.nodes;
    const kpfn = kpage;
    const nid = this.getKpfnNid(kpfn);
    const root = this.rootStableTree[nid];
    let parent = 0;
    let side: RbLink = 'root';
    for (;;) {
      const stableNode = this.link(root, n, parent, side);
      if (!stableNode) break;
      const treePage = this.getKsmPage(stableNode);
      if (!treePage) return 0; // [3.9]
      this.stats.stableLevels++;
      const ret = memcmpPages(this.memory, this.stats, kpage, treePage);
      this.putPage(treePage);
      parent = stableNode;
      if (ret < 0) side = 'left';
      else if (ret > 0) side = 'right';
      else return 0; // [3.9]
    }
    const node = n.alloc();
    this.stats.stableNodeAllocs++;
    n.hlist[node] = 0;
    n.kpfn[node] = kpfn;
    this.setPageStableNode(kpage, node);
    n.nid[node] = nid;
    rbLinkNode(n, node, parent, side, root);
    rbInsertColor(n, node, root);
    return node;
  }

  /**
   * stable_tree_append: item joins the node's hlist, at its head; the first
   * item makes the node count in pages_shared [3.9: the else is a missing line].
   */
  private stableTreeAppend(item: number, node: number): void {
    const it = this.items;
    it.head[item] = node;
    it.orFlags(item, STABLE_FLAG);
    this.hlistAddHead(item, node);
    if (it.hnext[item]) this.pagesSharing++;
    else this.pagesShared++;
  }

  /**
   * cmp_and_merge_page: first see if page can be merged into the stable
   * tree; if not, compare checksum to previous and if it's the same, see if
   * page can be inserted into the unstable tree, or merged with a page
   * already there and both transferred to the stable tree.
   */
  private cmpAndMergePage(page: number, item: number): void {
    const it = this.items;
    const n = this.nodes;
    let stableNode = this.pageStableNode(page);
    if (stableNode) {
      if (n.kind[stableNode] !== MIGRATE && this.getKpfnNid(n.kpfn[stableNode]) !== n.nid[stableNode]) {
        rbErase(n, stableNode, this.rootStableTree[n.nid[stableNode]]);
        n.kind[stableNode] = MIGRATE;
        n.listAdd(stableNode, this.migrateNodes);
      }
      if (n.kind[stableNode] !== MIGRATE && this.itemHead(item) === stableNode) return;
    }

    /* We first start with searching the page inside the stable tree */
    let kpage = this.stableTreeSearch(page);
    if (kpage === page && this.itemHead(item) === stableNode) {
      this.putPage(kpage);
      return;
    }

    this.removeRmapItemFromTree(item);

    if (kpage) {
      const err = this.tryToMergeWithKsmPage(item, page, kpage);
      if (!err) {
        // The page was successfully merged: add its rmap_item to the stable tree.
        this.stats.merges++;
        this.stableTreeAppend(item, this.pageStableNode(kpage));
      }
      this.putPage(kpage);
      return;
    }

    // If the hash value of the page has changed from the last time we
    // calculated it, this page is changing frequently: therefore we don't
    // want to insert it in the unstable tree, and we don't want to waste our
    // time searching for something identical to it there.
    const checksum = calcChecksum(this.memory, this.checksums, this.stats, page);
    if (it.word[item] !== checksum) {
      it.word[item] = checksum;
      return;
    }

    const treeItem = this.unstableTreeSearchInsert(item, page);
    if (treeItem) {
      const treePage = this.treePage;
      kpage = this.tryToMergeTwoPages(item, page, treeItem, treePage);
      this.putPage(treePage);
      if (kpage) {
        // The pages were successfully merged: insert new node in the stable
        // tree and add both rmap_items.
        this.stats.merges++;
        stableNode = this.stableTreeInsert(kpage);
        if (stableNode) {
          this.stableTreeAppend(treeItem, stableNode);
          this.stableTreeAppend(item, stableNode);
        } else {
          // If we fail to insert the page into the stable tree, we will have
          // 2 virtual addresses that are pointing to a ksm page left outside
          // the stable tree, in which case we need to break_cow on both.
          this.breakCow(treeItem);
          this.breakCow(item);
        }
      }
    }
  }

  /** get_next_rmap_item: a found item is returned as it is; items passed over are freed. */
  private getNextRmapItem(slot: MmSlot, prev: number, addr: number): number {
    const it = this.items;
    for (let cur = it.lnext[prev]; cur !== slot.rmapList; cur = it.lnext[prev]) {
      const a = it.addr(cur);
      if (a === addr) return cur;
      if (a > addr) break;
      it.unlinkAfter(prev);
      this.removeRmapItemFromTree(cur);
      this.freeRmapItem(cur);
    }
    const item = this.allocRmapItem(); // It has already been zeroed
    it.setMmAddr(item, slot.mm!.id, addr);
    it.linkAfter(prev, item);
    return item;
  }

  /**
   * scan_get_next_rmap_item: advance the cursor to the next anonymous page
   * of a registered VMA; its rmap_item (the page, referenced, in
   * this.scanPage), or 0 when a full scan has just completed.
   */
  private scanGetNextRmapItem(): number {
    const scan = this.scan;
    const head = this.slots.head;
    if (this.slots.empty) return 0;

    let slot = scan.mmSlot;
    if (slot === head) {
      // lru_add_drain_all(): no per-cpu pagevecs in this model.
      // Whereas stale stable_nodes on the stable_tree itself get pruned in
      // the regular course of stable_tree_search(), those moved out to the
      // migrate_nodes list can accumulate: so prune them once before each full scan.
      if (!this.mergeAcrossNodes) {
        const n = this.nodes;
        for (let node = n.lnext[this.migrateNodes]; node !== this.migrateNodes; ) {
          const next = n.lnext[node];
          const page = this.getKsmPage(node);
          if (page) this.putPage(page);
          node = next;
        }
      }
      for (let nid = 0; nid < this.ksmNrNodeIds; nid++) this.rootUnstableTree[nid].node = 0;
      slot = head.next;
      scan.mmSlot = slot;
      // Although we tested list_empty() above, a racing __ksm_exit of the
      // last mm on the list may have removed it since then.
      if (slot === head) return 0;
      scan.address = 0;
      scan.rmapItem = slot.rmapList;
    }
    for (;;) {
      const mm = slot.mm!;
      const vmas = mm.vmas;
      for (let vi = this.ksmTestExit(mm) ? vmas.length : mm.findVmaIndex(scan.address); vi < vmas.length; vi++) {
        const vma = vmas[vi];
        if (!(vma.flags & VM_MERGEABLE)) continue;
        if (scan.address < vma.start) scan.address = vma.start;
        if (!vma.anonVma) scan.address = vma.end;
        const frames = vma.frames;
        for (let i = vma.index(scan.address), nf = frames.length; i < nf; i++) {
          const f = frames[i];
          if (f === 0 || !pageAnon(this.memory.frames, f)) continue;
          scan.address = vma.start + i * PAGE_SIZE;
          this.memory.frames.get(f);
          const item = this.getNextRmapItem(slot, scan.rmapItem, scan.address);
          scan.rmapItem = item;
          scan.address += PAGE_SIZE;
          this.scanPage = f;
          return item;
        }
        scan.address = vma.end;
      }

      if (this.ksmTestExit(mm)) {
        scan.address = 0;
        scan.rmapItem = slot.rmapList;
      }
      // Nuke all the rmap_items that are above this current rmap: because
      // there were no VM_MERGEABLE vmas with such addresses.
      this.removeTrailingRmapItems(slot, scan.rmapItem);

      scan.mmSlot = slot.next;
      // We've completed a full scan of all vmas, holding mmap_sem
      // throughout, and found no VM_MERGEABLE: so do the same as __ksm_exit
      // does to remove this mm from all our lists now.
      if (scan.address === 0) this.slots.remove(slot);

      /* Repeat until we've completed scanning the whole list */
      slot = scan.mmSlot;
      if (slot !== head) {
        scan.address = 0;
        scan.rmapItem = slot.rmapList;
        continue;
      }
      scan.seqnr++;
      return 0;
    }
  }

  /**
   * ksm_do_scan: one batch of up to scanNpages pages; it ends early when a
   * full scan completes. Each page costs ksmd scanCostNs of CPU time, during
   * which the virtual clock runs (as in the 6.18 model).
   */
  ksmDoScan(scanNpages: number): void {
    const costUs = this.scanCostNs / 1000;
    while (scanNpages-- > 0) {
      const item = this.scanGetNextRmapItem();
      if (!item) return;
      const page = this.scanPage;
      this.stats.pagesScanned++;
      this.cmpAndMergePage(page, item);
      this.putPage(page);
      if (this.clock !== null) this.clock.now += costUs;
    }
  }

  /** The sleep after a batch, in µs: schedule_timeout_interruptible(msecs_to_jiffies(sleep_millisecs)) at HZ = 250. */
  sleepMicros(): number {
    return Math.ceil((this.sleepMillisecs * 250) / 1000) * 4000;
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
      case MADV_UNMERGEABLE:
        if (!(flags & VM_MERGEABLE)) return { err: 0, flags }; /* just ignore the advice */
        if (vma.anonVma) {
          const err = this.unmergeKsmPages(vma, start, end);
          if (err) return { err, flags };
        }
        flags = (flags & ~VM_MERGEABLE) >>> 0;
        break;
    }
    return { err: 0, flags };
  }

  /** __ksm_exit */
  ksmExit(mm: Mm): void {
    const slot = this.slots.lookup(mm);
    if (slot === undefined || this.scan.mmSlot === slot) return;
    if (this.items.lnext[slot.rmapList] === slot.rmapList) {
      this.slots.remove(slot);
      return;
    }
    this.slots.moveAfter(slot, this.scan.mmSlot);
  }

  // ------------------------------------------------------------ memory hot-remove

  /** ksm_check_stable_tree: drop the nodes whose kpfn lies in [startPfn, endPfn) (their pages have gone). */
  ksmCheckStableTree(startPfn: number, endPfn: number): void {
    const n = this.nodes;
    for (let nid = 0; nid < this.ksmNrNodeIds; nid++) {
      const root = this.rootStableTree[nid];
      const stack = root.node ? [root.node] : [];
      const inRange: number[] = [];
      while (stack.length) {
        const x = stack.pop()!;
        if (n.kpfn[x] >= startPfn && n.kpfn[x] < endPfn) inRange.push(x);
        if (n.left[x]) stack.push(n.left[x]);
        if (n.right[x]) stack.push(n.right[x]);
      }
      for (const node of inRange) this.removeNodeFromStableTree(node);
    }
    for (let node = n.lnext[this.migrateNodes]; node !== this.migrateNodes; ) {
      const next = n.lnext[node];
      if (n.kpfn[node] >= startPfn && n.kpfn[node] < endPfn) this.removeNodeFromStableTree(node);
      node = next;
    }
  }

}
