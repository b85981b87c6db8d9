/**
 * KSM pages per NUMA node, for the TUI's node row (3.9 and later keep a
 * stable tree per node unless merge_across_nodes is 1): the distinct KSM
 * pages that registered pages map to, by the node of their frame. The same
 * in every era: a machine without NUMA has one node, node 0.
 */
import { FRAME_KSM } from '../engine/memory/frames.js';
import type { Memory, Range } from '../engine/memory/memory.js';
import type { NodeInfo } from './session.js';

export function ksmPagesByNode(memory: Memory, ranges: readonly Range[], numaNodes: number): NodeInfo[] {
  const frames = memory.frames;
  const flags = frames.flags;
  const seen = new Set<number>();
  const out: NodeInfo[] = Array.from({ length: Math.max(1, numaNodes) }, (_, node) => ({ node, ksmPages: 0 }));
  for (const r of ranges) {
    for (const v of r.mm.vmas) {
      if (v.end <= r.start || v.start >= r.end) continue;
      const vf = v.frames;
      for (let i = v.index(Math.max(v.start, r.start)), to = v.index(Math.min(v.end, r.end)); i < to; i++) {
        const f = vf[i];
        if (f === 0 || !(flags[f] & FRAME_KSM) || seen.has(f)) continue;
        seen.add(f);
        const n = frames.nodeOf(f);
        if (n < out.length) out[n].ksmPages++;
      }
    }
  }
  return out;
}
