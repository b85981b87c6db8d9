/**
 * The work ksmd does for a request, as the mergers count it: pages handed
 * to the merge logic (MergeStats.pagesScanned), summed over the era's
 * mergers. A request's batches are bounded in number and in these pages
 * (limits.ts): a batch of a few pages and one of millions do not cost the
 * same.
 */
import type { MergeStats } from '../engine/merge/stats.js';
import type { EraSystem } from '../script/system.js';

/** The kernels' fields that hold a merger: V1Kernel's ksm2008 and ksm2009.tree, V2Kernel's and V3Kernel's ksm. */
interface KernelMergers {
  ksm?: { stats?: MergeStats };
  ksm2008?: { stats?: MergeStats } | null;
  ksm2009?: { tree?: { stats?: MergeStats } } | null;
}

/** Pages the era's mergers have scanned since the machine booted. */
export function pagesScanned(sys: EraSystem): number {
  const k = (sys as unknown as { kernel?: KernelMergers }).kernel;
  if (k === undefined) return 0;
  let n = 0;
  for (const s of [k.ksm?.stats, k.ksm2008?.stats, k.ksm2009?.tree?.stats]) if (s !== undefined) n += s.pagesScanned;
  return n;
}
