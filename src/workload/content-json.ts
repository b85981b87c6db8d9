/**
 * A page content back in the workload format's JSON form: the steps'
 * and regions' contents (schema.ts) and the timeline's writes
 * (timeline.ts) are written by this one function.
 */
import type { RunContent } from '../engine/pages.js';

/** tail/tailFrom values: a number when it is exact as one, else a bigint (see stringifyWorkloadJson). */
function bigToJson(n: bigint): number | bigint {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

export function contentToJson(c: RunContent): unknown {
  switch (c.kind) {
    case 'zero':
      return 'zero';
    case 'fill':
      return { fill: c.value };
    case 'seed':
      return { seed: c.seed };
    case 'tail':
      return { tail: bigToJson(c.n) };
    case 'seedFrom':
      return { seedFrom: c.seed };
    case 'tailFrom':
      return { tailFrom: bigToJson(c.n) };
    case 'cycle':
      return { cycle: c.items.map(contentToJson) };
  }
}
