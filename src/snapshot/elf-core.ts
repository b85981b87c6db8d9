/**
 * ELF core files into a snapshot: a process's core as gdb's gcore or the
 * kernel writes it, or a guest's memory as QEMU's dump-guest-memory writes
 * it (ELF64, little-endian, e_type ET_CORE).
 *
 * - PT_LOAD segments are the mappings: p_vaddr (a guest dump's p_paddr
 *   when its virtual addresses are all 0), p_memsz, the R/W/X of p_flags.
 *   Their p_filesz bytes are the pages dumped (present); the rest of
 *   p_memsz was left out of the core (absent).
 * - NT_PRPSINFO gives the pid, the command name and its arguments; NT_FILE
 *   the file behind each file-backed mapping.
 *
 * A core cannot tell what pagemap and smaps tell of a live process: no
 * VmFlags (so no `mg`), no private or shared, no physical frames. Each
 * mapping counts as private; the pages of a read-only file-backed mapping
 * are taken for page cache (file pages, never merged), those of a
 * writable one for its copied-on-write anonymous pages.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { captureSegment, type Segment } from './file-source.js';
import { type MappingRecord, type ProcessRecord, SNAPSHOT_PAGE_SIZE } from './format.js';
import type { SnapshotWriter } from './writer.js';
import { errText } from './writer.js';

const PAGE = SNAPSHOT_PAGE_SIZE;
const ET_CORE = 4;
const PT_LOAD = 1;
const PT_NOTE = 4;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;
const NT_PRPSINFO = 3;
const NT_FILE = 0x46494c45;
const PN_XNUM = 0xffff;

/** A file that is not an ELF core this reader takes: one line naming it. */
export class CoreError extends Error {
  override readonly name = 'CoreError';
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

interface Load {
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
  flags: number;
}

export interface CoreInfo {
  pid: number;
  comm: string;
  cmdline: string[];
  loads: Load[];
  files: Array<{ start: number; end: number; offset: number; path: string }>;
  guest: boolean;
}

function read(fd: number, size: number, offset: number, length: number, file: string): Buffer {
  if (offset + length > size) throw new CoreError(file, `truncated core (${length} bytes at ${offset} run past the end, ${size} bytes)`);
  const b = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, b, done, length - done, offset + done);
    if (n === 0) throw new CoreError(file, 'truncated core');
    done += n;
  }
  return b;
}

/** Reads the headers and notes of a core; throws CoreError for anything else. */
export function readCoreInfo(fd: number, file: string): CoreInfo {
  const size = fstatSync(fd).size;
  if (size < 64) throw new CoreError(file, 'not an ELF file (too short)');
  const eh = read(fd, size, 0, 64, file);
  if (eh[0] !== 0x7f || eh.toString('latin1', 1, 4) !== 'ELF') throw new CoreError(file, 'not an ELF file');
  if (eh[4] !== 2 || eh[5] !== 1) throw new CoreError(file, 'not a 64-bit little-endian ELF file');
  const type = eh.readUInt16LE(16);
  if (type !== ET_CORE) throw new CoreError(file, `an ELF ${['file of no type', 'relocatable file', 'executable', 'shared object'][type] ?? `file of type ${type}`}, not a core dump`);
  const phoff = Number(eh.readBigUInt64LE(32));
  const phentsize = eh.readUInt16LE(54);
  let phnum = eh.readUInt16LE(56);
  if (phnum === PN_XNUM) {
    const shoff = Number(eh.readBigUInt64LE(40));
    phnum = read(fd, size, shoff, 64, file).readUInt32LE(44);
  }
  if (phentsize < 56) throw new CoreError(file, 'corrupt ELF program headers');
  const ph = read(fd, size, phoff, phnum * phentsize, file);
  const info: CoreInfo = { pid: 0, comm: basename(file), cmdline: [], loads: [], files: [], guest: false };
  for (let i = 0; i < phnum; i++) {
    const o = i * phentsize;
    const ptype = ph.readUInt32LE(o);
    const offset = Number(ph.readBigUInt64LE(o + 8));
    const filesz = Number(ph.readBigUInt64LE(o + 32));
    if (ptype === PT_LOAD) {
      const l: Load = { offset, flags: ph.readUInt32LE(o + 4), vaddr: Number(ph.readBigUInt64LE(o + 16)), paddr: Number(ph.readBigUInt64LE(o + 24)), filesz, memsz: Number(ph.readBigUInt64LE(o + 40)) };
      if (l.offset + l.filesz > size) throw new CoreError(file, `truncated core (segment ${i} at 0x${l.vaddr.toString(16)} runs past the end of the file)`);
      if (l.memsz > 0) info.loads.push(l);
    } else if (ptype === PT_NOTE) {
      readNotes(read(fd, size, offset, filesz, file), info);
    }
  }
  // dump-guest-memory without paging: guest-physical addresses only.
  if (info.loads.length > 0 && info.loads.every((l) => l.vaddr === 0)) {
    info.guest = true;
    for (const l of info.loads) l.vaddr = l.paddr;
  }
  info.loads.sort((a, b) => a.vaddr - b.vaddr);
  return info;
}

