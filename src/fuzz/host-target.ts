/**
 * The host-protocol fuzz target (`npm run fuzz -- --target host`): frames
 * sent to a live host, a HostServer listening on a real unix socket in
 * this process, with its machine beside it so that nothing escapes the
 * checks. A session is a fresh host (v1 2009, v2 or v3, manual clock, small
 * request limits so that hostile runs end fast) given SESSION frames:
 *
 * - mutated requests: a valid request (ping, state, a ksmctl verb, an
 *   example script mutated token by token, a sleep, a view, a control, a
 *   shutdown) with its JSON mutated (fields dropped, retyped, huge,
 *   negative, fractional, nested; junk keys) or its bytes (flipped,
 *   truncated, newlines added);
 * - random frames: random bytes, blank lines, partial lines, a line past
 *   the 8 MiB cap (rarely), several requests pipelined;
 * - connection behaviour: a frame sent in small pieces, or followed by a
 *   hang-up before any answer.
 *
 * After each frame, the invariant check: no exception escaped the server
 * (uncaught), the frame's connection ended or answered its last line (a
 * ping sent after the frame), a fresh connection gets `ping` and `state`
 * answered, the machine's memory and merger invariants hold, every
 * connection has been let go, and the host is still serving. Any failure
 * names its replay: `npm run fuzz -- --seed S --target host --session K`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eraProblems } from '../eras/invariants.js';
import { ERA_IDS } from '../eras/registry.js';
import { HostMachine } from '../host/machine.js';
import type { HostResponse } from '../host/protocol.js';
import { HostServer } from '../host/server.js';
import { FuzzFailure, sessionSeed, type TargetReport } from './fuzz.js';
import { Rng } from './rng.js';
import { exampleScripts, mutateScript, SESSION } from './targets.js';

export const HOST_TARGET = {
  name: 'host',
  what: 'ksmctl host: mutated and random frames (JSON and bytes, pipelined, in pieces, hang-ups) over a unix socket to a live host; after each, the host answers ping and state and its machine\'s invariants hold',
};

/** The id of the ping sent after each frame: its answer ends the frame's replies. */
const SENTINEL = 987_654_321;
/** A frame's replies not in after this long: a hang. */
const ANSWER_MS = 10_000;

/** Small limits, so that a hostile run ends in milliseconds. */
const FUZZ_LIMITS = { maxSteps: 20_000, maxVirtualMicros: 3_600_000_000, maxBatches: 20_000, maxScannedPages: 200_000, maxContentBytes: 64 << 20, maxOutputBytes: 1 << 20, maxMappedPages: 1 << 20 };

const EDGE = [0, -1, 1, 0.5, -0.0, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 1e300, -1e300, Number.MAX_VALUE, 86_400_000_000, 86_400_000_001, 4294967295, 4294967296];
const JUNK: unknown[] = [null, true, false, '', 'x', [], {}, [1, [2, [3]]], { a: { b: { c: {} } } }, '\u0000', '\u001b[2J', 'ksmctl', -7];

function pickValue(r: Rng): unknown {
  switch (r.int(4)) {
    case 0:
      return r.pick(EDGE);
    case 1:
      return r.pick(JUNK);
    case 2:
      return r.int(1000);
    default:
      return 'A'.repeat(r.pick([1, 100, 5000]));
  }
}

