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
 *   prev[i]     previous item of a stable node's list
 *   lnext/lprev the mm_slot's rmap_list, sorted by address (list_head)
 *   left/right/parent/color   the rb_node (RbStore)
 *
 * List heads (the rmap_list of each mm_slot) are pool items too, so the list
 * code is the kernel's circular list with a sentinel.
 */
import { growFloat64, growInt32, growUint32, growUint8 } from '../memory/content-store.js';
import type { RbStore } from '../rbtree.js';

export class RmapItems implements RbStore {
  mm = new Int32Array(1024);
  address = new Float64Array(1024);
  flags = new Uint16Array(1024);
  word = new Uint32Array(1024);
  prev = new Int32Array(1024);
  lnext = new Int32Array(1024);
  lprev = new Int32Array(1024);
  left = new Int32Array(1024);
  right = new Int32Array(1024);
  parent = new Int32Array(1024);
  color = new Uint8Array(1024);
  private free: number[] = [];
  private next = 1;
  /** Items in use, list heads included. */
  used = 0;

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
    this.prev[id] = 0;
    this.lnext[id] = 0;
    this.lprev[id] = 0;
    this.left[id] = 0;
    this.right[id] = 0;
    this.parent[id] = 0;
    this.color[id] = 0;
    this.used++;
    return id;
  }

  release(id: number): void {
    this.mm[id] = 0;
    this.used--;
    this.free.push(id);
  }

  /** A new empty circular list: its sentinel item. */
  newList(): number {
    const h = this.alloc();
    this.lnext[h] = h;
    this.lprev[h] = h;
    return h;
  }

  /** list_add_tail(item, before): links item just before `before`. */
  linkBefore(item: number, before: number): void {
    const p = this.lprev[before];
    this.lnext[p] = item;
    this.lprev[item] = p;
    this.lnext[item] = before;
    this.lprev[before] = item;
  }

  /** list_del */
  unlink(item: number): void {
    const p = this.lprev[item];
    const n = this.lnext[item];
    this.lnext[p] = n;
    this.lprev[n] = p;
    this.lnext[item] = 0;
    this.lprev[item] = 0;
  }

  /** Bytes of typed-array storage (capacity) per item slot. */
  static readonly BYTES_PER_ITEM = 4 + 8 + 2 + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 1;

  memoryBytes(): number {
    return this.mm.length * RmapItems.BYTES_PER_ITEM;
  }

  private grow(min: number): void {
    let n = this.mm.length;
    while (n < min) n *= 2;
    this.mm = growInt32(this.mm, n);
    this.address = growFloat64(this.address, n);
    const f = new Uint16Array(n);
    f.set(this.flags);
    this.flags = f;
    this.word = growUint32(this.word, n);
    this.prev = growInt32(this.prev, n);
    this.lnext = growInt32(this.lnext, n);
    this.lprev = growInt32(this.lprev, n);
    this.left = growInt32(this.left, n);
    this.right = growInt32(this.right, n);
    this.parent = growInt32(this.parent, n);
    this.color = growUint8(this.color, n);
  }
}
