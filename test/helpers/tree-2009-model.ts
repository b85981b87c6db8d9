/**
 * A second, deliberately plain model of seed 000's mm/ksm.c for
 * differential tests of engine/merge/tree-2009.ts: rmap_items and
 * tree_items are objects with pointers, rmap_hash is a Map of strings,
 * the slot list an array, and every function is a literal transcription of
 * the C (no fast paths). It shares only the memory model, the rbtree and
 * jhash with the engine. The engine's documented deviations are taken over
 * (marked DEVIATION) so both stay comparable where the seed is undefined.
 */
import { PAGE_SIZE, VM_IO, VM_PFNMAP, VM_READ, VM_SHARED, VM_WRITE } from '../../src/engine/constants.js';
import { jhash } from '../../src/engine/hash/jhash-lookup2.js';
import { FRAME_ANON, FRAME_KSM } from '../../src/engine/memory/frames.js';
import type { Memory } from '../../src/engine/memory/memory.js';
import type { Mm } from '../../src/engine/memory/mm.js';
import { type RbLink, type RbRoot, type RbStore, rbErase, rbInsertColor, rbLinkNode } from '../../src/engine/rbtree.js';

export interface MSlot {
  mm: Mm;
  addr: number;
  npages: number;
}

export interface MRmapItem {
  mm: Mm;
  address: number;
  oldchecksum: number;
  stableTree: boolean;
  treeItem: MTreeItem | null;
  next: MRmapItem | null;
  prev: MRmapItem | null;
}

export interface MTreeItem {
  id: number;
  rmapItem: MRmapItem;
  /** Generation of the unstable tree it was linked into (DEVIATION bookkeeping), 0 otherwise. */
  gen: number;
}

class Nodes implements RbStore {
  left = new Int32Array(1 << 16);
  right = new Int32Array(1 << 16);
  parent = new Int32Array(1 << 16);
  color = new Uint8Array(1 << 16);
  objs: Array<MTreeItem | undefined> = [];
  private next = 1;
  alloc(rmapItem: MRmapItem): MTreeItem {
    const t = { id: this.next++, rmapItem, gen: 0 };
    this.objs[t.id] = t;
    return t;
  }
}

export class Model2009 {
  slots: MSlot[] = [];
  slotIndex: MSlot | null = null;
  pageIndex = 0;
  rmapHash = new Map<string, MRmapItem>();
  nodes = new Nodes();
  stableRoot: RbRoot = { node: 0 };
  unstableRoot: RbRoot = { node: 0 };
  gen = 1;
  ksmPagesShared = 0;
  wraps = 0;

  constructor(readonly memory: Memory) {}

  private key(mm: Mm, addr: number): string {
    return `${mm.id}:${addr}`;
  }

  private obj(id: number): MTreeItem {
    return this.nodes.objs[id]!;
  }

  private calcChecksum(page: number): number {
    const c = this.memory.contents;
    const id = this.memory.frames.content[page];
    return jhash(c.slabOf(id), c.offsetOf(id), PAGE_SIZE, 17);
  }

  private memcmpPages(a: number, b: number): number {
    const c = this.memory.contents;
    const x = c.slabOf(this.memory.frames.content[a]);
    const xo = c.offsetOf(this.memory.frames.content[a]);
    const y = c.slabOf(this.memory.frames.content[b]);
    const yo = c.offsetOf(this.memory.frames.content[b]);
    for (let i = 0; i < PAGE_SIZE; i++) if (x[xo + i] !== y[yo + i]) return x[xo + i] - y[yo + i];
    return 0;
  }

  private isPresentPte(mm: Mm, addr: number): boolean {
    const v = mm.vmaAt(addr);
    return v !== null && v.frames[Math.floor((addr - v.start) / PAGE_SIZE)] !== 0;
  }

  /** get_user_pages(..., 1, write, 0, ...): the page (referenced) or 0/-EFAULT. */
  private gup(mm: Mm, addr: number, write: boolean): number {
    const v = mm.vmaAt(addr);
    if (v === null || v.flags & (VM_IO | VM_PFNMAP) || !(v.flags & (write ? VM_WRITE : VM_READ))) return -14;
    const base = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
    if (write) this.memory.breakKsm(v, base);
    const f = v.frames[(base - v.start) / PAGE_SIZE];
    if (f) this.memory.frames.get(f);
    return f;
  }

  /** PageKsm = !PageAnon (a MAP_SHARED page is shmem, not anon). */
  private pageKsm(mm: Mm, addr: number, page: number): boolean {
    const v = mm.vmaAt(addr);
    return !(this.memory.frames.flags[page] & FRAME_ANON) || (v !== null && (v.flags & VM_SHARED) !== 0);
  }

