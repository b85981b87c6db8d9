/**
 * The mainline KSM merger of Linux 6.18 (mm/ksm.c), function for function,
 * with names that can be diffed against the C in camelCase.
 *
 * Read mainline-2632.ts first: the two trees, the checksum gate and the
 * scan over the mm_slot list are the same. What the years added:
 *
 * - A stable node is its own object (struct ksm_stable_node, stable-nodes.ts)
 *   holding the frame of its KSM page (kpfn) and an hlist of the rmap_items
 *   mapping it. The node holds no reference on the page: ksm_get_folio()
 *   looks through the "keyhole" (does the page still point back at this
 *   node?) and removes a stale node as soon as it meets one.
 * - Merging happens in place: the scanned page itself becomes the KSM page
 *   (try_to_merge_two_pages allocates nothing).
 * - A KSM page is never unshared by ksmd any more: one whose other mappings
 *   went stays a KSM page, counted in pages_shared, while it has an item.
 * - With merge_across_nodes = 0 there is one stable and one unstable tree per
 *   NUMA node, and a page goes to the trees of the node its frame is on.
 * - max_page_sharing caps the items of one KSM page. The node of a content
 *   that needs more becomes a "chain" in the stable tree, listing "dups":
 *   several KSM pages of the same content (stable_node_chains,
 *   stable_node_dups). A lookup picks the dup with the most room, and every
 *   stable_node_chains_prune_millisecs it also walks them all to drop stale
 *   ones and to collapse a chain left with one dup.
 * - use_zero_pages: a page whose checksum is that of an empty page is
 *   mapped to the kernel's zero page instead of being merged with its likes
 *   (ksm_zero_pages counts those mappings).
 * - Since 6.11 the checksum gate comes before the stable-tree search
 *   ("don't waste time searching the stable tree for fast changing pages"):
 *   every page, even one equal to an existing KSM page, is merged on its
 *   second visit at the earliest. KSM pages themselves skip the gate.
 * - smart_scan skips pages that failed to merge several times, for a few
 *   scans each (pages_skipped); pages_scanned counts the rest.
 * - The scan-time advisor tunes pages_to_scan after every full scan so that
 *   one full scan takes advisor_target_scan_time seconds, within the CPU
 *   limits. Time is the virtual clock's, and ksmd's CPU time is modelled as
 *   scanCostNs per page scanned, during which the virtual clock runs.
 * - prctl(PR_SET_MEMORY_MERGE) registers a whole process (MMF_VM_MERGE_ANY),
 *   inherited by fork; per-process counters feed /proc/<pid>/ksm_stat.
 *
 * Deliberate deviations from the C are noted where they are made, naming the
 * kernel function. As in the 2.6.32 port, page references are taken where
 * the C takes them, except that tree walks take one only for the page they
 * keep (nothing can observe the difference).
 */
import { PAGE_SIZE, VM_DONTEXPAND, VM_HUGETLB, VM_IO, VM_MAYSHARE, VM_MERGEABLE, VM_MIXEDMAP, VM_PFNMAP, VM_SHARED } from '../constants.js';
import type { VirtualClock } from '../clock.js';
import { ERRNO } from '../errno.js';
import { growInt32 } from '../memory/content-store.js';
import type { Memory } from '../memory/memory.js';
import { MMF_VM_MERGEABLE, type Mm, type Vma } from '../memory/mm.js';
import { type RbLink, type RbRoot, rbErase, rbInsertColor, rbLinkNode, rbReplaceNode } from '../rbtree.js';
import { MADV_MERGEABLE, MADV_UNMERGEABLE, Mainline3x, STABLE_FLAG, type Tunables3x, UNSTABLE_FLAG } from './mainline-3x.js';
import { calcChecksum, type MainlineCounters, mainlineCounters, memcmpPages, pageAnon, pageKsm } from './mainline-common.js';
import type { ChecksumName } from '../hash/page-checksum.js';
import type { MmSlot } from './mm-slots.js';
import { DUP, IN_TREE, MIGRATE, STABLE_NODE_CHAIN } from './stable-nodes.js';

export { KSM_RUN_MERGE, KSM_RUN_OFFLINE, KSM_RUN_STOP, KSM_RUN_UNMERGE, MADV_MERGEABLE, MADV_UNMERGEABLE, SEQNR_MASK, STABLE_FLAG, UNSTABLE_FLAG } from './mainline-3x.js';

/** include/linux/mm_types.h (6.x): the mm asked for all its VMAs to be mergeable (prctl). */
export const MMF_VM_MERGE_ANY = 1 << 30;

/** The advisors of advisor_mode. */
export const KSM_ADVISOR_NONE = 0;
export const KSM_ADVISOR_SCAN_TIME = 1;
/* Min CPU for scanning pages per scan */
const KSM_ADVISOR_MIN_CPU = 10;
/* Exponentially weighted moving average. */
const EWMA_WEIGHT = 30;

/** sizeof(struct ksm_rmap_item) on a 64-bit kernel: what general_profit charges per item. */
export const SIZEOF_KSM_RMAP_ITEM = 64;

/** CONFIG_HZ of the machines compared with (x86_64, HZ = 250). */
export const HZ = 250;

/** msecs_to_jiffies: rounds up to whole ticks. */
export function msecsToJiffies(ms: number): number {
  return Math.ceil((ms * HZ) / 1000);
}

/** The tunables of /sys/kernel/mm/ksm that the merger reads, with values set by the front end. */
export interface Tunables618 extends Tunables3x {
  maxPageSharing: number;
  stableNodeChainsPruneMillisecs: number;
  useZeroPages: boolean;
  smartScan: boolean;
  advisorMode: number;
  advisorMaxCpu: number;
  advisorMinPagesToScan: number;
  advisorMaxPagesToScan: number;
  advisorTargetScanTime: number;
}

/** The counters of /sys/kernel/mm/ksm of 6.18 and the rmap_item count behind pages_volatile. */
export interface Counters618 extends MainlineCounters {
  pagesScanned: number;
  pagesSkipped: number;
  stableNodeChains: number;
  stableNodeDups: number;
  ksmZeroPages: number;
  generalProfit: number;
}

/** /proc/<pid>/ksm_stat */
export interface KsmStat {
  ksmRmapItems: number;
  ksmZeroPages: number;
  ksmMergingPages: number;
  ksmProcessProfit: number;
  ksmMergeAny: boolean;
  ksmMergeable: boolean;
}

