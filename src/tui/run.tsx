/**
 * Opening the TUI in a real terminal: the alternate screen while it runs,
 * the cursor hidden, and both restored however it ends (q, Ctrl+C,
 * SIGTERM, an error).
 */
import { render } from 'ink';
import { App, type AppProps } from './app.js';

const ENTER_ALT_SCREEN = '\x1b[?1049h\x1b[H';
const LEAVE_ALT_SCREEN = '\x1b[?1049l';
const SHOW_CURSOR = '\x1b[?25h';

/** Runs the TUI on the process's terminal until the user quits. */
export async function runTui(props: AppProps): Promise<void> {
  const out = process.stdout;
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    out.write(SHOW_CURSOR + LEAVE_ALT_SCREEN);
  };
  out.write(ENTER_ALT_SCREEN);
  process.once('exit', restore);
  const instance = render(<App {...props} />, {
    exitOnCtrlC: true,
    patchConsole: true,
    // ink 6's incremental mode misplaces this full-height frame by a line;
    // whole frames in one synchronized-update write do not flicker either.
    incrementalRendering: false,
    maxFps: 30,
  });
  const onSignal = () => instance.unmount();
  // Ctrl+C is a key in raw mode (exitOnCtrlC); a SIGINT sent from elsewhere ends it the same way.
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('SIGHUP', onSignal);
  try {
    await instance.waitUntilExit();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    instance.cleanup();
    restore();
  }
}