  private removeRmapItemFromTree(r: MRmapItem): void {
    const t = r.treeItem;
    r.treeItem = null;
    if (r.stableTree) {
      if (r.prev) r.prev.next = r.next;
      if (r.next) r.next.prev = r.prev;
    }
    if (t) {
      if (r.stableTree) {
        if (!r.next && !r.prev) {
          rbErase(this.nodes, t.id, this.stableRoot);
        } else if (!r.prev) t.rmapItem = r.next!;
        else t.rmapItem = r.prev;
      } else if (t.gen === this.gen) {
        // DEVIATION (engine): a node still linked in the current unstable tree is erased.
        rbErase(this.nodes, t.id, this.unstableRoot);
      }
    }
    this.rmapHash.delete(this.key(r.mm, r.address));
  }

  private tryToMergeOnePage(mm: Mm, addr: number, oldpage: number, newpage: number): number {
    const fr = this.memory.frames;
    let ret = 1;
    fr.get(newpage);
    fr.get(oldpage);
    const vma = mm.findVma(addr)!;
    const a = Math.floor(addr / PAGE_SIZE) * PAGE_SIZE;
    if (a >= vma.start && a < vma.end && vma.frames[(a - vma.start) / PAGE_SIZE] === oldpage) {
      if (this.memory.writeProtect(vma, a, oldpage, 2) && this.memcmpPages(oldpage, newpage) === 0) {
        ret = this.memory.replacePage(vma, a, oldpage, newpage) ? 0 : 1;
      }
    }
    fr.put(oldpage);
    fr.put(newpage);
    return ret;
  }

  private tryToMergeTwoPages(mm1: Mm, page1: number, mm2: Mm, page2: number, addr1: number, addr2: number): number {
    const fr = this.memory.frames;
    let ret = 1;
    if (this.pageKsm(mm2, addr2, page2)) {
      if (mm1.findVma(addr1) === null) return ret;
      if (!(fr.flags[page2] & FRAME_KSM)) return ret; // DEVIATION (engine)
      ret = this.tryToMergeOnePage(mm1, addr1, page1, page2);
      if (!ret) this.ksmPagesShared++;
    } else {
      this.memory.contents.ref(fr.content[page1]);
      const kpage = fr.alloc(fr.content[page1], 0, 0);
      if (mm1.findVma(addr1) === null) {
        fr.put(kpage);
        return ret;
      }
      ret = this.tryToMergeOnePage(mm1, addr1, page1, kpage);
      if (!ret) {
        if (mm2.findVma(addr2) === null) {
          fr.put(kpage);
          return 1;
        }
        ret = this.tryToMergeOnePage(mm2, addr2, page2, kpage);
        if (ret) {
          const tmp = this.gup(mm1, addr1, true);
          if (tmp > 0) fr.put(tmp);
        } else this.ksmPagesShared++;
      }
      fr.put(kpage);
    }
    return ret;
  }

  /** is_zapped_item: returns the KSM page (referenced), or 0 when zapped. */
  private zapped(r: MRmapItem): number {
    let page = 0;
    if (this.isPresentPte(r.mm, r.address)) page = this.gup(r.mm, r.address, false);
    if (page <= 0) return 0;
    if (!this.pageKsm(r.mm, r.address, page)) {
      this.memory.frames.put(page);
      return 0;
    }
    return page;
  }

  /** The chain walk of stable_tree_search / stable_tree_insert: the first live item and its page, or null. */
  private firstLive(node: number, self: MRmapItem | null): [MRmapItem, number] | null {
    let found: MRmapItem | null = this.obj(node).rmapItem;
    while (found) {
      if (!self || !(found.mm === self.mm && found.address === self.address)) {
        const p = this.zapped(found);
        if (p) return [found, p];
        const next: MRmapItem | null = found.next;
        this.removeRmapItemFromTree(found);
        found = next;
        continue;
      }
      found = found.next;
    }
    return null;
  }

  private stableTreeSearch(page: number, self: MRmapItem | null): [MRmapItem, number] | null {
    let node = this.stableRoot.node;
    while (node) {
      const live = this.firstLive(node, self);
      if (!live) return null;
      const ret = this.memcmpPages(page, live[1]);
      if (ret === 0) return live;
      this.memory.frames.put(live[1]);
      node = ret < 0 ? this.nodes.left[node] : this.nodes.right[node];
    }
    return null;
  }

  private stableTreeInsert(page: number, t: MTreeItem, r: MRmapItem): void {
    let parent = 0;
    let link: RbLink = 'root';
    for (;;) {
      const cur = link === 'root' ? this.stableRoot.node : this.nodes[link][parent];
      if (!cur) break;
      const live = this.firstLive(cur, r);
      if (!live) return;
      const ret = this.memcmpPages(page, live[1]);
      parent = cur;
      if (ret === 0) return; // the seed leaks this reference
      this.memory.frames.put(live[1]);
      link = ret < 0 ? 'left' : 'right';
    }
    t.gen = 0;
    rbLinkNode(this.nodes, t.id, parent, link, this.stableRoot);
    rbInsertColor(this.nodes, t.id, this.stableRoot);
    r.stableTree = true;
    r.treeItem = t;
  }

