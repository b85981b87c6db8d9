/**
 * What a real process has mapped and what its pages hold, read from /proc
 * as a debugger does: /proc/PID/maps for its mappings, /proc/PID/pagemap
 * for which pages are present (and, as root, their frame numbers, to tell
 * the shared zero page from a page the program wrote), /proc/PID/mem for
 * the bytes. The simulator is the program's parent (or an ancestor), which
 * ptrace's access rule asks of a reader that is not root.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { PAGE_SIZE } from '../engine/constants.js';

export interface RealMapping {
  start: number;
  end: number;
  read: boolean;
  write: boolean;
  exec: boolean;
  shared: boolean;
  /** The file or pseudo-file ([heap], [stack]); '' for anonymous memory. */
  path: string;
}

/** /proc/PID/maps, or null when the process is gone. */
export function readMaps(pid: number): RealMapping[] | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/maps`, 'utf8');
  } catch {
    return null;
  }
  const out: RealMapping[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (.)(.)(.)(.) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m === null) continue;
    out.push({ start: parseInt(m[1], 16), end: parseInt(m[2], 16), read: m[3] === 'r', write: m[4] === 'w', exec: m[5] === 'x', shared: m[6] === 's', path: m[7] });
  }
  return out;
}

/** Anonymous memory a program can own pages in (not the vDSO's or vsyscall's). */
export function isAnonymous(m: RealMapping): boolean {
  return m.path === '' || m.path === '[heap]' || m.path === '[stack]' || m.path.startsWith('[anon:');
}

/** pagemap bits (Documentation/admin-guide/mm/pagemap.rst). */
const PM_PRESENT = 1n << 63n;
const PM_SWAP = 1n << 62n;
const PM_PFN_MASK = (1n << 55n) - 1n;

/** Page states of a range: PAGE_PRESENT (with its bytes readable), PAGE_ZERO (the shared zero page), or 0. */
export const PAGE_PRESENT = 1;
export const PAGE_ZERO = 2;

/** An open view of one process's memory; close() when done. */
export class ProcessMemory {
  private readonly mem: number;
  private readonly pagemap: number;

  constructor(readonly pid: number) {
    this.mem = openSync(`/proc/${pid}/mem`, 'r');
    try {
      this.pagemap = openSync(`/proc/${pid}/pagemap`, 'r');
    } catch (e) {
      closeSync(this.mem);
      throw e;
    }
  }

  /** The state of each page of [start, start + pages * PAGE_SIZE); zeroPfn: the zero page's frame (0: unknown). */
  pageStates(start: number, pages: number, zeroPfn: bigint): Uint8Array {
    const buf = Buffer.alloc(pages * 8);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(this.pagemap, buf, got, buf.length - got, (start / PAGE_SIZE) * 8 + got);
      if (n <= 0) break;
      got += n;
    }
    const out = new Uint8Array(pages);
    for (let i = 0; i < got / 8; i++) {
      const e = buf.readBigUInt64LE(i * 8);
      if (e & PM_SWAP) out[i] = PAGE_PRESENT;
      else if (e & PM_PRESENT) out[i] = zeroPfn !== 0n && (e & PM_PFN_MASK) === zeroPfn ? PAGE_ZERO : PAGE_PRESENT;
    }
    return out;
  }

  /** Reads `length` bytes at addr into buf[offset]: the count read (short when a page vanished). */
  read(addr: number, buf: Buffer, offset: number, length: number): number {
    let got = 0;
    while (got < length) {
      let n: number;
      try {
        n = readSync(this.mem, buf, offset + got, length - got, addr + got);
      } catch {
        break;
      }
      if (n <= 0) break;
      got += n;
    }
    return got;
  }

  close(): void {
    closeSync(this.mem);
    closeSync(this.pagemap);
  }
}

/** /proc/PID/stat's state letter, or null when the process is gone (Z: a zombie). */
export function processState(pid: number): string | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}
