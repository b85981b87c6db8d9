/**
 * Captures a live process into a snapshot: its mappings from
 * /proc/PID/smaps, which pages are in RAM from /proc/PID/pagemap (present,
 * swapped, file or shared, exclusive, soft-dirty, and the PFN, which root
 * sees), and the bytes of the present pages from /proc/PID/mem.
 *
 * Nothing is written into the process, and nothing is faulted in: only
 * pages pagemap shows present are read (with positional reads, the file
 * offset being the address), so a swapped-out or never-touched page stays
 * as it is. The process runs on meanwhile: a page may change between its
 * pagemap entry and its read, as it would between two scans of ksmd.
 *
 * Problems are per process and one line each: a process that is gone, or
 * whose /proc files are refused, is not captured; a range the kernel will
 * not read (/proc/PID/mem answers EIO for [vvar], say) is recorded as
 * unreadable pages and the capture goes on.
 */
import { closeSync, openSync, readFileSync, readlinkSync, readSync } from 'node:fs';
import { type MappingRecord, PAGES_PER_RECORD, PF_EXCLUSIVE, PF_FILE, PF_PRESENT, PF_SOFT_DIRTY, PF_SWAPPED, PF_UNREADABLE, type ProcessRecord, REF_ABSENT, SNAPSHOT_PAGE_SIZE } from './format.js';
import type { FrameNumbers } from './frame-numbers.js';
import { parseSmaps } from './smaps.js';
import type { SnapshotWriter } from './writer.js';

const PAGE = SNAPSHOT_PAGE_SIZE;
/** Pages read from /proc/PID/mem at once (1 MiB). */
const READ_PAGES = 256;
/** The top of the user address space on x86_64 (47 bits): [vsyscall] lies above and is not the process's memory. */
const USER_TOP = 2 ** 47;

/** A process that could not be captured at all: the one line says why. */
export class CaptureError extends Error {
  override readonly name = 'CaptureError';
}

export interface CaptureContext {
  writer: SnapshotWriter;
  capture: number;
  frames: FrameNumbers;
  /** Bytes of present pages read so far (for a progress bar). */
  onBytes?: (n: number) => void;
}

/** Why a /proc file of `pid` cannot be opened, in a line. */
function procProblem(pid: number, what: string, e: unknown): CaptureError {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'ESRCH') return new CaptureError(`pid ${pid}: no such process`);
  if (code === 'EACCES' || code === 'EPERM') return new CaptureError(`pid ${pid}: permission denied reading /proc/${pid}/${what} (ptrace access to the process is needed: run as its user or root)`);
  return new CaptureError(`pid ${pid}: cannot read /proc/${pid}/${what}: ${(e as Error)?.message ?? e}`);
}

function readProc(pid: number, what: string): string {
  try {
    return readFileSync(`/proc/${pid}/${what}`, 'utf8');
  } catch (e) {
    throw procProblem(pid, what, e);
  }
}

function openProc(pid: number, what: string): number {
  try {
    return openSync(`/proc/${pid}/${what}`, 'r');
  } catch (e) {
    throw procProblem(pid, what, e);
  }
}

/** Whether `pid` still runs (its /proc directory is there and not a zombie's). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

/** Captures process `pid` as process `seq` of the writer; a CaptureError when it cannot be captured at all. */
export async function captureProcess(pid: number, ctx: CaptureContext): Promise<ProcessRecord> {
  const time = new Date().toISOString();
  const comm = readProc(pid, 'comm').replace(/\n$/, '');
  const cmdline = readProc(pid, 'cmdline').split('\0');
  if (cmdline[cmdline.length - 1] === '') cmdline.pop();
  let cgroup: string | undefined;
  try {
    cgroup = /^0::(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1];
  } catch {
    // not essential
  }
  const mappings = parseSmaps(readProc(pid, 'smaps'));
  if (mappings.length === 0 && !alive(pid)) throw new CaptureError(`pid ${pid}: no such process (it exited)`);
  const pagemap = openProc(pid, 'pagemap');
  let mem: number;
  try {
    mem = openProc(pid, 'mem');
  } catch (e) {
    closeSync(pagemap);
    throw e;
  }
  const seq = ctx.writer.nextSeq;
  const problems: string[] = [];
  try {
    for (let m = 0; m < mappings.length; m++) {
      const gone = await captureMapping(pid, seq, m, mappings[m], pagemap, mem, ctx, problems);
      if (gone) {
        problems.push(`exited during the capture: mappings from ${mappings[m].start} on are missing`);
        break;
      }
    }
  } finally {
    closeSync(pagemap);
    closeSync(mem);
  }
  const rec: ProcessRecord = { seq, capture: ctx.capture, source: 'proc', pid, comm, cmdline, time, mappings, problems };
  try {
    rec.file = readlinkSync(`/proc/${pid}/exe`);
  } catch {
    // a kernel thread or a process gone meanwhile
  }
  if (cgroup !== undefined) rec.cgroup = cgroup;
  ctx.writer.writeProcess(rec);
  return rec;
}