  private unstableTreeSearchInsert(page: number, r: MRmapItem | null): [MTreeItem, number] | null {
    let parent = 0;
    let link: RbLink = 'root';
    for (;;) {
      const cur = link === 'root' ? this.unstableRoot.node : this.nodes[link][parent];
      if (!cur) break;
      const x = this.obj(cur).rmapItem;
      if (!this.isPresentPte(x.mm, x.address)) return null;
      const p2 = this.gup(x.mm, x.address, false);
      if (p2 <= 0) return null;
      const ret = this.memcmpPages(page, p2);
      parent = cur;
      if (ret === 0) return [this.obj(cur), p2];
      this.memory.frames.put(p2);
      link = ret < 0 ? 'left' : 'right';
    }
    if (!r) return null;
    const t = this.nodes.alloc(r);
    t.gen = this.gen;
    r.treeItem = t;
    r.stableTree = false;
    rbLinkNode(this.nodes, t.id, parent, link, this.unstableRoot);
    rbInsertColor(this.nodes, t.id, this.unstableRoot);
    return null;
  }

  private create(mm: Mm, addr: number, checksum: number): MRmapItem {
    const r: MRmapItem = { mm, address: addr, oldchecksum: checksum, stableTree: false, treeItem: null, next: null, prev: null };
    this.rmapHash.set(this.key(mm, addr), r);
    return r;
  }

  private cmpAndMergePage(page: number): void {
    const slot = this.slotIndex!;
    const addr = slot.addr + this.pageIndex * PAGE_SIZE;
    let wait = false;
    let r = this.rmapHash.get(this.key(slot.mm, addr)) ?? null;
    if (r) {
      // update_tree
      if (!r.stableTree) {
        if (r.treeItem) {
          this.removeRmapItemFromTree(r);
          r = null;
        }
      } else {
        const p = this.zapped(r);
        if (!p) {
          this.removeRmapItemFromTree(r);
          wait = true;
          r = null;
        } else this.memory.frames.put(p);
      }
    }
    const found = this.stableTreeSearch(page, r);
    if (found) {
      const [tr, page2] = found;
      const ret = this.tryToMergeTwoPages(slot.mm, page, tr.mm, page2, addr, tr.address);
      this.memory.frames.put(page2);
      if (!ret) {
        if (!r) r = this.create(slot.mm, addr, 0);
        r.next = tr.next;
        r.prev = tr;
        if (tr.next) tr.next.prev = r;
        tr.next = r;
        r.stableTree = true;
        r.treeItem = tr.treeItem;
      }
      return;
    }
    if (r) {
      const checksum = this.calcChecksum(page);
      if (r.oldchecksum !== checksum) {
        r.oldchecksum = checksum;
        return;
      }
    }
    const u = this.unstableTreeSearchInsert(page, r);
    if (u) {
      const [t, page2] = u;
      const x = t.rmapItem;
      const ret = this.tryToMergeTwoPages(slot.mm, page, x.mm, page2, addr, x.address);
      if (!ret) {
        rbErase(this.nodes, t.id, this.unstableRoot);
        t.gen = 0;
        this.stableTreeInsert(page2, t, x);
      }
      this.memory.frames.put(page2);
      return;
    }
    if (!wait && !r) this.create(slot.mm, addr, this.calcChecksum(page));
  }

  private scanGetNextIndex(): number {
    if (!this.slots.length) return -11;
    const slot = this.slotIndex!;
    if (slot.npages - this.pageIndex - 1 !== 0) {
      this.pageIndex++;
      return 0;
    }
    const i = this.slots.indexOf(slot);
    if (i + 1 < this.slots.length) {
      this.slotIndex = this.slots[i + 1];
      this.pageIndex = 0;
      return 0;
    }
    this.unstableRoot = { node: 0 };
    this.gen++;
    this.wraps++;
    this.slotIndex = this.slots[0];
    this.pageIndex = 0;
    return 0;
  }

  ksmScanStart(n: number): number {
    n >>>= 0;
    if (this.slots.length && (this.slotIndex === null || !this.slots.includes(this.slotIndex))) {
      this.slotIndex = this.slots[0];
      this.pageIndex = 0;
    }
    while (n > 0) {
      if (this.scanGetNextIndex()) return -11;
      const slot = this.slotIndex!;
      const addr = slot.addr + this.pageIndex * PAGE_SIZE;
      if (this.isPresentPte(slot.mm, addr)) {
        const page = this.gup(slot.mm, addr, false);
        if (page > 0) {
          if (!this.pageKsm(slot.mm, addr, page)) this.cmpAndMergePage(page);
          this.memory.frames.put(page);
        }
      }
      n--;
    }
    this.scanGetNextIndex();
    return 0;
  }

  /** H, U (linked in the current unstable tree: U*), S or - for an address. */
  stateOf(mm: Mm, addr: number): string {
    const r = this.rmapHash.get(this.key(mm, addr));
    if (!r) return '-';
    if (r.stableTree) return 'S';
    if (!r.treeItem) return `H${r.oldchecksum}`;
    return r.treeItem.gen === this.gen ? 'U*' : 'U';
  }
}
