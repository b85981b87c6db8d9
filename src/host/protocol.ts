/**
 * The host's protocol: one JSON object per line each way over a unix
 * socket. A client sends requests with an `id`; the host answers each with
 * a response carrying the same id. Requests run one at a time, in arrival
 * order across all clients, each to completion (the simulated machine is
 * never seen half-way through a command).
 */
import type { ExecStats } from '../exec/session.js';
import type { ViewAction } from '../session/kernel-view.js';
import type { CallRecord, CounterValue, EraFile, Knobs, KsmdState, NodeInfo, ProcessInfo, SessionEraInfo, SessionSupport, StateLabel, WorkTotals } from '../session/session.js';

export type HostRequest =
  | { id: number; op: 'ping' }
  | { id: number; op: 'state' }
  /** Runs the ksmctl program of the host's era with these arguments (argv[1..]). */
  | { id: number; op: 'ksmctl'; args: string[] }
  /** Runs a script on the host's machine. */
  | { id: number; op: 'run'; file: string; source: string; trace?: boolean; defines?: Record<string, string>; args?: string[] }
  /** Lets virtual time pass (manual clock). */
  | { id: number; op: 'sleep'; micros: number }
  /** What a live view shows (the attached TUI): see ViewRequest. */
  | ({ id: number; op: 'view' } & ViewRequest)
  /**
   * A control of the era's own API, logged in the host's trace as the era's
   * program issued it, or (manual clock only) ksmd's time: `step` runs the
   * next batch, `advance` lets `value` µs pass (at most `maxBatches`
   * batches). Answers the calls made, and the view as after it.
   */
  | ({ id: number; op: 'control'; action: ViewAction; value?: number; maxBatches?: number } & ViewRequest)
  /**
   * Makes this connection a call stream of a real program's process
   * (`ksmctl exec --host`): once answered, the connection carries the
   * interposition library's wire format (src/exec/protocol.ts) both ways,
   * as it would to a private simulator; bytes sent before the answer are
   * dropped. `run` groups the streams of one exec run; `era`, when given,
   * must be the host's.
   */
  | { id: number; op: 'attach'; run: string; era?: string; endOnPause?: boolean; settleSeconds?: number }
  /** The exec run's program has exited: its processes still served exit on the host; answers the run's stats. */
  | { id: number; op: 'detach'; run: string }
  | { id: number; op: 'shutdown' };

/** What a view request asks for beside the kernel's state. */
export interface ViewRequest {
  /** The process whose page states to send (the memory map's). */
  pid?: number;
  /** Trace lines from this sequence number on; absent: the last `limit` lines. */
  since?: number;
  /** The most trace lines to send (default 200; the newest are kept). */
  limit?: number;
}

/** One line of the host's trace: a call one of its programs issued, as strace (or the shell) shows it. */
export interface TraceLine {
  /** Sequence number, from 0 since the host started. */
  seq: number;
  /** Virtual time of the call, µs. */
  at: number;
  text: string;
  /** False for a failed call (`= -1 ...`, a write error). */
  ok: boolean;
}

/** The host's kernel as a live view shows it (src/session/kernel-view.ts). */
export interface HostView {
  era: SessionEraInfo;
  support: SessionSupport;
  counterNames: string[];
  stateLabels: StateLabel[];
  clock: 'real' | 'manual';
  /** Virtual time, µs since boot. */
  now: number;
  counters: CounterValue[];
  knobs: Knobs;
  ksmd: KsmdState;
  work: WorkTotals;
  pagesSaved: number;
  /** The era's files beyond the five counters and the ksmd knobs (6.18's general_profit, 3.9's merge_across_nodes). */
  files?: EraFile[];
  /** The machine's NUMA nodes and the KSM pages on each. */
  nodes?: NodeInfo[];
  /** Live processes in pid order (with /proc/PID/ksm_stat where the era has it). */
  processes: ProcessInfo[];
  /** The asked process's page states (PAGE_* bytes, base64), when it is live. */
  states?: { pid: number; data: string };
  /** Trace lines asked for, oldest first; `next` is the sequence number to ask from next; `dropped`: lines skipped (too many, or gone from the host's buffer). */
  trace: { lines: TraceLine[]; next: number; dropped: number };
}

/** Output of a command, in the order it was written. */
export interface OutputChunk {
  fd: 1 | 2;
  text: string;
}

export interface HostInfo {
  pid: number;
  era: string;
  abi: string | null;
  title: string;
  workload: string | null;
  clock: 'real' | 'manual';
  socket: string;
}

export interface HostProcess {
  pid: number;
  name: string;
  alive: boolean;
}

export interface HostState extends HostInfo {
  /** Virtual time, µs since boot. */
  now: number;
  fullScans: number;
  /** ksmd threads: when the next batch is due (µs) or null while waiting. */
  ksmd: Array<{ wakeAt: number | null; batches: number }>;
  /** The era's own counters (sysfs files), where it has them. */
  counters: Record<string, number>;
  processes: HostProcess[];
  commands: number;
}

export type HostResponse =
  | { id: number; ok: true; info?: HostInfo; state?: HostState; output?: OutputChunk[]; status?: number; view?: HostView; calls?: CallRecord[]; batches?: number; exec?: ExecStats | null }
  | { id: number; ok: false; error: string };
