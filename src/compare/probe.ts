/**
 * Read-only looks into a configuration's merger, taken at the end of each
 * pass: its work counters, the shape of its trees or hash buckets, and its
 * tracking metadata priced at the size its era's structs had.
 *
 * Struct sizes are those of x86_64 (8-byte pointers, natural alignment),
 * read from the seeds' declarations:
 *
 * | era | struct | fields | bytes |
 * |---|---|---|---|
 * | 2.6.32 (003) | rmap_item | list_head link, mm, address, union {oldchecksum; next}, union {rb_node; prev} | 64 |
 * | 2.6.32 (003) | mm_slot | hlist_node, list_head mm_list, list_head rmap_list, mm | 56 |
 * | 2009 (000/002) | rmap_item | hlist_node link, mm, address, oldchecksum, stable_tree, tree_item, next, prev | 64 |
 * | 2009 (000/002) | tree_item | rb_node, rmap_item | 32 |
 * | Apr 2009 (000) | ksm_mem_slot | list_head link, mm, addr, npages | 40 |
 * | Mar 2009 (002), Nov 2008 (001) | ksm_mem_slot | list_head link, list_head sma_link, mm, addr, npages | 56 |
 * | Nov 2008 (001) | page_hash_item + rmap_item (allocated in pairs) | hlist_node, mm, addr; hlist_node, page_hash_item, oldindex | 32 + 32 |
 * | 3.9 (004) | rmap_item | rmap_list, union {anon_vma; nid}, mm, address, oldchecksum, union {rb_node; {head, hlist_node}} | 64 |
 * | 3.9 (004) | stable_node | union {rb_node; {head, list_head}}, hlist_head, kpfn, nid | 48 |
 * | 3.9 (004) | mm_slot | hlist_node, list_head mm_list, rmap_list, mm | 48 |
 * | 6.18 | ksm_rmap_item | as 3.9's, with age and remaining_skips beside oldchecksum | 64 |
 * | 6.18 | ksm_stable_node | union {rb_node; {head, {hlist_node hlist_dup, list_head}}}, hlist_head, union {kpfn; chain_prune_time}, rmap_hlist_len, nid | 64 |
 * | 6.18 | ksm_mm_slot | struct mm_slot {hlist_node, list_head, mm}, rmap_list | 48 |
 *
 * The 3.9 and 6.18 stable_nodes are counted as allocated (chains and dups
 * of 6.18 included); their trees are one per NUMA node when
 * merge_across_nodes is 0, and their shapes are taken over all of them.
 * Tables sized at module load (2008's page_hash, rmap_hash and sha1 cache,
 * 2009's rmap_hash, 2.6.32's mm_slots_hash) are left out: they do not grow
 * with the memory merged.
 */
import type { Mainline2632 } from '../engine/merge/mainline-2632.js';
import type { Mainline39 } from '../engine/merge/mainline-39.js';
import type { Mainline618 } from '../engine/merge/mainline-618.js';
import type { AnyMerger } from '../engine/merge/merger.js';
import type { RbRoot } from '../engine/rbtree.js';
import type { Hash2008 } from '../engine/merge/hash-2008.js';
import type { MergeStats } from '../engine/merge/stats.js';
import type { Tree2009 } from '../engine/merge/tree-2009.js';

export const STRUCT_BYTES = {
  mainline: { rmapItem: 64, mmSlot: 56 },
  tree2009: { rmapItem: 64, treeItem: 32, memSlot000: 40, memSlot002: 56 },
  hash2008: { entry: 32 + 32, memSlot: 56 },
  mainline39: { rmapItem: 64, stableNode: 48, mmSlot: 48 },
  mainline618: { rmapItem: 64, stableNode: 64, mmSlot: 48 },
} as const;

/** Depths of an rb-tree's nodes, the root at depth 1. */
export interface TreeShape {
  nodes: number;
  maxDepth: number;
  meanDepth: number;
}

/** page_hash of the 2008 merger. */
export interface BucketShape {
  /** Buckets holding at least one entry. */
  used: number;
  longest: number;
  /** Entries per used bucket. */
  mean: number;
}

export interface Metadata {
  /** Tracking items (rmap_items, tree_items, hash entries) plus slots. */
  items: number;
  bytes: number;
}

export interface MergerProbe {
  stats(): MergeStats;
  /** Stable and unstable trees now (null for the hash merger). */
  trees(): { stable: TreeShape; unstable: TreeShape } | null;
  buckets(): BucketShape | null;
  metadata(): Metadata;
  /** Calls fn at the end of every pass, at the moment the merger's own state is that pass's (before a flush), when the merger has such a moment. */
  onPassEnd(fn: () => void): void;
}

