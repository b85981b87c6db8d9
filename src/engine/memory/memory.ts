/**
 * The simulated memory system: address spaces, page faults, copy-on-write,
 * mmap/munmap, fork and exit. Every era's KSM code runs on top of it.
 *
 * What a process sees is defined here and nowhere else: a read returns the
 * content of the frame its page table maps (zeros when nothing is mapped),
 * and a write always lands in a frame mapped only by the writer, breaking
 * copy-on-write first. Merging is invisible by construction: KSM may only
 * replace a mapping by a frame with equal content (replacePage checks it).
 */
import { PAGE_SIZE } from '../constants.js';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE } from '../constants.js';
import { VM_ACCOUNT, VM_DONTCOPY, VM_EXEC, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_MAYWRITE, VM_READ, VM_SHARED, VM_WRITE } from '../constants.js';
import { ERRNO } from '../errno.js';
import { ContentStore } from './content-store.js';
import { FRAME_ANON, FRAME_KSM, Frames } from './frames.js';
import { MM_ID_MAX, Mm, PTE_WRITE, TASK_SIZE, TASK_UNMAPPED_BASE, Vma } from './mm.js';

/** What the KSM code of an era wants to hear about (kernel/fork.c and mmput callers). */
export interface MemoryHooks {
  /** ksm_fork: called by fork before the VMAs are copied; returns 0 or -errno. */
  fork?(parent: Mm, child: Mm): number;
  /** ksm_exit: called when mm_users drops to 0, before the page tables go. */
  exit?(mm: Mm): void;
}

/**
 * The two points of try_to_merge_one_page (every era) where the seeds hold
 * no lock that keeps the page's owner from writing it: after the page was
 * write-protected (write_protect_page / page_wrprotect, then unlock_page)
 * and before pages_identical; and after pages_identical and before
 * replace_page takes the page-table lock. A write fault that lands there
 * must make the merge fail (pages_identical, or replace_page's pte_same).
 */
export type MergeWindow = 'write-protected' | 'compared';

export interface MergeWindowEvent {
  window: MergeWindow;
  /** The mapping being merged: its mm, and the address of oldpage in it. */
  vma: Vma;
  addr: number;
  /** The page to be replaced, and the KSM page (or new KSM page) to map instead. */
  oldpage: number;
  newpage: number;
}

/** A range of one mm's address space [start, end). */
export interface Range {
  mm: Mm;
  start: number;
  end: number;
}

/** The machine's RAM in pages unless a front end says otherwise (256 GiB): the largest mapping mmap accepts. */
export const RAM_PAGES = 1 << 26;

export class Memory {
  readonly contents = new ContentStore();
  readonly frames = new Frames(this.contents);
  readonly mms = new Map<number, Mm>();
  /** The same mms by id, as an array, for the scanner's hot paths. */
  readonly mmById: Mm[] = [];
  hooks: MemoryHooks = {};
  /**
   * The machine's RAM in pages, for mmap's overcommit check (256 GiB unless
   * a front end says otherwise): the heuristic overcommit of 2.6.x refuses
   * an accounted mapping larger than all of memory with ENOMEM, which keeps
   * a program's 16 TiB request from allocating a page table of that size.
   */
  ramPages = RAM_PAGES;
  /**
   * Pages all mappings of the machine may hold together (none by default):
   * beyond it, mmap and fork answer ENOMEM, as under strict overcommit
   * accounting. A long-lived host sets it, so no program can make it
   * allocate page tables without end.
   */
  maxMappedPages = Number.POSITIVE_INFINITY;
  /**
   * Called by the mergers at each MergeWindow of every merge attempt, when
   * set (tests and fuzzers: a process writes there); null costs one check.
   */
  mergeWindow: ((e: MergeWindowEvent) => void) | null = null;
  /** The largest mm id handed out (MM_ID_MAX; tests lower it to see ids reused). */
  mmIdMax = MM_ID_MAX;
  /** Address spaces created over the machine's life (a statistic). */
  created = 0;
  /** The id the last createMm handed out (ids count up from 1, then wrap: allocMmId). */
  private lastMmId = 0;
  /** Copy-on-write faults taken on pages mapped more than once (a statistic). */
  cowBreaks = 0;
  private readonly zeroContent: number;
  private readonly mark = { gen: 1, seen: new Uint32Array(1024) };

