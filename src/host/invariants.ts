/**
 * The host machine's invariants recomputed (tests, the host fuzz target,
 * the host soak; never the host itself): the memory model's (mapcounts,
 * refcounts, contents, mm ids) and the era's merger's (its counters against
 * its structures), whichever era the machine runs.
 */
import { checkMemory } from '../engine/memory/invariants.js';
import { Hash2008 } from '../engine/merge/hash-2008.js';
import { checkHash2008 } from '../engine/merge/hash-2008-invariants.js';
import { Mainline2632 } from '../engine/merge/mainline-2632.js';
import { checkMainline2632 } from '../engine/merge/mainline-2632-invariants.js';
import { Tree2009 } from '../engine/merge/tree-2009.js';
import { checkTree2009 } from '../engine/merge/tree-2009-invariants.js';
import type { EraSystem } from '../script/system.js';

/** The kernels' fields that hold a merger: V1Kernel's ksm2008 and ksm2009.tree, V2Kernel's and V3Kernel's ksm. */
interface KernelMergers {
  ksm?: unknown;
  ksm2008?: unknown;
  ksm2009?: { tree: unknown } | null;
}

/** Every invariant problem of the machine (empty when all hold). */
export function machineProblems(sys: EraSystem): string[] {
  const out = checkMemory(sys.memory);
  const k = (sys as unknown as { kernel?: KernelMergers }).kernel;
  for (const v of [k?.ksm, k?.ksm2008, k?.ksm2009?.tree]) {
    if (v instanceof Mainline2632) out.push(...checkMainline2632(v));
    else if (v instanceof Tree2009) out.push(...checkTree2009(v));
    else if (v instanceof Hash2008) out.push(...checkHash2008(v));
  }
  return out;
}
