/**
 * What the 3.9 (seed 004) and 6.18 mergers share to the letter: the parts of
 * mm/ksm.c that did not change between those kernels. Read mainline-39.ts
 * or mainline-618.ts first; each keeps every function in which its kernel
 * differs, and this base holds the rest, named as in the C.
 *
 * The data structures, as mm/ksm.c has them from 3.9 on:
 *
 * - The stable tree holds the KSM pages, sorted by content: its nodes are
 *   stable_node objects (stable-nodes.ts), one per KSM page (kpfn), each
 *   with an hlist of the rmap_items mapping that page (STABLE_FLAG; the
 *   item's `head` names the node). The node holds no reference on its page:
 *   get_ksm_page / ksm_get_folio checks that the page still points back.
 * - The unstable tree holds pages unchanged since the scanner's previous
 *   visit (the checksum gate): its nodes are rmap_items (UNSTABLE_FLAG and
 *   the low byte of the scan's seqnr). It is flushed (roots reset) at the
 *   start of every full scan.
 * - With merge_across_nodes = 0 there is one stable and one unstable root
 *   per NUMA node (root_stable_tree[], root_unstable_tree[]); stable nodes
 *   met on the wrong node wait on migrate_nodes.
 * - The scanner walks the mm_slot list (mm-slots.ts) with one cursor
 *   (struct ksm_scan); each mm keeps its rmap_items sorted by address.
 */
import type { Merger, MergerName, PassCounters } from './merger.js';
import { PAGE_SIZE, VM_MERGEABLE } from '../constants.js';
import { KSMD_SCAN_COST_NS } from '../clock.js';
import { ERRNO } from '../errno.js';
import { type ChecksumName, pageChecksum } from '../hash/page-checksum.js';
import { ChecksumCache } from '../memory/checksum-cache.js';
import { FRAME_KSM } from '../memory/frames.js';
import type { Memory } from '../memory/memory.js';
import { MMF_VM_MERGEABLE, type Mm, type Vma } from '../memory/mm.js';
import { type RbLink, type RbRoot, rbInsertColor, rbLinkNode } from '../rbtree.js';
import { mainlineCounters, memcmpPages, pageAnon, pageKsm, pagesVolatile } from './mainline-common.js';
import { type MmSlot, MmSlots } from './mm-slots.js';
import { RmapItems3x } from './rmap-items-3x.js';
import { StableNodes } from './stable-nodes.js';
import { type MergeStats, type MergeWork, mergeWork, newMergeStats } from './stats.js';

export const SEQNR_MASK = 0x0ff; /* low bits of unstable tree seqnr */
export const UNSTABLE_FLAG = 0x100; /* is a node of the unstable tree */
export const STABLE_FLAG = 0x200; /* is listed from the stable tree */

export const KSM_RUN_STOP = 0;
export const KSM_RUN_MERGE = 1;
export const KSM_RUN_UNMERGE = 2;
export const KSM_RUN_OFFLINE = 4;

export const MADV_MERGEABLE = 12;
export const MADV_UNMERGEABLE = 13;

/** The tunables of /sys/kernel/mm/ksm both kernels read, set by the front end. */
export interface Tunables3x {
  pagesToScan: number;
  sleepMillisecs: number;
  run: number;
  mergeAcrossNodes: number;
}

export abstract class Mainline3x implements Merger {
  abstract readonly algorithm: MergerName;
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
  /** ksm_nr_node_ids: tree roots in use (1 while merging across nodes). */
  ksmNrNodeIds = 1;
  /** root_stable_tree[], root_unstable_tree[] (one each until merge_across_nodes is first cleared). */
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

  /** The work record: the counters above and the copy-on-write breaks of the memory. */
  work(): MergeWork {
    return mergeWork(this.stats, this.memory.cowBreaks);
  }

  /** The modelled CPU cost of one scanned page, in ns; the virtual clock runs meanwhile. */
  scanCostNs = KSMD_SCAN_COST_NS;

  protected checksums: ChecksumCache;
  /* Second results of the C functions that return through pointers. */
  protected treePage = 0;
  protected scanPage = 0;

  constructor(readonly memory: Memory, tunables: Tunables3x, numaNodes: number, checksum: ChecksumName) {
    this.pagesToScan = tunables.pagesToScan;
    this.sleepMillisecs = tunables.sleepMillisecs;
    this.run = tunables.run;
    this.mergeAcrossNodes = tunables.mergeAcrossNodes;
    this.nrNodeIds = numaNodes;
    this.migrateNodes = this.nodes.newList();
    this.slots = new MmSlots(this.items, memory);
    this.scan = { mmSlot: this.slots.head, address: 0, rmapItem: this.slots.head.rmapList, seqnr: 0 };
    this.checksums = new ChecksumCache(memory.contents, pageChecksum(checksum));
  }

