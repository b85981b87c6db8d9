/**
 * Physical page frames (struct page), as struct-of-arrays indexed by frame
 * number (the pfn). Frame 0 is never used: 0 means "no page" everywhere.
 *
 *   content[f]   id in the ContentStore of the 4096 bytes the frame holds
 *   mapcount[f]  page-table entries mapping the frame (page_mapcount)
 *   refcount[f]  references (page_count): one per mapping, one per get_page
 *                (KSM's own while it works on the page, get_user_pages pins);
 *                the frame is freed when it drops to 0
 *   flags[f]     FRAME_* bits below
 *   node[f]      simulated NUMA node of the frame. Allocated at the first
 *                frame placed on a node other than 0 (NUMA experiments
 *                only), or when `node` is first used; nodeOf() reads 0
 *                without allocating it
 *   owner[f]     for KSM pages: the merger's own handle (3.x: the stable_node
 *                the page points back to through page->mapping); 0 otherwise.
 *                Allocated on first use: the older eras never need it.
 *
 * 13 bytes per frame without node and owner. The tables are sized by
 * reserve() (a workload's pages, plus the KSM page a merge allocates before
 * it frees the page it replaces) or grow by nextCapacity.
 */
import type { ContentStore } from './content-store.js';
import { growInt32, growUint8, nextCapacity } from './content-store.js';

/** PageAnon: an anonymous page (every page of a private anonymous mapping). */
export const FRAME_ANON = 1;
/** PageKsm: a page KSM installed in place of identical anonymous pages. */
export const FRAME_KSM = 2;
/** The frame is allocated (not on the free list). */
export const FRAME_USED = 4;

export class Frames {
  content = new Int32Array(1024);
  mapcount = new Int32Array(1024);
  refcount = new Int32Array(1024);
  flags = new Uint8Array(1024);
  private nodeArray: Uint8Array | null = null;
  private ownerArray: Int32Array | null = null;
  private freeList: number[] = [];
  private next = 1;
  /** Frames currently allocated. */
  used = 0;
  /** Frames ever allocated (a statistic). */
  allocations = 0;

  constructor(private readonly contents: ContentStore) {}

  /** Highest frame number handed out so far, plus one. */
  get limit(): number {
    return this.next;
  }

  /** alloc_page: a new frame holding `content` (whose reference passes to the frame), refcount 1. */
  alloc(content: number, flags: number, node = 0): number {
    let f = this.freeList.pop();
    if (f === undefined) {
      f = this.next++;
      if (f >= this.content.length) this.grow(f + 1);
    }
    this.content[f] = content;
    this.mapcount[f] = 0;
    this.refcount[f] = 1;
    this.flags[f] = flags | FRAME_USED;
    if (this.nodeArray !== null) this.nodeArray[f] = node;
    else if (node !== 0) {
      this.nodeArray = new Uint8Array(this.content.length);
      this.nodeArray[f] = node;
    }
    if (this.ownerArray !== null) this.ownerArray[f] = 0;
    this.used++;
    this.allocations++;
    return f;
  }

  /** get_page */
  get(f: number): void {
    this.refcount[f]++;
  }

  /** put_page: frees the frame (and drops its content) when the last reference goes. */
  put(f: number): void {
    const r = --this.refcount[f];
    if (r > 0) return;
    if (r < 0) throw new Error(`frame ${f}: page_count below zero`);
    if (this.mapcount[f] !== 0) throw new Error(`frame ${f}: freed while mapped ${this.mapcount[f]} times`);
    this.contents.unref(this.content[f]);
    this.content[f] = 0;
    this.flags[f] = 0;
    if (this.ownerArray !== null) this.ownerArray[f] = 0;
    this.used--;
    this.freeList.push(f);
  }

  /**
   * node[f] (see the layout above), allocated on first use: readers should
   * prefer nodeOf(), which costs no table while every frame is on node 0 (a
   * proxy reading 0 would cost a microsecond a read on the merge path).
   */
  get node(): Uint8Array {
    if (this.nodeArray === null) this.nodeArray = new Uint8Array(this.content.length);
    return this.nodeArray;
  }

  /** The NUMA node of frame f: 0 while no frame was ever placed off node 0. */
  nodeOf(f: number): number {
    return this.nodeArray === null ? 0 : this.nodeArray[f];
  }

  /** owner[f] (see the layout above), allocated on first use. */
  get owner(): Int32Array {
    if (this.ownerArray === null) this.ownerArray = new Int32Array(this.content.length);
    return this.ownerArray;
  }

  /** Makes room for `n` frames in all without growing again. */
  reserve(n: number): void {
    if (n + 1 > this.content.length) this.grow(n + 1, n + 1);
  }

  isKsm(f: number): boolean {
    return (this.flags[f] & FRAME_KSM) !== 0;
  }

  isAnon(f: number): boolean {
    return (this.flags[f] & FRAME_ANON) !== 0;
  }

  isUsed(f: number): boolean {
    return (this.flags[f] & FRAME_USED) !== 0;
  }

  /** Replaces the frame's content by `content` (whose reference passes to the frame). */
  setContent(f: number, content: number): void {
    const old = this.content[f];
    this.content[f] = content;
    this.contents.unref(old);
  }

  memoryBytes(): number {
    return this.content.byteLength + this.mapcount.byteLength + this.refcount.byteLength
      + this.flags.byteLength + (this.nodeArray?.byteLength ?? 0) + (this.ownerArray?.byteLength ?? 0);
  }

  private grow(min: number, exact = 0): void {
    const n = exact || nextCapacity(this.content.length, min);
    this.content = growInt32(this.content, n);
    this.mapcount = growInt32(this.mapcount, n);
    this.refcount = growInt32(this.refcount, n);
    this.flags = growUint8(this.flags, n);
    if (this.nodeArray !== null) this.nodeArray = growUint8(this.nodeArray, n);
    if (this.ownerArray !== null) this.ownerArray = growInt32(this.ownerArray, n);
  }
}
