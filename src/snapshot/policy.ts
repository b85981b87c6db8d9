/**
 * Which captured ranges a replay registers with KSM (`--register`):
 *
 * - `captured`: the ranges that were VM_MERGEABLE when captured (smaps'
 *   `mg`): what the processes themselves asked for (QEMU's guest RAM with
 *   mem-merge on, a runtime's madvise, a prctl'd process).
 * - `anon`: every private anonymous range (heap, stacks, anonymous mmaps):
 *   what a madvise(MADV_MERGEABLE) of all anonymous memory would register.
 * - `all-private`: every private range, file-backed ones too: exactly what
 *   prctl(PR_SET_MEMORY_MERGE) flags (vma_ksm_compatible: no shared, no
 *   hugetlb, no special mapping); in a private file mapping only the pages
 *   copied on write are anonymous, and only those can merge.
 * - `auto` (the default): `captured` when the snapshot has any `mg` range,
 *   else `anon` (a host where KSM was never asked for).
 *
 * Whatever the policy, a page can merge only if it is present, readable and
 * anonymous (pagemap's file-or-shared bit clear); shared, hugetlb and
 * special mappings ([vdso], [vvar]) are never registered, as the kernel
 * refuses them.
 */
import { type MappingRecord, PF_FILE, PF_PRESENT, PF_UNREADABLE, REF_ABSENT } from './format.js';
import { isMergeable } from './smaps.js';

export const REGISTER_POLICIES = ['auto', 'captured', 'anon', 'all-private'] as const;
export type RegisterPolicy = (typeof REGISTER_POLICIES)[number];
export type EffectivePolicy = Exclude<RegisterPolicy, 'auto'>;

/** Whether the kernel would let a range be VM_MERGEABLE at all. */
export function ksmCompatible(m: MappingRecord): boolean {
  return m.perms[3] === 'p' && m.kind !== 'hugetlb' && m.kind !== 'special' && m.kind !== 'shmem';
}

/** Whether the policy registers mapping m. */
export function registers(policy: EffectivePolicy, m: MappingRecord): boolean {
  if (!ksmCompatible(m)) return false;
  switch (policy) {
    case 'captured':
      return isMergeable(m);
    case 'anon':
      return m.kind === 'anon' || m.kind === 'heap' || m.kind === 'stack';
    case 'all-private':
      return true;
  }
}

/** `auto` resolved for a snapshot's mappings. */
export function effectivePolicy(policy: RegisterPolicy, mappings: Iterable<MappingRecord>): EffectivePolicy {
  if (policy !== 'auto') return policy;
  for (const m of mappings) if (isMergeable(m)) return 'captured';
  return 'anon';
}

/** Whether a page holds anonymous memory KSM could merge (present, read, not a file or shared page). */
export function anonPage(flags: number, ref: number): boolean {
  return (flags & (PF_PRESENT | PF_FILE | PF_UNREADABLE)) === PF_PRESENT && ref !== REF_ABSENT;
}
