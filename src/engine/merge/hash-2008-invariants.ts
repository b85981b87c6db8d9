/**
 * The 2008 merger's bookkeeping recomputed from its data structures: every
 * page_hash entry is reached exactly once by walking the buckets, is filed
 * under the bucket its rmap_item records (oldindex), and is the one
 * rmap_hash finds for its (mm, address); and every slot still allocated
 * holds a reference to its mm.
 */
import type { Hash2008 } from './hash-2008.js';

export function checkHash2008(ksm: Hash2008): string[] {
  const problems: string[] = [];
  const entries = ksm.pageHashEntries();
  if (entries.length !== ksm.hashEntryCount) problems.push(`${entries.length} entries reached through the buckets, ${ksm.hashEntryCount} allocated`);
  const keys = new Set<string>();
  for (const e of entries) {
    const key = `${e.mm}:${e.addr}`;
    if (keys.has(key)) problems.push(`two entries for mm ${e.mm} at 0x${e.addr.toString(16)}`);
    keys.add(key);
    if (e.bucket < 0 || e.bucket >= ksm.npagesHash) problems.push(`entry in bucket ${e.bucket} of ${ksm.npagesHash}`);
    const mm = ksm.memory.mmById[e.mm];
    if (mm === undefined) problems.push(`entry for unknown mm ${e.mm}`);
    else if (ksm.entryOf(mm, e.addr)?.bucket !== e.bucket) problems.push(`rmap_hash disagrees for mm ${e.mm} at 0x${e.addr.toString(16)}`);
  }
  const refs = new Map<number, number>();
  for (const s of ksm.slots) {
    if (!s.linked) problems.push(`slot of mm ${s.mm.id} on the list but marked unlinked`);
    if (s.allocated) refs.set(s.mm.id, (refs.get(s.mm.id) ?? 0) + 1);
  }
  for (const [id, n] of refs) {
    const mm = ksm.memory.mmById[id];
    if (mm.users < n) problems.push(`mm ${id}: ${n} slots hold references, mm_users is ${mm.users}`);
  }
  return problems;
}
