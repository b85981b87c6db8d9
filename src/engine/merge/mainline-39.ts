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
import { type ChecksumName, pageChecksum } from '../hash/page-checksum.js';
import { ChecksumCache } from '../memory/checksum-cache.js';
import { FRAME_ANON, FRAME_KSM } from '../memory/frames.js';
import type { Memory } from '../memory/memory.js';
import { MMF_VM_MERGEABLE, type Mm, type Vma } from '../memory/mm.js';
import { type RbLink, type RbRoot, rbErase, rbInsertColor, rbLinkNode, rbReplaceNode } from '../rbtree.js';
import { type MmSlot, MmSlots } from './mm-slots.js';
import { RmapItems3x } from './rmap-items-3x.js';
import { IN_TREE, MIGRATE, StableNodes } from './stable-nodes.js';
import { type MergeStats, newMergeStats } from './stats.js';

export const SEQNR_MASK = 0x0ff; /* low bits of unstable tree seqnr */
export const UNSTABLE_FLAG = 0x100; /* is a node of the unstable tree */
export const STABLE_FLAG = 0x200; /* is listed from the stable tree */

export const KSM_RUN_STOP = 0;
export const KSM_RUN_MERGE = 1;
export const KSM_RUN_UNMERGE = 2;
export const KSM_RUN_OFFLINE = 4;

export const MADV_MERGEABLE = 12;
export const MADV_UNMERGEABLE = 13;

/** VMAs whose MADV_MERGEABLE advice ksm_madvise silently ignores (3.9; VM_SAO exists on powerpc only). */
const MERGEABLE_IGNORED = VM_MERGEABLE | VM_SHARED | VM_MAYSHARE | VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_HUGETLB | VM_NONLINEAR | VM_MIXEDMAP;

/** The tunables of /sys/kernel/mm/ksm that the merger reads, set by the front end. */
export interface Tunables39 {
  pagesToScan: number;
  sleepMillisecs: number;
  run: number;
  mergeAcrossNodes: number;
}

export interface Counters39 {
  pagesShared: number;
  pagesSharing: number;
  pagesUnshared: number;
  pagesVolatile: number;
  fullScans: number;
  rmapItems: number;
}

export class Mainline39 {
  /* Tunables. */
  /** ksm_thread_pages_to_scan */
  pagesToScan: number;
  /** ksm_thread_sleep_millisecs */
  sleepMillisecs: number;
  /** ksm_run (unsigned long; KSM_RUN_OFFLINE is or'ed in while memory goes offline) */
  run: number;
  /** ksm_merge_across_nodes */
  mergeAcrossNodes: number;

  /* Counters. */
  /** The number of nodes in the stable tree */
  pagesShared = 0;
  /** The number of page slots additionally sharing those nodes */
  pagesSharing = 0;
  /** The number of nodes in the unstable tree */
  pagesUnshared = 0;
  /** The number of rmap_items in use: to calculate pages_volatile */
  rmapItems = 0;

  /** nr_node_ids: the NUMA nodes of the simulated machine. */
  readonly nrNodeIds: number;
  /** ksm_nr_node_ids: tree roots in use. */
  ksmNrNodeIds = 1;
  /** root_stable_tree[], root_unstable_tree[] */
  rootStableTree: RbRoot[] = [{ node: 0 }];
  rootUnstableTree: RbRoot[] = [{ node: 0 }];

  readonly items = new RmapItems3x();
  readonly nodes = new StableNodes();
  /** migrate_nodes: recently migrated nodes of stable tree, pending proper placement. */
  readonly migrateNodes: number;
  readonly slots: MmSlots;
  /** struct ksm_scan - cursor for scanning */
  readonly scan: { mmSlot: MmSlot; address: number; rmapItem: number; seqnr: number };
  readonly stats: MergeStats = newMergeStats();

  /** The modelled CPU cost of one scanned page, in ns; the virtual clock (if given) runs meanwhile. */
  scanCostNs = 2000;

  private checksums: ChecksumCache;
  private treePage = 0;
  private scanPage = 0;