/** A valid request of any op, for a session whose machine has `pids` processes. */
function validRequest(r: Rng, scripts: Array<{ text: string }>, era: string): Record<string, unknown> {
  const id = r.int(1000);
  switch (r.int(9)) {
    case 0:
      return { id, op: 'ping' };
    case 1:
      return { id, op: 'state' };
    case 2:
      return { id, op: 'ksmctl', args: r.pick([['info'], ['start', '100', '20'], ['stop'], ['s', '5', '6'], ['start', '100'], ['frob'], []]) };
    case 3: {
      const base = r.pick(scripts).text;
      return { id, op: 'run', file: 'fuzz.ksm', source: r.chance(0.3) ? base : mutateScript(r, base), trace: r.chance(0.3) };
    }
    case 4:
      return { id, op: 'sleep', micros: r.int(2_000_000) };
    case 5:
      return { id, op: 'view', pid: 100 + r.int(10), since: r.chance(0.5) ? r.int(50) : undefined, limit: r.int(300) };
    case 6: {
      const action = r.pick(['start', 'stop', 'unmerge', 'pagesToScan', 'sleep', 'step', 'advance']);
      return { id, op: 'control', action, value: r.int(5000), maxBatches: r.chance(0.5) ? 1 + r.int(100) : undefined };
    }
    case 7:
      return { id, op: 'run', file: 'pause.ksm', source: era === 'v1' ? '#include "ksm-2009.h"\nchar *p = memalign(4096, 8 * 4096)\npages(p, 8) = {fill: 7}\nint fd = open("/dev/ksm", O_RDWR)\nint sma = ioctl(fd, KSM_CREATE_SHARED_MEMORY_AREA)\nioctl(sma, KSM_REGISTER_MEMORY_REGION, {npages: 8, addr: p})\npause()\n' : 'char *p = memalign(4096, 8 * 4096)\npages(p, 8) = {fill: 7}\nmadvise(p, 8 * 4096, 12)\npause()\n' };
    default:
      return { id, op: 'view', limit: r.int(10) };
  }
}

/** A JSON-level mutation of a request (in place), 1-3 times. */
function mutateJson(r: Rng, req: Record<string, unknown>): unknown {
  let doc: unknown = req;
  for (let k = r.range(1, 3); k > 0; k--) {
    const keys = Object.keys(req);
    switch (r.int(7)) {
      case 0:
        delete req[r.pick(keys)];
        break;
      case 1:
        req[r.pick(keys)] = pickValue(r);
        break;
      case 2:
        req[r.pick(['id', 'op', 'micros', 'value', 'maxBatches', 'pid', 'since', 'limit', 'args', 'source', 'file', 'defines', 'trace', 'action', '__proto__', 'constructor'])] = pickValue(r);
        break;
      case 3:
        req.defines = r.pick([{ X: '1' }, { X: 1 }, { 'bad name': '1' }, { X: '(((' }, [], 'X=1']);
        break;
      case 4:
        doc = r.pick([null, 0, 'req', [req], [], true]);
        break;
      case 5:
        req.args = [r.pick(['start', 'info', 'stop']), ...Array.from({ length: r.int(80) }, () => String(pickValue(r)))];
        break;
      default:
        req.op = r.pick(['ping', 'state', 'ksmctl', 'run', 'sleep', 'view', 'control', 'shutdown', 'PING', '', 'toString', '__proto__']);
    }
  }
  return doc;
}

/** A byte-level mutation of a line. */
function mutateBytes(r: Rng, line: string): Buffer {
  const b = Buffer.from(line, 'utf8');
  switch (r.int(5)) {
    case 0:
      if (b.length) b[r.int(b.length)] ^= 1 << r.int(8);
      return b;
    case 1:
      return b.subarray(0, r.int(b.length + 1));
    case 2: {
      const i = r.int(b.length + 1);
      return Buffer.concat([b.subarray(0, i), Buffer.from('\n'), b.subarray(i)]);
    }
    case 3:
      return Buffer.concat([b, b]);
    default:
      return Buffer.from(r.bytes(r.range(0, 300)));
  }
}

interface Frame {
  /** What is written, in pieces. */
  pieces: Buffer[];
  /** Hang up right after writing (no answer awaited). */
  hangUp: boolean;
  /** For a failure report. */
  shown: string;
}

