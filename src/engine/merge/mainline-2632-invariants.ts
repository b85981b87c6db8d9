/**
 * The 2.6.32 merger's bookkeeping recomputed from its data structures:
 * pages_shared is the number of stable tree nodes, pages_sharing the items
 * hanging off them, pages_unshared the items flagged as unstable nodes,
 * rmap_items the items on the mm_slots' lists; each list is sorted by
 * address and every stable list is doubly linked both ways.
 */
import { rbFirst, rbNext } from '../rbtree.js';
import { type Mainline2632, NODE_FLAG, STABLE_FLAG } from './mainline-2632.js';

export function checkMainline2632(ksm: Mainline2632): string[] {
  const problems: string[] = [];
  const it = ksm.items;
  let items = 0;
  let unstable = 0;
  for (const slot of ksm.slotList()) {
    let prevAddr = -1;
    for (let i = it.lnext[slot.rmapList]; i !== slot.rmapList; i = it.lnext[i]) {
      items++;
      const addr = it.addr(i);
      if (addr <= prevAddr) problems.push(`mm ${slot.mm?.id}: rmap_list not sorted at 0x${addr.toString(16)}`);
      prevAddr = addr;
      if (it.mmId(i) !== slot.mm?.id) problems.push(`item ${i} on mm ${slot.mm?.id}'s list points to mm ${it.mmId(i)}`);
      const f = it.flagsOf(i);
      if (f & NODE_FLAG && !(f & STABLE_FLAG)) unstable++;
    }
  }
  let shared = 0;
  let sharing = 0;
  for (let n = rbFirst(it, ksm.stableRoot); n; n = rbNext(it, n)) {
    shared++;
    if ((it.flagsOf(n) & (NODE_FLAG | STABLE_FLAG)) !== (NODE_FLAG | STABLE_FLAG)) problems.push(`stable node ${n} has flags 0x${it.flagsOf(n).toString(16)}`);
    for (let m = it.word[n], p = n; m; p = m, m = it.word[m]) {
      sharing++;
      if (it.prev[m] !== p) problems.push(`stable list of node ${n}: item ${m}'s prev is ${it.prev[m]}, not ${p}`);
      if ((it.flagsOf(m) & (NODE_FLAG | STABLE_FLAG)) !== STABLE_FLAG) problems.push(`stable member ${m} has flags 0x${it.flagsOf(m).toString(16)}`);
    }
  }
  const check = (name: string, counted: number, kept: number) => {
    if (counted !== kept) problems.push(`${name}: counter says ${kept}, recomputed ${counted}`);
  };
  check('pages_shared', shared, ksm.pagesShared);
  check('pages_sharing', sharing, ksm.pagesSharing);
  check('pages_unshared', unstable, ksm.pagesUnshared);
  check('rmap_items', items, ksm.rmapItems);
  return problems;
}
