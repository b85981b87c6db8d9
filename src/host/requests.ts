/**
 * The host's requests checked and run, each within bounds.
 *
 * `checkRequest` runs where the socket is read: a line that is not a JSON
 * object, an unknown op, or a field out of its range is answered with an
 * error there and never reaches the machine. `runRequest` runs a checked
 * request on the machine, with the request limits: it never throws (a
 * simulator error is answered as an internal error, and the host goes on).
 *
 * The limits of one request (RequestLimits, docs/robustness.md): a script
 * runs at most 10,000,000 statements (loop tests included), lets at most one
 * day of virtual time and 1,000,000 ksmd batches pass, the machine holds at
 * most 1 GiB of page contents and maps at most 2^26 pages (256 GiB) at once
 * (mmap and fork beyond: ENOMEM), and a run writes at most 16 MiB. A sleep
 * or a control's advance is at most one day and 1,000,000 batches.
 */
import { ScriptOptionError } from '../script/run.js';
import { VIEW_ACTIONS, type ViewAction } from '../session/kernel-view.js';
import { DEFAULT_LIMITS, type RequestLimits } from './limits.js';
import { type HostMachine, HostRefusal } from './machine.js';
import type { HostInfo, HostRequest, HostResponse, ViewRequest } from './protocol.js';

/**
 * The longest request line: a script's source of MAX_SOURCE_BYTES, escaped
 * by JSON (up to 6 bytes for a byte of control characters), and the rest.
 */
export const MAX_REQUEST_LINE = 8 << 20;
/** The longest script source a run request may carry (the CLI's script file limit). */
export const MAX_SOURCE_BYTES = 1 << 20;
/** Strings of a request besides the source: a file name, a ksmctl argument, a -D name or value. */
const MAX_STRING = 4096;
const MAX_ARGS = 64;
const MAX_DEFINES = 256;
/** Trace lines a view may ask for (the host keeps 5,000). */
const MAX_TRACE_LIMIT = 5000;
/** A knob's value (pages_to_scan, sleep): the era's fields are 32-bit. */
const MAX_KNOB = 0xffffffff;

const OPS = ['ping', 'state', 'ksmctl', 'run', 'sleep', 'view', 'control', 'attach', 'detach', 'shutdown'] as const;
/** An exec run's token (ksmctl exec --host makes a random one). */
const RUN_TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
/** The most virtual seconds an exec run's pauses may let ksmd settle (exec's --settle). */
const MAX_SETTLE_SECONDS = 86_400;

export type Checked = { ok: true; req: HostRequest } | { ok: false; reply: HostResponse };

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What is wrong with a view request's fields, or null. */
function badViewRequest(r: ViewRequest): string | null {
  if (r.pid !== undefined && !isCount(r.pid)) return 'pid must be an integer >= 0';
  if (r.since !== undefined && !isCount(r.since)) return 'since must be an integer >= 0';
  if (r.limit !== undefined && !(isCount(r.limit) && r.limit <= MAX_TRACE_LIMIT)) return `limit must be an integer from 0 to ${MAX_TRACE_LIMIT}`;
  return null;
}

function shortString(v: unknown, max = MAX_STRING): v is string {
  return typeof v === 'string' && v.length <= max;
}

