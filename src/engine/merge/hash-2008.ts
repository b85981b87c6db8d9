/**
 * The first public KSM merger (seed 001, "[PATCH 3/4] add ksm kernel shared
 * memory driver", Izik Eidus, 16 November 2008, mm/ksm.c), function for
 * function. Names follow the seed in camelCase so the two can be diffed.
 *
 * Few notes about ksm scanning progress, after the seed's own:
 *
 * In order to reduce excessive scanning, pages are sorted into the hash
 * table, page_hash: the bucket of a page is jhash(page, PAGE_SIZE, 17) mod
 * the table size (calc_hash_index). A page is compared only with the pages
 * filed in its own bucket, and the comparison that decides a merge is
 * pages_identical: HMAC-SHA1 of the first 128 bytes (keyed with 20 random
 * bytes drawn once per module load, the digest of KSM pages cached per frame
 * number), then memcmp of the other 3968 bytes. There is no stability
 * requirement: a page merges the first time the scanner meets it while an
 * identical page is filed in its bucket.
 *
 * After a page is inserted into the hash table its contents may change. In
 * this case ksm must remove the page from the hash table and potentially
 * rehash it; the reverse mapping rmap_hash ((mm, address) -> entry, with the
 * bucket it was filed under, `oldindex`) finds the stale entry when the
 * address is next visited (update_hash). Entries are never removed when
 * their page merges: an address that now maps a KSM page stays filed, and
 * serves as the representative through which later identical pages find
 * that KSM page (the bucket walk re-hashes each candidate, so one whose
 * contents moved to another bucket is passed over).
 *
 * A KSM page is a page KSM allocated with alloc_page(), so it is not
 * anonymous: PageKsm(page) is !PageAnon(page) here (FRAME_ANON clear), and
 * the scanner skips such pages. try_to_merge_two_pages has no undo: when the
 * second mapping fails (two different pages in one bucket) the first address
 * is left alone on a fresh KSM page.
 *
 * Memory regions ("slots": mm, address, page count) are registered through a
 * shared-memory-area (SMA) and kept in one global list in registration order;
 * a scanner is a cursor (slot, page index) over that list. The kernel thread
 * kksmd has one; every SCAN fd has its own, driven from user context
 * (KSM_SCAN). Each batch advances the cursor before it looks at a page and
 * once more at its end, so the position under the cursor when a batch starts
 * is never scanned by it (spec v1-ioctl.md §6).
 *
 * Page references are modelled as the seed takes them (get_user_pages,
 * get_page, put_page), so a page KSM is looking at stays alive even when its
 * mapping goes away meanwhile. Module-load allocations that can fail in the
 * kernel (kmalloc, kzalloc, kmem_cache_zalloc, alloc_page, the crypto
 * transform) go through `failAlloc`, so tests can reach every error return.
 */
import type { Merger, PassCounters } from './merger.js';
import { PAGE_SIZE, VM_IO, VM_PFNMAP, VM_READ, VM_SHARED } from '../constants.js';
import { ERRNO } from '../errno.js';
import { PAGEHASH_LEN } from '../hash/hmac-sha1.js';
import { type ChecksumName, pageChecksum } from '../hash/page-checksum.js';
import { SHA1_DIGEST_SIZE } from '../hash/sha1.js';
import { ContentDigests, Sha1Cache } from './hash-2008-digests.js';
import { jiffiesToUsecs, usecsToJiffies } from '../jiffies.js';
import { ChecksumCache } from '../memory/checksum-cache.js';
import { growFloat64, growInt32 } from '../memory/content-store.js';
import { FRAME_ANON } from '../memory/frames.js';
import type { Memory } from '../memory/memory.js';
import { type Mm, PTE_WRITE, type Vma } from '../memory/mm.js';
import { SeededRandom } from '../random.js';
import { type MergeStats, type MergeWork, mergeWork, newMergeStats } from './stats.js';

/** ksm_control_flags_run (include/linux/ksm.h of 001) */
export const ksm_control_flags_run = 1;

/** Allocation sites whose failure the seed handles (for fault injection). */
export type KsmAllocSite =
  | 'ksm_sma' /* kmalloc in ksm_dev_ioctl_create_shared_memory_area */
  | 'ksm_scan' /* kzalloc in ksm_scan_create */
  | 'ksm_mem_slot' /* kzalloc in ksm_sma_ioctl_register_memory_region */
  | 'page_hash_item' /* alloc_page_hash_item in cmp_and_merge_page */
  | 'rmap_item' /* alloc_rmap_item in cmp_and_merge_page */
  | 'kpage' /* alloc_page in try_to_merge_two_pages */
  | 'tfm'; /* crypto_alloc_hash("hmac(sha1)") in ksm_tfm_init */

export interface Hash2008Options {
  /** module_param page_hash_size: 0 means the default, nr_free_buffer_pages() / 10. Changes results. */
  pageHashSize?: number;
  /** module_param rmap_hash_size: 0 means nr_free_buffer_pages() / 10. Performance only. */
  rmapHashSize?: number;
  /** module_param sha1_hash_size: 0 means nr_free_buffer_pages() / 32. No observable effect. */
  sha1HashSize?: number;
  /** nr_free_buffer_pages() of the simulated machine at module load (the defaults above). */
  nrFreeBufferPages: number;
  /** Seed of get_random_bytes (the HMAC key drawn by ksm_tfm_init). */
  randomSeed?: number;
  /** Fault injection: return true to make that allocation fail. */
  failAlloc?: (site: KsmAllocSite) => boolean;
}

/**
 * struct ksm_mem_slot - hold information for an userspace scanning range
 * (the scanning for this region will be from addr untill addr + npages *
 * PAGE_SIZE inside mm).
 */
export class KsmMemSlot {
  /** On the global `slots` list (link); false once list_del'd. */
  linked = true;
  /** On its SMA's list (sma_link); false once kfree'd. A freed slot may still be linked (see removeMmFromHash). */
  allocated = true;
  constructor(
    /** The mm of the task that registered it, with a reference (get_task_mm). */
    readonly mm: Mm,
    /** unsigned long addr: the begining of the virtual address, as given (not checked, not aligned). */
    readonly addr: number,
    /** int npages: number of pages to share (a __u32 stored into an int: 2^31 and above are negative). */
    readonly npages: number,
  ) {}
}