  constructor() {
    this.zeroContent = this.contents.internScratch();
  }

  /** Content id of the all-zero page (kept alive for the whole run). */
  get zero(): number {
    return this.zeroContent;
  }

  /**
   * A new address space. Ids count up to mmIdMax, then the next free one
   * after the last is taken, wrapping to 1 (an id is free once its mm was
   * freed: mmdrop), so runs that never create that many mms number them
   * 1, 2, 3... Throws when every id is in use; fork answers ENOMEM then.
   */
  createMm(): Mm {
    const mm = this.newMm();
    if (mm === null) throw new RangeError(`no more address spaces: all ${this.mmIdMax} mm ids of this simulated machine are in use`);
    return mm;
  }

  private newMm(): Mm | null {
    const id = this.allocMmId();
    if (id === 0) return null;
    this.created++;
    const mm = new Mm(id);
    this.mms.set(mm.id, mm);
    this.mmById[mm.id] = mm;
    return mm;
  }

  /** The next free mm id after the last one handed out, wrapping to 1 past mmIdMax; 0 when none is free. */
  private allocMmId(): number {
    const max = Math.min(this.mmIdMax, MM_ID_MAX);
    for (let i = 0, id = this.lastMmId + 1; i < max; i++, id++) {
      if (id > max) id = 1;
      if (this.mmById[id] === undefined) {
        this.lastMmId = id;
        return id;
      }
    }
    return 0;
  }

  /** Pages mapped by all address spaces together (counted when asked: mmap and fork under maxMappedPages). */
  mappedPages(): number {
    let n = 0;
    for (const mm of this.mms.values()) for (const v of mm.vmas) n += v.pages;
    return n;
  }

  /** Address spaces not freed yet (alive, or held by KSM after their last user). */
  get mmCount(): number {
    return this.mms.size;
  }

  // ---------------------------------------------------------------- mmap

  /**
   * mmap(addr, length, prot, flags) of anonymous memory; returns the address
   * or -errno. File mappings do not exist in this model.
   */
  mmap(mm: Mm, addr: number, length: number, prot: number, flags: number): number {
    if (!(flags & MAP_ANONYMOUS)) return -ERRNO.ENODEV;
    const type = flags & (MAP_SHARED | MAP_PRIVATE);
    if (type !== MAP_SHARED && type !== MAP_PRIVATE) return -ERRNO.EINVAL;
    if (length <= 0 || !Number.isSafeInteger(length)) return -ERRNO.EINVAL;
    const len = roundUp(length);
    if (len > TASK_SIZE) return -ERRNO.ENOMEM;
    // __vm_enough_memory (OVERCOMMIT_GUESS): an obvious overcommit of a private writable or shared mapping.
    if ((type === MAP_SHARED || prot & PROT_WRITE) && len / PAGE_SIZE > this.ramPages) return -ERRNO.ENOMEM;
    if (this.maxMappedPages !== Number.POSITIVE_INFINITY && this.mappedPages() + len / PAGE_SIZE > this.maxMappedPages) return -ERRNO.ENOMEM;
    if (flags & MAP_FIXED) {
      if (addr % PAGE_SIZE !== 0) return -ERRNO.EINVAL;
      if (addr + len > TASK_SIZE || addr < PAGE_SIZE) return -ERRNO.ENOMEM;
      this.unmapRange(mm, addr, addr + len);
    } else {
      addr = this.getUnmappedArea(mm, addr % PAGE_SIZE === 0 ? addr : 0, len);
      if (addr < 0) return addr;
    }
    let vmFlags = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
    if (prot & PROT_READ) vmFlags |= VM_READ;
    if (prot & PROT_WRITE) vmFlags |= VM_WRITE;
    if (prot & PROT_EXEC) vmFlags |= VM_EXEC;
    if (type === MAP_SHARED) vmFlags |= VM_SHARED | VM_MAYSHARE;
    else if (prot & PROT_WRITE) vmFlags |= VM_ACCOUNT;
    const vma = new Vma(mm, addr, addr + len, vmFlags);
    this.insertVma(mm, vma);
    return addr;
  }