/** Captures one mapping's page table and present pages; true when the process is gone. */
async function captureMapping(pid: number, seq: number, m: number, map: MappingRecord, pagemap: number, mem: number, ctx: CaptureContext, problems: string[]): Promise<boolean> {
  const start = Number(BigInt(map.start));
  const end = Number(BigInt(map.end));
  if (start >= USER_TOP) return false;
  // Nothing in RAM or swap: every page is absent, no page table needed.
  if (map.rssKb === 0 && (map.swapKb ?? 0) === 0) return false;
  const pages = (end - start) / PAGE;
  const entries = Buffer.allocUnsafe(Math.min(pages, PAGES_PER_RECORD) * 8);
  const data = Buffer.allocUnsafe(READ_PAGES * PAGE);
  let unreadable = 0;
  for (let first = 0; first < pages; first += PAGES_PER_RECORD) {
    const count = Math.min(PAGES_PER_RECORD, pages - first);
    const refs = new Uint32Array(count);
    const frames = new Uint32Array(count);
    const flags = new Uint8Array(count);
    const got = readFull(pagemap, entries, count * 8, ((start / PAGE) + first) * 8);
    if (got < 0) {
      if (!alive(pid)) return true;
      problems.push(`pagemap of ${map.start}-${map.end} unreadable`);
      return false;
    }
    const words = new Uint32Array(entries.buffer, entries.byteOffset, count * 2);
    for (let i = 0; i < got / 8; i++) {
      const lo = words[2 * i];
      const hi = words[2 * i + 1];
      let f = 0;
      if (hi & 0x80000000) f |= PF_PRESENT;
      if (hi & 0x40000000) f |= PF_SWAPPED;
      if (hi & 0x20000000) f |= PF_FILE;
      if (hi & 0x01000000) f |= PF_EXCLUSIVE;
      if (hi & 0x00800000) f |= PF_SOFT_DIRTY;
      flags[i] = f;
      if (f & PF_PRESENT) {
        const pfn = lo + (hi & 0x7fffff) * 4294967296;
        if (pfn !== 0) frames[i] = ctx.frames.of(pfn);
      }
    }
    // Runs of present pages, read READ_PAGES at a time.
    for (let i = 0; i < count; ) {
      if (!(flags[i] & PF_PRESENT)) {
        i++;
        continue;
      }
      let n = 1;
      while (n < READ_PAGES && i + n < count && flags[i + n] & PF_PRESENT) n++;
      const addr = start + (first + i) * PAGE;
      const r = readFull(mem, data, n * PAGE, addr);
      if (r === n * PAGE) {
        await ctx.writer.addPages(data, 0, n, refs, i);
        ctx.onBytes?.(n * PAGE);
      } else {
        // Page by page, to keep what can be read.
        for (let k = 0; k < n; k++) {
          const one = readFull(mem, data, PAGE, addr + k * PAGE);
          if (one === PAGE) {
            await ctx.writer.addPages(data, 0, 1, refs, i + k);
          } else {
            refs[i + k] = REF_ABSENT;
            flags[i + k] |= PF_UNREADABLE;
            unreadable++;
          }
        }
        ctx.onBytes?.(n * PAGE);
        if (unreadable && !alive(pid)) {
          ctx.writer.writePages(seq, m, first, refs, frames, flags);
          return true;
        }
      }
      i += n;
    }
    ctx.writer.writePages(seq, m, first, refs, frames, flags);
  }
  if (unreadable) problems.push(`${unreadable} present page${unreadable === 1 ? '' : 's'} of ${map.start}-${map.end}${map.path ? ` (${map.path})` : ''} refused by /proc/${pid}/mem`);
  return false;
}

/** Reads `length` bytes at `position` (a short read is retried); the bytes read, or -1 on an error before any. */
function readFull(fd: number, buf: Buffer, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    let n: number;
    try {
      n = readSync(fd, buf, done, length - done, position + done);
    } catch {
      return done === 0 ? -1 : done;
    }
    if (n === 0) break;
    done += n;
  }
  return done;
}