/** struct advisor_ctx - metadata for KSM advisor */
interface AdvisorCtx {
  /** start time of the current scan, in ns */
  startScan: number;
  /** scan time of previous scan, in s */
  scanTime: number;
  /** change in percent to pages_to_scan parameter */
  change: number;
  /** cpu time consumed by the ksmd thread in the previous scan, in ns */
  cpuTime: number;
}

/**
 * The tunables and counters 6.18 shares with 3.9, the trees, rmap_items,
 * stable nodes, mm_slots and the scan cursor are Mainline3x's
 * (mainline-3x.ts), as are the functions 6.18 runs as 3.9 did
 * (unstable_tree_search_insert, try_to_merge_two_pages,
 * get_mergeable_page, break_cow, __ksm_enter...).
 */
export class Mainline618 extends Mainline3x {
  readonly algorithm = 'mainline-618';
  /* Tunables (the front end's sysfs table sets them). */
  /** ksm_max_page_sharing */
  maxPageSharing: number;
  /** ksm_stable_node_chains_prune_millisecs */
  stableNodeChainsPruneMillisecs: number;
  /** ksm_use_zero_pages */
  useZeroPages: boolean;
  /** ksm_smart_scan */
  smartScan: boolean;
  /** ksm_advisor */
  advisorMode: number;
  /** ksm_advisor_max_cpu */
  advisorMaxCpu: number;
  /** ksm_advisor_min_pages_to_scan */
  advisorMinPagesToScan: number;
  /** ksm_advisor_max_pages_to_scan */
  advisorMaxPagesToScan: number;
  /** ksm_advisor_target_scan_time, in seconds */
  advisorTargetScanTime: number;

  /* Counters. */
  /** The number of pages scanned */
  pagesScanned = 0;
  /** The number of stable_node chains */
  stableNodeChains = 0;
  /** The number of stable_node dups linked to the stable_node chains */
  stableNodeDups = 0;
  /** The number of pages that have been skipped due to "smart scanning" */
  pagesSkipped = 0;

  /** ksmd's CPU time (task_sched_runtime), in ns: scanCostNs per page scanned. */
  cpuTimeNs = 0;
  private advisorCtx: AdvisorCtx = { startScan: 0, scanTime: 0, change: 0, cpuTime: 0 };

  /** mm->ksm_rmap_items and mm->ksm_merging_pages, by mm id. */
  private mmRmapItems = new Int32Array(64);
  private mmMergingPages = new Int32Array(64);

  /** Checksum of an empty (zeroed) page */
  zeroChecksum: number;
  /** ZERO_PAGE(0) as a frame of the simulated memory (allocated on first use, pinned for ever). */
  private zeroFrame = 0;

  /* Second results of the C functions that return through pointers (and treePage, scanPage). */
  private outDup = 0;
  private outNode = 0;

  constructor(memory: Memory, readonly clock: VirtualClock, tunables: Tunables618, numaNodes = 1) {
    // calc_checksum: the low 32 bits of xxhash(page, PAGE_SIZE, 0) (XXH64 on 64-bit).
    super(memory, tunables, numaNodes, 'xxhash');
    this.maxPageSharing = tunables.maxPageSharing;
    this.stableNodeChainsPruneMillisecs = tunables.stableNodeChainsPruneMillisecs;
    this.useZeroPages = tunables.useZeroPages;
    this.smartScan = tunables.smartScan;
    this.advisorMode = tunables.advisorMode;
    this.advisorMaxCpu = tunables.advisorMaxCpu;
    this.advisorMinPagesToScan = tunables.advisorMinPagesToScan;
    this.advisorMaxPagesToScan = tunables.advisorMaxPagesToScan;
    this.advisorTargetScanTime = tunables.advisorTargetScanTime;
    // The correct value depends on page size and endianness (ksm_init).
    this.zeroChecksum = this.checksums.of(memory.zero);
    memory.hooks = {
      // ksm_fork (include/linux/ksm.h): adding mm to ksm is best effort on
      // fork; MMF_VM_MERGE_ANY is in MMF_INIT_MASK, so the child inherits it.
      fork: (parent, child) => {
        child.flags |= parent.flags & MMF_VM_MERGE_ANY;
        if (parent.flags & MMF_VM_MERGEABLE) this.ksmEnter(child);
        return 0;
      },
      // ksm_exit: only registered mms reach __ksm_exit.
      exit: (mm) => {
        if (mm.flags & MMF_VM_MERGEABLE) this.ksmExit(mm);
      },
    };
  }

  /** useChecksum, and zero_checksum again: ksm_init takes it with the checksum in use. */
  override useChecksum(name: ChecksumName): void {
    super.useChecksum(name);
    this.zeroChecksum = this.checksums.of(this.memory.zero);
  }

  // ------------------------------------------------------------ counters

  /**
   * ksm_zero_pages: the mappings of the zero page KSM made (only KSM maps
   * that frame here). Deliberate deviation (ksm_map_zero_page /
   * ksm_might_unmap_zero_page keep a counter, which fork does not raise
   * although the child maps the same zero pages): here the count is the
   * frame's mapcount, forked copies included.
   */
  get ksmZeroPages(): number {
    return this.zeroFrame === 0 ? 0 : this.memory.frames.mapcount[this.zeroFrame];
  }

  /** general_profit_show */
  get generalProfit(): number {
    return (this.pagesSharing + this.ksmZeroPages) * PAGE_SIZE - this.rmapItems * SIZEOF_KSM_RMAP_ITEM;
  }

  counters(): Counters618 {
    return {
      ...mainlineCounters(this),
      pagesScanned: this.pagesScanned,
      pagesSkipped: this.pagesSkipped,
      stableNodeChains: this.stableNodeChains,
      stableNodeDups: this.stableNodeDups,
      ksmZeroPages: this.ksmZeroPages,
      generalProfit: this.generalProfit,
    };
  }

  /** mm->ksm_rmap_items */
  mmKsmRmapItems(mm: Mm): number {
    return mm.id < this.mmRmapItems.length ? this.mmRmapItems[mm.id] : 0;
  }

  /** mm->ksm_merging_pages */
  mmKsmMergingPages(mm: Mm): number {
    return mm.id < this.mmMergingPages.length ? this.mmMergingPages[mm.id] : 0;
  }

