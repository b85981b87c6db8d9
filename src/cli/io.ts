/**
 * Where a command writes: the CLI's stdout and stderr (`Io`), and a writer
 * that keeps the two in the order a program wrote them (`LineWriter`).
 * Commands take an Io, so each is a function testable in-process.
 */
import type { AppProps } from '../tui/app.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** stdin and stdout are both terminals. */
  isTTY: boolean;
  /** Opens the TUI on the terminal and resolves when the user quits (absent: no TUI, as in tests). */
  tui?: (props: AppProps) => Promise<void>;
}

/** Writes text to io line by line (io adds the newline), so stdout and stderr interleave in order. */
export class LineWriter {
  private pending: Record<1 | 2, string> = { 1: '', 2: '' };
  constructor(private readonly io: Io) {}
  write(fd: 1 | 2, text: string): void {
    const other = fd === 1 ? 2 : 1;
    if (this.pending[other]) this.flush(other);
    let buf = this.pending[fd] + text;
    for (let i = buf.indexOf('\n'); i !== -1; i = buf.indexOf('\n')) {
      this.emit(fd, buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    this.pending[fd] = buf;
  }
  flush(fd?: 1 | 2): void {
    for (const f of fd ? [fd] : ([1, 2] as const)) {
      if (this.pending[f]) this.emit(f, this.pending[f]);
      this.pending[f] = '';
    }
  }
  private emit(fd: 1 | 2, line: string): void {
    if (fd === 1) this.io.out(line);
    else this.io.err(line);
  }
}
