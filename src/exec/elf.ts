/**
 * Whether a program can be interposed: an LD_PRELOAD library reaches only
 * programs the dynamic linker starts, i.e. ELF files with a PT_INTERP
 * program header. A statically linked program would run with none of its
 * KSM calls intercepted (reaching the real kernel), so exec refuses it.
 * Scripts (#!) are fine: their interpreter is what runs.
 */
import { closeSync, openSync, readSync } from 'node:fs';

const PT_INTERP = 3;

/** 'dynamic', 'static', 'script', or 'other' (not ELF: the exec itself will say what it is). */
export function programKind(path: string): 'dynamic' | 'static' | 'script' | 'other' {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(64);
    const n = readSync(fd, head, 0, 64, 0);
    if (n >= 2 && head[0] === 0x23 && head[1] === 0x21) return 'script';
    if (n < 64 || head.readUInt32BE(0) !== 0x7f454c46) return 'other';
    const is64 = head[4] === 2;
    const le = head[5] === 1;
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const phoff = is64 ? Number(le ? head.readBigUInt64LE(32) : head.readBigUInt64BE(32)) : u32(head, 28);
    const phentsize = u16(head, is64 ? 54 : 42);
    const phnum = u16(head, is64 ? 56 : 44);
    const ph = Buffer.alloc(phentsize * phnum);
    readSync(fd, ph, 0, ph.length, phoff);
    for (let i = 0; i < phnum; i++) if (u32(ph, i * phentsize) === PT_INTERP) return 'dynamic';
    return 'static';
  } finally {
    closeSync(fd);
  }
}