/** struct ksm_sma - shared memory area: the slots registered through one SMA fd. */
export class KsmSma {
  /** sma_slots, in registration order. */
  readonly slots: KsmMemSlot[] = [];
}

/**
 * struct ksm_scan - cursor for scanning
 * @slot_index: the current slot we are scanning
 * @page_index: the page inside the sma that is currently being scanned
 */
export class KsmScan {
  slotIndex: KsmMemSlot | null = null;
  /** unsigned long */
  pageIndex = 0;
  /** Simulator only: times scan_get_next_index wrapped to the first slot (completed passes). */
  wraps = 0;
  /** Simulator only: positions visited (loop iterations of ksm_scan_start, present or not). */
  positions = 0;
  /** Simulator only: called at each wrap, after the cursor moved back to the first slot (a pass ended). */
  onWrap: (() => void) | null = null;
}

/** The values of struct ksm_kthread_info (2008 layout), as unsigned 32-bit numbers. */
export interface KthreadInfo2008 {
  sleep: number;
  pages_to_scan: number;
  max_pages_to_merge: number;
  flags: number;
}

/** The values of struct ksm_user_scan, as unsigned 32-bit numbers. */
export interface UserScan2008 {
  pages_to_scan: number;
  max_pages_to_merge: number;
  flags: number;
}

/** The state of a batch at a wrap of its cursor (ksmScanStart's shortcut). */
interface WrapRecord {
  n: number;
  mutations: number;
  wraps: number;
  positions: number;
  stats: MergeStats;
}

/** One page_hash entry, for inspection and tests. */
export interface PageHashEntry {
  mm: number;
  addr: number;
  /** The bucket it is filed under (rmap_item.oldindex). */
  bucket: number;
}

/** Bucket heads of a hash table: a typed array for ordinary sizes, a map beyond. */
interface Heads {
  get(i: number): number;
  set(i: number, e: number): void;
}

const DENSE_HEADS_MAX = 1 << 22;

function makeHeads(n: number): Heads {
  if (n <= DENSE_HEADS_MAX) {
    const a = new Int32Array(n);
    return { get: (i) => a[i], set: (i, e) => void (a[i] = e) };
  }
  const m = new Map<number, number>();
  return { get: (i) => m.get(i) ?? 0, set: (i, e) => void (e ? m.set(i, e) : m.delete(i)) };
}

/**
 * page_hash_item + rmap_item pairs, struct of arrays by entry id (0 = NULL).
 * The seed allocates the two together and frees them together, one pair per
 * filed (mm, address):
 *
 *   mm[e]        page_hash_item.mm (the Mm id)
 *   addr[e]      page_hash_item.addr (the scanned address, unaligned if the slot was)
 *   oldindex[e]  rmap_item.oldindex: the page_hash bucket the entry is filed under
 *   next[e]      page_hash bucket hlist: next entry (0 ends)
 *   prev[e]      page_hash bucket hlist: previous entry (0 when first in the bucket)
 */
class HashItems {
  mm = new Int32Array(1024);
  addr = new Float64Array(1024);
  oldindex = new Int32Array(1024);
  next = new Int32Array(1024);
  prev = new Int32Array(1024);
  private free: number[] = [];
  private top = 1;
  live = 0;

  alloc(): number {
    let e = this.free.pop();
    if (e === undefined) {
      e = this.top++;
      if (e >= this.mm.length) this.grow(e + 1);
    }
    this.mm[e] = 0;
    this.addr[e] = 0;
    this.oldindex[e] = 0;
    this.next[e] = 0;
    this.prev[e] = 0;
    this.live++;
    return e;
  }

  release(e: number): void {
    this.mm[e] = 0;
    this.live--;
    this.free.push(e);
  }

  memoryBytes(): number {
    return this.mm.byteLength + this.addr.byteLength + this.oldindex.byteLength + this.next.byteLength + this.prev.byteLength;
  }

  private grow(min: number): void {
    let n = this.mm.length;
    while (n < min) n *= 2;
    this.mm = growInt32(this.mm, n);
    this.oldindex = growInt32(this.oldindex, n);
    this.next = growInt32(this.next, n);
    this.prev = growInt32(this.prev, n);
    this.addr = growFloat64(this.addr, n);
  }
}


/** unsigned long arithmetic on addresses: the page containing addr. */
function pageStart(addr: number): number {
  return addr - (addr % PAGE_SIZE);
}

export class Hash2008 implements Merger {
  readonly algorithm = 'hash-2008';
  /* Module parameters, after page_hash_init / rmap_hash_init / sha1_hash_init. */
  /** npages_hash: buckets of page_hash */
  readonly npagesHash: number;
  /** nrmaps_hash: buckets of rmap_hash */
  readonly nrmapsHash: number;
  /** nsha1s_hash: entries of the sha1 cache */
  readonly nsha1sHash: number;

  /* The kernel thread's tunables (ints, as the seed stores them). */
  /** kthread_sleep: sleep time of the kernel thread (µs) */
  kthreadSleep = 0;
  /** kthread_pages_to_scan: npages to scan for the kernel thread */
  kthreadPagesToScan = 0;
  /** kthread_max_npages: max pages to merge for the kernel thread */
  kthreadMaxNpages = 0;
  /** ksmd_flags */
  ksmdFlags = 0;
  /** kthread_ksm_scan: the kernel thread's own cursor (static, zeroed) */
  readonly kthreadKsmScan = new KsmScan();
  /** wake_up_interruptible(&kthread_wait): wired to the simulated kksmd by whoever runs it. */
  kthreadWait: { wake(): void } = { wake() {} };

  /** slots: all the memory regions that were registred to be scanned, in order. */
  readonly slots: KsmMemSlot[] = [];