/** Walks an rb-tree (left/right child arrays, 0 = NULL) without recursion. */
export function treeShape(s: { left: Int32Array; right: Int32Array }, root: number): TreeShape {
  if (root === 0) return { nodes: 0, maxDepth: 0, meanDepth: 0 };
  const nodes: number[] = [root];
  const depths: number[] = [1];
  let count = 0;
  let sum = 0;
  let max = 0;
  while (nodes.length) {
    const n = nodes.pop()!;
    const d = depths.pop()!;
    count++;
    sum += d;
    if (d > max) max = d;
    const l = s.left[n];
    const r = s.right[n];
    if (l) {
      nodes.push(l);
      depths.push(d + 1);
    }
    if (r) {
      nodes.push(r);
      depths.push(d + 1);
    }
  }
  return { nodes: count, maxDepth: max, meanDepth: sum / count };
}

/** The shape of several trees taken as one forest (per-NUMA-node roots). */
export function forestShape(s: { left: Int32Array; right: Int32Array }, roots: readonly RbRoot[]): TreeShape {
  let nodes = 0;
  let sum = 0;
  let maxDepth = 0;
  for (const r of roots) {
    const t = treeShape(s, r.node);
    nodes += t.nodes;
    sum += t.meanDepth * t.nodes;
    maxDepth = Math.max(maxDepth, t.maxDepth);
  }
  return { nodes, maxDepth, meanDepth: nodes ? sum / nodes : 0 };
}

function mainline3xProbe(ksm: Mainline39 | Mainline618, sizes: { rmapItem: number; stableNode: number; mmSlot: number }): MergerProbe {
  return {
    stats: () => ksm.stats,
    trees: () => ({ stable: forestShape(ksm.nodes, ksm.rootStableTree), unstable: forestShape(ksm.items, ksm.rootUnstableTree) }),
    buckets: () => null,
    metadata: () => {
      const slots = ksm.slots.byMm.size;
      // The pool's one list head (migrate_nodes, a static list_head in the kernel) is no stable_node.
      const stableNodes = Math.max(0, ksm.nodes.used - 1);
      return {
        items: ksm.rmapItems + stableNodes + slots,
        bytes: ksm.rmapItems * sizes.rmapItem + stableNodes * sizes.stableNode + slots * sizes.mmSlot,
      };
    },
    // ksm_do_scan stops at the end of a pass, before the next one resets the unstable trees.
    onPassEnd: () => {},
  };
}

function mainlineProbe(ksm: Mainline2632): MergerProbe {
  return {
    stats: () => ksm.stats,
    trees: () => ({ stable: treeShape(ksm.items, ksm.stableRoot.node), unstable: treeShape(ksm.items, ksm.unstableRoot.node) }),
    buckets: () => null,
    metadata: () => ({
      items: ksm.rmapItems + ksm.slots.size,
      bytes: ksm.rmapItems * STRUCT_BYTES.mainline.rmapItem + ksm.slots.size * STRUCT_BYTES.mainline.mmSlot,
    }),
    // ksmDoScan stops at the end of a pass, before the next one resets the unstable tree.
    onPassEnd: () => {},
  };
}

function tree2009Probe(tree: Tree2009): MergerProbe {
  const slotBytes = tree.seed === '000' ? STRUCT_BYTES.tree2009.memSlot000 : STRUCT_BYTES.tree2009.memSlot002;
  return {
    stats: () => tree.stats,
    trees: () => ({ stable: treeShape(tree.trees, tree.stableRoot.node), unstable: treeShape(tree.trees, tree.unstableRoot.node) }),
    buckets: () => null,
    metadata: () => ({
      items: tree.rmapItemCount + tree.trees.used + tree.slots.length,
      bytes: tree.rmapItemCount * STRUCT_BYTES.tree2009.rmapItem + tree.trees.used * STRUCT_BYTES.tree2009.treeItem + tree.slots.length * slotBytes,
    }),
    onPassEnd: (fn) => {
      // The cursor's wrap, just before the unstable tree is flushed.
      const prev = tree.onWrap;
      tree.onWrap = () => {
        prev?.();
        fn();
      };
    },
  };
}

function hash2008Probe(ksm: Hash2008): MergerProbe {
  return {
    stats: () => ksm.stats,
    trees: () => null,
    buckets: () => {
      const b = ksm.bucketChains();
      return { used: b.used, longest: b.longest, mean: b.used ? b.entries / b.used : 0 };
    },
    metadata: () => ({
      items: ksm.hashEntryCount + ksm.slots.length,
      bytes: ksm.hashEntryCount * STRUCT_BYTES.hash2008.entry + ksm.slots.length * STRUCT_BYTES.hash2008.memSlot,
    }),
    onPassEnd: () => {},
  };
}

/** The probe of a merger, chosen by its algorithm (the era adapter's `merger`, after setup). */
export function probeMerger(m: AnyMerger): MergerProbe {
  switch (m.algorithm) {
    case 'mainline-2632':
      return mainlineProbe(m);
    case 'mainline-39':
      return mainline3xProbe(m, STRUCT_BYTES.mainline39);
    case 'mainline-618':
      return mainline3xProbe(m, STRUCT_BYTES.mainline618);
    case 'tree-2009':
      return tree2009Probe(m);
    case 'hash-2008':
      return hash2008Probe(m);
  }
}
