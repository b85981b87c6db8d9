/**
 * What the driver and a workload process say to each other: one JSON
 * object per line over a pair of pipes (the child's stdin and stdout).
 *
 *   driver -> child: {"regions": [...]}   the child maps and fills them, answers
 *                    {"ready": [addr, ...]} (or {"error": "..."})
 *   driver -> child: {"op": "register"|"unregister", "region": r}
 *                    {"op": "write", "region": r, "page": i, "content": C}
 *                    {"op": "exit"}
 *   child -> driver: {"ok": 0} or {"ok": -errno} (no answer to exit: it exits)
 *
 * Page contents travel in the engine's own form (src/engine/pages.ts), a
 * tail's 64-bit number as a decimal string (JSON has no bigint).
 */
import type { RunContent, SinglePage } from '../engine/pages.js';

export interface WireRegion {
  pages: number;
  runs: Array<{ pages: number; content: WireContent }>;
  /** The NUMA node to bind it to (absent: where the kernel puts it). */
  node?: number;
}

export type WireContent = { kind: string; [k: string]: unknown };

export type Command =
  | { op: 'register' | 'unregister'; region: number }
  | { op: 'write'; region: number; page: number; content: WireContent }
  | { op: 'exit' };

export function contentToWire(c: RunContent): WireContent {
  switch (c.kind) {
    case 'tail':
    case 'tailFrom':
      return { kind: c.kind, n: c.n.toString() };
    case 'cycle':
      return { kind: 'cycle', items: c.items.map(contentToWire) };
    default:
      return { ...c };
  }
}

export function contentFromWire(w: WireContent): RunContent {
  switch (w.kind) {
    case 'zero':
      return { kind: 'zero' };
    case 'fill':
      return { kind: 'fill', value: Number(w.value) };
    case 'seed':
      return { kind: 'seed', seed: Number(w.seed) };
    case 'seedFrom':
      return { kind: 'seedFrom', seed: Number(w.seed) };
    case 'tail':
      return { kind: 'tail', n: BigInt(String(w.n)) };
    case 'tailFrom':
      return { kind: 'tailFrom', n: BigInt(String(w.n)) };
    case 'cycle':
      return { kind: 'cycle', items: (w.items as WireContent[]).map((i) => contentFromWire(i) as SinglePage) };
    default:
      throw new Error(`unknown page content ${JSON.stringify(w)}`);
  }
}