  /** munmap(addr, length): 0 or -errno. */
  munmap(mm: Mm, addr: number, length: number): number {
    if (addr % PAGE_SIZE !== 0 || addr > TASK_SIZE || length > TASK_SIZE - addr) return -ERRNO.EINVAL;
    const len = roundUp(length);
    if (len === 0) return -ERRNO.EINVAL;
    this.unmapRange(mm, addr, addr + len);
    return 0;
  }

  /** Splits VMAs so that `addr` is a VMA boundary (split_vma). */
  splitAt(mm: Mm, addr: number): void {
    const vma = mm.vmaAt(addr);
    if (vma === null || vma.start === addr) return;
    const i = vma.index(addr);
    const tail = new Vma(mm, addr, vma.end, vma.flags, vma.frames.slice(i), vma.pte.slice(i));
    tail.anonVma = vma.anonVma;
    tail.node = vma.node;
    vma.frames = vma.frames.slice(0, i);
    vma.pte = vma.pte.slice(0, i);
    vma.end = addr;
    mm.vmas.splice(mm.vmas.indexOf(vma) + 1, 0, tail);
  }

  // ---------------------------------------------------------------- page access

  /** follow_page: the frame mapped at addr in vma, or 0. */
  followPage(vma: Vma, addr: number): number {
    return vma.frames[vma.index(addr)];
  }

  /** The content id a read of the page at addr sees (the zero page when unmapped). */
  readPage(mm: Mm, addr: number): number {
    const vma = mm.vmaAt(addr);
    if (vma === null) return this.zeroContent;
    const f = vma.frames[vma.index(addr - (addr % PAGE_SIZE))];
    return f === 0 ? this.zeroContent : this.frames.content[f];
  }