/** A parsed request line checked: the request, or the reply that refuses it. */
export function checkRequest(raw: unknown, limits: Readonly<RequestLimits> = DEFAULT_LIMITS): Checked {
  if (!isObject(raw)) return { ok: false, reply: { id: -1, ok: false, error: 'a request is a JSON object: {"id": N, "op": "..."}' } };
  const id = Number.isSafeInteger(raw.id) ? (raw.id as number) : -1;
  const no = (error: string): Checked => ({ ok: false, reply: { id, ok: false, error } });
  const op = raw.op;
  if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) return no(`unknown op ${JSON.stringify(op ?? null).slice(0, 100)} (${OPS.join(', ')})`);
  const req = { ...raw, id } as HostRequest;
  switch (req.op) {
    case 'ksmctl':
      if (!Array.isArray(req.args) || req.args.length > MAX_ARGS || !req.args.every((a) => shortString(a))) return no(`ksmctl: args must be at most ${MAX_ARGS} strings of at most ${MAX_STRING} characters`);
      break;
    case 'run': {
      if (!shortString(req.file) || typeof req.source !== 'string') return no('run: file and source are required (strings)');
      if (Buffer.byteLength(req.source) > MAX_SOURCE_BYTES) return no(`run: the source is more than a script may have (${MAX_SOURCE_BYTES >> 20} MiB)`);
      if (req.trace !== undefined && typeof req.trace !== 'boolean') return no('run: trace must be true or false');
      if (req.defines !== undefined) {
        const d: unknown = req.defines;
        if (!isObject(d)) return no('run: defines must be an object of NAME: VALUE strings');
        const entries = Object.entries(d);
        if (entries.length > MAX_DEFINES || !entries.every(([k, v]) => k.length <= MAX_STRING && shortString(v))) return no(`run: defines must be at most ${MAX_DEFINES} NAME: VALUE strings`);
      }
      if (req.args !== undefined && (!Array.isArray(req.args) || req.args.length > MAX_ARGS || !req.args.every((a) => shortString(a)))) return no(`run: args must be at most ${MAX_ARGS} strings of at most ${MAX_STRING} characters`);
      break;
    }
    case 'sleep':
      if (!isCount(req.micros) || req.micros > limits.maxVirtualMicros) return no(`sleep: micros must be an integer from 0 to ${limits.maxVirtualMicros} (the virtual time one request may let pass)`);
      break;
    case 'view': {
      const bad = badViewRequest(req);
      if (bad) return no(`view: ${bad}`);
      break;
    }
    case 'attach':
      if (typeof req.run !== 'string' || !RUN_TOKEN.test(req.run)) return no('attach: run must be a token of 1 to 64 letters, digits, _ or -');
      if (req.era !== undefined && !shortString(req.era, 64)) return no('attach: era must be a string');
      if (req.endOnPause !== undefined && typeof req.endOnPause !== 'boolean') return no('attach: endOnPause must be true or false');
      if (req.settleSeconds !== undefined && !(isCount(req.settleSeconds) && req.settleSeconds >= 1 && req.settleSeconds <= MAX_SETTLE_SECONDS)) return no(`attach: settleSeconds must be an integer from 1 to ${MAX_SETTLE_SECONDS}`);
      break;
    case 'detach':
      if (typeof req.run !== 'string' || !RUN_TOKEN.test(req.run)) return no('detach: run must be a token of 1 to 64 letters, digits, _ or -');
      break;
    case 'control': {
      if (!VIEW_ACTIONS.includes(req.action)) return no(`control: unknown action ${JSON.stringify(req.action ?? null).slice(0, 100)} (${VIEW_ACTIONS.join(', ')})`);
      if (req.action === 'pagesToScan' || req.action === 'sleep') {
        if (!isCount(req.value) || req.value > MAX_KNOB) return no(`control ${req.action}: value must be an integer from 0 to ${MAX_KNOB}`);
      }
      if (req.action === 'advance' && !(isCount(req.value) && req.value <= limits.maxVirtualMicros)) {
        return no(`control advance: value must be an integer from 0 to ${limits.maxVirtualMicros} µs (the virtual time one request may let pass)`);
      }
      if (req.maxBatches !== undefined && !(isCount(req.maxBatches) && req.maxBatches > 0 && req.maxBatches <= limits.maxBatches)) {
        return no(`control: maxBatches must be an integer from 1 to ${limits.maxBatches}`);
      }
      const bad = badViewRequest(req);
      if (bad) return no(`control: ${bad}`);
      break;
    }
  }
  return { ok: true, req };
}

/** A checked request run on the machine; never throws. `info` answers ping and state. */
export function runRequest(m: HostMachine, req: HostRequest, info: HostInfo, limits: Readonly<RequestLimits> = DEFAULT_LIMITS): HostResponse {
  const id = req.id;
  try {
    switch (req.op) {
      case 'ping':
        return { id, ok: true, info };
      case 'state':
        return { id, ok: true, state: { ...info, ...m.state() } };
      case 'ksmctl': {
        const r = m.ksmctl(req.args);
        return { id, ok: true, output: r.output, status: r.status };
      }
      case 'run': {
        const r = m.run(req.file, req.source, req.trace === true, req.defines, req.args);
        return { id, ok: true, output: r.output, status: r.status };
      }
      case 'sleep':
        m.sleep(req.micros);
        return { id, ok: true };
      case 'view':
        return { id, ok: true, view: m.viewState(req) };
      case 'control': {
        // advance is bounded in batches as in time.
        const maxBatches = req.action === 'advance' ? Math.min(req.maxBatches ?? limits.maxBatches, limits.maxBatches) : req.maxBatches;
        const r = m.control(req.action as ViewAction, req.value, maxBatches, req);
        return { id, ok: true, calls: r.calls, batches: r.batches, view: r.view };
      }
      case 'shutdown':
        return { id, ok: true, info };
      case 'attach':
      case 'detach':
        // The server and the engines handle these (a stream; an answer that waits for the run's exits): runDetach.
        return { id, ok: false, error: `${req.op} is not a request the machine runs` };
    }
    return { id, ok: false, error: `unknown op ${JSON.stringify((req as { op?: unknown }).op)}` };
  } catch (e) {
    if (e instanceof HostRefusal) return { id, ok: false, error: e.message };
    if (e instanceof ScriptOptionError) return { id, ok: false, error: `run: ${e.message}` };
    // A bug in the simulation must not take the host down with a half-told story.
    return { id, ok: false, error: `internal error: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** `detach`: the exec run ends on the machine (its processes' exits waited for a little); never rejects. */
export async function runDetach(m: HostMachine, req: Extract<HostRequest, { op: 'detach' }>): Promise<HostResponse> {
  try {
    return { id: req.id, ok: true, exec: await m.exec.detach(req.run) };
  } catch (e) {
    return { id: req.id, ok: false, error: `internal error: ${e instanceof Error ? e.message : String(e)}` };
  }
}