  /** tfm: the "hmac(sha1)" transform, once ksm_tfm_init has run; its key is hmac_key. */
  tfm: { hmacKey: Uint8Array } | null = null;

  readonly stats: MergeStats = newMergeStats();

  /** The work record: the counters above and the copy-on-write breaks of the memory. */
  work(): MergeWork {
    return mergeWork(this.stats, this.memory.cowBreaks);
  }
  /** Changes the scanner made to anything (entries, pages, mappings, the digest cache): the shortcut's guard. */
  private mutations = 0;
  /** Whether ksmScanStart may skip passes that repeat (off: the seed's loop page by page, for comparison). */
  fastForward = true;

  private readonly items = new HashItems();
  /** page_hash_items: bucket -> first entry (hlist_head) */
  private readonly pageHashItems: Heads;
  /**
   * rmap_hash, as an exact index (mm, addr) -> entry. @see update_hash,
   * remove_page_from_hash: the seed walks bucket addr % nrmaps_hash and takes
   * the first entry with that mm and address. At most one entry exists per
   * (mm, address) (cmp_and_merge_page files one only when its walk did not
   * meet the address's own entry), so the first match is the match and the
   * bucket layout has no observable effect (spec hashes.md §4); a direct
   * index keeps small tables from turning every lookup into a list walk.
   */
  private readonly rmapHash = new Map<number, Map<number, number>>();
  /** sha1_hash: sparse; a missing entry is the zero-filled {pfn 0, digest 0} of vmalloc+memset. */
  private readonly sha1Hash: Sha1Cache;
  private readonly random: SeededRandom;
  private readonly failAlloc: (site: KsmAllocSite) => boolean;
  private hashes: ChecksumCache;
  /** page_hash() by content id, for the current key. */
  private readonly digests: ContentDigests;

  constructor(readonly memory: Memory, opts: Hash2008Options) {
    const free = Math.max(0, Math.floor(opts.nrFreeBufferPages));
    // page_hash_init, rmap_hash_init, sha1_hash_init: a zero parameter takes the formula.
    this.npagesHash = opts.pageHashSize || Math.floor(free / 10);
    this.nrmapsHash = opts.rmapHashSize || Math.floor(free / 10);
    this.nsha1sHash = opts.sha1HashSize || Math.floor(free / 32);
    for (const [name, v] of [['page_hash_size', this.npagesHash], ['rmap_hash_size', this.nrmapsHash], ['sha1_hash_size', this.nsha1sHash]] as const) {
      // vmalloc(0) fails and a negative int size is a huge request: ksm_init returns -ENOMEM.
      if (!Number.isInteger(v) || v < 1 || v > 0x7fffffff) throw new RangeError(`ksm: ${name} = ${v}: the module would fail to load (-ENOMEM)`);
    }
    this.pageHashItems = makeHeads(this.npagesHash);
    this.random = new SeededRandom(opts.randomSeed ?? 0x20081116);
    this.failAlloc = opts.failAlloc ?? (() => false);
    // jhash(addr, PAGE_SIZE, 17): the byte form of the lookup2 generation.
    this.hashes = new ChecksumCache(memory.contents, pageChecksum('lookup2-bytes'));
    this.digests = new ContentDigests(memory.contents);
    this.sha1Hash = new Sha1Cache(this.nsha1sHash);
  }

  /**
   * Computes the bucket hash with `name` instead of the seed's jhash of the
   * lookup2 generation (the HMAC-SHA1 check stays): an experiment for
   * comparisons (ksmctl compare --checksum), not era behaviour. Call before
   * the first scan.
   */
  useChecksum(name: ChecksumName): void {
    this.hashes.use(pageChecksum(name));
  }

  // ------------------------------------------------------------ helpers

  /**
   * PageKsm: "this type of pages are the write protected pages that ksm map
   * into multiple vmas" - defined as !PageAnon, so any page KSM did not find
   * anonymous counts. A page of a MAP_SHARED mapping is a shmem page in
   * Linux, not PageAnon; the memory model marks it FRAME_ANON, so the VMA
   * mapping it decides (`vma` null: judge the frame alone).
   */
  pageKsm(f: number, vma: Vma | null = null): boolean {
    return (this.memory.frames.flags[f] & FRAME_ANON) === 0 || (vma !== null && (vma.flags & VM_SHARED) !== 0);
  }

  private putPage(f: number): void {
    this.memory.frames.put(f);
  }

  private getPage(f: number): void {
    this.memory.frames.get(f);
  }

  private mmOf(id: number): Mm {
    return this.memory.mmById[id];
  }

  /** The address of the cursor's position: slot->addr + page_index * PAGE_SIZE. */
  private cursorAddr(scan: KsmScan): number {
    return scan.slotIndex!.addr + scan.pageIndex * PAGE_SIZE;
  }

  /** is_present_pte: a page-table entry maps a page at addr. */
  private isPresentPte(mm: Mm, addr: number): boolean {
    const vma = mm.vmaAt(addr);
    return vma !== null && vma.frames[vma.index(pageStart(addr))] !== 0;
  }

  /**
   * get_user_pages(current, mm, addr, 1, write 0, force 0): the page at addr
   * with a reference, or 0 when the call fails (no VMA, VM_IO/VM_PFNMAP, or
   * no VM_READ: a read without force needs it). Called only for present pages.
   */
  private getUserPage(mm: Mm, addr: number): number {
    return this.getUserPageIn(mm.vmaAt(addr), addr);
  }

  /** getUserPage with the VMA containing addr (or null) already looked up. */
  private getUserPageIn(vma: Vma | null, addr: number): number {
    if (vma === null || vma.flags & (VM_IO | VM_PFNMAP) || !(vma.flags & VM_READ)) return 0;
    const f = vma.frames[vma.index(pageStart(addr))];
    if (f === 0) return 0;
    this.getPage(f);
    return f;
  }

  /** calc_hash_index: jhash(page, PAGE_SIZE, 17) % npages_hash. */
  calcHashIndex(f: number): number {
    this.stats.checksums++;
    this.stats.bytesHashed += PAGE_SIZE;
    return this.hashes.of(this.memory.frames.content[f]) % this.npagesHash;
  }