function cString(b: Buffer, start: number, end: number): string {
  const z = b.indexOf(0, start);
  return b.toString('utf8', start, z < 0 || z > end ? end : z);
}

function readNotes(b: Buffer, info: CoreInfo): void {
  for (let o = 0; o + 12 <= b.length; ) {
    const namesz = b.readUInt32LE(o);
    const descsz = b.readUInt32LE(o + 4);
    const type = b.readUInt32LE(o + 8);
    const name = cString(b, o + 12, o + 12 + namesz);
    const desc = o + 12 + align4(namesz);
    if (desc + descsz > b.length) break;
    if (name === 'CORE' && type === NT_PRPSINFO && descsz >= 136) {
      // struct elf_prpsinfo (x86_64): pr_pid at 24, pr_fname[16] at 40, pr_psargs[80] at 56.
      info.pid = b.readInt32LE(desc + 24);
      info.comm = cString(b, desc + 40, desc + 56);
      info.cmdline = cString(b, desc + 56, desc + 136).split(' ').filter((s) => s !== '');
    } else if (name === 'CORE' && type === NT_FILE && descsz >= 16) {
      const count = Number(b.readBigUInt64LE(desc));
      const pageSize = Number(b.readBigUInt64LE(desc + 8));
      let s = desc + 16 + count * 24;
      for (let k = 0; k < count && s <= desc + descsz; k++) {
        const e = desc + 16 + k * 24;
        const path = cString(b, s, desc + descsz);
        s += Buffer.byteLength(path) + 1;
        info.files.push({ start: Number(b.readBigUInt64LE(e)), end: Number(b.readBigUInt64LE(e + 8)), offset: Number(b.readBigUInt64LE(e + 16)) * pageSize, path });
      }
    }
    o = desc + align4(descsz);
  }
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** A core or image file opened for reading; a CoreError naming it when it cannot be. */
export function openInput(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (e) {
    throw new CoreError(path, `cannot read: ${errText(e)}`);
  }
}

/** Writes the core as one process (its seq: the writer's next); CoreError for a file that is no core. */
export async function captureCore(path: string, writer: SnapshotWriter, capture: number, onBytes?: (n: number) => void): Promise<ProcessRecord> {
  const fd = openInput(path);
  try {
    const info = readCoreInfo(fd, path);
    const seq = writer.nextSeq;
    const mappings: MappingRecord[] = [];
    for (const l of info.loads) {
      const start = l.vaddr - (l.vaddr % PAGE);
      const pages = Math.ceil((l.vaddr + l.memsz - start) / PAGE);
      const f = info.files.find((x) => x.start <= start && start < x.end);
      const writable = (l.flags & PF_W) !== 0;
      const perms = `${l.flags & PF_R ? 'r' : '-'}${writable ? 'w' : '-'}${l.flags & PF_X ? 'x' : '-'}p`;
      const m: MappingRecord = { start: hex(start), end: hex(start + pages * PAGE), perms, offset: hex(f ? f.offset + (start - f.start) : 0), dev: '00:00', inode: 0, path: f?.path ?? null, kind: f ? 'file' : 'anon', vmFlags: null };
      const seg: Segment = { offset: l.offset, bytes: l.filesz, pages, file: f !== undefined && !writable };
      await captureSegment(fd, seg, writer, seq, mappings.length, onBytes);
      mappings.push(m);
    }
    const rec: ProcessRecord = { seq, capture, source: 'core', pid: info.pid, comm: info.guest ? basename(path) : info.comm, cmdline: info.cmdline, file: path, time: new Date().toISOString(), mappings, problems: [] };
    writer.writeProcess(rec);
    return rec;
  } catch (e) {
    if (e instanceof CoreError) throw e;
    throw new CoreError(path, (e as Error).message);
  } finally {
    closeSync(fd);
  }
}

/** Bytes of the pages a core holds (for a progress bar's total). */
export function coreBytes(path: string): number {
  try {
    const fd = openSync(path, 'r');
    try {
      return readCoreInfo(fd, path).loads.reduce((n, l) => n + l.filesz, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return 0;
  }
}
