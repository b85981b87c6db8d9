/**
 * The host's protocol: one JSON object per line each way over a unix
 * socket. A client sends requests with an `id`; the host answers each with
 * a response carrying the same id. Requests run one at a time, in arrival
 * order across all clients, each to completion (the simulated machine is
 * never seen half-way through a command).
 */

export type HostRequest =
  | { id: number; op: 'ping' }
  | { id: number; op: 'state' }
  /** Runs the ksmctl program of the host's era with these arguments (argv[1..]). */
  | { id: number; op: 'ksmctl'; args: string[] }
  /** Runs a script on the host's machine. */
  | { id: number; op: 'run'; file: string; source: string; trace?: boolean; defines?: Record<string, string> }
  /** Lets virtual time pass (manual clock). */
  | { id: number; op: 'sleep'; micros: number }
  | { id: number; op: 'shutdown' };

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
  | { id: number; ok: true; info?: HostInfo; state?: HostState; output?: OutputChunk[]; status?: number }
  | { id: number; ok: false; error: string };