  /**
   * mm_ksm_zero_pages(mm): the zero-page mappings KSM made in this mm,
   * counted from the page tables (the kernel keeps a counter, which a fork
   * does not raise although the child maps the same zero pages: here the
   * child's count includes them).
   */
  mmKsmZeroPages(mm: Mm): number {
    const z = this.zeroFrame;
    if (z === 0) return 0;
    let n = 0;
    for (const v of mm.vmas) for (let i = 0; i < v.frames.length; i++) if (v.frames[i] === z) n++;
    return n;
  }

  /** ksm_process_profit */
  ksmProcessProfit(mm: Mm): number {
    return (this.mmKsmMergingPages(mm) + this.mmKsmZeroPages(mm)) * PAGE_SIZE - this.mmKsmRmapItems(mm) * SIZEOF_KSM_RMAP_ITEM;
  }

  /** ksm_process_mergeable: any VMA currently VM_MERGEABLE. */
  ksmProcessMergeable(mm: Mm): boolean {
    return mm.vmas.some((v) => (v.flags & VM_MERGEABLE) !== 0);
  }

  /** What /proc/<pid>/ksm_stat shows for a live mm. */
  ksmStat(mm: Mm): KsmStat {
    return {
      ksmRmapItems: this.mmKsmRmapItems(mm),
      ksmZeroPages: this.mmKsmZeroPages(mm),
      ksmMergingPages: this.mmKsmMergingPages(mm),
      ksmProcessProfit: this.ksmProcessProfit(mm),
      ksmMergeAny: (mm.flags & MMF_VM_MERGE_ANY) !== 0,
      ksmMergeable: this.ksmProcessMergeable(mm),
    };
  }

  /** The frame the zero page is, for tests and the memory invariants (0 until KSM first maps it). */
  get zeroPageFrame(): number {
    return this.zeroFrame;
  }

  // ------------------------------------------------------------ helpers

  private mmAdd(counts: 'rmap' | 'merging', mmId: number, delta: number): void {
    if (mmId >= this.mmRmapItems.length) {
      const n = Math.max(mmId + 1, this.mmRmapItems.length * 2);
      this.mmRmapItems = growInt32(this.mmRmapItems, n);
      this.mmMergingPages = growInt32(this.mmMergingPages, n);
    }
    if (counts === 'rmap') this.mmRmapItems[mmId] += delta;
    else this.mmMergingPages[mmId] += delta;
  }

  /** ZERO_PAGE(addr): one frame of zeros, allocated when first needed and never freed. */
  private zeroPage(): number {
    if (this.zeroFrame === 0) {
      this.memory.contents.ref(this.memory.zero);
      this.zeroFrame = this.memory.frames.alloc(this.memory.zero, 0);
    }
    return this.zeroFrame;
  }

  /** jiffies on the virtual clock. */
  private jiffies(): number {
    return Math.floor((this.clock.now * HZ) / 1_000_000);
  }

  // ------------------------------------------------------------ stable nodes

  private isStableNodeChain(node: number): boolean {
    return this.nodes.len[node] === STABLE_NODE_CHAIN;
  }

  private isStableNodeDup(node: number): boolean {
    return this.nodes.kind[node] === DUP;
  }

  /** stable_node_chain_add_dup */
  private stableNodeChainAddDup(dup: number, chain: number): void {
    this.nodes.kind[dup] = DUP;
    this.nodes.dupAddHead(dup, chain);
    this.stableNodeDups++;
  }

  /** __stable_node_dup_del */
  private stableNodeDupDelDup(dup: number): void {
    this.nodes.dupDel(dup);
    this.stableNodeDups--;
  }

  /** stable_node_dup_del */
  private stableNodeDupDel(dup: number): void {
    if (this.isStableNodeDup(dup)) this.stableNodeDupDelDup(dup);
    else rbErase(this.nodes, dup, this.rootStableTree[this.nodes.nid[dup]]);
  }

  protected freeRmapItem(item: number): void {
    this.rmapItems--;
    this.mmAdd('rmap', this.items.mmId(item), -1);
    this.items.release(item);
  }

  /** alloc_stable_node_chain: a chain takes dup's place in the tree and lists it as its first dup. */
  private allocStableNodeChain(dup: number, root: RbRoot): number {
    const n = this.nodes;
    const chain = n.alloc();
    this.stats.stableNodeAllocs++;
    n.hlist[chain] = 0;
    n.pruneTime[chain] = this.jiffies();
    n.len[chain] = STABLE_NODE_CHAIN;
    this.stableNodeChains++;
    // Put the stable node chain in the first dimension of the stable tree
    // and at the same time remove the old stable node.
    rbReplaceNode(n, dup, chain, root);
    n.kind[chain] = IN_TREE;
    // Move the old stable node to the second dimension queued in the hlist_dup.
    this.stableNodeChainAddDup(dup, chain);
    return chain;
  }

  /** free_stable_node_chain */
  private freeStableNodeChain(chain: number, root: RbRoot): void {
    rbErase(this.nodes, chain, root);
    this.nodes.release(chain);
    this.stableNodeChains--;
  }

  /** remove_node_from_stable_tree: every item leaves, the node goes. */
  private removeNodeFromStableTree(node: number): void {
    const it = this.items;
    const n = this.nodes;
    if (n.len[node] < 0) throw new Error(`BUG: remove_node_from_stable_tree on a chain (${node})`);
    for (let item = n.hlist[node]; item; item = it.hnext[item]) {
      if (it.hnext[item]) this.pagesSharing--;
      else this.pagesShared--;
      this.mmAdd('merging', it.mmId(item), -1);
      n.len[node]--;
      it.setFlags(item, 0); // rmap_item->address &= PAGE_MASK
    }
    if (n.kind[node] === MIGRATE) n.listDel(node);
    else this.stableNodeDupDel(node);
    n.release(node);
  }