export function makeFrame(r: Rng, scripts: Array<{ text: string }>, era: string): Frame {
  const lines: Buffer[] = [];
  const kind = r.int(20);
  if (kind < 10) {
    // Mutated requests (sometimes pipelined).
    for (let n = r.chance(0.2) ? r.range(2, 6) : 1; n > 0; n--) {
      const req = validRequest(r, scripts, era);
      const doc = r.chance(0.6) ? mutateJson(r, req) : req;
      const line = JSON.stringify(doc) ?? 'undefined';
      lines.push(r.chance(0.3) ? mutateBytes(r, line) : Buffer.from(line));
      lines.push(Buffer.from('\n'));
    }
  } else if (kind < 13) {
    // Valid requests, pipelined.
    for (let n = r.range(1, 8); n > 0; n--) lines.push(Buffer.from(`${JSON.stringify(validRequest(r, scripts, era))}\n`));
  } else if (kind < 16) {
    lines.push(Buffer.from(r.bytes(r.range(0, 2000))));
  } else if (kind < 18) {
    lines.push(Buffer.from(r.pick(['\n', '\n\n\n', ' \n', '\r\n', '{', '{"id": 1, "op": "ru', '\u0000\n', '{"id":1,"op":"ping"}\r\n', `${'['.repeat(5000)}\n`, `{"id":1,"op":"run","file":"a","source":"${'('.repeat(300)}"}\n`])));
  } else if (kind < 19) {
    lines.push(Buffer.from(`${JSON.stringify({ id: 1, op: 'run', file: 'x.ksm', source: 'x'.repeat(r.pick([100, 1 << 20, (1 << 20) + 1])) })}\n`));
  } else {
    // Rarely: a line past the cap (the client is disconnected).
    lines.push(Buffer.alloc(r.chance(0.05) ? (8 << 20) + 10 : 70_000, 0x7b));
  }
  const data = Buffer.concat(lines);
  const pieces: Buffer[] = [];
  if (r.chance(0.2) && data.length > 1) {
    for (let i = 0; i < data.length; ) {
      const n = r.range(1, Math.max(1, Math.min(64, data.length - i)));
      pieces.push(data.subarray(i, i + n));
      i += n;
    }
  } else {
    pieces.push(data);
  }
  const shown = data.length > 600 ? `${JSON.stringify(data.subarray(0, 600).toString('latin1'))}... (${data.length} bytes)` : JSON.stringify(data.toString('latin1'));
  return { pieces, hangUp: r.chance(0.1), shown };
}

/** Writes a frame on a fresh connection, then a ping; the replies up to the ping's (or until the host closes). */
function sendFrame(socket: string, f: Frame): Promise<{ replies: HostResponse[]; closed: boolean; malformed: string | null }> {
  return new Promise((resolve, reject) => {
    const s = connect(socket);
    const replies: HostResponse[] = [];
    let buf = '';
    let malformed: string | null = null;
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ replies, closed, malformed });
    };
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      s.destroy();
      reject(new Error(`no answer within ${ANSWER_MS} ms (${replies.length} replies so far)`));
    }, ANSWER_MS);
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i !== -1; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let r: HostResponse;
        try {
          r = JSON.parse(line) as HostResponse;
        } catch {
          malformed = line.slice(0, 200);
          continue;
        }
        replies.push(r);
        if (r.id === SENTINEL) return finish(false);
      }
    });
    s.on('error', () => finish(true));
    s.on('close', () => finish(true));
    s.on('connect', () => {
      for (const p of f.pieces) s.write(p);
      if (f.hangUp) {
        s.destroy();
        finish(true);
        return;
      }
      // A newline ends a partial line (answered as such), then the ping whose answer is the frame's last.
      s.write(`\n${JSON.stringify({ id: SENTINEL, op: 'ping' })}\n`);
    });
  });
}

async function request(socket: string, body: Record<string, unknown>): Promise<HostResponse> {
  const f: Frame = { pieces: [Buffer.from(`${JSON.stringify({ ...body, id: 1 })}\n`)], hangUp: false, shown: '' };
  const r = await sendFrame(socket, f);
  const first = r.replies.find((x) => x.id === 1);
  if (first === undefined) throw new Error(`no answer to ${JSON.stringify(body)} (${r.closed ? 'closed' : 'open'})`);
  return first;
}

function outcomeOf(r: { replies: HostResponse[]; closed: boolean }, hangUp: boolean): string {
  if (hangUp) return 'hung up';
  const own = r.replies.filter((x) => x.id !== SENTINEL);
  const last = own[own.length - 1];
  const tail = r.closed ? ', disconnected' : '';
  if (last === undefined) return `no reply${tail}`;
  if (last.ok) return `ok${tail}`;
  // The error's first words, numbers and quoted values left out: one outcome per kind of refusal.
  const words = last.error.replace(/"[^"]*"|\d[\d,.]*/g, 'N').split(/\s+/).slice(0, 5).join(' ');
  return `error: ${words}${tail}`;
}

export interface HostFuzzOptions {
  seed: number;
  inputs: number;
  session?: number;
  /** Progress after each session (the CLI prints it). */
  onSession?: (done: number) => void;
}

