/**
 * A pool of rmap_items in struct-of-arrays form, shared by the tree mergers.
 * Item ids are positive; 0 is NULL. Every array is indexed by item id:
 *
 *   lo[i]       the low 32 bits of rmap_item->address: the page-aligned
 *               address with the flags the seeds keep in its low bits
 *               (SEQNR_MASK, NODE_FLAG, STABLE_FLAG of 2.6.32; at most 12
 *               bits, below PAGE_SHIFT, as in the kernel)
 *   mmhi[i]     rmap_item->mm (its id, bits 0..16) and bits 32..46 of the
 *               address (bits 17..31): user addresses lie below TASK_SIZE
 *               (2^47), so lo and mmhi hold the pair in 8 bytes, not 14
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
 * Read and write mm, address and flags through mmId/addr/flagsOf and their
 * setters: the packing is this file's business.
 *
 * List heads (the rmap_list of each mm_slot) are pool items too, so the list
 * code is the kernel's circular list with a sentinel.
 */
import { growInt32, growUint32, growUint8, nextCapacity } from '../memory/content-store.js';
import { MM_ID_MAX } from '../memory/mm.js';
import type { RbStore } from '../rbtree.js';

/** The low bits of rmap_item->address that hold flags (below PAGE_SHIFT). */
export const RMAP_FLAGS_MASK = 0xfff;
/** Bits of mmhi that hold the mm id; the address bits above 32 sit above them. */
const MM_BITS = 17;
/** The largest mm id an rmap_item can point to: the engine creates no more (memory/mm.ts). */
export const RMAP_MAX_MM_ID = (1 << MM_BITS) - 1;
if (RMAP_MAX_MM_ID !== MM_ID_MAX) throw new Error('rmap_item packing and MM_ID_MAX disagree');
/** Addresses at or above this (2^47, just above TASK_SIZE) do not fit the packing. */
const ADDR_LIMIT = 2 ** (32 + 32 - MM_BITS);

/** setMmAddr's error, out of line: building the message there would keep it from being inlined. */
function unpackable(mm: number, addr: number): never {
  if (!(mm >= 0 && mm <= RMAP_MAX_MM_ID)) {
    throw new RangeError(`rmap_item: mm id ${mm} does not fit in ${MM_BITS} bits (at most ${RMAP_MAX_MM_ID} mms may have rmap_items)`);
  }
  throw new RangeError(`rmap_item: address 0x${addr.toString(16)} is not a page-aligned user address below 0x${ADDR_LIMIT.toString(16)}`);
}

export class RmapItems implements RbStore {
  /** rmap_item->address, low 32 bits, flags included (see the layout above). */
  private lo = new Uint32Array(1024);
  /** rmap_item->mm's id, and the address bits above 32. */
  private mmhi = new Uint32Array(1024);
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

  /** Item slots the arrays hold now (ids 0 .. capacity - 1). */
  get capacity(): number {
    return this.lnext.length;
  }

  // The accessors below spell their constants as literals (0x1ffff and 17
  // for MM_BITS, 0xfff for RMAP_FLAGS_MASK, 4294967296 = 2^32, by which the
  // address is split exactly, as shifts are 32-bit): a module constant costs
  // a hole check in the bytecode, and V8 inlines these into the scan loops
  // only while they stay small.

  /** rmap_item->mm, as the mm's id. */
  mmId(i: number): number {
    return this.mmhi[i] & 0x1ffff;
  }

  /** rmap_item->address & PAGE_MASK: the page-aligned address, without the flags. */
  addr(i: number): number {
    const lo = this.lo[i];
    return (this.mmhi[i] >>> 17) * 4294967296 + (lo - (lo & 0xfff));
  }

  /**
   * rmap_item->mm = mm; rmap_item->address = address, keeping the flags.
   * Throws on what the packing cannot hold rather than alias another item;
   * the message is built out of line, so this stays small enough to inline.
   */
  setMmAddr(i: number, mm: number, addr: number): void {
    const hi = Math.floor(addr / 4294967296);
    const lo = addr - hi * 4294967296;
    // lo !== lo >>> 0 catches NaN and fractions; hi >>> 15, negatives and 2^47 up.
    if (mm >>> 17 !== 0 || hi >>> 15 !== 0 || lo !== lo >>> 0 || (lo & 0xfff) !== 0) unpackable(mm, addr);
    this.mmhi[i] = (hi << 17) | mm;
    this.lo[i] = lo + (this.lo[i] & 0xfff);
  }

  /** rmap_item->address & ~PAGE_MASK: SEQNR and the node/stable flags. */
  flagsOf(i: number): number {
    return this.lo[i] & 0xfff;
  }

  /** Replaces the flags; setFlags(i, 0) is the kernel's `rmap_item->address &= PAGE_MASK`. */
  setFlags(i: number, f: number): void {
    this.lo[i] = (this.lo[i] & ~0xfff) | (f & 0xfff);
  }

  /** rmap_item->address |= f */
  orFlags(i: number, f: number): void {
    this.lo[i] |= f & 0xfff;
  }

  /** rmap_item->address &= ~f */
  clearFlags(i: number, f: number): void {
    this.lo[i] &= ~(f & 0xfff);
  }

  /** Makes room for `n` items in all without growing again. */
  reserve(n: number): void {
    if (n + 1 > this.capacity) this.grow(n + 1, n + 1);
  }

  /** kmem_cache_zalloc: a zeroed item. */
  alloc(): number {
    let id = this.free.pop();
    if (id === undefined) {
      id = this.next++;
      if (id >= this.capacity) this.grow(id + 1);
    }
    this.lo[id] = 0;
    this.mmhi[id] = 0;
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
    this.mmhi[id] = 0;
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

  /** Bytes of typed-array storage (capacity) per item slot: lo, mmhi, word, lnext, left, right, parent, color. */
  static readonly BYTES_PER_ITEM = 4 + 4 + 4 + 4 + 4 + 4 + 4 + 1;

  memoryBytes(): number {
    return this.capacity * RmapItems.BYTES_PER_ITEM;
  }

  protected grow(min: number, exact = 0): void {
    const n = exact || nextCapacity(this.capacity, min);
    this.lo = growUint32(this.lo, n);
    this.mmhi = growUint32(this.mmhi, n);
    this.word = growUint32(this.word, n);
    this.lnext = growInt32(this.lnext, n);
    this.left = growInt32(this.left, n);
    this.right = growInt32(this.right, n);
    this.parent = growInt32(this.parent, n);
    this.color = growUint8(this.color, n);
  }
}