  private rmapLookup(mm: number, addr: number): number {
    return this.rmapHash.get(mm)?.get(addr) ?? 0;
  }

  /** hlist_del of the page_hash_item, hlist_del of the rmap_item, both freed. */
  private deleteEntry(e: number): void {
    const it = this.items;
    const n = it.next[e];
    const p = it.prev[e];
    if (p) it.next[p] = n;
    else this.pageHashItems.set(it.oldindex[e], n);
    if (n) it.prev[n] = p;
    const byAddr = this.rmapHash.get(it.mm[e])!;
    byAddr.delete(it.addr[e]);
    if (byAddr.size === 0) this.rmapHash.delete(it.mm[e]);
    this.memory.mmdrop(this.memory.mmById[it.mm[e]]);
    it.release(e);
    this.mutations++;
  }

  // ------------------------------------------------------------ seed functions

  /** ksm_tfm_init: create the "hmac(sha1)" transform once, keyed with 20 random bytes. */
  ksmTfmInit(): number {
    if (this.tfm) return 0;
    // Must be called from user context before starting any scanning.
    if (this.failAlloc('tfm')) return -ERRNO.ENOMEM;
    const hmacKey = this.random.bytes(new Uint8Array(SHA1_DIGEST_SIZE)); // get_random_bytes
    this.tfm = { hmacKey };
    return 0;
  }

  /** Sets the HMAC key (a test or a reproducible run chooses it); creates the transform if needed. */
  setHmacKey(key: Uint8Array): void {
    if (key.length !== SHA1_DIGEST_SIZE) throw new RangeError(`hmac_key is ${SHA1_DIGEST_SIZE} bytes`);
    this.tfm = { hmacKey: key.slice() };
  }

  /** remove_page_from_hash: delete the entry of (mm, addr), if there is one. */
  removePageFromHash(mm: Mm, addr: number): void {
    const e = this.rmapLookup(mm.id, addr);
    if (e) this.deleteEntry(e);
  }

  /** kmalloc(sizeof(struct ksm_sma)) with INIT_LIST_HEAD: an empty SMA, or null when kmalloc fails. */
  allocSma(): KsmSma | null {
    return this.failAlloc('ksm_sma') ? null : new KsmSma();
  }

  /**
   * ksm_sma_ioctl_register_memory_region: a slot for (current's mm, addr,
   * npages), appended to the global list and to the SMA's. Nothing is
   * validated. `current` is the caller's mm, or null when get_task_mm finds
   * none. `npages` and `addr` are the struct's __u32 and __u64.
   */
  ksmSmaIoctlRegisterMemoryRegion(sma: KsmSma, current: Mm | null, mem: { npages: number; addr: bigint }): number {
    if (this.failAlloc('ksm_mem_slot')) return -ERRNO.ENOMEM;
    if (current === null || current.exiting) return -ERRNO.EPERM;
    this.memory.mmget(current); // get_task_mm
    // slot->addr = mem->addr (unsigned long; above 2^53 the number is rounded,
    // but no such address can be mapped); slot->npages = mem->npages (int).
    const slot = new KsmMemSlot(current, Number(BigInt.asUintN(64, mem.addr)), mem.npages | 0);
    // A slot stays on the list after its mm reference is dropped when another slot of the mm was unlinked
    // instead (remove_mm_from_hash): the struct stays while the slot is listed.
    this.memory.mmgrab(current);
    this.slots.push(slot);
    sma.slots.push(slot);
    return 0;
  }

  /**
   * remove_mm_from_hash: the first slot of the global list with this mm (not
   * necessarily the one being removed) loses its entries and is unlinked.
   */
  private removeMmFromHash(mm: Mm): void {
    const slot = this.slots.find((s) => s.mm === mm);
    if (slot === undefined) throw new Error('BUG: remove_mm_from_hash found no slot of this mm');
    const byAddr = this.rmapHash.get(mm.id);
    if (byAddr !== undefined && slot.npages > 0) {
      if (slot.npages <= byAddr.size) {
        for (let pagesCount = 0; pagesCount < slot.npages; ++pagesCount) this.removePageFromHash(mm, slot.addr + pagesCount * PAGE_SIZE);
      } else {
        // The same deletions, found from the mm's entries: each (mm, address) has at most one.
        for (const [addr, e] of [...byAddr]) {
          const d = addr - slot.addr;
          if (d >= 0 && d % PAGE_SIZE === 0 && d / PAGE_SIZE < slot.npages) this.deleteEntry(e);
        }
      }
    }
    this.slots.splice(this.slots.indexOf(slot), 1);
    slot.linked = false;
    this.memory.mmdrop(mm);
  }

  /**
   * ksm_sma_ioctl_remove_memory_region: for each slot of the SMA, remove the
   * first slot of its mm from the hash and the list, drop the mm reference
   * and free the SMA's slot. When the two differ the SMA's slot is freed
   * while still on the global list, as in the seed: it stays in the scan
   * list (spec v1-ioctl.md §5). Always returns 0.
   */
  ksmSmaIoctlRemoveMemoryRegion(sma: KsmSma): number {
    for (const slot of [...sma.slots]) {
      this.removeMmFromHash(slot.mm);
      this.memory.mmput(slot.mm);
      sma.slots.splice(sma.slots.indexOf(slot), 1);
      slot.allocated = false; // kfree(slot)
    }
    return 0;
  }

  /** ksm_sma_release: the last reference to the SMA file is gone. */
  ksmSmaRelease(sma: KsmSma): number {
    return this.ksmSmaIoctlRemoveMemoryRegion(sma);
  }