  /** Page checksums with `name` instead of the kernel's own: an experiment, not kernel behaviour. Call before the first scan. */
  useChecksum(name: ChecksumName): void {
    this.checksums.use(pageChecksum(name));
  }

  /** pages_volatile_show: clamped at 0. */
  get pagesVolatile(): number {
    return pagesVolatile(this);
  }

  // ------------------------------------------------------------ what each kernel does its own way

  /** remove_rmap_item_from_tree */
  abstract removeRmapItemFromTree(item: number): void;
  /** free_rmap_item (6.18 also counts per mm) */
  protected abstract freeRmapItem(item: number): void;
  /** break_ksm */
  protected abstract breakKsm(vma: Vma, addr: number): unknown;
  /** try_to_merge_with_ksm_page */
  protected abstract tryToMergeWithKsmPage(item: number, page: number, kpage: number): number;
  /** remove_all_stable_nodes (6.18 also takes chains apart): 0 or -EBUSY. */
  abstract removeAllStableNodes(): number;
  /** ksm_do_scan: one batch of up to scanNpages pages. */
  abstract ksmDoScan(scanNpages: number): void;

  // ------------------------------------------------------------ helpers

  protected mmOf(item: number): Mm {
    return this.memory.mmById[this.items.mmId(item)];
  }

  /** page_stable_node / folio_stable_node: the node a KSM page points back to, or 0. */
  protected pageStableNode(f: number): number {
    return pageKsm(this.memory.frames, f) ? this.memory.frames.owner[f] : 0;
  }

  /** set_page_stable_node / folio_set_stable_node: the page becomes a KSM page pointing back to `node` (0: NULL). */
  protected setPageStableNode(f: number, node: number): void {
    this.memory.frames.flags[f] |= FRAME_KSM;
    this.memory.frames.owner[f] = node;
  }

  protected putPage(f: number): void {
    this.memory.frames.put(f);
  }

  /** get_kpfn_nid: the index of the tree roots for a frame. */
  protected getKpfnNid(kpfn: number): number {
    return this.mergeAcrossNodes ? 0 : this.memory.frames.nodeOf(kpfn);
  }

  /** The rb link `side` of `parent` (or the root): *new. */
  protected link(root: RbRoot, store: { left: Int32Array; right: Int32Array }, parent: number, side: RbLink): number {
    return side === 'root' ? root.node : side === 'left' ? store.left[parent] : store.right[parent];
  }

  protected allocRmapItem(): number {
    const id = this.items.alloc();
    this.rmapItems++;
    this.stats.itemAllocs++;
    return id;
  }

  /** ksm_test_exit */
  protected ksmTestExit(mm: Mm): boolean {
    return mm.exiting;
  }

  // ------------------------------------------------------------ stable node hlists

  /** hlist_del(&rmap_item->hlist) from node's hlist. */
  protected hlistDel(item: number, node: number): void {
    const it = this.items;
    const p = it.hprev[item];
    const n = it.hnext[item];
    if (p) it.hnext[p] = n;
    else this.nodes.hlist[node] = n;
    if (n) it.hprev[n] = p;
  }

  /** hlist_add_head(&rmap_item->hlist, &stable_node->hlist) */
  protected hlistAddHead(item: number, node: number): void {
    const it = this.items;
    const first = this.nodes.hlist[node];
    it.hnext[item] = first;
    it.hprev[item] = 0;
    if (first) it.hprev[first] = item;
    this.nodes.hlist[node] = item;
  }

  /** remove_trailing_rmap_items: free every item after list position `prev`. */
  protected removeTrailingRmapItems(slot: MmSlot, prev: number): void {
    const it = this.items;
    for (let cur = it.lnext[prev]; cur !== slot.rmapList; cur = it.lnext[prev]) {
      it.unlinkAfter(prev);
      this.removeRmapItemFromTree(cur);
      this.freeRmapItem(cur);
    }
  }

  // ------------------------------------------------------------ page table side

  /** find_mergeable_vma */
  protected findMergeableVma(mm: Mm, addr: number): Vma | null {
    if (this.ksmTestExit(mm)) return null;
    const vma = mm.vmaAt(addr);
    if (vma === null || !(vma.flags & VM_MERGEABLE) || !vma.anonVma) return null;
    return vma;
  }

