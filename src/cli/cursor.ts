/**
 * The cursor shown again however a command that hid it ends. compare's
 * progress bars (cli-progress, hideCursor) hide it and show it when they
 * stop; Ctrl-C or a SIGTERM kills the process before that, and the shell
 * is left without a cursor. This writes the "show cursor" sequence on exit
 * and on those signals, then lets the signal do what it would have done
 * (the exit status a shell expects of Ctrl-C: 130).
 */
const SHOW_CURSOR = '\x1b[?25h';
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Until the returned function is called (the command's normal end). */
export function showCursorOnExit(stream: NodeJS.WritableStream): () => void {
  const show = () => {
    try {
      stream.write(SHOW_CURSOR);
    } catch {
      // A closed terminal has no cursor to show.
    }
  };
  const onSignal = (signal: NodeJS.Signals) => {
    show();
    dispose();
    // With our listener gone the signal's default action runs, unless another part of the program listens for it.
    process.kill(process.pid, signal);
  };
  const dispose = () => {
    process.off('exit', show);
    for (const s of SIGNALS) process.off(s, onSignal);
  };
  process.once('exit', show);
  for (const s of SIGNALS) process.once(s, onSignal);
  return dispose;
}
