/**
 * struct stable_node (3.x) / struct ksm_stable_node (6.x) as a
 * struct-of-arrays pool. Ids are positive, 0 is NULL; every array is indexed
 * by node id:
 *
 *   left/right/parent/color  the rb_node, while the node is in a stable tree
 *                            (a regular node, or a chain)
 *   kind[n]      where the node is (the C overlays `head` on the rb_node and
 *                compares it with two addresses): IN_TREE, DUP (head ==
 *                STABLE_NODE_DUP_HEAD: listed in a chain's hlist) or MIGRATE
 *                (head == &migrate_nodes: waiting on that list)
 *   hlist[n]     first rmap_item of the node's hlist (regular node or dup);
 *                for a chain, the first dup of its hlist of dups
 *   kpfn[n]      the frame of the KSM page (the keyhole: the node holds no
 *                reference; the page points back through Frames.owner)
 *   pruneTime[n] chain_prune_time, in jiffies (a chain only; the C puts it
 *                in a union with kpfn)
 *   len[n]       rmap_hlist_len (6.x): items in hlist, or STABLE_NODE_CHAIN
 *   nid[n]       the NUMA node of the stable tree it is linked in
 *   lnext/lprev  hlist_dup links while a dup (lprev 0: first of its chain,
 *                `up` names the chain), list links while on migrate_nodes
 *   up[n]        the chain a dup belongs to
 */
import { growFloat64, growInt32, growUint16, growUint8, nextCapacity } from '../memory/content-store.js';
import type { RbStore } from '../rbtree.js';

export const IN_TREE = 0;
export const DUP = 1;
export const MIGRATE = 2;

/** rmap_hlist_len of a chain: any negative number, but not -1, to catch underflows. */
export const STABLE_NODE_CHAIN = -1024;

export class StableNodes implements RbStore {
  left = new Int32Array(256);
  right = new Int32Array(256);
  parent = new Int32Array(256);
  color = new Uint8Array(256);
  kind = new Uint8Array(256);
  hlist = new Int32Array(256);
  kpfn = new Int32Array(256);
  pruneTime = new Float64Array(256);
  len = new Int32Array(256);
  nid = new Uint16Array(256);
  lnext = new Int32Array(256);
  lprev = new Int32Array(256);
  up = new Int32Array(256);
  private free: number[] = [];
  private next = 1;
  /** Nodes allocated (chains, dups, regular nodes and list heads). */
  used = 0;

  /** alloc_stable_node (kmem_cache_alloc: the fields are set by the caller; zeroed here). */
  alloc(): number {
    let id = this.free.pop();
    if (id === undefined) {
      id = this.next++;
      if (id >= this.kind.length) this.grow(id + 1);
    }
    this.left[id] = 0;
    this.right[id] = 0;
    this.parent[id] = 0;
    this.color[id] = 0;
    this.kind[id] = IN_TREE;
    this.hlist[id] = 0;
    this.kpfn[id] = 0;
    this.pruneTime[id] = 0;
    this.len[id] = 0;
    this.nid[id] = 0;
    this.lnext[id] = 0;
    this.lprev[id] = 0;
    this.up[id] = 0;
    this.used++;
    return id;
  }

  /** free_stable_node */
  release(id: number): void {
    this.kpfn[id] = 0;
    this.used--;
    this.free.push(id);
  }

  isChain(id: number): boolean {
    return this.len[id] === STABLE_NODE_CHAIN;
  }

  isDup(id: number): boolean {
    return this.kind[id] === DUP;
  }

  /** A new empty circular list (LIST_HEAD): its sentinel node. */
  newList(): number {
    const h = this.alloc();
    this.lnext[h] = h;
    this.lprev[h] = h;
    return h;
  }

  /** list_add(node, head): right after the head. */
  listAdd(node: number, head: number): void {
    const first = this.lnext[head];
    this.lnext[node] = first;
    this.lprev[node] = head;
    this.lprev[first] = node;
    this.lnext[head] = node;
  }

  /** list_del */
  listDel(node: number): void {
    const p = this.lprev[node];
    const n = this.lnext[node];
    this.lnext[p] = n;
    this.lprev[n] = p;
    this.lnext[node] = 0;
    this.lprev[node] = 0;
  }

  /** hlist_add_head(&dup->hlist_dup, &chain->hlist) */
  dupAddHead(dup: number, chain: number): void {
    const first = this.hlist[chain];
    this.lnext[dup] = first;
    this.lprev[dup] = 0;
    if (first) this.lprev[first] = dup;
    this.hlist[chain] = dup;
    this.up[dup] = chain;
  }

  /** hlist_del(&dup->hlist_dup) */
  dupDel(dup: number): void {
    const p = this.lprev[dup];
    const n = this.lnext[dup];
    if (p) this.lnext[p] = n;
    else this.hlist[this.up[dup]] = n;
    if (n) this.lprev[n] = p;
    this.lnext[dup] = 0;
    this.lprev[dup] = 0;
  }

  static readonly BYTES_PER_NODE = 4 * 4 + 1 + 1 + 4 + 4 + 8 + 4 + 2 + 4 * 3;

  memoryBytes(): number {
    return this.kind.length * StableNodes.BYTES_PER_NODE;
  }

  private grow(min: number): void {
    const n = nextCapacity(this.kind.length, min);
    this.left = growInt32(this.left, n);
    this.right = growInt32(this.right, n);
    this.parent = growInt32(this.parent, n);
    this.color = growUint8(this.color, n);
    this.kind = growUint8(this.kind, n);
    this.hlist = growInt32(this.hlist, n);
    this.kpfn = growInt32(this.kpfn, n);
    this.pruneTime = growFloat64(this.pruneTime, n);
    this.len = growInt32(this.len, n);
    this.nid = growUint16(this.nid, n);
    this.lnext = growInt32(this.lnext, n);
    this.lprev = growInt32(this.lprev, n);
    this.up = growInt32(this.up, n);
  }
}
