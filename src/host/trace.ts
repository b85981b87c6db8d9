/**
 * The host's trace: every call its programs issued (workload guests at boot,
 * scripts, the ksmctl verbs, the controls of attached views), one line each
 * as strace -f shows it (`[pid 101] madvise(0x2aaaaaaab000, 262144,
 * MADV_MERGEABLE) = 0`) with its virtual time, kept in a ring of the most
 * recent lines. Live views read it by sequence number.
 */
import type { Sink } from '../script/runtime.js';
import type { TraceLine } from './protocol.js';

/** Lines kept. */
const DEFAULT_CAPACITY = 5000;

export class HostTrace {
  private readonly ring: TraceLine[] = [];
  private nextSeq = 0;

  constructor(
    private readonly now: () => number,
    readonly capacity = DEFAULT_CAPACITY,
  ) {}

  /** The sequence number the next line gets. */
  get next(): number {
    return this.nextSeq;
  }

  push(text: string, ok = !/ = -1 /.test(text)): void {
    this.ring.push({ seq: this.nextSeq++, at: this.now(), text, ok });
    if (this.ring.length > this.capacity + this.capacity / 4) this.ring.splice(0, this.ring.length - this.capacity);
  }

  /**
   * Lines from sequence number `since` on (absent: the last `limit`), at
   * most the `limit` newest of them; `dropped` counts the lines from
   * `since` not sent (skipped for the limit, or no longer kept).
   */
  read(since: number | undefined, limit = 200): { lines: TraceLine[]; next: number; dropped: number } {
    const from = since === undefined ? Math.max(0, this.nextSeq - limit) : Math.max(0, Math.min(since, this.nextSeq));
    const first = this.ring.length ? this.ring[0].seq : this.nextSeq;
    const start = Math.max(from, first, this.nextSeq - Math.max(0, limit));
    const lines = this.ring.slice(start - first);
    return { lines, next: this.nextSeq, dropped: since === undefined ? 0 : start - from };
  }
}

/**
 * Where a command's runtime writes: the program's stdout and stderr to the
 * command's output, each trace line to the host's trace (with the pid of
 * its process, which the runtime leaves out while a run has one process),
 * and to the output too when the client asked for the trace.
 */
export class HostSink implements Sink {
  private firstPid = 0;

  constructor(
    private readonly out: Sink,
    private readonly log: HostTrace,
    private readonly echo: boolean,
    /** The pid of the run's first process (asked when its first unprefixed line comes). */
    private readonly first: () => number,
  ) {}

  trace(line: string): void {
    if (/^\[pid \d+\] /.test(line)) this.log.push(line);
    else {
      this.firstPid ||= this.first();
      this.log.push(`[pid ${this.firstPid}] ${line}`);
    }
    if (this.echo) this.out.trace(line);
  }

  stdout(text: string): void {
    this.out.stdout(text);
  }

  stderr(text: string): void {
    this.out.stderr(text);
  }
}
