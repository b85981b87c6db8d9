/**
 * The 2009 tree merger's bookkeeping recomputed from its data structures:
 * the rmap_hash holds every live rmap_item under its own (mm, address);
 * every stable node's chain is doubly linked both ways and all its items
 * point back to the node; the head pointer lies on the chain; the current
 * unstable tree holds exactly the items counted as unstable, each pointing
 * to its node; the counts of items in each state match; and no tree_item is
 * leaked. Tests run it after every step; benchmarks never do.
 */
import { rbFirst, rbNext } from '../rbtree.js';
import type { Tree2009 } from './tree-2009.js';

export function checkTree2009(ksm: Tree2009): string[] {
  const problems: string[] = [];
  const ri = ksm.items;
  const ti = ksm.trees;
  const live = new Set<number>();
  for (let id = 1; id < ri.limit; id++) if (ri.isLive(id)) live.add(id);
  for (const slot of ksm.slots) if (!slot.linked) problems.push(`slot at 0x${slot.addr.toString(16)} on the list but not marked linked`);

  // rmap_hash: every live item is found under its key.
  let hashed = 0;
  for (const id of live) {
    const mm = ksm.memory.mms.get(ri.mm[id]);
    if (mm === undefined) {
      problems.push(`item ${id}: mm ${ri.mm[id]} does not exist`);
      continue;
    }
    if (ksm.getRmapItem(mm, ri.address[id]) !== id) problems.push(`item ${id} is not what rmap_hash gives for its address`);
    else hashed++;
  }
  if (hashed !== ksm.rmapItemCount) problems.push(`rmap_items: counter ${ksm.rmapItemCount}, hashed ${hashed}`);
  if (ri.used !== ksm.rmapItemCount) problems.push(`rmap_items: counter ${ksm.rmapItemCount}, pool ${ri.used}`);

  // The stable tree and its chains.
  const usedTrees = new Set<number>();
  let stableItems = 0;
  for (let n = rbFirst(ti, ksm.stableRoot); n; n = rbNext(ti, n)) {
    usedTrees.add(n);
    if (!ti.isLive(n)) problems.push(`stable node ${n} is free`);
    if (ti.gen[n] !== 0) problems.push(`stable node ${n} carries unstable generation ${ti.gen[n]}`);
    const head = ti.rmapItem[n];
    if (!live.has(head)) {
      problems.push(`stable node ${n}: head ${head} is not a live item`);
      continue;
    }
    let first = head;
    for (let guard = 0; ri.prev[first] && guard <= live.size; guard++) first = ri.prev[first];
    let sawHead = false;
    for (let m = first, p = 0, guard = 0; m; p = m, m = ri.next[m], guard++) {
      if (guard > live.size) {
        problems.push(`stable node ${n}: chain loops`);
        break;
      }
      stableItems++;
      if (m === head) sawHead = true;
      if (ri.prev[m] !== p) problems.push(`stable node ${n}: item ${m}'s prev is ${ri.prev[m]}, not ${p}`);
      if (!ri.stableTree[m] || ri.treeItem[m] !== n) problems.push(`stable node ${n}: item ${m} has stable_tree ${ri.stableTree[m]}, tree_item ${ri.treeItem[m]}`);
    }
    if (!sawHead) problems.push(`stable node ${n}: head ${head} is not on its chain`);
  }
  let stableFlagged = 0;
  for (const id of live) if (ri.stableTree[id]) stableFlagged++;
  if (stableFlagged !== stableItems) problems.push(`${stableFlagged} items flagged stable_tree, ${stableItems} on stable chains`);
  if (stableItems !== ksm.stableItemCount) problems.push(`stable items: counter ${ksm.stableItemCount}, recomputed ${stableItems}`);

  // The current unstable tree.
  let unstable = 0;
  for (let n = rbFirst(ti, ksm.unstableRoot); n; n = rbNext(ti, n)) {
    unstable++;
    if (!ti.isLive(n)) problems.push(`unstable node ${n} is free`);
    if (ti.gen[n] !== ksm.unstableGen) problems.push(`unstable node ${n} of generation ${ti.gen[n]}, tree is ${ksm.unstableGen}`);
    const it = ti.rmapItem[n];
    if (!live.has(it) || ri.stableTree[it] || ri.treeItem[it] !== n) problems.push(`unstable node ${n}: item ${it} does not point back`);
  }
  if (unstable !== ksm.unstableItemCount) problems.push(`unstable items: counter ${ksm.unstableItemCount}, recomputed ${unstable}`);

  // Every other tree_item in use belongs to exactly one unstable-state item.
  for (const id of live) {
    const t = ri.treeItem[id];
    if (!t || ri.stableTree[id]) continue;
    if (!ti.isLive(t)) problems.push(`item ${id}: tree_item ${t} is free`);
    if (usedTrees.has(t)) problems.push(`tree_item ${t} used twice`);
    usedTrees.add(t);
  }
  if (usedTrees.size !== ti.used) problems.push(`tree_items: ${ti.used} allocated, ${usedTrees.size} referenced (leak)`);
  return problems;
}
