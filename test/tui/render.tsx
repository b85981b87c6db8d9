/** Rendering the TUI with ink-testing-library at a given terminal size, and pressing keys. */
import { render } from 'ink-testing-library';
import { stripVTControlCharacters } from 'node:util';
import { prepareTui } from '../../src/cli/commands/tui.js';
import { App, type AppProps } from '../../src/tui/app.js';
import { builtinWorkload } from '../../src/workload/builtin.js';

export const KEY = { up: '\x1b[A', down: '\x1b[B', enter: '\r', escape: '\x1b' } as const;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits for ink to write a frame after `action` (at most `ms`), then for the frames to stop coming (React may render twice). */
async function rendered(r: { frames: string[] }, action: () => void, ms = 500): Promise<void> {
  let seen = r.frames.length;
  action();
  const end = Date.now() + ms;
  while (r.frames.length === seen && Date.now() < end) await sleep(2);
  for (let quiet = 0; quiet < 5 && Date.now() < end; ) {
    await sleep(4);
    if (r.frames.length === seen) quiet++;
    else {
      seen = r.frames.length;
      quiet = 0;
    }
  }
}

export interface Tui {
  props: AppProps;
  /** The last frame as text (no colours). */
  frame(): string;
  /** Presses keys one after the other, waiting for the frame after each. */
  press(...keys: string[]): Promise<string>;
  /** The terminal changes size. */
  resize(columns: number, rows: number): Promise<string>;
  unmount(): void;
}

/** The TUI on the default workload (or `props`), at columns × rows, with no real-time timer unless asked. */
export interface OpenOptions {
  columns?: number;
  rows?: number;
  era?: string;
  props?: Partial<AppProps>;
  /** Runs on the loaded session before the app opens (to let time pass, say). */
  before?: (props: AppProps) => void;
}

export async function openTui(opts: OpenOptions = {}): Promise<Tui> {
  const props: AppProps = { ...prepareTui(builtinWorkload('guests-live')!, { era: opts.era ?? 'v3' }), tickMs: 0, ...opts.props };
  opts.before?.(props);
  const r = render(<App {...props} />);
  const frame = () => stripVTControlCharacters(r.lastFrame() ?? '');
  const resize = async (columns: number, rows: number) => {
    Object.defineProperty(r.stdout, 'columns', { value: columns, configurable: true });
    Object.defineProperty(r.stdout, 'rows', { value: rows, configurable: true });
    await rendered(r, () => r.stdout.emit('resize'));
    return frame();
  };
  await resize(opts.columns ?? 80, opts.rows ?? 24);
  return {
    props,
    frame,
    async press(...keys) {
      for (const k of keys) {
        await rendered(r, () => r.stdin.write(k));
      }
      return frame();
    },
    resize,
    unmount: () => r.unmount(),
  };
}

/** The lines of a frame. */
export const lines = (frame: string) => frame.split('\n');

/** The rows of the memory map at 80 columns (the right half, inside its borders). */
export const mapRows = (frame: string) =>
  lines(frame)
    .filter((l) => /^.{40}│[·░▒█ ]{38}│$/.test(l))
    .map((l) => l.slice(41, 79));