  /** break_cow */
  protected breakCow(item: number): void {
    const addr = this.items.addr(item);
    const vma = this.findMergeableVma(this.mmOf(item), addr);
    if (vma) this.breakKsm(vma, addr);
  }

  /** get_mergeable_page, without its reference (the caller takes one on the page it keeps). */
  protected lookupMergeablePage(item: number): number {
    const addr = this.items.addr(item);
    const vma = this.findMergeableVma(this.mmOf(item), addr);
    if (vma === null) return 0;
    const f = vma.frames[vma.index(addr)];
    return f !== 0 && pageAnon(this.memory.frames, f) ? f : 0;
  }

  /** unmerge_ksm_pages: 0 (no signal is ever pending, no fault runs out of memory). */
  unmergeKsmPages(vma: Vma, start: number, end: number): number {
    for (let addr = start; addr < end; addr += PAGE_SIZE) {
      if (this.ksmTestExit(vma.mm)) break;
      this.breakKsm(vma, addr);
    }
    return 0;
  }

  // ------------------------------------------------------------ merge_across_nodes

  /** merge_across_nodes_store, under ksm_thread_mutex: 0 or -errno (-EBUSY while there are KSM pages). */
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

  /**
   * try_to_merge_two_pages: page becomes the KSM page and is mapped at the
   * tree item's address too; returns page, or 0 (the first merge undone).
   */
  protected tryToMergeTwoPages(item: number, page: number, treeItem: number, treePage: number): number {
    let err = this.tryToMergeWithKsmPage(item, page, 0);
    if (!err) {
      err = this.tryToMergeWithKsmPage(treeItem, treePage, page);
      // If that fails, we have a ksm page with only one pte pointing to it: so break it.
      if (err) this.breakCow(item);
    }
    return err ? 0 : page;
  }

  /**
   * unstable_tree_search_insert: the unstable item whose page equals page
   * (its page, referenced, in this.treePage), or 0 after inserting item.
   */
  protected unstableTreeSearchInsert(item: number, page: number): number {
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
      this.stats.unstableLevels++;
      const ret = memcmpPages(this.memory, this.stats, page, treePage);
      parent = cur;
      if (ret < 0) side = 'left';
      else if (ret > 0) side = 'right';
      else if (!this.mergeAcrossNodes && this.memory.frames.nodeOf(treePage) !== nid) {
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
   * rmap_item->head as cmp_and_merge_page compares it. Deliberate deviation:
   * after remove_node_from_stable_tree the C leaves a stale pointer there
   * (only the flags are cleared) and compares it; here it reads as NULL once
   * STABLE_FLAG is gone, as a freed node's memory cannot come back as a node
   * of the page at this address without this item.
   */
  protected itemHead(item: number): number {
    return this.items.flagsOf(item) & STABLE_FLAG ? this.items.head[item] : 0;
  }

  // ------------------------------------------------------------ ksmd and registration

  /** ksmd_should_run */
  ksmdShouldRun(): boolean {
    return (this.run & KSM_RUN_MERGE) !== 0 && !this.slots.empty;
  }

  /** One iteration of ksm_scan_thread's loop body (under ksm_thread_mutex; it waits while offlining). */
  ksmdBatch(): void {
    if (this.run & KSM_RUN_OFFLINE) return;
    if (this.ksmdShouldRun()) this.ksmDoScan(this.pagesToScan);
  }

  /**
   * __ksm_enter: when KSM_RUN_MERGE (or KSM_RUN_STOP), insert just behind the
   * scanning cursor, to let the area settle down a little; when
   * KSM_RUN_UNMERGE, at the end of the list.
   */
  ksmEnter(mm: Mm): number {
    const at = this.run & KSM_RUN_UNMERGE ? this.slots.head : this.scan.mmSlot;
    this.slots.insertBefore(mm, at);
    mm.flags |= MMF_VM_MERGEABLE;
    return 0;
  }

  /** The registered slots in list order (for inspection). */
  slotList(): MmSlot[] {
    return this.slots.list();
  }

  passes(): number {
    return this.scan.seqnr;
  }

  passCounters(): PassCounters {
    return mainlineCounters(this);
  }

  /** Typed-array bytes held for rmap_items, stable nodes and the checksum cache. */
  memoryBytes(): number {
    return this.items.memoryBytes() + this.nodes.memoryBytes() + this.checksums.memoryBytes();
  }
}
