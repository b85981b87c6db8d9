/**
 * The 3.9 and 6.18 mergers' bookkeeping recomputed from their data
 * structures: every stable node (regular, or a dup of a chain) with items
 * counts one in pages_shared and the rest of its items in pages_sharing;
 * unstable nodes are the items with UNSTABLE_FLAG; rmap_items are the items
 * on the mm_slots' lists (sorted by address); each listed item points back
 * to its node; a node's page points back to it (or the node is stale); 6.18
 * also keeps rmap_hlist_len, the chain and dup counts and per-mm counters.
 * Tests run it after every pass; benchmarks never do.
 */
import { rbFirst, rbNext } from '../rbtree.js';
import { STABLE_FLAG, UNSTABLE_FLAG } from './mainline-3x.js';
import type { Mainline39 } from './mainline-39.js';
import type { Mainline618 } from './mainline-618.js';
import { DUP, IN_TREE, STABLE_NODE_CHAIN } from './stable-nodes.js';

export function checkMainline3x(ksm: Mainline39 | Mainline618): string[] {
  const problems: string[] = [];
  const it = ksm.items;
  const n = ksm.nodes;
  const is618 = 'stableNodeChains' in ksm;
  let items = 0;
  let unstable = 0;
  const perMmItems = new Map<number, number>();
  const perMmMerging = new Map<number, number>();
  for (const slot of ksm.slotList()) {
    let prevAddr = -1;
    for (let i = it.lnext[slot.rmapList]; i !== slot.rmapList; i = it.lnext[i]) {
      items++;
      const mm = it.mmId(i);
      perMmItems.set(mm, (perMmItems.get(mm) ?? 0) + 1);
      const addr = it.addr(i);
      if (addr <= prevAddr) problems.push(`mm ${slot.mm?.id}: rmap_list not sorted at 0x${addr.toString(16)}`);
      prevAddr = addr;
      if (mm !== slot.mm?.id) problems.push(`item ${i} on mm ${slot.mm?.id}'s list points to mm ${mm}`);
      const f = it.flagsOf(i);
      if (f & UNSTABLE_FLAG && f & STABLE_FLAG) problems.push(`item ${i} is both stable and unstable`);
      if (f & UNSTABLE_FLAG) unstable++;
      if (f & STABLE_FLAG) perMmMerging.set(mm, (perMmMerging.get(mm) ?? 0) + 1);
    }
  }
  let shared = 0;
  let sharing = 0;
  let chains = 0;
  let dups = 0;
  const checkNode = (node: number, where: string) => {
    let len = 0;
    for (let i = n.hlist[node], prev = 0; i; prev = i, i = it.hnext[i]) {
      len++;
      if (it.hprev[i] !== prev) problems.push(`${where} ${node}: item ${i}'s hlist prev is ${it.hprev[i]}, not ${prev}`);
      if (it.head[i] !== node) problems.push(`${where} ${node}: item ${i} points to node ${it.head[i]}`);
      if (!(it.flagsOf(i) & STABLE_FLAG)) problems.push(`${where} ${node}: item ${i} lacks STABLE_FLAG`);
    }
    if (len) {
      shared++;
      sharing += len - 1;
    }
    if (is618 && n.len[node] !== len) problems.push(`${where} ${node}: rmap_hlist_len ${n.len[node]}, ${len} items`);
    // A node whose page no longer points back is stale, and may still hold
    // rmap_items: the page was freed when its last mapping went (a COW, an
    // unmap) and its frame reused, maybe for another KSM page, while the
    // items wait for their mms' next scan. The kernel finds that out lazily
    // (get_ksm_page: page->mapping != the node) and prunes the node then; the
    // soak met it (seed 20091124, world 1467: node 3's page 19 reused by node 4).
  };
  const roots = ksm.rootStableTree.slice(0, ksm.ksmNrNodeIds);
  roots.forEach((root, nid) => {
    for (let node = rbFirst(n, root); node; node = rbNext(n, node)) {
      if (n.kind[node] !== IN_TREE) problems.push(`node ${node} in tree ${nid} has kind ${n.kind[node]}`);
      if (n.len[node] === STABLE_NODE_CHAIN) {
        chains++;
        for (let d = n.hlist[node], prev = 0; d; prev = d, d = n.lnext[d]) {
          dups++;
          if (n.kind[d] !== DUP) problems.push(`chain ${node}: dup ${d} has kind ${n.kind[d]}`);
          if (n.lprev[d] !== prev || n.up[d] !== node) problems.push(`chain ${node}: dup ${d} links wrong`);
          checkNode(d, 'dup');
        }
      } else {
        if (n.nid[node] !== nid) problems.push(`node ${node} in tree ${nid} has nid ${n.nid[node]}`);
        checkNode(node, 'node');
      }
    }
  });
  for (let node = n.lnext[ksm.migrateNodes]; node !== ksm.migrateNodes; node = n.lnext[node]) checkNode(node, 'migrate node');
  const check = (name: string, counted: number, kept: number) => {
    if (counted !== kept) problems.push(`${name}: counter says ${kept}, recomputed ${counted}`);
  };
  check('pages_shared', shared, ksm.pagesShared);
  check('pages_sharing', sharing, ksm.pagesSharing);
  check('pages_unshared', unstable, ksm.pagesUnshared);
  check('rmap_items', items, ksm.rmapItems);
  if (is618) {
    const k = ksm as Mainline618;
    check('stable_node_chains', chains, k.stableNodeChains);
    check('stable_node_dups', dups, k.stableNodeDups);
    for (const mm of ksm.memory.mms.values()) {
      if (mm.exiting) continue;
      check(`mm ${mm.id} ksm_rmap_items`, perMmItems.get(mm.id) ?? 0, k.mmKsmRmapItems(mm));
      check(`mm ${mm.id} ksm_merging_pages`, perMmMerging.get(mm.id) ?? 0, k.mmKsmMergingPages(mm));
    }
  }
  return problems;
}