  /** insert_page_to_hash: file the cursor's address in bucket hash_index, at the head. */
  private insertPageToHash(scan: KsmScan, hashIndex: number, e: number): void {
    const it = this.items;
    const slot = scan.slotIndex!;
    const addr = this.cursorAddr(scan);
    it.addr[e] = addr;
    it.mm[e] = slot.mm.id;
    // The entry names its mm by id (the seed keeps a pointer, even past the mm's exit): the struct stays until the entry goes.
    this.memory.mmgrab(slot.mm);
    const head = this.pageHashItems.get(hashIndex);
    it.next[e] = head;
    it.prev[e] = 0;
    if (head) it.prev[head] = e;
    this.pageHashItems.set(hashIndex, e);
    it.oldindex[e] = hashIndex;
    let byAddr = this.rmapHash.get(slot.mm.id);
    if (byAddr === undefined) this.rmapHash.set(slot.mm.id, (byAddr = new Map()));
    byAddr.set(addr, e);
    this.mutations++;
  }

  /**
   * update_hash - check the previoes hash value of the page and if it was
   * changed since the last time we compute it it remove it from the hash table.
   */
  private updateHash(scan: KsmScan, hashIndex: number): void {
    const e = this.rmapLookup(scan.slotIndex!.mm.id, this.cursorAddr(scan));
    if (e && this.items.oldindex[e] !== hashIndex) this.deleteEntry(e);
  }

  /** page_hash: HMAC-SHA1 of the first PAGEHASH_LEN bytes of the page, as an offset into digests.digestWords. */
  private pageHash(f: number): number {
    this.stats.bytesHashed += PAGEHASH_LEN;
    // The digest is a function of the content and the key alone, so it is
    // computed once per content (the seed recomputes it every time).
    return this.digests.of(this.memory.frames.content[f], this.tfm!.hmacKey);
  }

  /**
   * pages_identical: calculate sha1 hash of each page, compare results, and
   * return true if identical. The digest of `newpage` (the KSM page) comes
   * from the sha1 cache unless `isNew`: a freshly allocated page always
   * refreshes its entry.
   */
  private pagesIdentical(oldpage: number, newpage: number, isNew: boolean): boolean {
    // @see page_hash: the seed would use a NULL tfm here, which user space
    // cannot bring about (both ways of scanning create the transform first);
    // a caller of this engine that scans directly gets one now.
    if (this.tfm === null && this.ksmTfmInit() !== 0) return false;
    const oldAt = this.pageHash(oldpage);
    const index = newpage % this.nsha1sHash; // page_to_pfn(newpage) % nsha1s_hash
    if (isNew || this.sha1Hash.pfn(index) !== newpage) {
      const newAt = this.pageHash(newpage);
      this.sha1Hash.set(index, newpage, this.digests.digestWords, newAt);
      this.mutations++;
    }
    this.stats.comparisons++;
    if (!this.sha1Hash.equals(index, this.digests.digestWords, oldAt)) return false;
    return this.memcmpTail(oldpage, newpage) === 0;
  }

  /** memcmp(old + PAGEHASH_LEN, new + PAGEHASH_LEN, PAGE_SIZE - PAGEHASH_LEN), word by word. */
  private memcmpTail(f1: number, f2: number): number {
    const c = this.memory.contents;
    const a = this.memory.frames.content[f1];
    const b = this.memory.frames.content[f2];
    if (a === b) {
      this.stats.bytesCompared += PAGE_SIZE - PAGEHASH_LEN;
      return 0;
    }
    // The whole-page compare skips a common leading run in O(1); when the
    // first difference lies in the tail, it is the tail's first difference.
    const sign = c.compare(a, b);
    if (c.lastCompareBytes > PAGEHASH_LEN) {
      this.stats.bytesCompared += c.lastCompareBytes - PAGEHASH_LEN;
      return sign;
    }
    const wa = c.wordsOf(a);
    const wb = c.wordsOf(b);
    const oa = c.offsetOf(a) >>> 2;
    const ob = c.offsetOf(b) >>> 2;
    for (let i = PAGEHASH_LEN >>> 2; i < PAGE_SIZE >>> 2; i++) {
      const x = wa[oa + i];
      const y = wb[ob + i];
      if (x !== y) {
        // Little-endian words: the lowest differing byte is the first in memory.
        let k = 0;
        while (((x >>> (8 * k)) & 0xff) === ((y >>> (8 * k)) & 0xff)) k++;
        this.stats.bytesCompared += i * 4 + k - PAGEHASH_LEN + 1;
        return ((x >>> (8 * k)) & 0xff) - ((y >>> (8 * k)) & 0xff);
      }
    }
    this.stats.bytesCompared += PAGE_SIZE - PAGEHASH_LEN;
    return 0;
  }

  /**
   * try_to_merge_one_page - take two pages and merge them into one: map
   * `newpage` read-only at the address of `oldpage` (addr, in vma of mm).
   * Returns 0 if the pages were merged, 1 otherwise.
   */
  private tryToMergeOnePage(mm: Mm, vma: Vma, oldpage: number, newpage: number, addr: number, isNew: boolean): number {
    let ret = 1;
    this.getPage(newpage);
    this.getPage(oldpage);
    // @see addr_in_vma: the seed computes where oldpage is mapped from
    // page->index; here it is the page-aligned address the caller found it
    // at (the same place: nothing in this model moves anonymous pages).
    const pageAddr = pageStart(addr);
    if (vma.mm === mm && pageAddr >= vma.start && pageAddr < vma.end) {
      // get_pte: present and still mapping oldpage; trylock_page never fails here.
      if (vma.frames[vma.index(pageAddr)] === oldpage) {
        this.stats.mergeAttempts++;
        // page_wrprotect(oldpage, &odirect_sync, 2): the caller's get_user_pages
        // reference and our get_page are the only ones besides the mappings.
        const i = vma.index(pageAddr);
        const writable = vma.pte[i] & PTE_WRITE;
        const protectedOk = this.memory.writeProtect(vma, pageAddr, oldpage, 2);
        if (writable && !(vma.pte[i] & PTE_WRITE)) this.mutations++;
        if (protectedOk) {
          // unlock_page(oldpage): the owner may write from here on (a test's hook).
          const window = this.memory.mergeWindow;
          if (window !== null) window({ window: 'write-protected', vma, addr: pageAddr, oldpage, newpage });
          if (this.pagesIdentical(oldpage, newpage, isNew)) {
            if (window !== null) window({ window: 'compared', vma, addr: pageAddr, oldpage, newpage });
            ret = this.memory.replacePage(vma, pageAddr, oldpage, newpage) ? 0 : 1;
          }
          if (ret === 0) this.mutations++;
        }
      }
    }
    this.putPage(oldpage);
    this.putPage(newpage);
    return ret;
  }

