/**
 * /proc/PID/smaps read into mapping records: each maps line (range,
 * permissions, offset, device, inode, path) with the fields a KSM estimate
 * needs from the lines under it (Rss, Swap, AnonHugePages, VmFlags).
 * Documented in Documentation/filesystems/proc.rst.
 */
import type { MappingKind, MappingRecord } from './format.js';

const HEADER = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) (\S+) (\d+)\s*(.*)$/;
const FIELD = /^([A-Za-z_]+):\s+(\d+) kB$/;

/** What kind of memory a maps line describes. */
export function mappingKind(path: string | null, perms: string, vmFlags: readonly string[] | null): MappingKind {
  if (vmFlags?.includes('ht')) return 'hugetlb';
  if (path === null || path.startsWith('[anon:')) return perms[3] === 's' ? 'shmem' : 'anon';
  if (path === '[heap]') return 'heap';
  if (path === '[stack]' || path.startsWith('[stack:')) return 'stack';
  if (path.startsWith('[')) return path.startsWith('[anon_shmem:') ? 'shmem' : 'special';
  if (path.startsWith('/dev/zero') || path.startsWith('/SYSV') || path.startsWith('/memfd:') || path.startsWith('/dev/shm/') || path.startsWith('/anon_hugepage')) return path.startsWith('/anon_hugepage') ? 'hugetlb' : 'shmem';
  return 'file';
}

export function parseSmaps(text: string): MappingRecord[] {
  const out: MappingRecord[] = [];
  let cur: MappingRecord | null = null;
  for (const line of text.split('\n')) {
    const h = HEADER.exec(line);
    if (h !== null) {
      cur = {
        start: `0x${h[1]}`,
        end: `0x${h[2]}`,
        perms: h[3],
        offset: `0x${h[4]}`,
        dev: h[5],
        inode: Number(h[6]),
        path: h[7] === '' ? null : h[7],
        kind: 'anon',
        vmFlags: null,
      };
      out.push(cur);
      continue;
    }
    if (cur === null) continue;
    if (line.startsWith('VmFlags:')) {
      cur.vmFlags = line.slice(8).trim().split(/\s+/).filter((f) => f !== '');
      continue;
    }
    const f = FIELD.exec(line);
    if (f === null) continue;
    if (f[1] === 'Rss') cur.rssKb = Number(f[2]);
    else if (f[1] === 'Swap') cur.swapKb = Number(f[2]);
    else if (f[1] === 'AnonHugePages') cur.anonHugeKb = Number(f[2]);
  }
  for (const m of out) m.kind = mappingKind(m.path, m.perms, m.vmFlags);
  return out;
}

/** Whether a mapping is flagged VM_MERGEABLE (smaps' `mg`). */
export function isMergeable(m: MappingRecord): boolean {
  return m.vmFlags?.includes('mg') ?? false;
}
