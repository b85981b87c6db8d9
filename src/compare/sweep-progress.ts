/**
 * Per-run progress of a sweep on a terminal (cli-progress): one bar per run
 * being worked on, in virtual time; a finished run leaves its bar and
 * becomes a line above the bars (`[7/36] v3:6.18 pages_to_scan=100 fixed:
 * 2,071 pages saved`). Only ever used on a TTY.
 */
import cliProgress from 'cli-progress';
import { int } from './format.js';
import type { RunResult, SweepRun } from './sweep.js';

const SCALE = 1000;

export function sweepProgressBars(total: number, stream: NodeJS.WritableStream) {
  const multi = new cliProgress.MultiBar(
    { stream, format: '{label} {bar} {status}', barsize: 24, hideCursor: true, clearOnComplete: false, stopOnComplete: false, fps: 10 },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<number, cliProgress.SingleBar>();
  let done = 0;
  const width = 40;
  const label = (r: SweepRun) => (r.label.length > width ? r.label.slice(0, width - 1) + '…' : r.label.padEnd(width));
  return {
    start(r: SweepRun) {
      bars.set(r.index, multi.create(SCALE, 0, { label: label(r), status: 'starting' }));
    },
    update(r: SweepRun, fraction: number, saved: number) {
      bars.get(r.index)?.update(Math.round(Math.min(1, fraction) * SCALE), { status: `${int(saved)} pages saved` });
    },
    done(r: SweepRun, res: RunResult) {
      const bar = bars.get(r.index);
      if (bar) multi.remove(bar);
      bars.delete(r.index);
      done++;
      const what = res.refused !== undefined ? `refused: ${res.refused}` : `${int(res.savedEnd)} pages saved`;
      multi.log(`[${done}/${total}] #${r.index} ${r.label}: ${what}\n`);
    },
    stop() {
      // Lines logged since the last redraw are written at the next one: draw once more, so the last run's line is not lost.
      multi.update();
      multi.stop();
    },
  };
}
