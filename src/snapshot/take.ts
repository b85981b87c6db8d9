/**
 * `ksmctl snapshot`: one capture (or several, --every) of the chosen
 * processes, cores and raw images into one snapshot file.
 */
import { statSync } from 'node:fs';
import { CaptureError, captureProcess } from './capture-proc.js';
import { captureCore, CoreError, coreBytes } from './elf-core.js';
import type { ProcessRecord } from './format.js';
import { FrameNumbers } from './frame-numbers.js';
import { captureRaw } from './raw-image.js';
import { rssBytes } from './targets.js';
import { SnapshotWriter, type WriterStats } from './writer.js';

/** What takeSnapshot captures (processes, ELF cores, raw images) and where it writes. */
export interface TakeOptions {
  pids: number[];
  cores: string[];
  raws: string[];
  output: string;
  force?: boolean;
  /** Captures to take (default 1), `everyMs` apart. */
  count?: number;
  everyMs?: number;
  /** A problem with one process or file, one line. */
  onProblem?: (line: string) => void;
  /** Progress: bytes read so far, and the total expected for this capture. */
  onProgress?: (done: number, total: number, capture: number) => void;
  /** Waits between captures (tests pass a fake). */
  sleep?: (ms: number) => Promise<void>;
}

/** What a capture wrote. */
export interface TakeResult {
  path: string;
  processes: ProcessRecord[];
  /** Processes or files that could not be captured. */
  failed: number;
  stats: WriterStats;
  /** Bytes of pages read. */
  bytesRead: number;
  seconds: number;
}

/** Takes the snapshot; null when nothing at all could be captured (no file is left then). */
export async function takeSnapshot(opts: TakeOptions): Promise<TakeResult | null> {
  const t0 = performance.now();
  const writer = SnapshotWriter.open(opts.output, { force: opts.force, tool: 'ksmctl snapshot' });
  const processes: ProcessRecord[] = [];
  let failed = 0;
  let bytesRead = 0;
  try {
    const count = opts.count ?? 1;
    for (let c = 0; c < count; c++) {
      if (c > 0) await (opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))))(opts.everyMs ?? 0);
      const capture = writer.beginCapture(count > 1 ? `capture ${c + 1} of ${count}` : undefined);
      const total = opts.pids.reduce((n, p) => n + rssBytes(p), 0) + opts.cores.reduce((n, f) => n + coreBytes(f), 0) + opts.raws.reduce((n, f) => n + fileSize(f), 0);
      let done = 0;
      const onBytes = (n: number) => {
        done += n;
        bytesRead += n;
        opts.onProgress?.(done, Math.max(total, done), c);
      };
      const frames = new FrameNumbers();
      for (const pid of opts.pids) {
        try {
          processes.push(await captureProcess(pid, { writer, capture, frames, onBytes }));
        } catch (e) {
          if (!(e instanceof CaptureError)) throw e;
          failed++;
          opts.onProblem?.(e.message);
        }
      }
      const files: Array<[string, typeof captureCore]> = [...opts.cores.map((f) => [f, captureCore] as [string, typeof captureCore]), ...opts.raws.map((f) => [f, captureRaw] as [string, typeof captureCore])];
      for (const [file, take] of files) {
        try {
          processes.push(await take(file, writer, capture, onBytes));
        } catch (e) {
          if (!(e instanceof CoreError)) throw e;
          failed++;
          opts.onProblem?.(e.message);
        }
      }
    }
    if (processes.length === 0) {
      await writer.abort();
      return null;
    }
    const stats = await writer.finish();
    return { path: opts.output, processes, failed, stats, bytesRead, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    await writer.abort();
    throw e;
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