  /**
   * try_to_merge_two_pages - take two identical pages and prepare them to be
   * merged into one page. Returns 0 if we successfully mapped two identical
   * pages into one page, 1 otherwise (note in case we created KsmPage and
   * mapped one page into it but the second page was not mapped we consider
   * it as a failure and return 1: the first stays mapped to the KsmPage).
   */
  private tryToMergeTwoPages(mm1: Mm, page1: number, mm2: Mm, page2: number, addr1: number, addr2: number, vmaOfAddr2: Vma | null): number {
    // If page2 isn't shared (it isn't PageKsm) we have to allocate a new file
    // mapped page and make the two ptes of mm1(page1) and mm2(page2) point to
    // it. If page2 is shared, we can just make the pte of mm1(page1) point to page2.
    if (this.pageKsm(page2, vmaOfAddr2)) {
      const vma = mm1.findVma(addr1);
      if (vma === null) return 1;
      return this.tryToMergeOnePage(mm1, vma, page1, page2, addr1, false);
    }
    if (this.failAlloc('kpage')) return 1;
    const fr = this.memory.frames;
    // alloc_page(GFP_HIGHUSER) + copy_user_highpage(kpage, page1): a page that is not anonymous.
    const content = fr.content[page1];
    this.memory.contents.ref(content);
    const kpage = fr.alloc(content, 0, fr.nodeOf(page1));
    this.mutations++;
    const vma = mm1.findVma(addr1);
    if (vma === null) {
      this.putPage(kpage);
      return 1;
    }
    let ret = this.tryToMergeOnePage(mm1, vma, page1, kpage, addr1, true);
    if (!ret) {
      const vma2 = mm2.findVma(addr2);
      if (vma2 === null) {
        this.putPage(kpage);
        return 1;
      }
      ret = this.tryToMergeOnePage(mm2, vma2, page2, kpage, addr2, false);
    }
    this.putPage(kpage);
    return ret;
  }

  /**
   * cmp_and_merge_page - take a page computes its hash value and check if
   * there is similar hash value to different page, in case we find that
   * there is similar hash to different page we call to
   * try_to_merge_two_pages(). Returns 1 when the page was merged.
   */
  private cmpAndMergePage(scan: KsmScan, page: number): number {
    const it = this.items;
    const hashIndex = this.calcHashIndex(page);
    const slot = scan.slotIndex!;
    const addr = this.cursorAddr(scan);
    const mm = slot.mm;
    let used = false;
    // update_hash must be called every time because there is a chance that
    // the data in the page has changed since the page was inserted into the
    // hash table; by calling to this we are avoiding inserting the page more
    // than once to our hash table.
    this.updateHash(scan, hashIndex);

    let node = this.pageHashItems.get(hashIndex);
    // Bucket entries walked (the hash merger's lookup steps), counted in a
    // local: this loop is quadratic in the worst case (one bucket for all).
    let walked = 0;
    while (node) {
      walked++;
      const n = it.next[node];
      const itemMm = it.mm[node];
      const itemAddr = it.addr[node];
      if (mm.id === itemMm && addr === itemAddr) {
        used = true;
        node = n;
        continue;
      }
      const hmm = this.mmOf(itemMm);
      // One VMA lookup serves is_present_pte, get_user_pages and PageKsm below:
      // nothing changes the mm between them.
      const hvma = hmm.vmaAt(itemAddr);
      // If the page is swapped out or in swap cache we don't want to scan it.
      if (hvma === null || hvma.frames[hvma.index(pageStart(itemAddr))] === 0) {
        node = n;
        continue;
      }
      const hashPage = this.getUserPageIn(hvma, itemAddr);
      if (!hashPage) break; // npages != 1
      // Recalculate the page's hash index in case it has changed.
      if (this.calcHashIndex(hashPage) === hashIndex) {
        if (this.memory.frames.content[hashPage] !== this.memory.frames.content[page]) this.stats.falseHashMatches++;
        const ret = this.tryToMergeTwoPages(mm, page, hmm, hashPage, addr, itemAddr, hvma);
        if (!ret) {
          this.putPage(hashPage);
          this.stats.merges++;
          this.stats.unstableLevels += walked;
          return 1;
        }
      }
      this.putPage(hashPage);
      node = n;
    }
    this.stats.unstableLevels += walked;
    // If node is NULL and used=0, the page is not in the hash table.
    if (!node && !used) {
      if (this.failAlloc('page_hash_item') || this.failAlloc('rmap_item')) return 0;
      const e = it.alloc();
      this.stats.itemAllocs++;
      this.updateHash(scan, hashIndex);
      this.insertPageToHash(scan, hashIndex, e);
    }
    return 0;
  }

  /**
   * scan_get_next_index: advance the cursor by nscan pages, to the next slot,
   * or back to the first slot. Returns -EAGAIN when no slots are registered.
   */
  private scanGetNextIndex(scan: KsmScan, nscan: number): number {
    if (this.slots.length === 0) return -ERRNO.EAGAIN;
    const slot = scan.slotIndex!;
    // Are there pages left in this slot to scan? (slot->npages - page_index -
    // nscan) > 0 is computed as an unsigned long: "> 0" means "!= 0".
    if (slot.npages - scan.pageIndex - nscan !== 0) {
      scan.pageIndex += nscan;
      return 0;
    }
    const i = this.slots.indexOf(slot);
    if (i >= 0 && i + 1 < this.slots.length) {
      scan.pageIndex = 0;
      scan.slotIndex = this.slots[i + 1];
      return 0;
    }
    // look like we finished scanning the whole memory, starting again
    scan.pageIndex = 0;
    scan.slotIndex = this.slots[0];
    scan.wraps++;
    scan.onWrap?.();
    return 0;
  }

