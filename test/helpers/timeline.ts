/** Small timeline workloads for the policy tests. */
import type { TimelineResult } from '../../src/timeline/run.js';
import { parseWorkloadText, type Workload } from '../../src/workload/schema.js';

/**
 * `guests` guests of `pages` pages on a host of `ram` pages, all started at
 * `startAt` (or at the times given); `shared`: one image (merging relieves
 * the pressure), else private random pages (nothing to merge).
 */
export function guestsWorkload(opts: { guests: number; pages: number; ram: number; shared: boolean; until: number; starts?: number[]; exits?: Array<[string, number]> }): Workload {
  const names = Array.from({ length: opts.guests }, (_, i) => `g${i}`);
  return parseWorkloadText(
    JSON.stringify({
      name: 'policy-test',
      pagesToScan: 100,
      host: { ramPages: opts.ram },
      processes: Object.fromEntries(names.map((g, i) => [g, [{ pages: opts.pages, content: { seedFrom: opts.shared ? 1000 : 100000 + i * opts.pages } }]])),
      steps: [{ register: 'g0' }],
      timeline: {
        until: opts.until,
        events: [...names.map((g, i) => ({ at: opts.starts?.[i] ?? 0, start: g })), ...(opts.exits ?? []).map(([g, at]) => ({ at, exit: g }))],
      },
    }),
    'policy-test',
  );
}

/** A policy's calls as `SECONDSs file=value` (sysfs writes) or their text. */
export function writesBy(r: TimelineResult, by: string): string[] {
  return r.trace.filter((e) => e.by === by).map((e) => `${e.t / 1000}s ${e.text.replace(/^echo (\S+) > \/sys\/kernel\/mm\/ksm\/(\S+)$/, '$2=$1')}`);
}
