/**
 * struct rmap_item of Linux 3.x and 6.x (seed 004; mm/ksm.c of 6.18) as a
 * struct-of-arrays pool: the 2.6.32 pool (RmapItems) plus the fields the
 * later kernels added. Every array is indexed by item id, 0 is NULL:
 *
 *   lo[i], mmhi[i]      rmap_item->mm and ->address, packed as in RmapItems
 *                       (mmId, addr); the low bits of the address keep the
 *                       flags (flagsOf): SEQNR_MASK, UNSTABLE_FLAG (a node of
 *                       the unstable tree) and STABLE_FLAG (listed from a
 *                       stable node)
 *   word[i]             oldchecksum, its own field since 3.x: an item that
 *                       leaves the stable tree keeps its last checksum
 *   lnext               the mm_slot's singly linked rmap_list
 *   left/right/parent/color   rb_node, while a node of the unstable tree
 *   head/hnext/hprev    the other arm of the same union, while listed from a
 *                       stable node: head is the stable_node, hnext/hprev
 *                       the hlist links (hprev 0: first in the node's hlist).
 *                       They share the rb_node's words: head = left,
 *                       hnext = right, hprev = parent
 *   nid[i]              the unstable tree (NUMA node) the item is linked in,
 *                       in a union with anon_vma in C
 *   age[i], skips[i]    6.x smart scanning: rmap_age_t age, remaining_skips
 */
import { growUint16, growUint8 } from '../memory/content-store.js';
import { RmapItems } from './rmap-items.js';

export class RmapItems3x extends RmapItems {
  nid = new Uint16Array(1024);
  age = new Uint8Array(1024);
  skips = new Uint8Array(1024);

  /** rmap_item->head: the stable_node heading the hlist (union with the rb_node). */
  get head(): Int32Array {
    return this.left;
  }

  /** rmap_item->hlist.next */
  get hnext(): Int32Array {
    return this.right;
  }

  /** rmap_item->hlist.pprev, as the previous item (0: the node's hlist.first points here). */
  get hprev(): Int32Array {
    return this.parent;
  }

  static readonly BYTES_PER_ITEM_3X = RmapItems.BYTES_PER_ITEM + 2 + 1 + 1;

  override memoryBytes(): number {
    return this.capacity * RmapItems3x.BYTES_PER_ITEM_3X;
  }

  protected override clearExtra(id: number): void {
    this.nid[id] = 0;
    this.age[id] = 0;
    this.skips[id] = 0;
  }

  protected override grow(min: number, exact = 0): void {
    super.grow(min, exact);
    const n = this.capacity;
    this.nid = growUint16(this.nid, n);
    this.age = growUint8(this.age, n);
    this.skips = growUint8(this.skips, n);
  }
}
