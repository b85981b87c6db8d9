/**
 * The two record types of the 2009 tree merger (seeds 002 and 000) as
 * struct-of-arrays pools. Ids are positive integers; 0 is NULL. A freed id
 * goes on a free list and comes back zeroed from the next alloc, as
 * kmem_cache_zalloc hands back a freed object.
 *
 * struct rmap_item (RmapItems2009), every array indexed by item id:
 *
 *   mm[i]           id of the mm the item points into (rmap_item->mm)
 *   address[i]      the virtual address the item stands for, exactly as the
 *                   scanner computed it (slot->addr + page_index * PAGE_SIZE,
 *                   so unaligned when the slot's address was)
 *   oldchecksum[i]  the page's checksum when it was last computed for this
 *                   address (valid in every state; a holder's only content)
 *   stableTree[i]   rmap_item->stable_tree: 1 when the item is in a stable
 *                   node's chain, 0 otherwise (holder or unstable)
 *   treeItem[i]     rmap_item->tree_item: the stable node (stableTree 1), or
 *                   the tree_item it was inserted into the unstable tree as
 *                   (stableTree 0; that tree may have been flushed since),
 *                   or 0 (a holder)
 *   next[i]         the next item of the stable node's chain, 0 at the end
 *                   (valid when stableTree is 1)
 *   prev[i]         the previous item of the chain, 0 at the start (valid
 *                   when stableTree is 1); the node's head pointer need not
 *                   be the start of its chain
 *
 * The three states of an item (spec/algorithms.md §b): H (holder: stableTree
 * 0, treeItem 0), U (unstable: stableTree 0, treeItem set), S (stable:
 * stableTree 1, treeItem the node).
 *
 * struct tree_item (TreeItems), indexed by tree item id:
 *
 *   left/right/parent/color  the rb_node (RbStore, lib/rbtree.c)
 *   rmapItem[t]     tree_item->rmap_item: the only item of an unstable
 *                   node, or the head pointer of a stable node's chain
 *   gen[t]          (simulator only) the unstable-tree generation the node
 *                   was linked into: equal to the merger's current
 *                   generation exactly while the node is linked in the
 *                   current unstable tree; 0 for stable nodes and for nodes
 *                   erased from the unstable tree
 */
import { growFloat64, growInt32, growUint32, growUint8 } from '../memory/content-store.js';
import type { RbStore } from '../rbtree.js';

export class RmapItems2009 {
  mm = new Int32Array(1024);
  address = new Float64Array(1024);
  oldchecksum = new Uint32Array(1024);
  stableTree = new Uint8Array(1024);
  treeItem = new Int32Array(1024);
  next = new Int32Array(1024);
  prev = new Int32Array(1024);
  private free: number[] = [];
  private top = 1;
  /** Items in use. */
  used = 0;

  /** alloc_rmap_item: kmem_cache_zalloc, a zeroed item. */
  alloc(): number {
    let id = this.free.pop();
    if (id === undefined) {
      id = this.top++;
      if (id >= this.mm.length) this.grow(id + 1);
    }
    this.mm[id] = 0;
    this.address[id] = 0;
    this.oldchecksum[id] = 0;
    this.stableTree[id] = 0;
    this.treeItem[id] = 0;
    this.next[id] = 0;
    this.prev[id] = 0;
    this.used++;
    return id;
  }

  /** free_rmap_item */
  release(id: number): void {
    this.mm[id] = 0;
    this.used--;
    this.free.push(id);
  }

  /** Whether id is an allocated item (for the invariant checker). */
  isLive(id: number): boolean {
    return id > 0 && id < this.top && this.mm[id] !== 0;
  }

  /** One past the highest id handed out. */
  get limit(): number {
    return this.top;
  }

  static readonly BYTES_PER_ITEM = 4 + 8 + 4 + 1 + 4 + 4 + 4;

  memoryBytes(): number {
    return this.mm.length * RmapItems2009.BYTES_PER_ITEM;
  }

  private grow(min: number): void {
    let n = this.mm.length;
    while (n < min) n *= 2;
    this.mm = growInt32(this.mm, n);
    this.address = growFloat64(this.address, n);
    this.oldchecksum = growUint32(this.oldchecksum, n);
    this.stableTree = growUint8(this.stableTree, n);
    this.treeItem = growInt32(this.treeItem, n);
    this.next = growInt32(this.next, n);
    this.prev = growInt32(this.prev, n);
  }
}

export class TreeItems implements RbStore {
  left = new Int32Array(1024);
  right = new Int32Array(1024);
  parent = new Int32Array(1024);
  color = new Uint8Array(1024);
  rmapItem = new Int32Array(1024);
  gen = new Uint32Array(1024);
  private free: number[] = [];
  private top = 1;
  private live = new Uint8Array(1024);
  /** Tree items in use. */
  used = 0;

  /** alloc_tree_item: kmem_cache_zalloc, a zeroed tree_item. */
  alloc(): number {
    let id = this.free.pop();
    if (id === undefined) {
      id = this.top++;
      if (id >= this.left.length) this.grow(id + 1);
    }
    this.left[id] = 0;
    this.right[id] = 0;
    this.parent[id] = 0;
    this.color[id] = 0;
    this.rmapItem[id] = 0;
    this.gen[id] = 0;
    this.live[id] = 1;
    this.used++;
    return id;
  }

  /** free_tree_item */
  release(id: number): void {
    this.live[id] = 0;
    this.used--;
    this.free.push(id);
  }

  isLive(id: number): boolean {
    return id > 0 && id < this.top && this.live[id] === 1;
  }

  static readonly BYTES_PER_ITEM = 4 * 3 + 1 + 4 + 4 + 1;

  memoryBytes(): number {
    return this.left.length * TreeItems.BYTES_PER_ITEM;
  }

  private grow(min: number): void {
    let n = this.left.length;
    while (n < min) n *= 2;
    this.left = growInt32(this.left, n);
    this.right = growInt32(this.right, n);
    this.parent = growInt32(this.parent, n);
    this.color = growUint8(this.color, n);
    this.rmapItem = growInt32(this.rmapItem, n);
    this.gen = growUint32(this.gen, n);
    this.live = growUint8(this.live, n);
  }
}