  constructor(readonly memory: Memory, tunables: Tunables39, numaNodes = 1, readonly clock: VirtualClock | null = null) {
    this.pagesToScan = tunables.pagesToScan;
    this.sleepMillisecs = tunables.sleepMillisecs;
    this.run = tunables.run;
    this.mergeAcrossNodes = tunables.mergeAcrossNodes;
    this.nrNodeIds = numaNodes;
    this.migrateNodes = this.nodes.newList();
    this.slots = new MmSlots(this.items);
    this.scan = { mmSlot: this.slots.head, address: 0, rmapItem: this.slots.head.rmapList, seqnr: 0 };
    this.checksums = new ChecksumCache(memory.contents, pageChecksum('lookup3'));
    memory.hooks = {
      // ksm_fork (include/linux/ksm.h of 3.9): the child of a registered mm is registered.
      fork: (parent, child) => (parent.flags & MMF_VM_MERGEABLE ? this.ksmEnter(child) : 0),
      exit: (mm) => {
        if (mm.flags & MMF_VM_MERGEABLE) this.ksmExit(mm);
      },
    };
  }

  /** Page checksums with `name` instead of 3.9's jhash2 (lookup3): an experiment, not kernel behaviour. */
  useChecksum(name: ChecksumName): void {
    this.checksums = new ChecksumCache(this.memory.contents, pageChecksum(name));
  }

  /** pages_volatile_show: clamped at 0. */
  get pagesVolatile(): number {
    return Math.max(0, this.rmapItems - this.pagesShared - this.pagesSharing - this.pagesUnshared);
  }

  counters(): Counters39 {
    return {
      pagesShared: this.pagesShared,
      pagesSharing: this.pagesSharing,
      pagesUnshared: this.pagesUnshared,
      pagesVolatile: this.pagesVolatile,
      fullScans: this.scan.seqnr,
      rmapItems: this.rmapItems,
    };
  }

  // ------------------------------------------------------------ helpers

  private mmOf(item: number): Mm {
    return this.memory.mmById[this.items.mmId(item)];
  }

  /** PageAnon: KSM pages are anonymous too (PAGE_MAPPING_ANON|PAGE_MAPPING_KSM). */
  private pageAnon(f: number): boolean {
    return (this.memory.frames.flags[f] & (FRAME_ANON | FRAME_KSM)) !== 0;
  }

  private pageKsm(f: number): boolean {
    return (this.memory.frames.flags[f] & FRAME_KSM) !== 0;
  }

  /** page_stable_node */
  private pageStableNode(f: number): number {
    return this.pageKsm(f) ? this.memory.frames.owner[f] : 0;
  }

  /** set_page_stable_node: the page becomes a KSM page pointing back to `node` (0: NULL). */
  private setPageStableNode(f: number, node: number): void {
    this.memory.frames.flags[f] |= FRAME_KSM;
    this.memory.frames.owner[f] = node;
  }

  private putPage(f: number): void {
    this.memory.frames.put(f);
  }