  /**
   * scan_update_old_index - make sure ksm_scan will point to vaild data: the
   * slot it pointed to may have been released since.
   */
  private scanUpdateOldIndex(scan: KsmScan): void {
    if (this.slots.length === 0) return;
    if (scan.slotIndex !== null && this.slots.includes(scan.slotIndex)) return;
    scan.slotIndex = this.slots[0];
    scan.pageIndex = 0;
  }

  /**
   * ksm_scan_start - the ksm scanner main worker function: scan up to
   * scanNpages positions, stopping once maxNpages pages were merged (both
   * C ints: a negative value scans nothing). The cursor advances before each
   * position and once more at the end. Returns -EAGAIN when there are no
   * slots to scan, 0 otherwise.
   */
  ksmScanStart(scan: KsmScan, scanNpages: number, maxNpages: number): number {
    scanNpages |= 0;
    maxNpages |= 0;
    this.scanUpdateOldIndex(scan);
    let lastWrap: WrapRecord | null = null;
    while (scanNpages > 0 && maxNpages > 0) {
      const wraps = scan.wraps;
      const ret = this.scanGetNextIndex(scan, 1);
      if (ret) return ret;
      if (scan.wraps !== wraps) {
        const rec = this.wrapRecord(scan, scanNpages);
        if (this.fastForward && lastWrap !== null && lastWrap.mutations === rec.mutations) scanNpages = this.repeatPasses(scan, lastWrap, rec);
        lastWrap = this.wrapRecord(scan, scanNpages);
      }
      const slot = scan.slotIndex!;
      const addr = this.cursorAddr(scan);
      scan.positions++;
      // If the page is swapped out or in swap cache, we don't want to scan it.
      if (this.isPresentPte(slot.mm, addr)) {
        const page = this.getUserPage(slot.mm, addr);
        if (page) {
          if (!this.pageKsm(page, slot.mm.vmaAt(addr))) {
            this.stats.pagesScanned++;
            maxNpages -= this.cmpAndMergePage(scan, page);
          }
          this.putPage(page);
        }
        scanNpages--;
      } else {
        scanNpages--;
        scanNpages = this.skipUnmapped(scan, addr, scanNpages);
      }
    }
    this.scanGetNextIndex(scan, 1);
    return 0;
  }

  // ------------------------------------------------------------ running the seed's loop faster
  //
  // A batch may be given over 2^31 pages (KSM_SCAN and the kthread take any
  // int), and a region of 0 pages walks the cursor through the address
  // space forever. The two shortcuts below give exactly what the seed's loop
  // gives page by page.

  /**
   * The positions right after the cursor, in the same slot, whose pages lie
   * outside every VMA are neither present nor scanned: each costs one page
   * of budget and changes nothing. Passes over up to n of them at once and
   * returns the budget left.
   */
  private skipUnmapped(scan: KsmScan, addr: number, n: number): number {
    const slot = scan.slotIndex!;
    if (n === 0 || slot.mm.vmaAt(addr) !== null) return n;
    const v = slot.mm.findVma(addr);
    // Positions q with slot.addr + q * PAGE_SIZE below the next VMA.
    let k = v === null ? Number.POSITIVE_INFINITY : Math.ceil((v.start - slot.addr) / PAGE_SIZE) - 1 - scan.pageIndex;
    // The cursor stays in the slot while page_index != npages - 1.
    if (scan.pageIndex < slot.npages - 1) k = Math.min(k, slot.npages - 1 - scan.pageIndex);
    k = Math.min(k, n);
    if (!(k > 0)) return n;
    scan.pageIndex += k;
    scan.positions += k;
    return n - k;
  }

  private wrapRecord(scan: KsmScan, n: number): WrapRecord {
    return { n, mutations: this.mutations, wraps: scan.wraps, positions: scan.positions, stats: { ...this.stats } };
  }

  /**
   * At a wrap, when the pass since the previous wrap of this batch changed
   * nothing (no entry filed or dropped, no page allocated or mapped, no
   * digest cached), the state is the one that pass started from, so every
   * further pass repeats it: skip as many whole passes as leave at least one
   * page of budget, adding what each did to the counters. Returns the budget left.
   */
  private repeatPasses(scan: KsmScan, prev: WrapRecord, now: WrapRecord): number {
    const period = prev.n - now.n;
    if (period <= 0) return now.n;
    const m = Math.floor((now.n - 1) / period);
    if (m <= 0) return now.n;
    const passes = m * (now.wraps - prev.wraps);
    scan.wraps += passes;
    if (scan.onWrap) for (let i = 0; i < passes; i++) scan.onWrap();
    scan.positions += m * (now.positions - prev.positions);
    for (const key of Object.keys(this.stats) as Array<keyof MergeStats>) this.stats[key] += m * (now.stats[key] - prev.stats[key]);
    return now.n - m * period;
  }

  /** ksm_scan_create: a zeroed cursor, or null when kzalloc fails. */
  ksmScanCreate(): KsmScan | null {
    return this.failAlloc('ksm_scan') ? null : new KsmScan();
  }

  /** ksm_scan_ioctl_start: KSM_SCAN on a SCAN fd's cursor; nothing at all unless the run flag is set. */
  ksmScanIoctlStart(scan: KsmScan, us: UserScan2008): number {
    if (!(us.flags & ksm_control_flags_run)) return 0;
    return this.ksmScanStart(scan, us.pages_to_scan | 0, us.max_pages_to_merge | 0);
  }

