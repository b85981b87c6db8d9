/**
 * The simulated copy of a real process's memory. The simulated process
 * has mappings at the real addresses (so a registration, an ioctl's struct
 * pointer or a madvise range means the same there), made when the program
 * first hands the kernel an address in them; and the pages of its
 * registered ranges hold what the real pages hold, brought up to date
 * before the simulator does anything (sync): a page whose bytes changed is
 * a write of the simulated process (a write to a merged page breaks its
 * copy-on-write, as the program's store did in the real kernel); a page
 * that did not change is left alone, so a merged page stays merged.
 *
 * Simplifications (docs/exec.md): every mirror is writable anonymous
 * memory (a private file mapping's pages are taken as anonymous ones, and
 * mprotect is not followed); a page is compared by content, so a store
 * of the same bytes goes unseen.
 */
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE } from '../engine/constants.js';
import type { Process } from '../engine/machine.js';
import type { Range } from '../engine/memory/memory.js';
import type { EraSystem } from '../eras/system.js';
import { isAnonymous, PAGE_PRESENT, ProcessMemory, type RealMapping } from './memory-reader.js';

/** Pages read from the real process at once. */
const CHUNK_PAGES = 256;

export class MemoryMirror {
  private readonly buf = Buffer.alloc(CHUNK_PAGES * PAGE_SIZE);

  constructor(
    private readonly sys: EraSystem,
    /** The real pid. */
    readonly pid: number,
    public sim: Process,
    /** The shared zero page's frame number (0: unknown, pagemap hides frames from non-root readers). */
    public zeroPfn: bigint,
  ) {}

  /** Maps into the simulated process what it lacks of the real mappings overlapping [start, end) (anonymous ones only when asked). */
  mirror(maps: readonly RealMapping[], start: number, end: number, anonymousOnly = false): void {
    for (const m of maps) {
      if (m.end <= start || m.start >= end || (anonymousOnly && (!isAnonymous(m) || m.shared))) continue;
      if (m.path === '[vvar]' || m.path === '[vdso]' || m.path === '[vsyscall]' || m.path === '[vvar_vclock]') continue;
      for (const [s, e] of this.gaps(m.start, m.end)) {
        const prot = PROT_READ | PROT_WRITE | (m.exec ? PROT_EXEC : 0);
        this.sys.mmap(this.sim, s, e - s, prot, MAP_FIXED | MAP_ANONYMOUS | (m.shared ? MAP_SHARED : MAP_PRIVATE));
      }
    }
  }

  /** The parts of [start, end) no simulated mapping covers. */
  private gaps(start: number, end: number): [number, number][] {
    const out: [number, number][] = [];
    let at = start;
    for (const v of this.sim.mm.vmas) {
      if (v.end <= at) continue;
      if (v.start >= end) break;
      if (v.start > at) out.push([at, v.start]);
      at = Math.max(at, v.end);
      if (at >= end) break;
    }
    if (at < end) out.push([at, end]);
    return out;
  }

  /** Unmaps the simulated parts the real process no longer has mapped (munmap, or a mapping's end). */
  reconcile(maps: readonly RealMapping[]): void {
    const stale: [number, number][] = [];
    for (const v of this.sim.mm.vmas) {
      let at = v.start;
      for (const m of maps) {
        if (m.end <= at) continue;
        if (m.start >= v.end) break;
        if (m.start > at) stale.push([at, m.start]);
        at = Math.max(at, m.end);
        if (at >= v.end) break;
      }
      if (at < v.end) stale.push([at, v.end]);
    }
    for (const [s, e] of stale) this.sys.munmap(this.sim, s, e - s);
  }

  /** Brings the pages of `ranges` up to the real ones; false when the process cannot be read (gone). */
  sync(ranges: readonly Range[]): boolean {
    if (ranges.length === 0) return true;
    let pm: ProcessMemory;
    try {
      pm = new ProcessMemory(this.pid);
    } catch {
      return false;
    }
    try {
      for (const r of ranges) {
        for (const v of this.sim.mm.vmas) {
          const s = Math.max(v.start, r.start);
          const e = Math.min(v.end, r.end);
          if (s < e) this.syncPages(pm, s, e);
        }
      }
    } finally {
      pm.close();
    }
    return true;
  }

  private syncPages(pm: ProcessMemory, start: number, end: number): void {
    const memory = this.sys.memory;
    const contents = memory.contents;
    const mm = this.sim.mm;
    for (let a = start; a < end; a += CHUNK_PAGES * PAGE_SIZE) {
      const n = Math.min(CHUNK_PAGES, (end - a) / PAGE_SIZE);
      const states = pm.pageStates(a, n, this.zeroPfn);
      let first = -1;
      let last = -1;
      for (let i = 0; i < n; i++) {
        if (states[i] !== PAGE_PRESENT) continue;
        if (first < 0) first = i;
        last = i;
      }
      if (first < 0) continue;
      const got = pm.read(a + first * PAGE_SIZE, this.buf, first * PAGE_SIZE, (last - first + 1) * PAGE_SIZE);
      const readEnd = first * PAGE_SIZE + got;
      const vma = mm.vmaAt(a);
      for (let i = first; i <= last; i++) {
        if (states[i] !== PAGE_PRESENT || (i + 1) * PAGE_SIZE > readEnd) continue;
        const addr = a + i * PAGE_SIZE;
        const v = vma !== null && addr < vma.end ? vma : mm.vmaAt(addr);
        if (v === null) continue;
        const f = v.frames[v.index(addr)];
        const cur = f === 0 ? 0 : memory.frames.content[f];
        if (cur !== 0) {
          // Unchanged pages (most of them, most of the time) cost one memcmp, not a hash.
          const page = contents.pageOf(cur);
          const po = contents.pageOffset;
          if (Buffer.compare(this.buf.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), page.subarray(po, po + PAGE_SIZE)) === 0) continue;
        }
        const id = contents.intern(this.buf, i * PAGE_SIZE);
        // Unchanged; or zeros where nothing is mapped and the zero page cannot be told apart (read as the same).
        if (id === cur || (f === 0 && id === memory.zero && this.zeroPfn === 0n)) {
          contents.unref(id);
          continue;
        }
        memory.writePage(mm, addr, id);
      }
    }
  }
}
