/**
 * Live progress of a comparison on a terminal: one bar per configuration
 * (cli-progress), in passes. A run until convergence has no known end, so
 * its bar's total grows with it. Only ever used on a TTY.
 */
import cliProgress from 'cli-progress';
import { int } from './format.js';
import type { ConfigResult, Progress } from './run.js';

export interface ProgressBars {
  update(i: number, p: Progress): void;
  done(i: number, r: ConfigResult): void;
  stop(): void;
}

/** Tenths of a pass, so the bar moves within long passes. */
const SCALE = 10;

export function progressBars(labels: readonly string[], opts: { stream: NodeJS.WritableStream; expectedPasses: number; open: boolean }): ProgressBars {
  const width = Math.max(...labels.map((l) => l.length));
  const multi = new cliProgress.MultiBar(
    {
      stream: opts.stream,
      format: '{label} {bar} {status}',
      barsize: 30,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const total = Math.max(1, opts.expectedPasses) * SCALE;
  const bars = labels.map((l) => multi.create(total, 0, { label: l.padEnd(width), status: 'setting up' }));
  return {
    update(i, p) {
      const bar = bars[i];
      const v = Math.round(p.passes * SCALE);
      // Until convergence the end is not known: keep one more pass ahead of the value.
      if (opts.open && v >= bar.getTotal()) bar.setTotal(v + SCALE);
      bar.update(v, { status: `pass ${Math.floor(p.passes) + 1}, ${int(p.pagesSaved)} pages saved` });
    },
    done(i, r) {
      const bar = bars[i];
      bar.setTotal(Math.max(1, r.passes.length * SCALE));
      const conv = r.converged ? `converged at pass ${r.converged.pass}` : `${r.passes.length} passes`;
      bar.update(bar.getTotal(), { status: `${conv}, ${int(r.end.pagesSaved)} pages saved` });
    },
    stop() {
      multi.stop();
    },
  };
}
