/**
 * `ksmctl estimate`: what KSM would save on the snapshot's processes, before
 * it is turned on there. For each era asked: the static bound (bound.ts),
 * what the era's scanner reaches and when (replay.ts), its metadata and net
 * profit, savings per process and per range, and the pages identical
 * elsewhere that will not merge, by reason.
 */
import { type EraEntry } from '../eras/registry.js';
import { type EffectivePolicy, type RegisterPolicy } from '../snapshot/policy.js';
import { SnapshotError, SnapshotReader } from '../snapshot/reader.js';
import { captureProcesses, processNames, type SnapshotWorkload, snapshotWorkload } from '../snapshot/workload.js';
import { changeSets } from './changes.js';
import { replay, type Replay } from './replay.js';
import { type StaticBound, staticBound } from './static-bound.js';
import { type CaptureRef, volatility } from './volatility.js';

/** Options of estimate: the eras, knobs, registration policy. */
export interface EstimateOptions {
  eras: EraEntry[];
  sysfs?: ReadonlyArray<readonly [string, string]>;
  register?: RegisterPolicy;
  maxPasses?: number;
  onPass?: (era: string, pass: number) => void;
}

/** One era's estimate. */
export interface EraEstimate {
  replay: Replay;
  bound: StaticBound;
  /** Pages within KSM's reach that the scanner had not merged when the run ended. */
  notReached: number;
}

/** An estimate: the snapshot and each era's figures. */
export interface Estimate {
  snapshot: {
    files: string[];
    processes: number;
    captures: number;
    policy: EffectivePolicy;
    time: string;
    /** Pages the replay registered (present anonymous pages of the registered ranges). */
    registeredPages: number;
    /** Pages that changed between captures (0 with one capture). */
    volatilePages: number;
  };
  eras: EraEstimate[];
}

/** What KSM would save on the snapshot's processes, for each era asked: the static bound, what the era's scanner reaches and when, metadata and profit (what `ksmctl estimate --json` prints). */
export function estimate(files: readonly string[], opts: EstimateOptions): Estimate {
  if (files.length === 0) throw new Error('estimate needs a snapshot');
  const readers: SnapshotReader[] = [];
  try {
    for (const f of files) readers.push(SnapshotReader.open(f));
    const captures: CaptureRef[] = readers.flatMap((reader) => reader.index.captures.map((c) => ({ reader, capture: c.index })));
    const base = captures[0];
    if (base === undefined) throw new SnapshotError(files[0], 'holds no capture');
    const procs = captureProcesses(base.reader, base.capture);
    const names = processNames(procs);
    const vol = volatility(base, captures.slice(1));
    const sw: SnapshotWorkload = snapshotWorkload(files[0], { register: opts.register, capture: base.capture });
    const registeredPages = sw.preload.fills.reduce((n, f) => n + f.pages.reduce((m, d) => m + (d >= 0 ? 1 : 0), 0), 0);
    const changes = changeSets(sw, base, captures.slice(1));
    const eras = opts.eras.map((era) => {
      const r = replay(sw, era, { sysfs: opts.sysfs, maxPasses: opts.maxPasses, changes, onPass: (p) => opts.onPass?.(era.id, p.pass) });
      const mps = r.knobs.max_page_sharing !== undefined ? Number(r.knobs.max_page_sharing) : null;
      const bound = staticBound(base.reader, procs, names, { policy: sw.policy, maxPageSharing: mps, useZeroPages: r.knobs.use_zero_pages === '1', volatile: vol.pages });
      return { replay: r, bound, notReached: Math.max(0, bound.mergeableSaved - r.finalSaved) };
    });
    return {
      snapshot: {
        files: [...files],
        processes: procs.length,
        captures: captures.length,
        policy: sw.policy,
        time: base.reader.index.captures[base.capture]?.time ?? base.reader.index.created,
        registeredPages,
        volatilePages: vol.changed,
      },
      eras,
    };
  } finally {
    for (const r of readers) r.close();
  }
}