  /** get_kpfn_nid */
  private getKpfnNid(kpfn: number): number {
    return this.mergeAcrossNodes ? 0 : this.memory.frames.node[kpfn];
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

  private link(root: RbRoot, store: { left: Int32Array; right: Int32Array }, parent: number, side: RbLink): number {
    return side === 'root' ? root.node : side === 'left' ? store.left[parent] : store.right[parent];
  }

  private allocRmapItem(): number {
    const id = this.items.alloc();
    this.rmapItems++;
    return id;
  }

  private freeRmapItem(item: number): void {
    this.rmapItems--;
    this.items.release(item);
  }

  /** ksm_test_exit */
  private ksmTestExit(mm: Mm): boolean {
    return mm.exiting;
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

  /** hlist_del(&rmap_item->hlist) */
  private hlistDel(item: number, node: number): void {
    const it = this.items;
    const p = it.hprev[item];
    const n = it.hnext[item];
    if (p) it.hnext[p] = n;
    else this.nodes.hlist[node] = n;
    if (n) it.hprev[n] = p;
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

  /** remove_trailing_rmap_items */
  private removeTrailingRmapItems(slot: MmSlot, prev: number): void {
    const it = this.items;
    for (let cur = it.lnext[prev]; cur !== slot.rmapList; cur = it.lnext[prev]) {
      it.unlinkAfter(prev);
      this.removeRmapItemFromTree(cur);
      this.freeRmapItem(cur);
    }
  }

  // ------------------------------------------------------------ page table side

  /** break_ksm: a write fault on the KSM page at addr gives addr a private copy. */
  private breakKsm(vma: Vma, addr: number): void {
    this.memory.breakKsm(vma, addr);
  }

  /** find_mergeable_vma */
  private findMergeableVma(mm: Mm, addr: number): Vma | null {
    if (this.ksmTestExit(mm)) return null;
    const vma = mm.vmaAt(addr);
    if (vma === null || !(vma.flags & VM_MERGEABLE) || !vma.anonVma) return null;
    return vma;
  }

  /** break_cow */
  private breakCow(item: number): void {
    const addr = this.items.addr(item);
    const vma = this.findMergeableVma(this.mmOf(item), addr);
    if (vma) this.breakKsm(vma, addr);
  }

  /** get_mergeable_page, without its reference (the caller takes one on the page it keeps). */
  private lookupMergeablePage(item: number): number {
    const addr = this.items.addr(item);
    const vma = this.findMergeableVma(this.mmOf(item), addr);
    if (vma === null) return 0;
    const f = vma.frames[vma.index(addr)];
    return f !== 0 && this.pageAnon(f) ? f : 0;
  }

  /** unmerge_ksm_pages: 0 (no signal is ever pending, no fault runs out of memory). */
  unmergeKsmPages(vma: Vma, start: number, end: number): number {
    for (let addr = start; addr < end; addr += PAGE_SIZE) {
      if (this.ksmTestExit(vma.mm)) break;
      this.breakKsm(vma, addr);
    }
    return 0;
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

  /** merge_across_nodes_store, under ksm_thread_mutex: 0 or -errno. */
  setMergeAcrossNodes(knob: number): number {
    if (this.mergeAcrossNodes === knob) return 0;
    if (this.pagesShared || this.removeAllStableNodes()) return -ERRNO.EBUSY;
    if (this.rootStableTree.length === 1 && this.nrNodeIds > 1) {
      // This is the first time that we switch away from the default of
      // merging across nodes: allocate as many roots as may be needed.
      // Stable tree is empty but not the unstable.
      const unstable0 = this.rootUnstableTree[0];
      this.rootStableTree = Array.from({ length: this.nrNodeIds }, () => ({ node: 0 }));
      this.rootUnstableTree = Array.from({ length: this.nrNodeIds }, (_, i) => (i === 0 ? unstable0 : { node: 0 }));
    }
    this.mergeAcrossNodes = knob;
    this.ksmNrNodeIds = knob ? 1 : this.nrNodeIds;
    return 0;
  }

  // ------------------------------------------------------------ merging

  /** calc_checksum: jhash2(page, PAGE_SIZE / 4, 17) of the lookup3 generation. */
  private calcChecksum(f: number): number {
    this.stats.checksums++;
    this.stats.bytesHashed += PAGE_SIZE;
    return this.checksums.of(this.memory.frames.content[f]);
  }

  /**
   * try_to_merge_one_page: map kpage in place of page at addr, or, with
   * kpage 0, turn page itself into a KSM page with no stable node yet.
   */
  private tryToMergeOnePage(vma: Vma, addr: number, page: number, kpage: number): number {
    if (page === kpage) return 0; /* ksm page forked */
    if (!(vma.flags & VM_MERGEABLE)) return -ERRNO.EFAULT;
    if (!this.pageAnon(page)) return -ERRNO.EFAULT;
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
  private tryToMergeWithKsmPage(item: number, page: number, kpage: number): number {
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

  /** try_to_merge_two_pages: page becomes the KSM page; returns it, or 0. */
  private tryToMergeTwoPages(item: number, page: number, treeItem: number, treePage: number): number {
    let err = this.tryToMergeWithKsmPage(item, page, 0);
    if (!err) {
      err = this.tryToMergeWithKsmPage(treeItem, treePage, page);
      // If that fails, we have a ksm page with only one pte pointing to it: so break it.
      if (err) this.breakCow(item);
    }
    return err ? 0 : page;
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
        const ret = this.memcmpPages(page, treePage);
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
      const ret = this.memcmpPages(kpage, treePage);
      this.putPage(treePage);
      parent = stableNode;
      if (ret < 0) side = 'left';
      else if (ret > 0) side = 'right';
      else return 0; // [3.9]
    }
    const node = n.alloc();
    n.hlist[node] = 0;
    n.kpfn[node] = kpfn;
    this.setPageStableNode(kpage, node);
    n.nid[node] = nid;
    rbLinkNode(n, node, parent, side, root);
    rbInsertColor(n, node, root);
    return node;
  }

  /**
   * unstable_tree_search_insert: the unstable item whose page equals page
   * (its page, referenced, in this.treePage), or 0 after inserting item.
   */
  private unstableTreeSearchInsert(item: number, page: number): number {
    const it = this.items;
    const nid = this.getKpfnNid(page);
    const root = this.rootUnstableTree[nid];
    let parent = 0;
    let side: RbLink = 'root';
    for (;;) {
      const cur = this.link(root, it, parent, side);
      if (!cur) break;
      const treePage = this.lookupMergeablePage(cur);
      if (!treePage) return 0;
      // Don't substitute a ksm page for a forked page.
      if (page === treePage) return 0;
      const ret = this.memcmpPages(page, treePage);
      parent = cur;
      if (ret < 0) side = 'left';
      else if (ret > 0) side = 'right';
      else if (!this.mergeAcrossNodes && this.memory.frames.node[treePage] !== nid) {
        // If tree_page has been migrated to another NUMA node, it will be
        // flushed out and put in the right unstable tree next time: only
        // merge with it when across_nodes.
        return 0;
      } else {
        this.memory.frames.get(treePage);
        this.treePage = treePage;
        return cur;
      }
    }
    it.orFlags(item, UNSTABLE_FLAG | (this.scan.seqnr & SEQNR_MASK));
    it.nid[item] = nid;
    rbLinkNode(it, item, parent, side, root);
    rbInsertColor(it, item, root);
    this.pagesUnshared++;
    return 0;
  }

  /**
   * stable_tree_append: item joins the node's hlist, at its head; the first
   * item makes the node count in pages_shared [3.9: the else is a missing line].
   */
  private stableTreeAppend(item: number, node: number): void {
    const it = this.items;
    it.head[item] = node;
    it.orFlags(item, STABLE_FLAG);
    const first = this.nodes.hlist[node];
    it.hnext[item] = first;
    it.hprev[item] = 0;
    if (first) it.hprev[first] = item;
    this.nodes.hlist[node] = item;
    if (it.hnext[item]) this.pagesSharing++;
    else this.pagesShared++;
  }

  /**
   * rmap_item->head as cmp_and_merge_page compares it. Deliberate deviation:
   * the C compares a stale pointer left by remove_node_from_stable_tree;
   * here it reads as NULL once STABLE_FLAG is gone.
   */
  private itemHead(item: number): number {
    return this.items.flagsOf(item) & STABLE_FLAG ? this.items.head[item] : 0;
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
    const checksum = this.calcChecksum(page);
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
          if (f === 0 || !this.pageAnon(f)) continue;
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

  /** ksmd_should_run */
  ksmdShouldRun(): boolean {
    return (this.run & KSM_RUN_MERGE) !== 0 && !this.slots.empty;
  }

  /** One iteration of ksm_scan_thread's loop body (under ksm_thread_mutex; it waits while offlining). */
  ksmdBatch(): void {
    if (this.run & KSM_RUN_OFFLINE) return;
    if (this.ksmdShouldRun()) this.ksmDoScan(this.pagesToScan);
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

  /**
   * __ksm_enter: when KSM_RUN_MERGE (or KSM_RUN_STOP), insert just behind the
   * scanning cursor; when KSM_RUN_UNMERGE, at the end of the list.
   */
  ksmEnter(mm: Mm): number {
    const at = this.run & KSM_RUN_UNMERGE ? this.slots.head : this.scan.mmSlot;
    this.slots.insertBefore(mm, at);
    mm.flags |= MMF_VM_MERGEABLE;
    return 0;
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

  slotList(): MmSlot[] {
    return this.slots.list();
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

  memoryBytes(): number {
    return this.items.memoryBytes() + this.nodes.memoryBytes() + this.checksums.memoryBytes();
  }
}