  /**
   * ksm_dev_ioctl_start_stop_kthread - control the kernel thread: how long
   * it sleeps, how many pages it scans and at most merges per batch. Returns
   * 0, the error of ksm_tfm_init, or EPERM (positive, as the seed returns it)
   * when the run flag comes with a zero page or merge count.
   */
  ksmDevIoctlStartStopKthread(info: KthreadInfo2008): number {
    // Make sure crypto tfm is initialized before starting scanning.
    if (info.flags & ksm_control_flags_run && !this.tfm) {
      const rc = this.ksmTfmInit();
      if (rc) return rc;
    }
    if (info.flags & ksm_control_flags_run) {
      if (!info.pages_to_scan || !info.max_pages_to_merge) return ERRNO.EPERM;
    }
    // __u32 values stored into ints.
    this.kthreadSleep = info.sleep | 0;
    this.kthreadPagesToScan = info.pages_to_scan | 0;
    this.kthreadMaxNpages = info.max_pages_to_merge | 0;
    this.ksmdFlags = info.flags | 0;
    if (this.ksmdFlags & ksm_control_flags_run) this.kthreadWait.wake();
    return 0;
  }

  /** ksm_dev_ioctl_get_info_kthread: the kthread's values, as the struct's __u32s. */
  ksmDevIoctlGetInfoKthread(): KthreadInfo2008 {
    return {
      sleep: this.kthreadSleep >>> 0,
      pages_to_scan: this.kthreadPagesToScan >>> 0,
      max_pages_to_merge: this.kthreadMaxNpages >>> 0,
      flags: this.ksmdFlags >>> 0,
    };
  }

  /** kthread_ksm_scan_thread's condition: the run flag (read without the lock). */
  ksmdShouldRun(): boolean {
    return (this.ksmdFlags & ksm_control_flags_run) !== 0;
  }

  /** One iteration of kthread_ksm_scan_thread's loop: a batch if the run flag is set. */
  kthreadBatch(): void {
    if (this.ksmdShouldRun()) this.ksmScanStart(this.kthreadKsmScan, this.kthreadPagesToScan, this.kthreadMaxNpages);
  }

  /** The sleep after a batch: schedule_timeout_interruptible(usecs_to_jiffies(kthread_sleep)), in µs. */
  kthreadSleepMicros(): number {
    return jiffiesToUsecs(usecsToJiffies(this.kthreadSleep));
  }

  // ------------------------------------------------------------ inspection (simulator only)

  /** page_hash entries, bucket by bucket, each bucket newest first. */
  pageHashEntries(): PageHashEntry[] {
    const out: PageHashEntry[] = [];
    const buckets = [...new Set(this.allEntries().map((e) => this.items.oldindex[e]))].sort((a, b) => a - b);
    for (const b of buckets) {
      for (let e = this.pageHashItems.get(b); e; e = this.items.next[e]) out.push({ mm: this.items.mm[e], addr: this.items.addr[e], bucket: b });
    }
    return out;
  }

  /** Entry ids from the rmap index (every live entry once). */
  private allEntries(): number[] {
    const out: number[] = [];
    for (const byAddr of this.rmapHash.values()) for (const e of byAddr.values()) out.push(e);
    return out;
  }

  /**
   * The shape of page_hash (simulator only, for comparisons): buckets that
   * hold at least one entry, the longest chain, and the entries. Counts the
   * live entries by bucket; the bucket array itself is not walked.
   */
  bucketChains(): { used: number; longest: number; entries: number } {
    const count = new Map<number, number>();
    let longest = 0;
    for (const e of this.allEntries()) {
      const b = this.items.oldindex[e];
      const n = (count.get(b) ?? 0) + 1;
      count.set(b, n);
      if (n > longest) longest = n;
    }
    return { used: count.size, longest, entries: this.items.live };
  }

  /** Live entries (page_hash_item/rmap_item pairs). */
  get hashEntryCount(): number {
    return this.items.live;
  }

  /** The entry filed for (mm, addr), or null. */
  entryOf(mm: Mm, addr: number): PageHashEntry | null {
    const e = this.rmapLookup(mm.id, addr);
    return e ? { mm: mm.id, addr, bucket: this.items.oldindex[e] } : null;
  }

  /** Walks bucket b in hlist order (for invariant checks). */
  bucketEntries(b: number): PageHashEntry[] {
    const out: PageHashEntry[] = [];
    for (let e = this.pageHashItems.get(b); e; e = this.items.next[e]) out.push({ mm: this.items.mm[e], addr: this.items.addr[e], bucket: this.items.oldindex[e] });
    return out;
  }

  /**
   * The schema's derived counters of this era (no kernel counter exists):
   * pages_shared = distinct KSM frames mapped at registered addresses (the
   * pages of the slots on the global list); pages_sharing = those addresses
   * minus those frames.
   */
  /** The kthread cursor's passes (a SCAN fd's cursor counts its own: KsmScan.wraps). */
  passes(): number {
    return this.kthreadKsmScan.wraps;
  }

  /** The derived counters; the hash table has no unstable or volatile state to count (0), full_scans is the kthread's wraps. */
  passCounters(): PassCounters {
    const d = this.derivedCounters();
    return { pagesShared: d.pagesShared, pagesSharing: d.pagesSharing, pagesUnshared: 0, pagesVolatile: 0, fullScans: this.passes() };
  }

  derivedCounters(): { pagesShared: number; pagesSharing: number } {
    const seen = new Map<number, Set<number>>(); // mm id -> page addresses counted
    const frames = new Set<number>();
    let mappings = 0;
    for (const slot of this.slots) {
      if (slot.npages <= 0) continue;
      const start = pageStart(slot.addr);
      const end = start + slot.npages * PAGE_SIZE;
      let done = seen.get(slot.mm.id);
      if (done === undefined) seen.set(slot.mm.id, (done = new Set()));
      for (const v of slot.mm.vmas) {
        if (v.end <= start || v.start >= end) continue;
        for (let a = Math.max(v.start, start), e = Math.min(v.end, end); a < e; a += PAGE_SIZE) {
          const f = v.frames[v.index(a)];
          if (f === 0 || !this.pageKsm(f) || done.has(a)) continue;
          done.add(a);
          frames.add(f);
          mappings++;
        }
      }
    }
    return { pagesShared: frames.size, pagesSharing: mappings - frames.size };
  }

  /** Typed-array bytes held for hash entries. */
  memoryBytes(): number {
    return this.items.memoryBytes();
  }
}
