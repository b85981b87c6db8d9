/**
 * Progress of a long command on standard error, when standard error is a
 * terminal and only then: a pipe or a file never gets a bar, and standard
 * output (a table, --json) never does. One bar (cli-progress) with a label,
 * a count out of a total and a status; `compare` has one bar per
 * configuration (src/compare/progress.ts).
 *
 * The bar redraws at most ten times a second, so calling update() per unit
 * of work costs a comparison; the cursor it hides comes back on stop() and
 * on every way out of the process (exit, Ctrl-C, SIGTERM).
 */
import cliProgress from 'cli-progress';

export interface TaskProgress {
  /** `done` of `total` units (total may grow: a run until convergence); status is a few words. */
  update(done: number, total: number, status?: string): void;
  /** Takes the bar off the terminal until the next update (so a line printed meanwhile stands alone). */
  clear(): void;
  /** Removes the bar (the command prints its result next). */
  stop(): void;
}

/** Whether progress goes to this stream: a terminal, and not asked away (KSMCTL_NO_PROGRESS=1). */
export function progressWanted(stream: NodeJS.WriteStream = process.stderr): boolean {
  return stream.isTTY === true && process.env.KSMCTL_NO_PROGRESS !== '1';
}

const SHOW_CURSOR = '\u001b[?25h';
let cursorGuard = false;

/** Puts the cursor back however the process ends, once for the whole process. */
export function restoreCursorOnExit(stream: NodeJS.WriteStream = process.stderr): void {
  if (cursorGuard) return;
  cursorGuard = true;
  process.once('exit', () => {
    if (stream.isTTY) stream.write(SHOW_CURSOR);
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    // Only when nobody else handles the signal: then the default (dying) follows, as without us.
    if (process.listenerCount(sig) > 0) continue;
    process.once(sig, () => {
      if (stream.isTTY) stream.write(SHOW_CURSOR);
      process.kill(process.pid, sig);
    });
  }
}

/** A bar for `label` on stderr (units counted, or a percentage), or null when stderr is not a terminal. */
export function taskProgress(label: string, opts: { percent?: boolean; stream?: NodeJS.WriteStream } = {}): TaskProgress | null {
  const stream = opts.stream ?? process.stderr;
  if (!progressWanted(stream)) return null;
  restoreCursorOnExit(stream);
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} {bar} ${opts.percent ? '{percentage}%' : '{value}/{total}'} {status}`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      stopOnComplete: false,
      fps: 10,
      // Always draw, also when the terminal reports no width (a fresh tmux pane).
      noTTYOutput: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let shown = false;
  let stopped = false;
  let last = 0;
  return {
    update(done, total, status = '') {
      if (stopped) return;
      const now = performance.now();
      if (shown && now - last < 100 && done < total) return;
      last = now;
      const t = Math.max(1, total);
      if (!shown) {
        bar.start(t, Math.min(done, t), { status });
        shown = true;
        return;
      }
      bar.setTotal(t);
      bar.update(Math.min(done, t), { status });
    },
    clear() {
      if (!shown) return;
      shown = false;
      bar.stop();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (shown) bar.stop();
      shown = false;
    },
  };
}