/** Runs the host target; throws a FuzzFailure naming the target, session and input. */
export async function runHostFuzz(opts: HostFuzzOptions): Promise<TargetReport> {
  const t0 = performance.now();
  const rep: TargetReport = { name: HOST_TARGET.name, what: HOST_TARGET.what, inputs: 0, sessions: 0, checks: 0, outcomes: new Map(), slowestMs: 0, ms: 0 };
  const scripts = exampleScripts();
  if (!scripts.length) throw new Error('no example scripts found');
  const escaped: unknown[] = [];
  const onUncaught = (e: unknown) => escaped.push(e);
  process.on('uncaughtException', onUncaught);
  const dir = mkdtempSync(join(tmpdir(), 'ksmctl-fuzz-host-'));
  try {
    const first = opts.session ?? 0;
    for (let k = first; opts.session !== undefined ? k === first : rep.inputs < opts.inputs; k++) {
      const rng = new Rng(sessionSeed(opts.seed, HOST_TARGET.name, k));
      let index = 0;
      let shown = '';
      const fail = (detail: string): never => {
        throw new FuzzFailure(opts.seed, HOST_TARGET.name, k, index, `${detail}\n  input: ${shown}`);
      };
      const era = rng.pick(ERA_IDS);
      const machine = new HostMachine({ era, clock: 'manual', limits: FUZZ_LIMITS });
      const socket = join(dir, `s${k}.sock`);
      let stopped = false;
      const server = new HostServer({
        socket,
        machine,
        info: machine.info(),
        onStop: () => (stopped = true),
      });
      await server.listen();
      try {
        const n = opts.session !== undefined ? SESSION : Math.min(SESSION, opts.inputs - rep.inputs);
        for (index = 0; index < n; index++) {
          const f = makeFrame(rng, scripts, era);
          shown = f.shown;
          const s = performance.now();
          let res;
          try {
            res = await sendFrame(socket, f);
          } catch (e) {
            fail(`the host did not answer: ${(e as Error).message}`);
          }
          const dt = performance.now() - s;
          if (dt > rep.slowestMs) rep.slowestMs = dt;
          if (escaped.length) fail(`an exception escaped the server: ${String((escaped[0] as Error)?.stack ?? escaped[0])}`);
          if (res!.malformed !== null) fail(`the host sent a line that is not JSON: ${res!.malformed}`);
          for (const x of res!.replies) {
            if (typeof x.id !== 'number' || typeof x.ok !== 'boolean') fail(`a reply without id or ok: ${JSON.stringify(x).slice(0, 200)}`);
            // The host survived, but the simulator threw: a bug all the same.
            if (!x.ok && /^internal error/.test(x.error)) fail(`the host answered ${x.error}`);
          }
          const o = outcomeOf(res!, f.hangUp);
          rep.outcomes.set(o, (rep.outcomes.get(o) ?? 0) + 1);
          rep.inputs++;
          // The invariant check, after every frame.
          rep.checks++;
          if (stopped || server.isStopping) {
            // A shutdown in the frame: the host stopped as asked (and removed its socket); the session ends here.
            break;
          }
          let st: HostResponse;
          try {
            const ping = await request(socket, { op: 'ping' });
            // A frame that hung up right after its shutdown line: the host took it after the frame was over.
            if (!ping.ok && server.isStopping) break;
            if (!ping.ok) fail('ping refused after the frame');
            st = await request(socket, { op: 'state' });
          } catch (e) {
            if (server.isStopping) break;
            fail(`the host stopped serving: ${(e as Error).message}`);
          }
          const state = st!.ok ? st!.state : undefined;
          if (state === undefined) return fail(`state refused after the frame: ${JSON.stringify(st!)}`);
          if (!Number.isFinite(state.now)) fail(`virtual time is ${state.now}`);
          const bad = eraProblems(machine.adapter);
          if (bad.length) fail(`invariants violated: ${bad.slice(0, 5).join('; ')}`);
        }
      } finally {
        server.stop();
      }
      rep.sessions++;
      opts.onSession?.(rep.inputs);
      if (opts.session !== undefined) break;
    }
  } finally {
    process.off('uncaughtException', onUncaught);
    rmSync(dir, { recursive: true, force: true });
  }
  rep.ms = performance.now() - t0;
  return rep;
}