  /**
   * ksm_get_folio: the node's KSM page, referenced, if the page still
   * points back to the node; otherwise the node is stale: it is removed and
   * 0 returned. The lock variants always get the lock here (no contention).
   */
  private ksmGetFolio(node: number): number {
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
      const folio = this.ksmGetFolio(node);
      if (!folio) return;
      this.hlistDel(item, node);
      this.putPage(folio);
      if (this.nodes.hlist[node] !== 0) this.pagesSharing--;
      else this.pagesShared--;
      this.mmAdd('merging', it.mmId(item), -1);
      this.nodes.len[node]--;
      it.head[item] = 0;
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

  /**
   * break_ksm: while the page at addr is a KSM page, or the zero page KSM
   * mapped there, unshare it (an unshare fault gives addr a private copy).
   */
  breakKsm(vma: Vma, addr: number): number {
    const f = vma.frames[vma.index(addr)];
    if (f === 0) return 0;
    if (!pageKsm(this.memory.frames, f) && (f !== this.zeroFrame || this.zeroFrame === 0)) return 0;
    this.memory.unsharePage(vma, addr);
    return 0;
  }

  /** vma_ksm_compatible */
  vmaKsmCompatible(vma: Vma): boolean {
    return !(vma.flags & (VM_SHARED | VM_MAYSHARE | VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_HUGETLB | VM_MIXEDMAP));
  }

  // ------------------------------------------------------------ run = 2, and the knobs that need no KSM pages

  /** remove_stable_node: 0, or -EBUSY when the KSM page is still mapped. */
  private removeStableNode(node: number): number {
    const folio = this.ksmGetFolio(node);
    // ksm_get_folio did remove_node_from_stable_tree itself.
    if (!folio) return 0;
    let err = -ERRNO.EBUSY;
    if (this.memory.frames.mapcount[folio] === 0) {
      this.setPageStableNode(folio, 0);
      this.removeNodeFromStableTree(node);
      err = 0;
    }
    this.putPage(folio);
    return err;
  }

  /** remove_stable_node_chain: true when a KSM page is busy. */
  private removeStableNodeChain(node: number, root: RbRoot): boolean {
    if (!this.isStableNodeChain(node)) return this.removeStableNode(node) !== 0;
    const n = this.nodes;
    for (let dup = n.hlist[node]; dup; ) {
      const next = n.lnext[dup];
      if (this.removeStableNode(dup)) return true;
      dup = next;
    }
    if (n.hlist[node] !== 0) throw new Error('BUG: chain not empty');
    this.freeStableNodeChain(node, root);
    return false;
  }

  /** remove_all_stable_nodes: 0 or -EBUSY. */
  removeAllStableNodes(): number {
    let err = 0;
    for (let nid = 0; nid < this.ksmNrNodeIds; nid++) {
      const root = this.rootStableTree[nid];
      while (root.node) {
        if (this.removeStableNodeChain(root.node, root)) {
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
      // Exit right away if mm is exiting.
      if (!this.ksmTestExit(mm)) {
        for (const vma of [...mm.vmas]) {
          if (!(vma.flags & VM_MERGEABLE) || !vma.anonVma) continue;
          const err = this.unmergeKsmPages(vma, vma.start, vma.end);
          if (err) {
            this.scan.mmSlot = head;
            return err;
          }
        }
      }
      this.removeTrailingRmapItems(slot, slot.rmapList);
      this.scan.mmSlot = slot.next;
      if (this.ksmTestExit(mm)) this.slots.remove(slot, MMF_VM_MERGE_ANY);
    }
    // Clean up stable nodes, but don't worry if some are still busy.
    this.removeAllStableNodes();
    this.scan.seqnr = 0;
    return 0;
  }

  /**
   * The store side of merge_across_nodes and max_page_sharing: a switch
   * needs every stable node gone. -EBUSY while there are KSM pages.
   */
  private canSwitchStableTrees(): number {
    if (this.pagesShared || this.removeAllStableNodes()) return -ERRNO.EBUSY;
    return 0;
  }

  /** max_page_sharing_store, under ksm_thread_mutex: 0 or -errno. */
  setMaxPageSharing(knob: number): number {
    if (this.maxPageSharing === knob) return 0;
    const err = this.canSwitchStableTrees();
    if (err) return err;
    this.maxPageSharing = knob;
    return 0;
  }

  // ------------------------------------------------------------ merging

  /**
   * try_to_merge_one_page: map kpage in place of page at addr of vma, or,
   * with kpage 0, turn page itself into a KSM page with no stable node yet.
   */
  private tryToMergeOnePage(vma: Vma, addr: number, page: number, kpage: number): number {
    if (page === kpage) return 0; /* ksm page forked */
    if (!pageAnon(this.memory.frames, page)) return -ERRNO.EFAULT;
    this.stats.mergeAttempts++;
    // write_protect_page: the caller holds one reference to page.
    if (!this.memory.writeProtect(vma, addr, page, 1)) return -ERRNO.EFAULT;
    if (!kpage) {
      // While we hold folio lock, upgrade folio from anon to a NULL
      // stable_node with the KSM flag set: stable_tree_insert() will update it.
      this.setPageStableNode(page, 0);
      return 0;
    }
    this.stats.comparisons++;
    this.stats.bytesCompared += PAGE_SIZE;
    const fr = this.memory.frames;
    if (fr.content[page] !== fr.content[kpage]) return -ERRNO.EFAULT; // pages_identical
    // replace_page; the zero page is mapped as it is (pte_mkspecial), not as a KSM page.
    return this.memory.replacePage(vma, addr, page, kpage, kpage !== this.zeroFrame) ? 0 : -ERRNO.EFAULT;
  }

  /**
   * try_to_merge_with_zero_page: 0 if the page was mapped to the zero page
   * or is no longer a candidate (VMA gone), -EFAULT otherwise.
   */
  private tryToMergeWithZeroPage(item: number, page: number): number {
    let err = -ERRNO.EFAULT;
    const it = this.items;
    // Same checksum as an empty page: merge it with the zero page if the user enabled this.
    if (this.useZeroPages && it.word[item] === this.zeroChecksum) {
      const addr = it.addr(item);
      const vma = this.findMergeableVma(this.mmOf(item), addr);
      if (vma) err = this.tryToMergeOnePage(vma, addr, page, this.zeroPage());
      else err = 0; // If the vma is out of date, we do not need to continue.
    }
    return err;
  }

  /** try_to_merge_with_ksm_page: like try_to_merge_two_pages, but kpage is already a KSM page (or 0: page becomes one). */
  protected tryToMergeWithKsmPage(item: number, page: number, kpage: number): number {
    const addr = this.items.addr(item);
    const vma = this.findMergeableVma(this.mmOf(item), addr);
    if (vma === null) return -ERRNO.EFAULT;
    const err = this.tryToMergeOnePage(vma, addr, page, kpage);
    if (err) return err;
    // Unstable nid is in union with stable anon_vma: remove first.
    this.removeRmapItemFromTree(item);
    return 0;
  }

  /** __is_page_sharing_candidate */
  private isPageSharingCandidate(node: number, offset = 0): boolean {
    const len = this.nodes.len[node];
    if (len < 0) throw new Error(`BUG: sharing candidate test on a chain (${node})`);
    // Check that at least one mapping still exists, otherwise there's no
    // much point to merge and share with this stable_node.
    return len !== 0 && len + offset < this.maxPageSharing;
  }

  /**
   * stable_node_dup: the KSM page (referenced) of the best dup of a chain,
   * with the dup in outDup; outNode is the chain, or the dup when the chain
   * collapsed into it. Stale dups met are removed; when pruning, all of them.
   */
  private stableNodeDup(chain: number, root: RbRoot, prune: boolean): number {
    const n = this.nodes;
    const j = this.jiffies();
    if (!prune || j < n.pruneTime[chain] + msecsToJiffies(this.stableNodeChainsPruneMillisecs)) prune = false;
    else n.pruneTime[chain] = j;

    let found = 0;
    let foundLen = 0;
    let treeFolio = 0;
    for (let next = n.hlist[chain]; next; ) {
      const cur = next;
      next = n.lnext[cur];
      // ksm_get_folio can drop the nodes from the chain's hlist if they
      // point to freed pages (that's why the walk is "safe").
      this.stats.chainDups++;
      const folio = this.ksmGetFolio(cur);
      if (!folio) continue;
      /* Pick the best candidate if possible. */
      if (!found || (this.isPageSharingCandidate(cur) && (!this.isPageSharingCandidate(found) || n.len[cur] > foundLen))) {
        if (found) this.putPage(treeFolio);
        found = cur;
        foundLen = n.len[found];
        treeFolio = folio;
        // skip put_page for found candidate
        if (!prune && this.isPageSharingCandidate(found)) break;
        continue;
      }
      this.putPage(folio);
    }

    this.outNode = chain;
    if (found) {
      if (n.hlist[chain] === found && n.lnext[found] === 0) {
        // There's just one entry and it is below the deduplication limit so drop the chain.
        rbReplaceNode(n, chain, found, root);
        n.kind[found] = IN_TREE;
        n.release(chain);
        this.stableNodeChains--;
        this.stableNodeDups--;
        // The caller depends on the stable_node to be equal to stable_node_dup if the chain was collapsed.
        this.outNode = found;
      } else if (n.hlist[chain] !== found && this.isPageSharingCandidate(found, 1)) {
        // If the found dup can accept one more future merge and is not at
        // the head of the chain, put it there so next search will be quicker.
        n.dupDel(found);
        n.dupAddHead(found, chain);
      }
    } else {
      // Its hlist must be empty if no one found.
      this.freeStableNodeChain(chain, root);
    }
    this.outDup = found;
    return treeFolio;
  }

  /**
   * __stable_node_chain: for a regular node, its page (outDup = outNode =
   * node); for a chain, stable_node_dup's choice. chain_prune() is the
   * pruning form, chain() the other.
   */
  private stableNodeChain(node: number, root: RbRoot, prune: boolean): number {
    if (!this.isStableNodeChain(node)) {
      this.outDup = node;
      this.outNode = node;
      return this.ksmGetFolio(node);
    }
    return this.stableNodeDup(node, root, prune);
  }

  /**
   * stable_tree_search: the KSM page (referenced) with the same content as
   * page, or 0. Only a dup with room for one more mapping is returned.
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
      let stableNode = 0;
      let stableNodeDup = 0;
      for (;;) {
        const cur = this.link(root, n, parent, side);
        if (!cur) break;
        const treeFolio = this.stableNodeChain(cur, root, true);
        stableNode = this.outNode;
        stableNodeDup = this.outDup;
        // If we walked over a stale stable_node, ksm_get_folio() will call
        // rb_erase() and it may rebalance the tree from under us. So restart
        // the search from scratch.
        if (!treeFolio) continue again;
        this.stats.stableLevels++;
        const ret = memcmpPages(this.memory, this.stats, page, treeFolio);
        this.putPage(treeFolio);
        parent = this.link(root, n, parent, side);
        if (ret < 0) side = 'left';
        else if (ret > 0) side = 'right';
        else {
          if (pageNode) {
            // If the mapcount of our migrated KSM folio is at most 1, we can
            // merge it with another KSM folio where we know that we have
            // space for one more mapping: see chain_prune().
            if (fr.mapcount[page] > 1) return this.chainAppend(page, pageNode, stableNode, stableNodeDup, nid, root);
          }
          if (!this.isPageSharingCandidate(stableNodeDup)) {
            // All the dups are full: wait for the scanned page to find a
            // match in the unstable tree to create a brand new KSM page.
            return 0;
          }
          const tree = this.ksmGetFolio(stableNodeDup);
          // The tree may have been rebalanced, so re-evaluate parent and new.
          if (!tree) continue again;
          if (this.getKpfnNid(n.kpfn[stableNodeDup]) !== n.nid[stableNodeDup]) {
            this.putPage(tree);
            return this.stableTreeReplace(page, pageNode, stableNode, stableNodeDup, nid, root);
          }
          return tree;
        }
      }
      if (!pageNode) return 0;
      n.listDel(pageNode);
      n.kind[pageNode] = IN_TREE;
      n.nid[pageNode] = nid;
      rbLinkNode(n, pageNode, parent, side, root);
      rbInsertColor(n, pageNode, root);
      if (this.isPageSharingCandidate(pageNode)) {
        fr.get(page);
        return page;
      }
      return 0;
    }
  }

  /** The `replace:` tail of stable_tree_search: a node found on the wrong NUMA node goes to migrate_nodes. */
  private stableTreeReplace(page: number, pageNode: number, stableNode: number, stableNodeDup: number, nid: number, root: RbRoot): number {
    const n = this.nodes;
    let folio = page;
    if (stableNodeDup === stableNode) {
      /* there is no chain */
      if (pageNode) {
        n.listDel(pageNode);
        n.nid[pageNode] = nid;
        rbReplaceNode(n, stableNodeDup, pageNode, root);
        n.kind[pageNode] = IN_TREE;
        if (this.isPageSharingCandidate(pageNode)) this.memory.frames.get(page);
        else folio = 0;
      } else {
        rbErase(n, stableNodeDup, root);
        folio = 0;
      }
    } else {
      this.stableNodeDupDelDup(stableNodeDup);
      if (pageNode) {
        n.listDel(pageNode);
        n.nid[pageNode] = nid;
        n.kind[pageNode] = IN_TREE;
        this.stableNodeChainAddDup(pageNode, stableNode);
        if (this.isPageSharingCandidate(pageNode)) this.memory.frames.get(page);
        else folio = 0;
      } else {
        folio = 0;
      }
    }
    n.kind[stableNodeDup] = MIGRATE;
    n.listAdd(stableNodeDup, this.migrateNodes);
    return folio;
  }

  /** The `chain_append:` tail of stable_tree_search: a migrated KSM page joins the chain of its content. */
  private chainAppend(page: number, pageNode: number, stableNode: number, stableNodeDup: number, nid: number, root: RbRoot): number {
    const n = this.nodes;
    if (stableNodeDup === stableNode) {
      /* chain is missing so create it */
      stableNode = this.allocStableNodeChain(stableNodeDup, root);
    }
    n.listDel(pageNode);
    n.nid[pageNode] = nid;
    n.kind[pageNode] = IN_TREE;
    this.stableNodeChainAddDup(pageNode, stableNode);
    if (this.isPageSharingCandidate(pageNode)) {
      this.memory.frames.get(page);
      return page;
    }
    return 0;
  }

  /**
   * stable_tree_insert: a new stable node for kpage, a dup in the chain of
   * its content when that content is already in the tree. Returns the node.
   */
  private stableTreeInsert(kpage: number): number {
    const n = this.nodes;
    const kpfn = kpage;
    const nid = this.getKpfnNid(kpfn);
    const root = this.rootStableTree[nid];
    let parent = 0;
    let side: RbLink = 'root';
    let stableNode = 0;
    let needChain = false;
    again: for (;;) {
      parent = 0;
      side = 'root';
      for (;;) {
        const cur = this.link(root, n, parent, side);
        if (!cur) break;
        const treeFolio = this.stableNodeChain(cur, root, false);
        stableNode = this.outNode;
        if (!treeFolio) continue again;
        this.stats.stableLevels++;
        const ret = memcmpPages(this.memory, this.stats, kpage, treeFolio);
        this.putPage(treeFolio);
        parent = this.link(root, n, parent, side);
        if (ret < 0) side = 'left';
        else if (ret > 0) side = 'right';
        else {
          needChain = true;
          break;
        }
      }
      break;
    }
    const dup = n.alloc();
    this.stats.stableNodeAllocs++;
    n.hlist[dup] = 0;
    n.kpfn[dup] = kpfn;
    n.len[dup] = 0;
    n.nid[dup] = nid;
    if (!needChain) {
      rbLinkNode(n, dup, parent, side, root);
      rbInsertColor(n, dup, root);
    } else {
      /* chain is missing so create it */
      if (!this.isStableNodeChain(stableNode)) stableNode = this.allocStableNodeChain(stableNode, root);
      this.stableNodeChainAddDup(dup, stableNode);
    }
    this.setPageStableNode(kpage, dup);
    return dup;
  }

  /** stable_tree_append: item joins the node's hlist, at its head. */
  private stableTreeAppend(item: number, node: number, maxPageSharingBypass: boolean): void {
    const n = this.nodes;
    const it = this.items;
    if (n.len[node] < 0) throw new Error('BUG: stable_tree_append to a chain');
    n.len[node]++;
    if (!maxPageSharingBypass && n.len[node] > this.maxPageSharing) {
      // possibly non fatal but unexpected overflow, only warn (WARN_ON_ONCE)
    }
    it.head[item] = node;
    it.orFlags(item, STABLE_FLAG);
    this.hlistAddHead(item, node);
    if (it.hnext[item]) this.pagesSharing++;
    else this.pagesShared++;
    this.mmAdd('merging', it.mmId(item), 1);
  }

  /**
   * cmp_and_merge_page: for a page that is not a KSM page, first the
   * checksum gate (6.11 and later) and the zero page; then the stable
   * tree; then the unstable tree, merging with a page found there and
   * moving both to the stable tree.
   */
  private cmpAndMergePage(page: number, item: number): void {
    const it = this.items;
    const n = this.nodes;
    let maxPageSharingBypass = false;
    let stableNode = this.pageStableNode(page);
    if (stableNode) {
      if (n.kind[stableNode] !== MIGRATE && this.getKpfnNid(n.kpfn[stableNode]) !== n.nid[stableNode]) {
        this.stableNodeDupDel(stableNode);
        n.kind[stableNode] = MIGRATE;
        n.listAdd(stableNode, this.migrateNodes);
      }
      if (n.kind[stableNode] !== MIGRATE && it.head[item] === stableNode && it.flagsOf(item) & STABLE_FLAG) return;
      // If it's a KSM fork, allow it to go over the sharing limit without warnings.
      if (!this.isPageSharingCandidate(stableNode)) maxPageSharingBypass = true;
    } else {
      this.removeRmapItemFromTree(item);
      // If the hash value of the page has changed from the last time we
      // calculated it, this page is changing frequently: therefore we don't
      // want to insert it in the unstable tree, and we don't want to waste
      // our time searching for something identical to it there.
      const checksum = calcChecksum(this.memory, this.checksums, this.stats, page);
      if (it.word[item] !== checksum) {
        it.word[item] = checksum;
        return;
      }
      if (!this.tryToMergeWithZeroPage(item, page)) return;
    }

    /* Start by searching for the folio in the stable tree */
    const kfolio = this.stableTreeSearch(page);
    if (kfolio === page && this.itemHead(item) === stableNode) {
      this.putPage(kfolio);
      return;
    }

    this.removeRmapItemFromTree(item);

    if (kfolio) {
      const err = this.tryToMergeWithKsmPage(item, page, kfolio);
      if (!err) {
        // The page was successfully merged: add its rmap_item to the stable tree.
        this.stats.merges++;
        this.stableTreeAppend(item, this.pageStableNode(kfolio), maxPageSharingBypass);
      }
      this.putPage(kfolio);
      return;
    }

    const treeItem = this.unstableTreeSearchInsert(item, page);
    if (treeItem) {
      const treePage = this.treePage;
      const kpage = this.tryToMergeTwoPages(item, page, treeItem, treePage);
      this.putPage(treePage);
      if (kpage) {
        // The pages were successfully merged: insert new node in the
        // stable tree and add both rmap_items.
        this.stats.merges++;
        stableNode = this.stableTreeInsert(kpage);
        this.stableTreeAppend(treeItem, stableNode, false);
        this.stableTreeAppend(item, stableNode, false);
      }
      // (stable_tree_insert cannot fail here: it allocates, and allocations
      // do not fail in this model, so the break_cow pair never runs.)
    }
  }

  /**
   * get_next_rmap_item: the item for addr after list position `prev`,
   * freeing the items passed over. A found item is returned as it is.
   */
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
    const mmId = slot.mm!.id;
    it.setMmAddr(item, mmId, addr);
    this.mmAdd('rmap', mmId, 1);
    it.linkAfter(prev, item);
    return item;
  }

  /** skip_age: how many scans a page of this age is skipped for. */
  private skipAge(age: number): number {
    if (age <= 3) return 1;
    if (age <= 5) return 2;
    if (age <= 8) return 4;
    return 8;
  }

  /** should_skip_rmap_item: smart scanning. */
  private shouldSkipRmapItem(page: number, item: number): boolean {
    if (!this.smartScan) return false;
    // Never skip pages that are already KSM.
    if (pageKsm(this.memory.frames, page)) return false;
    const it = this.items;
    const age = it.age[item];
    if (age !== 255) it.age[item]++;
    // Smaller ages are not skipped, they need to get a chance to go through
    // the different phases of the KSM merging.
    if (age < 3) return false;
    // Are we still allowed to skip? If not, then don't skip it and determine
    // how much more often we are allowed to skip next.
    if (!it.skips[item]) {
      it.skips[item] = this.skipAge(age);
      return false;
    }
    /* Skip this page */
    this.pagesSkipped++;
    it.skips[item]--;
    this.removeRmapItemFromTree(item);
    return true;
  }

  /**
   * scan_get_next_rmap_item: advance the cursor to the next anonymous page
   * of a registered VMA; returns its rmap_item (the page, referenced, in
   * this.scanPage), or 0 when a full scan has just completed.
   */
  private scanGetNextRmapItem(): number {
    const scan = this.scan;
    const head = this.slots.head;
    if (this.slots.empty) return 0;

    let slot = scan.mmSlot;
    if (slot === head) {
      this.advisorStartScan();
      // lru_add_drain_all(): no per-cpu page lists in this model.
      // Whereas stale stable_nodes on the stable_tree itself get pruned in
      // the regular course of stable_tree_search(), those moved out to the
      // migrate_nodes list can accumulate: so prune them once before each full scan.
      if (!this.mergeAcrossNodes) {
        const n = this.nodes;
        for (let node = n.lnext[this.migrateNodes]; node !== this.migrateNodes; ) {
          const next = n.lnext[node];
          const folio = this.ksmGetFolio(node);
          if (folio) this.putPage(folio);
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
          const addr = vma.start + i * PAGE_SIZE;
          this.memory.frames.get(f);
          const item = this.getNextRmapItem(slot, scan.rmapItem, addr);
          scan.rmapItem = item;
          if (this.shouldSkipRmapItem(f, item)) {
            this.putPage(f);
            scan.address = addr + PAGE_SIZE; // next_page
            continue;
          }
          scan.address = addr + PAGE_SIZE;
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
      // We've completed a full scan of all vmas and found no VM_MERGEABLE:
      // do the same as __ksm_exit does to remove this mm from all our lists now.
      if (scan.address === 0) this.slots.remove(slot, MMF_VM_MERGE_ANY);

      /* Repeat until we've completed scanning the whole list */
      slot = scan.mmSlot;
      if (slot !== head) {
        scan.address = 0;
        scan.rmapItem = slot.rmapList;
        continue;
      }
      this.advisorStopScan();
      scan.seqnr++;
      return 0;
    }
  }

  /**
   * ksm_do_scan: the ksm scanner main worker function, one batch of up to
   * scanNpages pages; it ends early when a full scan completes. Each page
   * costs scanCostNs of ksmd CPU time, during which the virtual clock runs.
   */
  ksmDoScan(scanNpages: number): void {
    const costUs = this.scanCostNs / 1000;
    while (scanNpages-- > 0) {
      const item = this.scanGetNextRmapItem();
      if (!item) return;
      const page = this.scanPage;
      this.cmpAndMergePage(page, item);
      this.putPage(page);
      this.pagesScanned++;
      this.stats.pagesScanned++;
      this.cpuTimeNs += this.scanCostNs;
      this.clock.now += costUs;
    }
  }

  /** The sleep after a batch: msecs_to_jiffies(sleep_millisecs) ticks, in µs. */
  sleepMicros(): number {
    return (msecsToJiffies(this.sleepMillisecs) * 1_000_000) / HZ;
  }

  // ------------------------------------------------------------ the scan-time advisor

  /** ktime_get() on the virtual clock, in ns. */
  private ktimeNs(): number {
    return Math.round(this.clock.now * 1000);
  }

  /** set_advisor_defaults: what switching advisor_mode does. */
  setAdvisorDefaults(): void {
    if (this.advisorMode === KSM_ADVISOR_NONE) {
      this.pagesToScan = DEFAULT_PAGES_TO_SCAN;
    } else if (this.advisorMode === KSM_ADVISOR_SCAN_TIME) {
      this.advisorCtx = { startScan: 0, scanTime: 0, change: 0, cpuTime: 0 };
      this.pagesToScan = this.advisorMinPagesToScan;
    }
  }

  private advisorStartScan(): void {
    if (this.advisorMode === KSM_ADVISOR_SCAN_TIME) this.advisorCtx.startScan = this.ktimeNs();
  }

  /**
   * scan_time_advisor: new_pages_to_scan = pages_to_scan * (scan_time /
   * target_scan_time), smoothed by a moving average of the change and capped
   * by the CPU limits and advisor_max_pages_to_scan (integer arithmetic of
   * unsigned longs, as in the C).
   */
  private scanTimeAdvisor(): void {
    const ctx = this.advisorCtx;
    const div = (a: number, b: number) => Math.floor(a / b);
    /* Convert scan time to seconds */
    let scanTime = div(div(this.ktimeNs() - ctx.startScan, 1_000_000), 1000);
    scanTime = scanTime || 1;
    /* Calculate CPU consumption of ksmd background thread */
    const cpuTime = this.cpuTimeNs;
    const cpuTimeDiffMs = div(div(cpuTime - ctx.cpuTime, 1000), 1000);
    let cpuPercent = div(cpuTimeDiffMs * 100, scanTime * 1000);
    cpuPercent = cpuPercent || 1;
    const lastScanTime = ctx.scanTime || scanTime;
    /* Calculate scan time as percentage of target scan time */
    let factor = div(this.advisorTargetScanTime * 100, scanTime);
    factor = factor || 1;
    // Calculate scan time as percentage of last scan time and use
    // exponentially weighted average to smooth it.
    let change = div(scanTime * 100, lastScanTime);
    change = change || 1;
    change = div((100 - EWMA_WEIGHT) * ctx.change + EWMA_WEIGHT * change, 100);
    /* Calculate new scan rate based on target scan rate. */
    let pages = div(this.pagesToScan * 100, factor);
    /* Update pages_to_scan by weighted change percentage. */
    pages = div(pages * change, 100);
    /* Cap new pages_to_scan value */
    let perPageCost = div(this.pagesToScan, cpuPercent);
    perPageCost = perPageCost || 1;
    pages = Math.min(pages, perPageCost * this.advisorMaxCpu);
    pages = Math.max(pages, perPageCost * KSM_ADVISOR_MIN_CPU);
    pages = Math.min(pages, this.advisorMaxPagesToScan);
    /* Update advisor context */
    ctx.change = change;
    ctx.scanTime = scanTime;
    ctx.cpuTime = cpuTime;
    this.pagesToScan = pages >>> 0;
  }

  private advisorStopScan(): void {
    if (this.advisorMode === KSM_ADVISOR_SCAN_TIME) this.scanTimeAdvisor();
  }

  // ------------------------------------------------------------ registration

  /** __ksm_add_vma */
  private ksmAddVmaFlags(vma: Vma): void {
    if (vma.flags & VM_MERGEABLE) return;
    if (this.vmaKsmCompatible(vma)) vma.flags = (vma.flags | VM_MERGEABLE) >>> 0;
  }

  /** __ksm_del_vma: 0 or -errno. */
  private ksmDelVma(vma: Vma): number {
    if (!(vma.flags & VM_MERGEABLE)) return 0;
    if (vma.anonVma) {
      const err = this.unmergeKsmPages(vma, vma.start, vma.end);
      if (err) return err;
    }
    vma.flags = (vma.flags & ~VM_MERGEABLE) >>> 0;
    return 0;
  }

  /** ksm_add_vma: a new VMA of a process with MMF_VM_MERGE_ANY is mergeable from the start. */
  ksmAddVma(vma: Vma): void {
    if (vma.mm.flags & MMF_VM_MERGE_ANY) this.ksmAddVmaFlags(vma);
  }

  /** ksm_add_vmas */
  private ksmAddVmas(mm: Mm): void {
    for (const vma of mm.vmas) this.ksmAddVmaFlags(vma);
  }

  /** ksm_del_vmas */
  private ksmDelVmas(mm: Mm): number {
    for (const vma of mm.vmas) {
      const err = this.ksmDelVma(vma);
      if (err) return err;
    }
    return 0;
  }

  /** ksm_enable_merge_any: prctl(PR_SET_MEMORY_MERGE, 1). */
  ksmEnableMergeAny(mm: Mm): number {
    if (mm.flags & MMF_VM_MERGE_ANY) return 0;
    if (!(mm.flags & MMF_VM_MERGEABLE)) {
      const err = this.ksmEnter(mm);
      if (err) return err;
    }
    mm.flags |= MMF_VM_MERGE_ANY;
    this.ksmAddVmas(mm);
    return 0;
  }

  /**
   * ksm_disable_merge_any: prctl(PR_SET_MEMORY_MERGE, 0). Unmerges like
   * MADV_UNMERGEABLE over every VMA; on failure merging stays enabled.
   */
  ksmDisableMergeAny(mm: Mm): number {
    if (!(mm.flags & MMF_VM_MERGE_ANY)) return 0;
    const err = this.ksmDelVmas(mm);
    if (err) {
      this.ksmAddVmas(mm);
      return err;
    }
    mm.flags &= ~MMF_VM_MERGE_ANY;
    return 0;
  }

  /**
   * ksm_madvise: what MADV_MERGEABLE / MADV_UNMERGEABLE do to one VMA.
   * Returns the new vm_flags, or -errno.
   */
  ksmMadvise(vma: Vma, start: number, end: number, advice: number): { err: number; flags: number } {
    const mm = vma.mm;
    let flags = vma.flags;
    switch (advice) {
      case MADV_MERGEABLE:
        if (flags & VM_MERGEABLE) return { err: 0, flags };
        if (!this.vmaKsmCompatible(vma)) return { err: 0, flags };
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
   * __ksm_exit: free the slot at once if it has no rmap_items and is not
   * under the cursor; otherwise move it just after the cursor for ksmd.
   */
  ksmExit(mm: Mm): void {
    const slot = this.slots.lookup(mm);
    if (slot === undefined || this.scan.mmSlot === slot) return;
    if (this.items.lnext[slot.rmapList] === slot.rmapList) {
      this.slots.remove(slot, MMF_VM_MERGE_ANY);
      return;
    }
    this.slots.moveAfter(slot, this.scan.mmSlot);
  }

  // ------------------------------------------------------------ memory hot-remove

  /** ksm_check_stable_tree: drop the nodes whose KSM page lies in [startPfn, endPfn). */
  ksmCheckStableTree(startPfn: number, endPfn: number): void {
    const n = this.nodes;
    const inRange = (node: number) => n.kpfn[node] >= startPfn && n.kpfn[node] < endPfn;
    for (let nid = 0; nid < this.ksmNrNodeIds; nid++) {
      const root = this.rootStableTree[nid];
      const stack = root.node ? [root.node] : [];
      const all: number[] = [];
      while (stack.length) {
        const x = stack.pop()!;
        all.push(x);
        if (n.left[x]) stack.push(n.left[x]);
        if (n.right[x]) stack.push(n.right[x]);
      }
      for (const node of all) {
        if (!this.isStableNodeChain(node)) {
          if (inRange(node)) this.removeNodeFromStableTree(node);
          continue;
        }
        for (let dup = n.hlist[node]; dup; ) {
          const next = n.lnext[dup];
          if (inRange(dup)) this.removeNodeFromStableTree(dup);
          dup = next;
        }
        if (n.hlist[node] === 0) this.freeStableNodeChain(node, root);
      }
    }
    for (let node = n.lnext[this.migrateNodes]; node !== this.migrateNodes; ) {
      const next = n.lnext[node];
      if (inRange(node)) this.removeNodeFromStableTree(node);
      node = next;
    }
  }

}

/** Default number of pages to scan per batch (DEFAULT_PAGES_TO_SCAN). */
export const DEFAULT_PAGES_TO_SCAN = 100;