  /** Copies `length` bytes at addr out of the process; -EFAULT when unmapped or unreadable. */
  readBytes(mm: Mm, addr: number, length: number): Uint8Array | number {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const a = addr + done;
      const vma = mm.vmaAt(a);
      if (vma === null || !(vma.flags & VM_READ)) return -ERRNO.EFAULT;
      const base = a - (a % PAGE_SIZE);
      const c = this.readPage(mm, base);
      const off = a - base;
      const n = Math.min(PAGE_SIZE - off, length - done);
      const page = this.contents.pageOf(c);
      const so = this.contents.pageOffset + off;
      out.set(page.subarray(so, so + n), done);
      done += n;
    }
    return out;
  }

  /**
   * A write of a whole page by the process: `content` (one reference, which
   * passes to the page) becomes what addr reads. Returns 0 or -EFAULT.
   */
  writePage(mm: Mm, addr: number, content: number): number {
    const vma = mm.vmaAt(addr);
    if (vma === null || !(vma.flags & VM_WRITE) || addr % PAGE_SIZE !== 0) {
      this.contents.unref(content);
      return -ERRNO.EFAULT;
    }
    const f = this.writableFrame(vma, vma.index(addr));
    this.frames.setContent(f, content);
    return 0;
  }

  /**
   * The first write to page i of an anonymous private vma, with the page's
   * whole new content (one reference, which passes to the page): what
   * do_anonymous_page plus the write leave behind, without the detour
   * through a zeroed page. Falls back to writePage when something is mapped.
   */
  faultIn(vma: Vma, i: number, content: number): void {
    if (vma.frames[i] !== 0 || vma.flags & VM_SHARED || !(vma.flags & VM_WRITE)) {
      const r = this.writePage(vma.mm, vma.start + i * PAGE_SIZE, content);
      if (r < 0) throw new Error(`fault at 0x${(vma.start + i * PAGE_SIZE).toString(16)}: ${r}`);
      return;
    }
    vma.anonVma = true;
    const f = this.frames.alloc(content, FRAME_ANON, vma.node);
    this.frames.mapcount[f] = 1;
    vma.frames[i] = f;
    vma.pte[i] = PTE_WRITE;
  }

  /** Writes bytes into the process (any alignment, may span pages); 0 or -EFAULT. */
  writeBytes(mm: Mm, addr: number, data: Uint8Array): number {
    for (let a = addr, end = addr + data.length; a < end;) {
      const vma = mm.vmaAt(a);
      if (vma === null || !(vma.flags & VM_WRITE)) return -ERRNO.EFAULT;
      const base = a - (a % PAGE_SIZE);
      const off = a - base;
      const n = Math.min(PAGE_SIZE - off, end - a);
      const cur = this.readPage(mm, base);
      const scratch = this.contents.scratch;
      const page = this.contents.pageOf(cur);
      scratch.set(page.subarray(this.contents.pageOffset, this.contents.pageOffset + PAGE_SIZE));
      scratch.set(data.subarray(a - addr, a - addr + n), off);
      const c = this.contents.internScratch();
      const r = this.writePage(mm, base, c);
      if (r < 0) return r;
      a += n;
    }
    return 0;
  }

  /**
   * The write-fault path (do_anonymous_page / do_wp_page): returns a frame
   * mapped writable only at index i of vma.
   */
  private writableFrame(vma: Vma, i: number): number {
    const fr = this.frames;
    let f = vma.frames[i];
    if (f === 0) {
      // do_anonymous_page: a fresh zeroed page for this address only.
      vma.anonVma = true;
      this.contents.ref(this.zeroContent);
      f = fr.alloc(this.zeroContent, FRAME_ANON, vma.node);
      fr.mapcount[f] = 1;
      vma.frames[i] = f;
      vma.pte[i] = PTE_WRITE;
      return f;
    }
    if (vma.pte[i] & PTE_WRITE) return f;
    return this.doWpPage(vma, i, f);
  }

  /**
   * do_wp_page: reuse an anonymous page mapped only here; otherwise (a KSM
   * page, or one still shared after fork) copy it. Returns the new frame.
   */
  private doWpPage(vma: Vma, i: number, f: number): number {
    const fr = this.frames;
    if (fr.isAnon(f) && !fr.isKsm(f) && fr.mapcount[f] === 1 && !(vma.flags & VM_SHARED)) {
      vma.pte[i] = vma.flags & VM_WRITE ? PTE_WRITE : 0;
      return f;
    }
    if (vma.flags & VM_SHARED) {
      vma.pte[i] = PTE_WRITE;
      return f;
    }
    const c = fr.content[f];
    this.contents.ref(c);
    const nf = fr.alloc(c, FRAME_ANON, vma.node);
    fr.mapcount[nf] = 1;
    vma.frames[i] = nf;
    vma.pte[i] = vma.flags & VM_WRITE ? PTE_WRITE : 0;
    if (fr.isKsm(f)) vma.mm.ksmCowBreaks++;
    fr.mapcount[f]--;
    fr.put(f);
    this.cowBreaks++;
    return nf;
  }

  /**
   * break_ksm: while the page at addr is a KSM page, take a write fault on it
   * (even if the VMA does not allow writes), giving addr a private copy.
   */
  breakKsm(vma: Vma, addr: number): void {
    const i = vma.index(addr);
    const f = vma.frames[i];
    if (f === 0 || !this.frames.isKsm(f)) return;
    this.doWpPage(vma, i, f);
  }

  /**
   * An unshare fault (FAULT_FLAG_UNSHARE, Linux 5.19 and later) at addr: a
   * page mapped there read-only and shared (a KSM page, or the zero page 6.x
   * KSM maps) is replaced by a private copy, even if the VMA does not allow
   * writes. Nothing happens to an unmapped or writable entry. (The kernel
   * maps the copy read-only but exclusive, so a later write takes it
   * without copying; here it is mapped writable at once if the VMA allows
   * writes: nothing can tell the two apart.)
   */
  unsharePage(vma: Vma, addr: number): void {
    const i = vma.index(addr);
    const f = vma.frames[i];
    if (f === 0 || vma.pte[i] & PTE_WRITE) return;
    this.doWpPage(vma, i, f);
  }

  // ---------------------------------------------------------------- KSM primitives

  /**
   * write_protect_page: make the PTE read-only so the page cannot change
   * under the merge. Fails (false) when someone holds an extra reference
   * (O_DIRECT or another get_user_pages pin): page_count must equal
   * page_mapcount plus the references the caller holds (`heldRefs`; the seeds
   * write `page_mapcount(page) + 2` for follow_page's and their own get_page).
   */
  writeProtect(vma: Vma, addr: number, f: number, heldRefs: number): boolean {
    const i = vma.index(addr);
    if (vma.frames[i] !== f) return false;
    if (vma.pte[i] & PTE_WRITE) {
      if (this.frames.refcount[f] !== this.frames.mapcount[f] + heldRefs) return false;
      vma.pte[i] = 0;
    }
    return true;
  }

  /**
   * replace_page: map the KSM page `kf` read-only at addr in place of `old`
   * (which must still be mapped there), marking kf PageKsm
   * (page_add_ksm_rmap). The entry must still be the write-protected one
   * writeProtect left (pte_same(*ptep, orig_pte)): a write fault since then
   * made it writable (do_wp_page reused the page) or pointed it at a copy,
   * and the replace fails. Refuses a kf whose content differs from old's:
   * that would make merging visible. With markKsm false, kf is mapped as it
   * is (6.x maps the zero page this way when use_zero_pages is set).
   */
  replacePage(vma: Vma, addr: number, old: number, kf: number, markKsm = true): boolean {
    const fr = this.frames;
    const i = vma.index(addr);
    if (vma.frames[i] !== old || vma.pte[i] & PTE_WRITE) return false;
    if (fr.content[old] !== fr.content[kf]) throw new Error('replace_page: contents differ');
    if (markKsm) fr.flags[kf] |= FRAME_KSM;
    fr.mapcount[kf]++;
    fr.get(kf);
    vma.frames[i] = kf;
    vma.pte[i] = 0;
    fr.mapcount[old]--;
    fr.put(old);
    return true;
  }

  /** Drops one mapping of the frame at index i of vma (zap_pte_range for one entry). */
  zapPage(vma: Vma, i: number): void {
    const f = vma.frames[i];
    if (f === 0) return;
    vma.frames[i] = 0;
    vma.pte[i] = 0;
    this.frames.mapcount[f]--;
    this.frames.put(f);
  }

  // ---------------------------------------------------------------- fork and exit

  /** dup_mm: a copy of mm whose private pages are shared copy-on-write. Returns the child or -errno. */
  fork(parent: Mm): Mm | number {
    // dup_mm's allocate_mm failing: every mm id is in use (mmIdMax).
    if (this.maxMappedPages !== Number.POSITIVE_INFINITY) {
      let copied = 0;
      for (const v of parent.vmas) if (!(v.flags & VM_DONTCOPY)) copied += v.pages;
      if (this.mappedPages() + copied > this.maxMappedPages) return -ERRNO.ENOMEM;
    }
    const child = this.newMm();
    if (child === null) return -ERRNO.ENOMEM;
    const err = this.hooks.fork?.(parent, child) ?? 0;
    if (err < 0) {
      this.freeMm(child);
      return err;
    }
    const fr = this.frames;
    for (const v of parent.vmas) {
      if (v.flags & VM_DONTCOPY) continue;
      const c = new Vma(child, v.start, v.end, v.flags, v.frames.slice(), v.pte.slice());
      c.anonVma = v.anonVma;
      c.node = v.node;
      const shared = (v.flags & VM_SHARED) !== 0;
      for (let i = 0; i < c.frames.length; i++) {
        const f = c.frames[i];
        if (f === 0) continue;
        fr.mapcount[f]++;
        fr.get(f);
        if (!shared) {
          v.pte[i] = 0;
          c.pte[i] = 0;
        }
      }
      child.vmas.push(c);
    }
    return child;
  }

  /** mmget: another user keeps the address space alive. */
  mmget(mm: Mm): void {
    mm.users++;
  }

  /**
   * mmput: the last user gone, ksm_exit runs and then exit_mmap tears the
   * mappings down, and the users' reference to the struct goes (mmdrop).
   */
  mmput(mm: Mm): void {
    if (mm.users <= 0) throw new Error(`mm ${mm.id}: mmput without a user`);
    if (--mm.users > 0) return;
    this.hooks.exit?.(mm);
    for (const v of mm.vmas) for (let i = 0; i < v.frames.length; i++) this.zapPage(v, i);
    mm.vmas = [];
    this.mmdrop(mm);
  }

  /** mmgrab (atomic_inc(&mm->mm_count)): the struct stays, and its id taken, until the matching mmdrop. */
  mmgrab(mm: Mm): void {
    mm.count++;
  }

  /** mmdrop: the last reference to the struct gone, the mm is freed and its id free for another. */
  mmdrop(mm: Mm): void {
    if (mm.count <= 0) throw new Error(`mm ${mm.id}: mmdrop without a reference`);
    if (--mm.count === 0) this.freeMm(mm);
  }

  private freeMm(mm: Mm): void {
    if (this.mmById[mm.id] !== mm) return;
    this.mms.delete(mm.id);
    delete this.mmById[mm.id];
  }

  // ---------------------------------------------------------------- measuring

  /**
   * pages_saved measured from memory: present pages in the ranges minus the
   * distinct frames backing them.
   */
  pagesSaved(ranges: Iterable<Range>): { present: number; distinct: number; saved: number } {
    const mark = this.mark;
    if (mark.seen.length < this.frames.limit) mark.seen = new Uint32Array(Math.max(this.frames.limit, mark.seen.length * 2));
    const g = ++mark.gen;
    const seen = mark.seen;
    let present = 0;
    let distinct = 0;
    for (const r of ranges) {
      for (const v of r.mm.vmas) {
        if (v.end <= r.start || v.start >= r.end) continue;
        const from = v.index(Math.max(v.start, r.start));
        const to = v.index(Math.min(v.end, r.end));
        const frames = v.frames;
        for (let i = from; i < to; i++) {
          const f = frames[i];
          if (f === 0) continue;
          present++;
          if (seen[f] !== g) {
            seen[f] = g;
            distinct++;
          }
        }
      }
    }
    return { present, distinct, saved: present - distinct };
  }

  // ---------------------------------------------------------------- internals

  private unmapRange(mm: Mm, start: number, end: number): void {
    this.splitAt(mm, start);
    this.splitAt(mm, end);
    const keep: Vma[] = [];
    for (const v of mm.vmas) {
      if (v.start >= start && v.end <= end) {
        for (let i = 0; i < v.frames.length; i++) this.zapPage(v, i);
      } else keep.push(v);
    }
    mm.vmas = keep;
  }

  private insertVma(mm: Mm, vma: Vma): void {
    const i = mm.findVmaIndex(vma.start);
    mm.vmas.splice(i, 0, vma);
  }

  /** arch_get_unmapped_area, bottom-up first fit, leaving one unmapped guard page around each mapping. */
  private getUnmappedArea(mm: Mm, hint: number, len: number): number {
    if (hint !== 0 && hint + len <= TASK_SIZE && this.isFree(mm, hint, len)) return hint;
    let addr = TASK_UNMAPPED_BASE;
    for (const v of mm.vmas) {
      if (v.end + PAGE_SIZE <= addr) continue;
      if (addr + len + PAGE_SIZE <= v.start) break;
      addr = Math.max(addr, v.end + PAGE_SIZE);
    }
    if (addr + len > TASK_SIZE) return -ERRNO.ENOMEM;
    return addr;
  }

  private isFree(mm: Mm, start: number, len: number): boolean {
    const v = mm.findVma(start);
    return v === null || v.start >= start + len;
  }
}

export function roundUp(len: number): number {
  return Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
}
