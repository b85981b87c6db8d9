/**
 * A pool of rmap_items in struct-of-arrays form, shared by the tree mergers.
 * Item ids are positive; 0 is NULL. Every array is indexed by item id:
 *
 *   mm[i]       id of the mm the item points into (rmap_item->mm)
 *   address[i]  the virtual address it tracks, page aligned
 *   flags[i]    the low bits the seeds keep in rmap_item->address
 *               (SEQNR_MASK, NODE_FLAG, STABLE_FLAG of 2.6.32)
 *   word[i]     2.6.32 union { oldchecksum; next }: the checksum while
 *               unstable, the next item of a stable node's list while stable,
 *               so leaving the stable tree (next = NULL) zeroes the checksum
 *   lnext       the mm_slot's rmap_list, sorted by address: singly linked
 *               and circular through the slot's sentinel item (3.x's
 *               rmap_list is singly linked too; 2.6.32 used a list_head)
 *   left/right/parent/color   the rb_node (RbStore)
 *   prev[i]     previous item of a stable node's list: 2.6.32's union of
 *               prev with the rb_node, so it is the `parent` array
 *
 * List heads (the rmap_list of each mm_slot) are pool items too, so the list
 * code is the kernel's circular list with a sentinel.
 */
import { growFloat64, growInt32, growUint32, growUint8, nextCapacity } from '../memory/content-store.js';
import type { RbStore } from '../rbtree.js';

export class RmapItems implements RbStore {
  mm = new Int32Array(1024);
  address = new Float64Array(1024);
  flags = new Uint16Array(1024);
  word = new Uint32Array(1024);
  lnext = new Int32Array(1024);
  left = new Int32Array(1024);
  right = new Int32Array(1024);
  parent = new Int32Array(1024);
  color = new Uint8Array(1024);
  private free: number[] = [];
  private next = 1;
  /** Items in use, list heads included. */
  used = 0;

  /** union { rb_node; prev }: the stable list's back link shares the rb_node's parent word. */
  get prev(): Int32Array {
    return this.parent;
  }

  /** Makes room for `n` items in all without growing again. */
  reserve(n: number): void {
    if (n + 1 > this.mm.length) this.grow(n + 1, n + 1);
  }

  /** kmem_cache_zalloc: a zeroed item. */
  alloc(): number {
    let id = this.free.pop();
    if (id === undefined) {
      id = this.next++;
      if (id >= this.mm.length) this.grow(id + 1);
    }
    this.mm[id] = 0;
    this.address[id] = 0;
    this.flags[id] = 0;
    this.word[id] = 0;
    this.lnext[id] = 0;
    this.left[id] = 0;
    this.right[id] = 0;
    this.parent[id] = 0;
    this.color[id] = 0;
    this.clearExtra(id);
    this.used++;
    return id;
  }

  /** Zeroes the fields a subclass adds (kmem_cache_zalloc zeroes the whole struct). */
  protected clearExtra(_id: number): void {}

  release(id: number): void {
    this.mm[id] = 0;
    this.used--;
    this.free.push(id);
  }

  /** A new empty circular list: its sentinel item. */
  newList(): number {
    const h = this.alloc();
    this.lnext[h] = h;
    return h;
  }

  /** Links item just after list position `prev`. */
  linkAfter(prev: number, item: number): void {
    this.lnext[item] = this.lnext[prev];
    this.lnext[prev] = item;
  }

  /** Unlinks the item after list position `prev`. */
  unlinkAfter(prev: number): void {
    const item = this.lnext[prev];
    this.lnext[prev] = this.lnext[item];
    this.lnext[item] = 0;
  }

  /** Bytes of typed-array storage (capacity) per item slot. */
  static readonly BYTES_PER_ITEM = 4 + 8 + 2 + 4 + 4 + 4 + 4 + 4 + 1;

  memoryBytes(): number {
    return this.mm.length * RmapItems.BYTES_PER_ITEM;
  }

  protected grow(min: number, exact = 0): void {
    const n = exact || nextCapacity(this.mm.length, min);
    this.mm = growInt32(this.mm, n);
    this.address = growFloat64(this.address, n);
    const f = new Uint16Array(n);
    f.set(this.flags);
    this.flags = f;
    this.word = growUint32(this.word, n);
    this.lnext = growInt32(this.lnext, n);
    this.left = growInt32(this.left, n);
    this.right = growInt32(this.right, n);
    this.parent = growInt32(this.parent, n);
    this.color = growUint8(this.color, n);
  }
}
