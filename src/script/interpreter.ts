/**
 * Runs a checked script on a Runtime: every process of the script (the
 * first one, its forks) is a context with an explicit stack of frames, so
 * fork() can copy a process mid-function and each copy go on from the same
 * statement, as in C. A small scheduler runs the contexts on the virtual
 * clock: a process runs until it sleeps, waits for full scans, pauses,
 * forks (the child runs first) or exits; when none can run, time passes
 * (ksmd's batches run) up to the next wake-up.
 *
 * C semantics kept: a failing call returns -1 (memalign: 0) and sets errno;
 * integer conversions of casts, declared types and struct fields truncate.
 * One rule is stricter than C: a checked system call used as a bare
 * statement, whose result the script ignores, must succeed (its failure is
 * an error at that line); assign it to look at the result and errno.
 */
import { PAGE_SIZE } from '../engine/constants.js';
import { ERRNO, errnoName, strerror } from '../engine/errno.js';
import { pageInRun, type RunContent, type SinglePage } from '../engine/pages.js';
import { decodeStruct, encodeStruct, type StructLayout } from '../kernel/cstruct.js';
import { internPage } from '../workload/fill.js';
import type { CType, Declarator, Expr, FuncDef, Loc, Program, Stmt } from './ast.js';
import { BUILTINS } from './builtins.js';
import { COMMON, type Header } from './constants.js';
import { runtimeError, ScriptError } from './errors.js';
import { cFormat, FormatError } from './format.js';
import { runKsmctl } from './ksmctl.js';
import { typeName } from './parser.js';
import { type IoctlArg, isKernelFile, type Runtime, SYSCALL_COST_US, type Task } from './runtime.js';
import { atoi, scanf, strtol } from './libc.js';
import { O_APPEND, O_CREAT, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } from '../v1-ioctl/constants.js';
import { requestLayout, requestName } from './strace.js';
import { cloneScope, cloneValue, commonType, convert, describe, type IntType, newStruct, type ObjVal, promote, type Scope, show, truthy, type Value, type Var } from './values.js';

/** Where a call's result goes when the call returns. */
type RetTarget = { kind: 'discard'; call: Expr & { k: 'call' }; checked: boolean } | { kind: 'assign'; target: Expr; op: string } | { kind: 'exit' } | { kind: 'nested' };

type Frame =
  | { k: 'block'; stmts: Stmt[]; i: number }
  | { k: 'loop'; node: Stmt & { k: 'for' | 'while' | 'dowhile' }; phase: 'test' | 'step' }
  | { k: 'call'; fn: FuncDef; scope: Scope; ret: RetTarget }
  /** A switch's body runs above it: `break` comes back here. */
  | { k: 'switch' };

/** How a goto reaches its label from the function's body: the statement at `index`, entered as `via` says (none at the label itself). */
type LabelStep = { index: number; via: 'block' | 'then' | 'else' | 'loop' | 'switch' | null };

/** The labels of a function's body (or of the program's top level), each with its path. */
const labelCache = new WeakMap<Stmt[], Map<string, LabelStep[]>>();

export function labelsOf(root: Stmt[]): Map<string, LabelStep[]> {
  let m = labelCache.get(root);
  if (m !== undefined) return m;
  const found = new Map<string, LabelStep[]>();
  const walk = (stmts: Stmt[], prefix: LabelStep[]) => {
    stmts.forEach((st, index) => {
      const into = (child: Stmt | null, via: LabelStep['via']) => {
        if (child !== null) walk(child.k === 'block' ? child.body : [child], [...prefix, { index, via }]);
      };
      switch (st.k) {
        case 'label':
          if (!found.has(st.name)) found.set(st.name, [...prefix, { index, via: null }]);
          break;
        case 'block':
          walk(st.body, [...prefix, { index, via: 'block' }]);
          break;
        case 'if':
          into(st.then, 'then');
          into(st.else, 'else');
          break;
        case 'for':
        case 'while':
        case 'dowhile':
          into(st.body, 'loop');
          break;
        case 'switch':
          walk(st.body.body, [...prefix, { index, via: 'switch' }]);
          break;
      }
    });
  };
  walk(root, []);
  m = found;
  labelCache.set(root, m);
  return m;
}

type CtxState = 'ready' | 'sleeping' | 'waiting' | 'paused' | 'done';

class Ctx {
  frames: Frame[] = [];
  state: CtxState = 'ready';
  wakeAt = 0;
  waitTarget = 0;
  waitCount = 0;
  waitStart = 0;
  waitLoc: Loc | null = null;
  /** Set to leave the run loop (after a fork: the child goes first). */
  switchNow = false;
  nestDepth = 0;
  /** Frames of the script's functions on the stack (MAX_CALL_DEPTH). */
  callDepth = 0;
  /** Where the process sleeps or waits (for an error about its time). */
  sleepLoc: Loc | null = null;
  nestedResult: Value = 0n;
  allocations = new Map<number, number>();
  /** The task's calls whose time has passed (or was forgiven: before a loop, before a sleep). */
  paidCalls = 0;
  /** getopt's place inside a cluster of options (-abc). */
  optpos = 0;
  /** `static` locals, by their declaration: one variable for every call of the function. */
  statics = new Map<Declarator, Var>();

  constructor(
    public task: Task,
    public globals: Scope,
  ) {}
}

/** Thrown by exit() anywhere in an expression: the process is gone. */
class ProcessExit {
  constructor(readonly status: number) {}
}

/** FILE pointers: this plus the descriptor (stdin, stdout, stderr are 0, 1, 2). */
export const FILE_BASE = 0x7f11e0000000n;

/** The most elements an array variable may have. */
const MAX_ARRAY = 1 << 20;

/** Virtual time and work limits of one wait for full scans. */
const MAX_WAIT_BATCHES = 2_000_000;

/**
 * Calls of the script's functions one process may nest: its stack (8 MiB
 * in the kernels of the time, 128 bytes a frame). Deeper is the program's
 * stack overflow, a segmentation fault at the call.
 */
export const MAX_CALL_DEPTH = 65_536;

/**
 * Calls of the script's functions nested inside expressions (`return f(n -
 * 1) + 1`): each level is run on the interpreter's own stack, so they nest
 * less deep than calls made as statements (`f(n - 1);`).
 */
export const MAX_NESTED_CALLS = 256;

/** A run limit (InterpreterOptions) passed, or the program's stack overflow: an error at the statement running. */
export class RunLimitError extends Error {}

export interface InterpreterOptions {
  header: Header;
  /** The first process's name (the program's). */
  name: string;
  /** Definitions from the command line (`-D NAME=VALUE`): they win over the script's #define of the same name. */
  defines?: ReadonlyMap<string, Expr>;
  /** The first process's uid (`ksmctl run --user`; default 0, root). */
  uid?: number;
  /** The program's arguments after its name (argv[1]...). */
  args?: readonly string[];
  /** The program's environment (getenv, envp): NAME=VALUE strings; none by default. */
  env?: Readonly<Record<string, string>>;
  /** Statements all processes may run in all before a runtime error (the fuzzer's bound on endless loops); none by default. */
  maxSteps?: number;
  /** Virtual time the run may let pass, µs (the host's bound on a request); none by default. */
  maxVirtualMicros?: number;
  /**
   * ksmd batches the run may let run while its processes sleep or wait; none
   * by default. With a bound, time passes batch by batch, so a run that
   * would pass it stops there instead of running them all first.
   */
  maxBatches?: number;
  /** Bytes of page contents the machine may hold (the host's memory bound); none by default. */
  maxContentBytes?: number;
  /**
   * Asked after each ksmd batch the run lets run (with maxBatches set, time
   * passes batch by batch): a message when the run has had more of ksmd's
   * work than it may (the host counts pages scanned), else null.
   */
  overWork?: () => string | null;
  /**
   * Asked every few thousand statements, and every few thousand pages of a
   * statement that touches many (memset, pages(...) = ...): a message once
   * the run has taken longer than it may (the host's time limit), else null.
   */
  overTime?: () => string | null;
}

/** The result of a run: which processes are still alive (paused), and whether an expect failed. */
export interface RunOutcome {
  /** Processes left alive (pause() or waiting forever), by pid. */
  alive: number[];
  mainPid: number;
  /** The first process's exit status (exit(), or main's return), or null while it is alive (paused). */
  exitStatus: number | null;
}

export class Interpreter {
  /** Statements run so far (InterpreterOptions.maxSteps). */
  private steps = 0;
  private readonly ctxs: Ctx[] = [];
  private readonly header: Header;
  /** The statement running (where a run limit or a stack overflow is reported). */
  private at: Loc = { line: 1, col: 1, offset: 0 };
  /** Virtual time and ksmd batches when the run started (maxVirtualMicros, maxBatches). */
  private startTime = 0;
  private startBatches = 0;

  constructor(
    private readonly prog: Program,
    private readonly rt: Runtime,
    private readonly opts: InterpreterOptions,
  ) {
    this.header = opts.header;
  }

  private get sys() {
    return this.rt.sys;
  }

  /** The statement running (or last run): where an error from outside the interpreter is reported. */
  get location(): Loc {
    return this.at;
  }

  /** The processes of the run that are still alive (to reap them when the run fails). */
  liveTasks(): Task[] {
    return this.ctxs.filter((c) => !c.task.proc.exited).map((c) => c.task);
  }

  /** Runs the script to its end; throws a ScriptError (runtime or expect). */
  run(): RunOutcome {
    this.startTime = this.sys.machine.clock.now;
    this.startBatches = this.batchesRun();
    const task = this.rt.spawn(this.opts.name, this.opts.uid ?? 0);
    const main = new Ctx(task, new Map());
    // argv[0] is the program's name (as a shell runs a binary of it), then the arguments, then NULL.
    const argv = [this.opts.name, ...(this.opts.args ?? [])];
    const env = Object.entries(this.opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
    const strings = (xs: string[], loc: Loc): Expr => ({ k: 'array', loc, items: [...xs.map((x): Expr => ({ k: 'str', loc, value: x })), { k: 'num', loc, value: 0n }] });
    const start: Loc = { line: 1, col: 1, offset: 0 };
    main.globals.set('argc', { value: BigInt(argv.length), type: { kind: 'int', name: 'int', bits: 32, signed: true } });
    main.globals.set('argv', { value: this.eval(main, strings(argv, start)), type: null });
    main.globals.set('environ', { value: this.eval(main, strings(env, start)), type: null });
    main.globals.set('optind', { value: 1n, type: { kind: 'int', name: 'int', bits: 32, signed: true } });
    main.globals.set('opterr', { value: 1n, type: { kind: 'int', name: 'int', bits: 32, signed: true } });
    main.globals.set('optopt', { value: 0n, type: { kind: 'int', name: 'int', bits: 32, signed: true } });
    main.globals.set('optarg', { value: 0n, type: null });
    main.globals.set('stdin', { value: FILE_BASE, type: null });
    main.globals.set('stdout', { value: FILE_BASE + 1n, type: null });
    main.globals.set('stderr', { value: FILE_BASE + 2n, type: null });
    for (const [name, e] of this.opts.defines ?? []) main.globals.set(name, { value: this.eval(main, e), type: null });
    const body = [...this.prog.body];
    const mainFn = this.prog.funcs.get('main');
    if (mainFn !== undefined) {
      const margs: Expr[] = [{ k: 'num' as const, loc: mainFn.loc, value: BigInt(argv.length) }, strings(argv, mainFn.loc), strings(env, mainFn.loc)].slice(0, mainFn.params.length);
      const call: Expr = { k: 'call', loc: mainFn.loc, name: 'main', args: margs, end: mainFn.loc };
      body.push({ k: 'expr', loc: mainFn.loc, expr: call, main: true } as Stmt);
    }
    main.frames.push({ k: 'block', stmts: body, i: 0 });
    this.ctxs.push(main);
    this.schedule();
    return { alive: this.ctxs.filter((c) => c.state !== 'done').map((c) => c.task.pid), mainPid: task.pid, exitStatus: task.exitStatus };
  }

  private batchesRun(): number {
    let n = 0;
    for (const k of this.sys.ksmds()) n += k.batches;
    return n;
  }

  /** Throws at `loc` if time t is past what the run may use. */
  private checkTime(t: number, loc: Loc): void {
    const max = this.opts.maxVirtualMicros;
    if (max !== undefined && t - this.startTime > max) {
      throw runtimeError(`this run may let ${formatMicros(max)} of virtual time pass, and this would take it to ${formatMicros(t - this.startTime)} (the limit of this run)`, loc);
    }
  }

  /**
   * Lets time pass to t. Without a bound on batches, at once; with one,
   * batch by batch, stopping with an error at `loc` when the run has let
   * more batches run than it may.
   */
  private advance(t: number, loc: Loc): void {
    const max = this.opts.maxBatches;
    if (max === undefined) {
      this.sys.advanceTo(t);
      return;
    }
    for (;;) {
      const next = this.sys.nextBatchAt();
      if (next === null || next > t) break;
      this.sys.advanceTo(next);
      this.checkBatches(loc);
    }
    this.sys.advanceTo(t);
  }

  private checkBatches(loc: Loc): void {
    const max = this.opts.maxBatches;
    if (max !== undefined && this.batchesRun() - this.startBatches > max) {
      throw runtimeError(`this run may let ${max.toLocaleString('en-US')} ksmd batches run, and it has passed them (the limit of this run)`, loc);
    }
    const over = this.opts.overWork?.();
    if (over) throw runtimeError(over, loc);
    if ((++this.ticks & 255) === 0) {
      const late = this.opts.overTime?.();
      if (late) throw runtimeError(late, loc);
    }
  }

  /** Throws when the machine holds more page contents than the run allows. */
  private checkMemory(): void {
    const max = this.opts.maxContentBytes;
    if (max !== undefined && this.sys.memory.contents.chargedBytes() > max) {
      throw new RunLimitError(`out of memory: the machine holds more than ${formatBytes(max)} of page contents (the limit of this run)`);
    }
  }

  // ------------------------------------------------------------ scheduling

  private schedule(): void {
    for (;;) {
      const c = this.ctxs.find((x) => x.state === 'ready');
      if (c !== undefined) {
        this.runCtx(c);
        // A process that has ended leaves the run queue: a fork-then-exit loop stays linear.
        if (c.state === 'done') this.ctxs.splice(this.ctxs.indexOf(c), 1);
        continue;
      }
      const sleepers = this.ctxs.filter((x) => x.state === 'sleeping');
      const waiters = this.ctxs.filter((x) => x.state === 'waiting');
      if (sleepers.length === 0 && waiters.length === 0) return;
      let tSleep = Number.POSITIVE_INFINITY;
      let first: Ctx | null = null;
      for (const x of sleepers) {
        if (x.wakeAt < tSleep) {
          tSleep = x.wakeAt;
          first = x;
        }
      }
      if (first !== null) this.checkTime(tSleep, first.sleepLoc ?? this.at);
      if (waiters.length === 0) {
        this.advance(tSleep, first?.sleepLoc ?? this.at);
      } else {
        this.advanceForWaiters(waiters, tSleep);
      }
      const now = this.sys.machine.clock.now;
      for (const s of sleepers) if (s.wakeAt <= now) s.state = 'ready';
    }
  }

  /** Lets ksmd run batch by batch until a waiter's scans are done or a sleeper wakes. */
  private advanceForWaiters(waiters: Ctx[], tSleep: number): void {
    for (let batches = 0; ; batches++) {
      let woke = false;
      const passes = this.sys.fullScans();
      for (const w of waiters) {
        if (passes >= w.waitTarget) {
          this.wakeWaiter(w);
          woke = true;
        }
      }
      if (woke) return;
      const next = this.sys.nextBatchAt();
      if (next === null || next > tSleep) {
        if (Number.isFinite(tSleep)) {
          this.advance(tSleep, waiters[0].waitLoc!);
          return;
        }
        const w = waiters[0];
        throw runtimeError(`wait_full_scans(${w.waitCount}) would wait forever: ksmd is not scanning (start it first: ksmctl start, or echo 1 > /sys/kernel/mm/ksm/run)`, w.waitLoc!);
      }
      if (batches >= MAX_WAIT_BATCHES) {
        const w = waiters[0];
        throw runtimeError(`wait_full_scans(${w.waitCount}): no full scan after ${MAX_WAIT_BATCHES} ksmd batches (is any memory registered?)`, w.waitLoc!);
      }
      this.checkTime(next, waiters[0].waitLoc!);
      this.sys.advanceTo(next);
      this.checkBatches(waiters[0].waitLoc!);
    }
  }

  private runCtx(c: Ctx): void {
    c.switchNow = false;
    try {
      this.runFrames(c, 0);
      if (c.state === 'ready' && c.frames.length === 0) this.finish(c, 0);
    } catch (e) {
      if (e instanceof ProcessExit) {
        c.state = 'done';
        return;
      }
      throw e;
    }
  }

  private finish(c: Ctx, status: number): void {
    c.task.exit(status);
    c.state = 'done';
  }

  private runFrames(c: Ctx, floor: number): void {
    while (c.frames.length > floor && c.state === 'ready' && !c.switchNow) {
      const f = c.frames[c.frames.length - 1];
      switch (f.k) {
        case 'block':
          if (f.i >= f.stmts.length) c.frames.pop();
          else {
            const s = f.stmts[f.i++];
            this.step(s.loc);
            this.exec(c, s);
            if (this.opts.maxContentBytes !== undefined) this.checkMemory();
          }
          break;
        case 'loop': {
          const n = f.node;
          if (f.phase === 'step') {
            if (n.k === 'for' && n.step) this.execSimple(c, n.step);
            f.phase = 'test';
            break;
          }
          const test = n.k === 'for' ? n.test : n.test;
          // Each test of a loop counts as a statement: `while (1) { }` runs none otherwise.
          this.step(n.loc);
          // The calls of the turn just run take their time: a loop polling a counter lets ksmd run.
          if (this.payCalls(c, n.loc)) break;
          if (test !== null && !truthy(this.eval(c, test))) {
            c.frames.pop();
            break;
          }
          f.phase = 'step';
          this.push(c, n.body);
          break;
        }
        case 'call':
          // The body ran off its end: return 0.
          this.doReturn(c, 0n);
          break;
        case 'switch':
          c.frames.pop();
          break;
      }
    }
  }

  /** A statement (or a loop's test) is about to run at loc: counted against maxSteps. */
  private step(loc: Loc): void {
    this.at = loc;
    if (this.opts.maxSteps !== undefined && ++this.steps > this.opts.maxSteps) throw runtimeError(`more than ${this.opts.maxSteps.toLocaleString('en-US')} statements run (the limit of this run)`, loc);
    if ((++this.ticks & 4095) === 0) this.checkWallTime();
  }

  /** Work units (statements, pages) since the last time check. */
  private ticks = 0;

  private checkWallTime(): void {
    const over = this.opts.overTime?.();
    if (over) throw new RunLimitError(over);
  }

  /**
   * A process at the back edge of a loop: the system calls it made since
   * the last one take their time now (SYSCALL_COST_US each), ksmd's batches
   * due meanwhile run, and a process that wakes meanwhile gets its turn
   * (true: this one yields, and runs on after it). Calls before a loop, and
   * before a sleep, a wait or a fork, are not charged: straight-line code and sleeping loops
   * keep the timing they always had.
   */
  private payCalls(c: Ctx, loc: Loc): boolean {
    const owed = c.task.calls - c.paidCalls;
    if (owed <= 0) return false;
    c.paidCalls = c.task.calls;
    const t = this.sys.machine.clock.now + owed * SYSCALL_COST_US;
    this.checkTime(t, loc);
    this.advance(t, loc);
    let other = false;
    const now = this.sys.machine.clock.now;
    for (const x of this.ctxs) {
      if (x === c) continue;
      if (x.state === 'sleeping' && x.wakeAt <= now) {
        x.state = 'ready';
        other = true;
      } else if (x.state === 'waiting' && this.sys.fullScans() >= x.waitTarget) {
        this.wakeWaiter(x);
        other = true;
      } else if (x.state === 'ready') other = true;
    }
    // Inside an expression's call the process cannot yield: the others run when it does.
    if (!other || c.nestDepth > 0) return false;
    // Round robin: the spinning process goes to the back of the queue.
    this.ctxs.splice(this.ctxs.indexOf(c), 1);
    this.ctxs.push(c);
    c.switchNow = true;
    return true;
  }

  private wakeWaiter(w: Ctx): void {
    w.state = 'ready';
    const secs = (this.sys.machine.clock.now - w.waitStart) / 1e6;
    this.rt.trace(w.task.pid, `--- ${w.waitCount} full scan${w.waitCount === 1 ? '' : 's'} in ${secs.toFixed(6)} s of virtual time ---`);
  }

  private push(c: Ctx, s: Stmt): void {
    c.frames.push({ k: 'block', stmts: s.k === 'block' ? s.body : [s], i: 0 });
  }

  // ------------------------------------------------------------ statements

  private exec(c: Ctx, s: Stmt): void {
    switch (s.k) {
      case 'expr': {
        const e = s.expr;
        if (e.k === 'call' && this.isStatementCall(e)) {
          const checked = BUILTINS[e.name]?.checked === true && !this.prog.funcs.has(e.name);
          this.statementCall(c, e, (s as { main?: boolean }).main ? { kind: 'exit' } : { kind: 'discard', call: e, checked });
          return;
        }
        const v = this.eval(c, e);
        if (e.k === 'call' && !this.prog.funcs.has(e.name) && BUILTINS[e.name]?.checked) this.checkIgnored(c, e, v);
        return;
      }
      case 'assign':
        if (s.op === '=' && s.value.k === 'call' && this.isStatementCall(s.value)) {
          this.statementCall(c, s.value, { kind: 'assign', target: s.target, op: '=' });
          return;
        }
        this.assign(c, s.target, s.op, this.eval(c, s.value), s.loc);
        return;
      case 'decl':
        for (const d of s.decls) this.declare(c, d, s.static === true);
        return;
      case 'enum': {
        let next = 0n;
        for (const it of s.items) {
          const v = it.value ? this.int(this.eval(c, it.value), it.value.loc) : next;
          this.scope(c).set(it.name, { value: v, type: { kind: 'int', name: 'int', bits: 32, signed: true } });
          next = v + 1n;
        }
        return;
      }
      case 'label':
      case 'case':
        return;
      case 'goto':
        this.goto(c, s);
        return;
      case 'switch': {
        const v = BigInt.asIntN(64, this.int(this.eval(c, s.test), s.test.loc));
        let start = -1;
        let def = -1;
        const body = s.body.body;
        for (let i = 0; i < body.length && start < 0; i++) {
          const x = body[i];
          if (x.k !== 'case') continue;
          if (x.value === null) def = i;
          else if (BigInt.asIntN(64, this.int(this.eval(c, x.value), x.value.loc)) === v) start = i;
        }
        if (start < 0) start = def;
        if (start < 0) return;
        c.frames.push({ k: 'switch' });
        c.frames.push({ k: 'block', stmts: body, i: start });
        return;
      }
      case 'dowhile':
        c.paidCalls = c.task.calls;
        // The body first; the test comes after it, as after a for loop's step.
        c.frames.push({ k: 'loop', node: s, phase: 'step' });
        this.push(c, s.body);
        return;
      case 'define':
        if (!this.opts.defines?.has(s.name)) c.globals.set(s.name, { value: this.eval(c, s.value), type: null });
        return;
      case 'include':
      case 'pragma':
      case 'empty':
        return;
      case 'block':
      case 'if':
        if (s.k === 'block') this.push(c, s);
        else if (truthy(this.eval(c, s.test))) this.push(c, s.then);
        else if (s.else) this.push(c, s.else);
        return;
      case 'for':
        if (s.init) this.execSimple(c, s.init);
        c.paidCalls = c.task.calls;
        c.frames.push({ k: 'loop', node: s, phase: 'test' });
        return;
      case 'while':
        c.paidCalls = c.task.calls;
        c.frames.push({ k: 'loop', node: s, phase: 'test' });
        return;
      case 'break':
      case 'continue': {
        while (c.frames.length > 0) {
          const f = c.frames[c.frames.length - 1];
          if (f.k === 'loop') {
            if (s.k === 'break') c.frames.pop();
            else f.phase = 'step';
            return;
          }
          if (f.k === 'switch' && s.k === 'break') {
            c.frames.pop();
            return;
          }
          if (f.k === 'call') break;
          c.frames.pop();
        }
        throw runtimeError(`${s.k} outside a loop${s.k === 'break' ? ' or a switch' : ''}`, s.loc);
      }
      case 'return': {
        const v = s.value ? this.eval(c, s.value) : 0n;
        this.doReturn(c, v);
        return;
      }
      case 'ksmctl': {
        const args = s.words.map((w) => ('text' in w ? w.text : show(this.eval(c, w.expr))));
        runKsmctl(this.rt, args);
        return;
      }
      case 'echo': {
        const text = `${'text' in s.value ? s.value.text : show(this.eval(c, s.value.expr))}\n`;
        const r = c.task.writeFile(s.path, text);
        if (r < 0) c.task.write(2, `echo: write error: ${strerror(c.task.errno)}\n`);
        return;
      }
      case 'cat': {
        const text = c.task.readFile(s.path);
        if (text === null) c.task.write(2, `cat: ${s.path}: ${strerror(c.task.errno)}\n`);
        else c.task.write(1, text);
        return;
      }
      case 'print': {
        const text = s.args.map((a) => show(this.eval(c, a))).join(' ');
        c.task.write(1, `${text}\n`);
        return;
      }
      case 'expect':
        this.expect(c, s);
        return;
    }
  }

  /** A for-loop clause or other statement that must not push frames. */
  private execSimple(c: Ctx, s: Stmt): void {
    if (s.k === 'decl') {
      for (const d of s.decls) this.declare(c, d);
    } else if (s.k === 'assign') {
      this.assign(c, s.target, s.op, this.eval(c, s.value), s.loc);
    } else if (s.k === 'expr') {
      this.eval(c, s.expr);
    } else {
      this.exec(c, s);
    }
  }

  private declare(c: Ctx, d: Declarator, isStatic = false): void {
    const scope = this.scope(c);
    if (isStatic && scope !== c.globals) {
      // A static local: made (and initialized) once, then the same variable on every call.
      const kept = c.statics.get(d);
      if (kept !== undefined) {
        scope.set(d.name, kept);
        return;
      }
    }
    let value: Value = 0n;
    let type = d.type;
    if (d.type.kind === 'struct') {
      const layout = this.structLayout(d.type.name, d.loc);
      value = newStruct(layout);
    }
    if (d.type.kind === 'array') ({ value, type } = this.newArray(c, d));
    const v: Var = { value, type };
    scope.set(d.name, v);
    if (isStatic && scope !== c.globals) c.statics.set(d, v);
    if (d.type.kind === 'array') return;
    if (d.init === null) return;
    if (d.init.k === 'call' && this.isStatementCall(d.init)) {
      this.statementCall(c, d.init, { kind: 'assign', target: { k: 'ident', loc: d.loc, name: d.name }, op: '=' });
      return;
    }
    this.assign(c, { k: 'ident', loc: d.loc, name: d.name }, '=', this.eval(c, d.init), d.loc);
  }

  /**
   * `T a[n]` and `T a[] = {...}`: an array of n elements (zeros, or the
   * initializer's), or for a char array a C string buffer of n bytes (its
   * text, "" at first, or the initializer's string).
   */
  private newArray(c: Ctx, d: Declarator): { value: Value; type: CType } {
    const t = d.type as CType & { kind: 'array' };
    const elem = t.of;
    const init = d.init === null ? null : this.eval(c, d.init);
    let n: number | null = t.n === null ? null : this.num(c, t.n);
    const isChar = elem.kind === 'int' && elem.bits === 8;
    if (isChar && (typeof init === 'string' || init === null)) {
      const text = init ?? '';
      n ??= text.length + 1;
      if (n < 0 || n > MAX_ARRAY) throw runtimeError(`${d.name}[${n}]: an array of at most ${MAX_ARRAY.toLocaleString('en-US')} elements`, d.loc);
      if (text.length + 1 > n) throw runtimeError(`the string "${text}" does not fit ${d.name}[${n}]`, d.loc);
      return { value: text, type: { kind: 'array', of: elem, n: { k: 'num', loc: d.loc, value: BigInt(n) } } };
    }
    let items: Value[] = [];
    if (init !== null) {
      if (typeof init !== 'object' || init instanceof Uint8Array || init.t !== 'arr') throw runtimeError(`${d.name}[] is initialized with {value, ...}, not ${describe(init)}`, d.loc);
      items = init.items.map((x) => (typeof x === 'bigint' ? convert(x, elem) : x));
    }
    n ??= items.length;
    if (n < 0 || n > MAX_ARRAY) throw runtimeError(`${d.name}[${n}]: an array of at most ${MAX_ARRAY.toLocaleString('en-US')} elements`, d.loc);
    if (items.length > n) throw runtimeError(`${items.length} initializers for ${d.name}[${n}]`, d.loc);
    while (items.length < n) items.push(0n);
    return { value: { t: 'arr', loc: d.loc, items }, type: { kind: 'array', of: elem, n: { k: 'num', loc: d.loc, value: BigInt(n) } } };
  }

  /** goto LABEL: the frames of the function are unwound and rebuilt down to the label (into blocks, branches, loops and switches). */
  private goto(c: Ctx, s: Stmt & { k: 'goto' }): void {
    let base = -1;
    for (let i = c.frames.length - 1; i >= 0; i--) {
      if (c.frames[i].k === 'call') {
        base = i;
        break;
      }
    }
    const fnFrame = base >= 0 ? (c.frames[base] as Frame & { k: 'call' }) : null;
    const root = fnFrame !== null ? fnFrame.fn.body.body : this.prog.body;
    const path = labelsOf(root).get(s.label);
    if (path === undefined) throw runtimeError(`goto ${s.label}: no label ${s.label} in this function`, s.loc);
    // A jump back is a turn of a loop: the calls since the last one take their time.
    this.payCalls(c, s.loc);
    c.frames.length = base + 2;
    let frame = c.frames[c.frames.length - 1] as Frame & { k: 'block' };
    for (let d = 0; d < path.length; d++) {
      const step = path[d];
      if (step.via === null) {
        frame.i = step.index;
        break;
      }
      frame.i = step.index + 1;
      const st = frame.stmts[step.index];
      const blockOf = (x: Stmt): Stmt[] => (x.k === 'block' ? x.body : [x]);
      if (step.via === 'block' && st.k === 'block') c.frames.push({ k: 'block', stmts: st.body, i: 0 });
      else if (step.via === 'then' && st.k === 'if') c.frames.push({ k: 'block', stmts: blockOf(st.then), i: 0 });
      else if (step.via === 'else' && st.k === 'if' && st.else) c.frames.push({ k: 'block', stmts: blockOf(st.else), i: 0 });
      else if (step.via === 'loop' && (st.k === 'for' || st.k === 'while' || st.k === 'dowhile')) {
        c.frames.push({ k: 'loop', node: st, phase: 'step' });
        c.frames.push({ k: 'block', stmts: blockOf(st.body), i: 0 });
      } else if (step.via === 'switch' && st.k === 'switch') {
        c.frames.push({ k: 'switch' });
        c.frames.push({ k: 'block', stmts: st.body.body, i: 0 });
      } else throw runtimeError(`goto ${s.label}: cannot reach the label`, s.loc);
      frame = c.frames[c.frames.length - 1] as Frame & { k: 'block' };
    }
  }

  private expect(c: Ctx, s: Stmt & { k: 'expect' }): void {
    const t = s.test;
    if (t.k === 'binary' && ['==', '!=', '<', '<=', '>', '>='].includes(t.op)) {
      const l = this.eval(c, t.left);
      const r = this.eval(c, t.right);
      if (!truthy(this.binary(t.op, l, r, t.loc))) {
        throw new ScriptError('expect', `expect failed: ${s.text} (left: ${describe(l)}, right: ${describe(r)})`, s.loc);
      }
      return;
    }
    const v = this.eval(c, t);
    if (!truthy(v)) throw new ScriptError('expect', `expect failed: ${s.text} (${describe(v)})`, s.loc);
  }

  /** A checked call made as a bare statement failed: the script did not look, so the run stops here. */
  private checkIgnored(c: Ctx, e: Expr & { k: 'call' }, v: Value): void {
    const failed = e.name === 'memalign' ? v === 0n : v === -1n;
    if (!failed) return;
    const en = c.task.errno;
    throw runtimeError(`${e.name}() failed with ${errnoName(en)} (${strerror(en)}), and the script does not check it (assign the result to test it)`, e.loc);
  }

  // ------------------------------------------------------------ calls

  private isStatementCall(e: Expr & { k: 'call' }): boolean {
    return this.prog.funcs.has(e.name) || BUILTINS[e.name]?.statement === true;
  }

  /** A call that is a statement of its own: a function of the script (its frames join the stack) or a yielding builtin. */
  private statementCall(c: Ctx, e: Expr & { k: 'call' }, ret: RetTarget): void {
    const fn = this.prog.funcs.get(e.name);
    if (fn !== undefined) {
      this.enter(c, fn, e, ret);
      return;
    }
    const t = c.task;
    const args = e.args.map((a) => this.eval(c, a));
    switch (e.name) {
      case 'fork': {
        const child = t.fork();
        if (child === null) {
          this.deliver(c, ret, -1n);
          return;
        }
        // The child has the parent's open files, each at its own offset from now on (as dup'ed descriptors share one: rare here).
        child.files = new Map([...t.files].map(([fd, f]) => [fd, { ...f }]));
        const cc = this.cloneCtx(c, child);
        this.ctxs.splice(this.ctxs.indexOf(c), 0, cc);
        this.deliver(cc, ret, 0n);
        this.deliver(c, ret, BigInt(child.pid));
        // fork yields (the child runs first): as before a sleep, the calls before it are not charged.
        c.paidCalls = t.calls;
        c.switchNow = true;
        return;
      }
      case 'sleep':
      case 'usleep': {
        // unsigned int sleep(unsigned int seconds), int usleep(useconds_t usec): the argument is taken as a 32-bit unsigned.
        const n = Number(BigInt.asUintN(32, this.int(args[0], e.args[0].loc)));
        const us = n * (e.name === 'sleep' ? 1e6 : 1);
        this.checkTime(this.sys.machine.clock.now + us, e.loc);
        t.traceSleep(us);
        c.wakeAt = this.sys.machine.clock.now + us;
        c.paidCalls = t.calls;
        c.sleepLoc = e.loc;
        c.state = 'sleeping';
        this.deliver(c, ret, 0n);
        return;
      }
      case 'pause':
        this.rt.trace(t.pid, 'pause( <unfinished ...>');
        c.state = 'paused';
        return;
      case 'wait_full_scans': {
        const n = Number(this.int(args[0], e.args[0].loc));
        c.waitCount = n;
        c.waitTarget = this.sys.fullScans() + n;
        c.waitStart = this.sys.machine.clock.now;
        c.waitLoc = e.loc;
        c.paidCalls = t.calls;
        c.state = 'waiting';
        this.deliver(c, ret, 0n);
        return;
      }
    }
    throw runtimeError(`${e.name}() cannot be called here`, e.loc);
  }

  private enter(c: Ctx, fn: FuncDef, e: Expr & { k: 'call' }, ret: RetTarget): void {
    if (c.callDepth >= MAX_CALL_DEPTH) {
      throw runtimeError(`segmentation fault: stack overflow: ${e.name}() called ${MAX_CALL_DEPTH.toLocaleString('en-US')} calls deep (the process's stack)`, e.loc);
    }
    // An array argument decays to a pointer, as in C: the function gets the caller's array (a char buffer it fills is the caller's).
    const args = e.args.map((a): Value => {
      if (a.k === 'ident') {
        const x = this.lookup(c, a.name);
        if (x?.type?.kind === 'array') return { t: 'ref', target: x, name: a.name };
      }
      return this.eval(c, a);
    });
    const scope: Scope = new Map();
    fn.params.forEach((p, i) => {
      let v = args[i];
      if (typeof v === 'bigint') v = convert(v, p.type);
      scope.set(p.name, { value: cloneValue(v), type: p.type });
    });
    c.frames.push({ k: 'call', fn, scope, ret });
    c.callDepth++;
    c.frames.push({ k: 'block', stmts: fn.body.body, i: 0 });
  }

  private doReturn(c: Ctx, v: Value): void {
    while (c.frames.length > 0) {
      const f = c.frames.pop()!;
      if (f.k === 'call') {
        c.callDepth--;
        let value = v;
        if (typeof value === 'bigint') value = convert(value, f.fn.ret);
        this.deliver(c, f.ret, value);
        return;
      }
    }
    // return outside a function: the process exits with that status.
    this.finish(c, Number(typeof v === 'bigint' ? BigInt.asUintN(8, v) : 0n));
  }

  private deliver(c: Ctx, ret: RetTarget, v: Value): void {
    switch (ret.kind) {
      case 'discard':
        if (ret.checked) this.checkIgnored(c, ret.call, v);
        return;
      case 'assign':
        this.assign(c, ret.target, ret.op, v, ret.target.loc);
        return;
      case 'exit':
        this.finish(c, Number(typeof v === 'bigint' ? BigInt.asUintN(8, v) : 0n));
        return;
      case 'nested':
        c.nestedResult = v;
        return;
    }
  }

  /** A script function called inside an expression: its frames run to completion right here. */
  private callNested(c: Ctx, fn: FuncDef, e: Expr & { k: 'call' }): Value {
    if (c.nestDepth >= MAX_NESTED_CALLS) {
      throw runtimeError(`segmentation fault: stack overflow: ${e.name}() called ${MAX_NESTED_CALLS} calls deep inside expressions (call it as a statement to go deeper: r = ${e.name}(...);)`, e.loc);
    }
    const floor = c.frames.length;
    this.enter(c, fn, e, { kind: 'nested' });
    c.nestDepth++;
    try {
      this.runFrames(c, floor);
    } finally {
      c.nestDepth--;
    }
    if (c.state !== 'ready' || c.frames.length > floor) {
      if (c.state === 'done') throw new ProcessExit(0);
      throw runtimeError(`${e.name}() paused, slept or forked while called inside an expression; call it as a statement`, e.loc);
    }
    return c.nestedResult;
  }

  private cloneCtx(c: Ctx, task: Task): Ctx {
    const map = new Map<Scope, Scope>();
    // One copy of each variable, so a static local stays one variable in the child too.
    const vars = new Map<Var, Var>();
    const cv = (x: Var): Var => {
      let r = vars.get(x);
      if (r === undefined) vars.set(x, (r = { value: cloneValue(x.value), type: x.type }));
      return r;
    };
    const cl = (s: Scope): Scope => {
      let r = map.get(s);
      if (r === undefined) {
        r = new Map();
        for (const [k, x] of s) r.set(k, cv(x));
        map.set(s, r);
      }
      return r;
    };
    const n = new Ctx(task, cl(c.globals));
    n.frames = c.frames.map((f): Frame => (f.k === 'call' ? { ...f, scope: cl(f.scope) } : { ...f }));
    n.allocations = new Map(c.allocations);
    n.statics = new Map([...c.statics].map(([d, x]) => [d, cv(x)]));
    n.callDepth = c.callDepth;
    n.optpos = c.optpos;
    n.nestDepth = c.nestDepth;
    n.task.errno = c.task.errno;
    return n;
  }

  // ------------------------------------------------------------ variables

  /** The scope new names go to: the current function's, or the globals. */
  private scope(c: Ctx): Scope {
    for (let i = c.frames.length - 1; i >= 0; i--) {
      const f = c.frames[i];
      if (f.k === 'call') return f.scope;
    }
    return c.globals;
  }

  private lookup(c: Ctx, name: string): Var | undefined {
    return this.scope(c).get(name) ?? c.globals.get(name);
  }

  private structLayout(name: string, loc: Loc): StructLayout {
    const l = this.header.structs.get(name);
    if (l === undefined) throw runtimeError(`unknown struct ${name}`, loc);
    return l;
  }

  private assign(c: Ctx, target: Expr, op: string, value: Value, loc: Loc): void {
    let v = value;
    if (op !== '=') {
      if (target.k === 'call') throw runtimeError(`${op} cannot be used on ${target.name}()`, loc);
      v = this.binary(op.slice(0, -1), this.eval(c, target), value, loc);
    }
    switch (target.k) {
      case 'ident': {
        let x = this.lookup(c, target.name);
        if (target.name === 'errno') {
          // errno is the process's (libc's thread-local int): `errno = 0` before a call, as programs do.
          c.task.errno = Number(BigInt.asIntN(32, this.int(v, loc)));
          return;
        }
        if (x === undefined) this.scope(c).set(target.name, (x = { value: 0n, type: null }));
        if (x.value !== null && typeof x.value === 'object' && !(x.value instanceof Uint8Array) && x.value.t === 'struct') {
          this.assignStruct(x.value.layout, x.value.v, v, loc);
          return;
        }
        if (typeof v === 'bigint' && x.type !== null) v = convert(v, x.type);
        x.value = cloneValue(v);
        return;
      }
      case 'member': {
        const s = this.structOf(c, target.object, loc);
        const f = s.layout.fields.find((fl) => fl.name === target.field);
        if (f === undefined) throw runtimeError(`struct ${s.layout.name.replace(/^struct /, '')} has no field '${target.field}' (fields: ${s.layout.fields.map((x) => x.name).join(', ')})`, target.fieldLoc);
        s.v[f.name] = BigInt.asUintN(f.size * 8, this.int(v, loc));
        return;
      }
      case 'deref': {
        const t = target.type;
        const bytes = t.kind === 'int' ? t.bits / 8 : t.kind === 'ptr' ? 8 : 0;
        if (bytes === 0) throw runtimeError(`cannot store a ${typeName(t)}`, target.loc);
        const addr = this.addr(c, target.arg);
        const data = new Uint8Array(bytes);
        let x = BigInt.asUintN(bytes * 8, this.int(v, loc));
        for (let i = 0; i < bytes; i++, x >>= 8n) data[i] = Number(x & 0xffn);
        this.store(c, addr, data, target.loc);
        return;
      }
      case 'call':
        this.writePages(c, target, v);
        return;
      case 'index':
        this.assignIndex(c, target, v, loc);
        return;
      case 'star': {
        const p = this.eval(c, target.arg);
        if (typeof p === 'object' && !(p instanceof Uint8Array) && p.t === 'ref') {
          const x = p.target;
          x.value = typeof v === 'bigint' && x.type !== null ? convert(v, x.type) : cloneValue(v);
          return;
        }
        const ty = target.arg.k === 'ident' ? this.lookup(c, target.arg.name)?.type : null;
        if (typeof p === 'bigint' && ty?.kind === 'ptr') {
          this.storeTyped(c, p, ty.to, this.int(v, loc), target.loc);
          return;
        }
        throw runtimeError(`*: ${describe(p)} is not a pointer to a variable or a typed pointer`, target.loc);
      }
      default:
        throw runtimeError('cannot assign to this expression', loc);
    }
  }

  private assignStruct(layout: StructLayout, dst: Record<string, bigint>, v: Value, loc: Loc): void {
    if (typeof v === 'object' && !(v instanceof Uint8Array) && v.t === 'struct') {
      if (v.layout !== layout) throw runtimeError(`cannot assign a ${v.layout.name} to a ${layout.name}`, loc);
      Object.assign(dst, v.v);
      return;
    }
    if (typeof v === 'object' && !(v instanceof Uint8Array) && v.t === 'obj') {
      for (const f of layout.fields) dst[f.name] = 0n;
      Object.assign(dst, this.structFields(layout, v));
      return;
    }
    throw runtimeError(`a ${layout.name} can only be assigned a struct or {field: value, ...}`, loc);
  }

  /** The fields of a `{...}` literal for a layout, each truncated to its width. */
  private structFields(layout: StructLayout, o: ObjVal): Record<string, bigint> {
    const out: Record<string, bigint> = {};
    for (const f of o.fields) {
      const fl = layout.fields.find((x) => x.name === f.key);
      if (fl === undefined) throw runtimeError(`${layout.name} (${layout.revision}) has no field '${f.key}' (fields: ${layout.fields.map((x) => x.name).join(', ')})`, f.keyLoc);
      out[fl.name] = BigInt.asUintN(fl.size * 8, this.int(f.value, f.keyLoc));
    }
    return out;
  }

  private structOf(c: Ctx, e: Expr, loc: Loc): { layout: StructLayout; v: Record<string, bigint> } {
    if (e.k !== 'ident') throw runtimeError('a field of what?', loc);
    const x = this.lookup(c, e.name);
    const v = x?.value;
    if (v === undefined || typeof v !== 'object' || v instanceof Uint8Array || v.t !== 'struct') throw runtimeError(`${e.name} is not a struct variable`, e.loc);
    return v;
  }

  // ------------------------------------------------------------ memory

  private addr(c: Ctx, e: Expr): number {
    const v = this.int(this.eval(c, e), e.loc);
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw runtimeError(`segmentation fault: no memory at ${v < 0n ? v : `0x${v.toString(16)}`}`, e.loc);
    return Number(v);
  }

  private store(c: Ctx, addr: number, data: Uint8Array, loc: Loc): void {
    if (c.task.proc.exited) return;
    const r = this.sys.memory.writeBytes(c.task.proc.mm, addr, data);
    if (r < 0) throw runtimeError(`segmentation fault: the process cannot write ${data.length} byte${data.length === 1 ? '' : 's'} at 0x${addr.toString(16)}`, loc);
  }

  /**
   * memset(addr, byte, n), a page at a time as the C loop stores: the bytes
   * up to the first address the process cannot write are written, and the
   * store there is the segmentation fault.
   */
  private memset(c: Ctx, addr: number, byte: number, n: number, loc: Loc): void {
    if (c.task.proc.exited || n <= 0) return;
    const mem = this.sys.memory;
    const mm = c.task.proc.mm;
    const chunk = new Uint8Array(PAGE_SIZE).fill(byte);
    for (let a = addr, end = addr + n; a < end;) {
      const len = Math.min(PAGE_SIZE - (a % PAGE_SIZE), end - a);
      if (mem.writeBytes(mm, a, chunk.subarray(0, len)) < 0) {
        throw runtimeError(`segmentation fault: memset of ${n} byte${n === 1 ? '' : 's'} at 0x${addr.toString(16)} cannot write at 0x${a.toString(16)}`, loc);
      }
      a += len;
      if (this.opts.maxContentBytes !== undefined) this.checkMemory();
      if ((++this.ticks & 4095) === 0) this.checkWallTime();
    }
  }

  private load(c: Ctx, addr: number, n: number, loc: Loc): Uint8Array {
    const r = this.sys.memory.readBytes(c.task.proc.mm, addr, n);
    if (typeof r === 'number') throw runtimeError(`segmentation fault: the process cannot read ${n} bytes at 0x${addr.toString(16)}`, loc);
    return r;
  }

  private writePages(c: Ctx, target: Expr & { k: 'call' }, v: Value): void {
    const addr = this.addr(c, target.args[0]);
    const count = target.name === 'pages' ? Number(this.int(this.eval(c, target.args[1]), target.args[1].loc)) : 1;
    if (addr % PAGE_SIZE !== 0) throw runtimeError(`${target.name}(0x${addr.toString(16)}): not the start of a page (a multiple of ${PAGE_SIZE})`, target.args[0].loc);
    const content = target.name === 'pages' ? this.runContent(v, target.loc) : this.singlePage(v, target.loc);
    const mem = this.sys.memory;
    const mm = c.task.proc.mm;
    for (let i = 0; i < count; i++) {
      const a = addr + i * PAGE_SIZE;
      if (mem.writePage(mm, a, internPage(mem, pageInRun(content, i))) < 0) {
        throw runtimeError(`segmentation fault: the process cannot write the page at 0x${a.toString(16)}`, target.loc);
      }
      if (this.opts.maxContentBytes !== undefined) this.checkMemory();
      if ((++this.ticks & 4095) === 0) this.checkWallTime();
    }
  }

  /** A page content of the workload schema: "zero", {fill: b}, {seed: s}, {tail: n}. */
  private singlePage(v: Value, loc: Loc): SinglePage {
    if (v === 'zero') return { kind: 'zero' };
    if (typeof v !== 'object' || v instanceof Uint8Array || v.t !== 'obj' || v.fields.length !== 1) {
      throw runtimeError(`a page content is "zero", {fill: 0..255}, {seed: 0..2^32-1} or {tail: 0..2^64-1}, not ${describe(v)}`, loc);
    }
    const f = v.fields[0];
    const n = this.int(f.value, f.keyLoc);
    const range = (max: bigint) => {
      if (n < 0n || n > max) throw runtimeError(`${f.key} ${n} is out of range (0..${max})`, f.keyLoc);
    };
    switch (f.key) {
      case 'fill':
        range(255n);
        return { kind: 'fill', value: Number(n) };
      case 'seed':
        range(0xffffffffn);
        return { kind: 'seed', seed: Number(n) };
      case 'tail':
        range((1n << 64n) - 1n);
        return { kind: 'tail', n };
    }
    throw runtimeError(`unknown page content '${f.key}' (zero, fill, seed, tail${''})`, f.keyLoc);
  }

  /** Contents for a run of pages: a single form, or {seedFrom: s}, {tailFrom: n}, {cycle: [...]}. */
  private runContent(v: Value, loc: Loc): RunContent {
    if (typeof v === 'object' && !(v instanceof Uint8Array) && v.t === 'obj' && v.fields.length === 1) {
      const f = v.fields[0];
      switch (f.key) {
        case 'seedFrom': {
          const n = this.int(f.value, f.keyLoc);
          if (n < 0n || n > 0xffffffffn) throw runtimeError(`seedFrom ${n} is out of range (0..4294967295)`, f.keyLoc);
          return { kind: 'seedFrom', seed: Number(n) };
        }
        case 'tailFrom': {
          const n = this.int(f.value, f.keyLoc);
          if (n < 0n || n >= 1n << 64n) throw runtimeError(`tailFrom ${n} is out of range`, f.keyLoc);
          return { kind: 'tailFrom', n };
        }
        case 'cycle': {
          const a = f.value;
          if (typeof a !== 'object' || a instanceof Uint8Array || a.t !== 'arr' || a.items.length === 0) throw runtimeError('cycle takes a non-empty [list] of page contents', f.keyLoc);
          return { kind: 'cycle', items: a.items.map((x) => this.singlePage(x, a.loc)) };
        }
      }
    }
    return this.singlePage(v, loc);
  }

  /** Pages of [addr, addr + n pages) in the process that map a KSM page. */
  private ksmPages(c: Ctx, addr: number, n: number): number {
    const mem = this.sys.memory;
    const mm = c.task.proc.mm;
    let count = 0;
    // Only the pages inside a mapping can count: walk the mappings, not all n
    // addresses (n may be anything a script computes, 2^40 say).
    for (const vma of mm.vmas) {
      const from = Math.max(0, Math.ceil((vma.start - addr) / PAGE_SIZE));
      const to = Math.min(n, Math.ceil((vma.end - addr) / PAGE_SIZE));
      for (let i = from; i < to; i++) {
        const f = vma.frames[vma.index(addr + i * PAGE_SIZE)];
        if (f !== 0 && mem.frames.isKsm(f)) count++;
        if ((++this.ticks & 4095) === 0) this.checkWallTime();
      }
    }
    return count;
  }

  // ------------------------------------------------------------ expressions

  private int(v: Value, loc: Loc): bigint {
    if (typeof v === 'bigint') return v;
    throw runtimeError(`expected a number, got ${describe(v)}`, loc);
  }

  private eval(c: Ctx, e: Expr): Value {
    switch (e.k) {
      case 'num':
        return e.value;
      case 'str':
        return e.value;
      case 'bytes':
        return e.value;
      case 'ident': {
        if (e.name === 'errno') return BigInt(c.task.errno);
        const x = this.lookup(c, e.name);
        if (x !== undefined) {
          // A parameter that got an array is that array (its pointer, read through).
          const v = x.value;
          if (typeof v === 'object' && !(v instanceof Uint8Array) && v.t === 'ref' && v.target.type?.kind === 'array') return v.target.value;
          return v;
        }
        const k = this.header.constants.get(e.name) ?? COMMON.get(e.name);
        if (k !== undefined) return k;
        throw runtimeError(`unknown name ${e.name}`, e.loc);
      }
      case 'unary': {
        const v = this.eval(c, e.arg);
        if (e.op === '!') return truthy(v) ? 0n : 1n;
        const n = this.int(v, e.arg.loc);
        return e.op === '-' ? -n : e.op === '~' ? ~n : n;
      }
      case 'addr': {
        if (e.arg.k !== 'ident') throw runtimeError('& takes a variable (&info, &value)', e.loc);
        const x = this.lookup(c, e.arg.name);
        if (x === undefined) throw runtimeError(`&${e.arg.name}: no variable ${e.arg.name} here`, e.loc);
        // A struct for ioctl, or any variable a call writes through (strtol's end, fscanf's %d, *p = v).
        return { t: 'ref', target: x, name: e.arg.name };
      }
      case 'index':
        return this.index(c, e);
      case 'star': {
        const v = this.eval(c, e.arg);
        if (typeof v === 'string') return v.length > 0 ? charAt(v, 0) : 0n;
        if (typeof v === 'object' && !(v instanceof Uint8Array) && v.t === 'ref') return v.target.value;
        const ty = e.arg.k === 'ident' ? this.lookup(c, e.arg.name)?.type : null;
        if (typeof v === 'bigint' && ty?.kind === 'ptr') return this.loadTyped(c, v, ty.to, e.loc);
        throw runtimeError(`*: ${describe(v)} is not a pointer to a variable, a string or a typed pointer (write *(unsigned long *)p for memory)`, e.loc);
      }
      case 'sizeofExpr':
        return this.sizeofExpr(c, e.arg, e.loc);
      case 'assignExpr': {
        const v = this.eval(c, e.value);
        this.assign(c, e.target, e.op, v, e.loc);
        return e.target.k === 'call' ? v : this.eval(c, e.target);
      }
      case 'deref': {
        const t = e.type;
        const n = t.kind === 'int' ? t.bits / 8 : t.kind === 'ptr' ? 8 : 0;
        if (n === 0) throw runtimeError(`cannot load a ${typeName(t)}`, e.loc);
        const bytes = this.load(c, this.addr(c, e.arg), n, e.loc);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
        return convert(v, t);
      }
      case 'cast': {
        const v = this.eval(c, e.arg);
        if (e.type.kind === 'void') return 0n;
        if (e.type.kind === 'struct') throw runtimeError(`cannot cast to ${typeName(e.type)}`, e.loc);
        return convert(this.int(v, e.arg.loc), e.type);
      }
      case 'sizeof':
        return BigInt(this.sizeOf(c, e.type, e.loc));
      case 'binary': {
        if (e.op === '&&') return truthy(this.eval(c, e.left)) && truthy(this.eval(c, e.right)) ? 1n : 0n;
        if (e.op === '||') return truthy(this.eval(c, e.left)) || truthy(this.eval(c, e.right)) ? 1n : 0n;
        const l = this.eval(c, e.left);
        const r = this.eval(c, e.right);
        const v = this.binary(e.op, l, r, e.loc);
        // Operands and result in [0, 2^32) come out the same in any type C could convert them to: the
        // operands' types are looked at (unsignedOperands) only when a value is negative or that large.
        if (typeof v === 'bigint' && typeof l === 'bigint' && typeof r === 'bigint' && l >= 0n && r >= 0n && v >= 0n && v < 0x100000000n) return v;
        const u = this.unsignedOperands(c, e);
        return u === null ? v : this.binary(e.op, l, r, e.loc, u);
      }
      case 'cond':
        return truthy(this.eval(c, e.test)) ? this.eval(c, e.then) : this.eval(c, e.else);
      case 'comma': {
        let v: Value = 0n;
        for (const x of e.items) v = this.eval(c, x);
        return v;
      }
      case 'member': {
        const s = this.structOf(c, e.object, e.loc);
        if (!(e.field in s.v)) throw runtimeError(`${s.layout.name} has no field '${e.field}' (fields: ${s.layout.fields.map((f) => f.name).join(', ')})`, e.fieldLoc);
        return s.v[e.field];
      }
      case 'object':
        return { t: 'obj', loc: e.loc, fields: e.fields.map((f) => ({ key: f.key, keyLoc: f.keyLoc, value: this.eval(c, f.value) })) };
      case 'array':
        return { t: 'arr', loc: e.loc, items: e.items.map((x) => this.eval(c, x)) };
      case 'cat': {
        const text = c.task.readFile(e.path);
        if (text === null) return -1n;
        return /^\s*-?\d+\s*$/.test(text) ? BigInt(text.trim()) : text;
      }
      case 'update': {
        const old = this.int(this.eval(c, e.target), e.loc);
        const nv = e.op === '++' ? old + 1n : old - 1n;
        this.assign(c, e.target, '=', nv, e.loc);
        return e.prefix ? nv : old;
      }
      case 'call':
        return this.call(c, e);
    }
  }

  /** The size of a C type, in bytes. */
  private sizeOf(c: Ctx, t: CType, loc: Loc): number {
    switch (t.kind) {
      case 'int':
        return t.bits / 8;
      case 'ptr':
        return 8;
      case 'struct':
        return this.structLayout(t.name, loc).size;
      case 'array':
        return (t.n === null ? 0 : this.num(c, t.n)) * this.sizeOf(c, t.of, loc);
      case 'void':
        return 1;
    }
  }

  /** `sizeof x`: of a variable's declared type (an array's whole size), of a string literal, of an element. */
  private sizeofExpr(c: Ctx, arg: Expr, loc: Loc): bigint {
    if (arg.k === 'ident') {
      const x = this.lookup(c, arg.name);
      if (x?.type) return BigInt(this.sizeOf(c, x.type, loc));
      if (x !== undefined && typeof x.value === 'bigint') return 8n;
      if (x?.value !== undefined && typeof x.value === 'object' && !(x.value instanceof Uint8Array) && x.value.t === 'struct') return BigInt(x.value.layout.size);
    }
    if (arg.k === 'str') return BigInt(Buffer.byteLength(arg.value, 'latin1') + 1);
    if (arg.k === 'index' && arg.object.k === 'ident') {
      const t = this.lookup(c, arg.object.name)?.type;
      if (t?.kind === 'array') return BigInt(this.sizeOf(c, t.of, loc));
      if (t?.kind === 'ptr') return BigInt(this.sizeOf(c, t.to, loc));
    }
    if (arg.k === 'star' && arg.arg.k === 'ident') {
      const t = this.lookup(c, arg.arg.name)?.type;
      if (t?.kind === 'ptr') return BigInt(this.sizeOf(c, t.to, loc));
    }
    throw runtimeError('sizeof of this expression is not known here: write sizeof(TYPE), or sizeof of a declared variable', loc);
  }

  /** a[i]: an array variable's element, a string's character (0 at its end), or the T at p + i for a variable declared T *p. */
  private index(c: Ctx, e: Expr & { k: 'index' }): Value {
    const obj = this.eval(c, e.object);
    const i = this.int(this.eval(c, e.index), e.index.loc);
    if (typeof obj === 'string') {
      const cap = this.capacity(c, e.object);
      if (i < 0n || i > BigInt(Math.max(obj.length, cap - 1))) throw runtimeError(`index ${i} is outside the string (${obj.length} characters${cap > 0 ? `, ${cap} bytes` : ''})`, e.index.loc);
      return i < BigInt(obj.length) ? charAt(obj, Number(i)) : 0n;
    }
    if (typeof obj === 'object' && !(obj instanceof Uint8Array) && obj.t === 'arr') {
      if (i < 0n || i >= BigInt(obj.items.length)) throw runtimeError(`index ${i} is outside the array (${obj.items.length} elements)`, e.index.loc);
      return obj.items[Number(i)];
    }
    const ty = e.object.k === 'ident' ? this.lookup(c, e.object.name)?.type : null;
    if (typeof obj === 'bigint' && ty?.kind === 'ptr') return this.loadTyped(c, obj + i * BigInt(this.sizeOf(c, ty.to, e.loc)), ty.to, e.loc);
    throw runtimeError(`cannot index ${describe(obj)}: not an array, a string or a pointer declared with its type`, e.loc);
  }

  /** The bytes a char array variable holds (0 for anything else). */
  private capacity(c: Ctx, e: Expr): number {
    if (e.k !== 'ident') return 0;
    const x = this.lookup(c, e.name);
    const held = x?.value;
    const t = held !== undefined && typeof held === 'object' && !(held instanceof Uint8Array) && held.t === 'ref' ? held.target.type : x?.type;
    return t?.kind === 'array' && t.n !== null ? this.num(c, t.n) : 0;
  }

  private loadTyped(c: Ctx, addr: bigint, t: CType, loc: Loc): bigint {
    const n = t.kind === 'int' ? t.bits / 8 : t.kind === 'ptr' ? 8 : 0;
    if (n === 0) throw runtimeError(`cannot load a ${typeName(t)}`, loc);
    if (addr < 0n || addr > BigInt(Number.MAX_SAFE_INTEGER)) throw runtimeError(`segmentation fault: no memory at 0x${BigInt.asUintN(64, addr).toString(16)}`, loc);
    const bytes = this.load(c, Number(addr), n, loc);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
    return convert(v, t);
  }

  private storeTyped(c: Ctx, addr: bigint, t: CType, v: bigint, loc: Loc): void {
    const n = t.kind === 'int' ? t.bits / 8 : t.kind === 'ptr' ? 8 : 0;
    if (n === 0) throw runtimeError(`cannot store a ${typeName(t)}`, loc);
    if (addr < 0n || addr > BigInt(Number.MAX_SAFE_INTEGER)) throw runtimeError(`segmentation fault: no memory at 0x${BigInt.asUintN(64, addr).toString(16)}`, loc);
    const data = new Uint8Array(n);
    let x = BigInt.asUintN(n * 8, v);
    for (let i = 0; i < n; i++, x >>= 8n) data[i] = Number(x & 0xffn);
    this.store(c, Number(addr), data, loc);
  }

  /** a[i] = v: into an array variable, a char buffer (v 0 ends the string there), or memory at a typed pointer. */
  private assignIndex(c: Ctx, target: Expr & { k: 'index' }, v: Value, loc: Loc): void {
    const i = this.int(this.eval(c, target.index), target.index.loc);
    if (target.object.k === 'ident') {
      let x = this.lookup(c, target.object.name);
      const held = x?.value;
      if (held !== undefined && typeof held === 'object' && !(held instanceof Uint8Array) && held.t === 'ref' && held.target.type?.kind === 'array') x = held.target;
      const val = x?.value;
      if (x !== undefined && typeof val === 'string') {
        const cap = this.capacity(c, target.object);
        const ch = Number(BigInt.asUintN(8, this.int(v, loc)));
        if (i < 0n || (cap > 0 ? i >= BigInt(cap) : i > BigInt(val.length))) throw runtimeError(`index ${i} is outside ${target.object.name} (${cap > 0 ? `${cap} bytes` : `${val.length} characters`})`, target.index.loc);
        const k = Number(i);
        if (ch === 0) x.value = val.slice(0, k);
        else if (k < val.length) x.value = val.slice(0, k) + String.fromCharCode(ch) + val.slice(k + 1);
        else x.value = val + '\0'.repeat(k - val.length) + String.fromCharCode(ch);
        return;
      }
      if (x !== undefined && typeof val === 'object' && !(val instanceof Uint8Array) && val.t === 'arr') {
        if (i < 0n || i >= BigInt(val.items.length)) throw runtimeError(`index ${i} is outside ${target.object.name} (${val.items.length} elements)`, target.index.loc);
        const elem = x.type?.kind === 'array' ? x.type.of : null;
        val.items[Number(i)] = typeof v === 'bigint' && elem !== null ? convert(v, elem) : cloneValue(v);
        return;
      }
      if (x !== undefined && typeof val === 'bigint' && x.type?.kind === 'ptr') {
        this.storeTyped(c, val + i * BigInt(this.sizeOf(c, x.type.to, loc)), x.type.to, this.int(v, loc), target.loc);
        return;
      }
    }
    throw runtimeError('cannot assign to this element: not an array, a char buffer or a pointer declared with its type', target.loc);
  }

  /**
   * The operands' type, where C's usual arithmetic conversions make it
   * unsigned (both operands' types known: declared variables, casts,
   * literals, sizeof, and expressions of those): `-1 < (unsigned long)256`
   * is 0 and `-1L % 256UL` is 255, as in C. Elsewhere (a value of unknown
   * type: a call's result, a variable made by assignment) integers stay
   * exact, as scripts have them.
   */
  private unsignedOperands(c: Ctx, e: Expr & { k: 'binary' }): IntType | null {
    if (e.op === '==' || e.op === '!=' || e.op === '<<' || e.op === '>>') return null;
    const l = this.staticType(c, e.left);
    const r = l === null ? null : this.staticType(c, e.right);
    if (l === null || r === null) return null;
    const t = commonType(l, r);
    return t.signed ? null : t;
  }

  /** An expression's integer type where it is known without running it (unsignedOperands), else null. */
  private staticType(c: Ctx, e: Expr): IntType | null {
    switch (e.k) {
      case 'num':
        // A decimal constant is int, else long; one that fits no long is unsigned long (C99 6.4.4.1).
        return e.value <= 0x7fffffffn ? { bits: 32, signed: true } : e.value <= 0x7fffffffffffffffn ? { bits: 64, signed: true } : { bits: 64, signed: false };
      case 'ident': {
        const t = this.lookup(c, e.name)?.type;
        return t?.kind === 'int' ? { bits: t.bits, signed: t.signed } : null;
      }
      case 'cast':
        return e.type.kind === 'int' ? { bits: e.type.bits, signed: e.type.signed } : null;
      case 'sizeof':
        return { bits: 64, signed: false };
      case 'unary': {
        if (e.op === '!') return { bits: 32, signed: true };
        const t = this.staticType(c, e.arg);
        return t === null ? null : promote(t);
      }
      case 'binary': {
        if (['==', '!=', '<', '<=', '>', '>=', '&&', '||'].includes(e.op)) return { bits: 32, signed: true };
        const l = this.staticType(c, e.left);
        if (e.op === '<<' || e.op === '>>') return l === null ? null : promote(l);
        const r = l === null ? null : this.staticType(c, e.right);
        return l === null || r === null ? null : commonType(l, r);
      }
      default:
        return null;
    }
  }

  private binary(op: string, l: Value, r: Value, loc: Loc, unsigned: IntType | null = null): Value {
    if (op === '==' || op === '!=') {
      // Compared as the 64-bit words they are in C: a pointer holding MAP_FAILED (stored as 2^64 - 1) equals MAP_FAILED ((void *)-1).
      const eq = typeof l === 'bigint' && typeof r === 'bigint' ? BigInt.asUintN(64, l) === BigInt.asUintN(64, r) : typeof l === 'string' && typeof r === 'string' ? l === r : false;
      // A string is a pointer that is not NULL: s != NULL, strchr(...) == NULL.
      if ((typeof l === 'string' && r === 0n) || (l === 0n && typeof r === 'string')) return op === '==' ? 0n : 1n;
      if (typeof l !== typeof r) throw runtimeError(`cannot compare ${describe(l)} with ${describe(r)}`, loc);
      return (op === '==') === eq ? 1n : 0n;
    }
    let a = this.int(l, loc);
    let b = this.int(r, loc);
    if (unsigned !== null) {
      // Both converted to the common unsigned type, and so is the result: C's modulo arithmetic.
      a = BigInt.asUintN(unsigned.bits, a);
      b = BigInt.asUintN(unsigned.bits, b);
      const v = this.binary(op, a, b, loc);
      return typeof v === 'bigint' && !['<', '<=', '>', '>='].includes(op) ? BigInt.asUintN(unsigned.bits, v) : v;
    }
    switch (op) {
      case '+':
        return a + b;
      case '-':
        return a - b;
      case '*':
        return a * b;
      case '/':
      case '%':
        if (b === 0n) throw runtimeError('division by zero', loc);
        return op === '/' ? a / b : a % b;
      case '<<':
        return a << b;
      case '>>':
        return a >> b;
      case '&':
        return a & b;
      case '|':
        return a | b;
      case '^':
        return a ^ b;
      case '<':
        return a < b ? 1n : 0n;
      case '<=':
        return a <= b ? 1n : 0n;
      case '>':
        return a > b ? 1n : 0n;
      case '>=':
        return a >= b ? 1n : 0n;
    }
    throw runtimeError(`unknown operator ${op}`, loc);
  }

  /**
   * getopt(argc, argv, optstring) as POSIX (glibc with POSIXLY_CORRECT, so
   * no reordering of argv): options in clusters (-ab), arguments joined or
   * separate (-p5, -p 5), `--` ends them; an unknown option or a missing
   * argument is '?' with a message on stderr while opterr is set (':' at
   * the start of optstring: ':' for a missing argument, and no message).
   */
  private getopt(c: Ctx, a: Expr[], loc: Loc): bigint {
    const argc = this.num(c, a[0]);
    const argvV = this.eval(c, a[1]);
    const spec = this.str(c, a[2]);
    if (typeof argvV !== 'object' || argvV instanceof Uint8Array || argvV.t !== 'arr') throw runtimeError('getopt: argv must be the program\'s argv', a[1].loc);
    const argv = argvV.items;
    const g = (name: string, init: bigint): Var => {
      let x = c.globals.get(name);
      if (x === undefined) c.globals.set(name, (x = { value: init, type: { kind: 'int', name: 'int', bits: 32, signed: true } }));
      return x;
    };
    const optind = g('optind', 1n);
    const opterr = g('opterr', 1n);
    const optopt = g('optopt', 0n);
    const optarg = g('optarg', 0n);
    let ind = Number(optind.value as bigint);
    const word = ind < argc ? argv[ind] : undefined;
    if (typeof word !== 'string' || word[0] !== '-' || word === '-') return -1n;
    if (word === '--') {
      optind.value = BigInt(ind + 1);
      return -1n;
    }
    c.optpos ||= 1;
    const ch = word[c.optpos];
    const at = spec.indexOf(ch);
    const quiet = spec.startsWith(':');
    const advance = () => {
      c.optpos++;
      if (c.optpos >= word.length) {
        c.optpos = 0;
        ind++;
      }
    };
    if (ch === ':' || at < 0) {
      optopt.value = BigInt(ch.charCodeAt(0));
      if (!quiet && opterr.value !== 0n) c.task.write(2, `${this.opts.name}: invalid option -- '${ch}'\n`);
      advance();
      optind.value = BigInt(ind);
      return BigInt('?'.charCodeAt(0));
    }
    if (spec[at + 1] === ':') {
      if (c.optpos + 1 < word.length) {
        optarg.value = word.slice(c.optpos + 1);
        ind++;
      } else if (ind + 1 < argc && typeof argv[ind + 1] === 'string') {
        optarg.value = argv[ind + 1];
        ind += 2;
      } else {
        optopt.value = BigInt(ch.charCodeAt(0));
        c.optpos = 0;
        optind.value = BigInt(ind + 1);
        if (!quiet && opterr.value !== 0n) c.task.write(2, `${this.opts.name}: option requires an argument -- '${ch}'\n`);
        return BigInt((quiet ? ':' : '?').charCodeAt(0));
      }
      c.optpos = 0;
      optind.value = BigInt(ind);
      return BigInt(ch.charCodeAt(0));
    }
    advance();
    optind.value = BigInt(ind);
    void loc;
    return BigInt(ch.charCodeAt(0));
  }

  /** printf's text of a format and its arguments. */
  private format(c: Ctx, fmtExpr: Expr, args: Expr[], loc: Loc): string {
    const fmt = this.str(c, fmtExpr);
    const values = args.map((x) => this.eval(c, x));
    try {
      return cFormat(fmt, values);
    } catch (err) {
      if (err instanceof FormatError) throw runtimeError(err.message, loc);
      throw err;
    }
  }

  /** The descriptor of a FILE (stdin, stdout, stderr, or fopen's). */
  private fileFd(c: Ctx, e: Expr): number {
    const v = this.eval(c, e);
    if (typeof v === 'bigint' && v >= FILE_BASE && v < FILE_BASE + 65536n) return Number(v - FILE_BASE);
    throw runtimeError(`${describe(v)} is not a FILE (stdin, stdout, stderr, or what fopen returned)`, e.loc);
  }

  /**
   * Where a call writes its result through a pointer argument: a variable
   * (a char buffer gets the text, its size checked), or `&var`.
   */
  private setOut(c: Ctx, e: Expr, v: Value, loc: Loc): void {
    let target: Var | undefined;
    let name = '';
    if (e.k === 'ident') {
      target = this.lookup(c, e.name);
      name = e.name;
      // A pointer parameter (&var, or an array passed in): the call writes to what it points to.
      const v = target?.value;
      if (v !== undefined && typeof v === 'object' && !(v instanceof Uint8Array) && v.t === 'ref') {
        target = v.target;
        name = v.name;
      }
    } else {
      const r = this.eval(c, e);
      if (typeof r === 'object' && !(r instanceof Uint8Array) && r.t === 'ref') {
        target = r.target;
        name = r.name;
      }
    }
    if (target === undefined) throw runtimeError('this argument must be a variable (a char buffer) or &variable, for the call to write to', e.loc);
    const t = target.type;
    if (typeof v === 'string' && t?.kind === 'array' && t.n !== null) {
      const cap = this.num(c, t.n);
      if (v.length + 1 > cap) throw runtimeError(`buffer overflow: ${v.length + 1} bytes into ${name}[${cap}]`, loc);
    }
    target.value = typeof v === 'bigint' && t !== null && t.kind !== 'array' ? convert(v, t) : v;
  }

  private num(c: Ctx, e: Expr): number {
    const v = this.int(this.eval(c, e), e.loc);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw runtimeError(`${v} is too large for this argument`, e.loc);
    return Number(v);
  }

  private str(c: Ctx, e: Expr): string {
    const v = this.eval(c, e);
    if (v === 0n) throw runtimeError('segmentation fault: a NULL pointer where a string is wanted', e.loc);
    if (typeof v !== 'string') throw runtimeError(`expected a string, got ${describe(v)}`, e.loc);
    return v;
  }

  /** A builtin or script function called inside an expression. */
  private call(c: Ctx, e: Expr & { k: 'call' }): Value {
    const fn = this.prog.funcs.get(e.name);
    if (fn !== undefined) return this.callNested(c, fn, e);
    const t = c.task;
    const a = e.args;
    switch (e.name) {
      case 'open': {
        const path = this.str(c, a[0]);
        const flags = this.num(c, a[1]);
        const mode = a[2] ? this.num(c, a[2]) : undefined;
        return BigInt(isKernelFile(path) ? t.openFile(path, flags, mode) : t.open(path, flags, mode));
      }
      case 'close':
        return BigInt(t.closeFd(this.num(c, a[0])));
      case 'read': {
        const text = t.read(this.num(c, a[0]), this.num(c, a[2]));
        if (text === null) return -1n;
        this.setOut(c, a[1], text, e.loc);
        return BigInt(text.length);
      }
      case 'write': {
        const v = this.eval(c, a[1]);
        const n = this.num(c, a[2]);
        if (typeof v !== 'string') throw runtimeError(`write() writes a string or a char buffer, not ${describe(v)}`, a[1].loc);
        return BigInt(t.writeFd(this.num(c, a[0]), v.slice(0, Math.max(0, n)).padEnd(Math.max(0, n), '\0').slice(0, Math.max(0, n))));
      }
      case 'lseek':
        return BigInt(t.lseek(this.num(c, a[0]), this.num(c, a[1]), this.num(c, a[2])));
      case 'pread':
      case 'pwrite': {
        // The file's offset is left where it was: moved to `offset` for the call, then back.
        const fd = this.num(c, a[0]);
        const pos = t.lseek(fd, 0, 1);
        if (pos < 0 || t.lseek(fd, this.num(c, a[3]), 0) < 0) return -1n;
        const n = this.call(c, { ...e, name: e.name === 'pread' ? 'read' : 'write', args: a.slice(0, 3) });
        t.lseek(fd, pos, 0);
        return n;
      }
      case 'err':
      case 'errx':
      case 'warn':
      case 'warnx': {
        // glibc's err.h: the program's short name, the message, and for err/warn errno's text.
        const errnum = t.errno;
        const exits = e.name === 'err' || e.name === 'errx';
        const rest = exits ? a.slice(1) : a;
        const status = exits ? Number(BigInt.asUintN(8, this.int(this.eval(c, a[0]), a[0].loc))) : 0;
        const fmt = rest.length > 0 && !(rest[0].k === 'num' && rest[0].value === 0n) ? this.format(c, rest[0], rest.slice(1), e.loc) : null;
        const withErrno = e.name === 'err' || e.name === 'warn';
        t.write(2, `${this.opts.name.replace(/^.*\//, '')}: ${fmt ?? ''}${withErrno ? `${fmt !== null ? ': ' : ''}${strerror(errnum)}` : ''}\n`);
        if (!exits) return 0n;
        this.finish(c, status);
        throw new ProcessExit(status);
      }
      case 'ffs':
      case 'ffsl':
      case 'ffsll': {
        const bits = e.name === 'ffs' ? 32 : 64;
        const v = BigInt.asUintN(bits, this.int(this.eval(c, a[0]), a[0].loc));
        if (v === 0n) return 0n;
        let i = 1n;
        for (let x = v; (x & 1n) === 0n; x >>= 1n) i++;
        return i;
      }
      case 'fopen': {
        const path = this.str(c, a[0]);
        const mode = this.str(c, a[1]);
        const m = /^([rwa])(b?\+?b?)$/.exec(mode);
        if (m === null) throw runtimeError(`fopen: mode "${mode}" is not r, w, a, r+, w+ or a+`, a[1].loc);
        const plus = m[2].includes('+');
        const flags = m[1] === 'r' ? (plus ? O_RDWR : O_RDONLY) : (plus ? O_RDWR : O_WRONLY) | O_CREAT | (m[1] === 'w' ? O_TRUNC : O_APPEND);
        const fd = isKernelFile(path) ? t.openFile(path, flags, 0o666) : t.open(path, flags, 0o666);
        return fd < 0 ? 0n : FILE_BASE + BigInt(fd);
      }
      case 'fclose':
        return BigInt(t.closeFd(this.fileFd(c, a[0])));
      case 'fgets': {
        const line = t.readLine(this.fileFd(c, a[2]), this.num(c, a[1]));
        if (line === null) return 0n;
        this.setOut(c, a[0], line, e.loc);
        return this.eval(c, a[0]);
      }
      case 'fscanf':
      case 'sscanf': {
        let input: string | null;
        const fd = e.name === 'fscanf' ? this.fileFd(c, a[0]) : -1;
        if (e.name === 'fscanf') input = t.rest(fd);
        else input = this.str(c, a[0]);
        if (input === null) return -1n;
        let r;
        try {
          r = scanf(input, this.str(c, a[1]));
        } catch (err) {
          if (err instanceof RangeError) throw runtimeError(err.message, a[1].loc);
          throw err;
        }
        if (r.values.length > a.length - 2) throw runtimeError(`${e.name}: the format converts ${r.values.length} values, and ${a.length - 2} variables are given`, e.loc);
        r.values.forEach((v, i) => this.setOut(c, a[2 + i], v, a[2 + i].loc));
        if (fd >= 0) t.consume(fd, r.consumed);
        return r.eof ? -1n : BigInt(r.values.length);
      }
      case 'fprintf':
      case 'fputs': {
        const fd = this.fileFd(c, e.name === 'fprintf' ? a[0] : a[1]);
        const text = e.name === 'fprintf' ? this.format(c, a[1], a.slice(2), e.loc) : this.str(c, a[0]);
        const r = t.writeFd(fd, text);
        return r < 0 ? -1n : BigInt(e.name === 'fputs' ? 1 : r);
      }
      case 'fflush':
        return 0n;
      case 'putchar': {
        const ch = Number(BigInt.asUintN(8, this.int(this.eval(c, a[0]), a[0].loc)));
        t.write(1, String.fromCharCode(ch));
        return BigInt(ch);
      }
      case 'snprintf':
      case 'sprintf': {
        const text = e.name === 'snprintf' ? this.format(c, a[2], a.slice(3), e.loc) : this.format(c, a[1], a.slice(2), e.loc);
        const size = e.name === 'snprintf' ? this.num(c, a[1]) : null;
        this.setOut(c, a[0], size === null ? text : text.slice(0, Math.max(0, size - 1)), e.loc);
        return BigInt(text.length);
      }
      case 'atoi':
      case 'atol':
      case 'atoll':
        return atoi(this.str(c, a[0]), e.name === 'atoi' ? 32 : 64);
      case 'strtol':
      case 'strtoul':
      case 'strtoll':
      case 'strtoull': {
        const r = strtol(this.str(c, a[0]), this.num(c, a[2]), e.name === 'strtol' || e.name === 'strtoul' ? 64 : 64, !e.name.includes('u'));
        if (r.errno !== 0) t.errno = r.errno;
        const end = this.eval(c, a[1]);
        if (end !== 0n) this.setOut(c, a[1], r.rest, a[1].loc);
        return r.value;
      }
      case 'strcmp':
      case 'strncmp': {
        let x = this.str(c, a[0]);
        let y = this.str(c, a[1]);
        if (e.name === 'strncmp') {
          const n = this.num(c, a[2]);
          x = x.slice(0, n);
          y = y.slice(0, n);
        }
        return x === y ? 0n : x < y ? -1n : 1n;
      }
      case 'strlen':
        return BigInt(this.str(c, a[0]).length);
      case 'strcpy':
        this.setOut(c, a[0], this.str(c, a[1]), e.loc);
        return this.eval(c, a[0]);
      case 'strncpy':
        this.setOut(c, a[0], this.str(c, a[1]).slice(0, this.num(c, a[2])), e.loc);
        return this.eval(c, a[0]);
      case 'strcat':
        this.setOut(c, a[0], this.str(c, a[0]) + this.str(c, a[1]), e.loc);
        return this.eval(c, a[0]);
      case 'strchr': {
        const str = this.str(c, a[0]);
        const ch = String.fromCharCode(Number(BigInt.asUintN(8, this.int(this.eval(c, a[1]), a[1].loc))));
        const i = ch === '\0' ? str.length : str.indexOf(ch);
        return i < 0 ? 0n : str.slice(i);
      }
      case 'strstr': {
        const str = this.str(c, a[0]);
        const i = str.indexOf(this.str(c, a[1]));
        return i < 0 ? 0n : str.slice(i);
      }
      case 'getenv': {
        const v = this.opts.env?.[this.str(c, a[0])];
        return v === undefined ? 0n : v;
      }
      case 'clock_gettime':
      case 'gettimeofday': {
        const ref = this.eval(c, e.name === 'clock_gettime' ? a[1] : a[0]);
        if (e.name === 'clock_gettime') this.num(c, a[0]);
        if (typeof ref !== 'object' || ref instanceof Uint8Array || ref.t !== 'ref' || typeof ref.target.value !== 'object' || ref.target.value instanceof Uint8Array || ref.target.value.t !== 'struct') {
          throw runtimeError(`${e.name} takes &ts of a struct ${e.name === 'clock_gettime' ? 'timespec' : 'timeval'} variable`, e.loc);
        }
        // A call (vDSO or not): it takes its time in a polling loop like the others.
        t.calls++;
        const us = this.sys.machine.clock.now;
        const st = ref.target.value;
        st.v.tv_sec = BigInt(Math.floor(us / 1e6));
        if ('tv_nsec' in st.v) st.v.tv_nsec = BigInt(Math.round((us % 1e6) * 1000));
        else st.v.tv_usec = BigInt(Math.round(us % 1e6));
        return 0n;
      }
      case 'sysconf': {
        const name = this.num(c, a[0]);
        if (name !== 30) throw runtimeError(`sysconf(${name}): only _SC_PAGESIZE is known here`, a[0].loc);
        return BigInt(PAGE_SIZE);
      }
      case 'getpagesize':
        return BigInt(PAGE_SIZE);
      case 'access': {
        const path = this.str(c, a[0]).replace(/\/+$/, '');
        this.num(c, a[1]);
        t.calls++;
        const there = path === '/sys/kernel/mm/ksm' ? this.sys.sysfs !== null : isKernelFile(path) && t.exists(path);
        if (there) return 0n;
        t.errno = ERRNO.ENOENT;
        return -1n;
      }
      case 'getopt':
        return this.getopt(c, a, e.loc);
      case 'time': {
        const secs = BigInt(Math.floor(this.sys.machine.clock.now / 1e6));
        if (this.eval(c, a[0]) !== 0n) this.setOut(c, a[0], secs, a[0].loc);
        return secs;
      }
      case 'ioctl':
        return this.ioctl(c, e);
      case 'mmap':
        return BigInt(t.mmap(this.num(c, a[0]), this.num(c, a[1]), this.num(c, a[2]), this.num(c, a[3]), this.num(c, a[4]), this.num(c, a[5])));
      case 'munmap':
        return BigInt(t.munmap(this.num(c, a[0]), this.num(c, a[1])));
      case 'madvise':
        return BigInt(t.madvise(this.num(c, a[0]), this.num(c, a[1]), this.num(c, a[2])));
      case 'prctl': {
        const [option, ...rest] = a.map((x) => this.num(c, x));
        return BigInt(t.prctl(option, ...rest));
      }
      case 'memalign': {
        const size = this.num(c, a[1]);
        const p = t.memalign(this.num(c, a[0]), size);
        if (p !== 0) c.allocations.set(p, Math.max(PAGE_SIZE, Math.ceil(size / PAGE_SIZE) * PAGE_SIZE));
        return BigInt(p);
      }
      case 'free': {
        const p = this.num(c, a[0]);
        const len = c.allocations.get(p);
        if (len !== undefined) {
          c.allocations.delete(p);
          t.munmap(p, len);
        }
        return 0n;
      }
      case 'exit':
      case '_exit': {
        const status = Number(BigInt.asUintN(8, this.int(this.eval(c, a[0]), a[0].loc)));
        this.finish(c, status);
        throw new ProcessExit(status);
      }
      case 'getpid':
        return BigInt(t.pid);
      case 'getuid':
        return BigInt(t.proc.uid);
      case 'setuid':
        return BigInt(t.setuid(this.num(c, a[0])));
      case 'setgid':
        return BigInt(t.setgid(this.num(c, a[0])));
      case 'chmod':
        return BigInt(t.chmod(this.str(c, a[0]), this.num(c, a[1])));
      case 'full_scans':
        // As long as reading /sys/kernel/mm/ksm/full_scans takes: open, read, close.
        t.calls += 3;
        return BigInt(this.sys.fullScans());
      case 'ksm_pages':
        // As long as one read of /proc/self/pagemap would take.
        t.calls += 1;
        return BigInt(this.ksmPages(c, this.num(c, a[0]), this.num(c, a[1])));
      case 'printf':
        return BigInt(t.write(1, this.format(c, a[0], a.slice(1), e.loc)));
      case 'puts':
        t.write(1, `${show(this.eval(c, a[0]))}\n`);
        return 0n;
      case 'perror':
        t.perror(this.str(c, a[0]));
        return 0n;
      case 'strerror':
        return strerror(Number(this.int(this.eval(c, a[0]), a[0].loc)));
      case 'memset': {
        const addr = this.num(c, a[0]);
        const byte = Number(BigInt.asUintN(8, this.int(this.eval(c, a[1]), a[1].loc)));
        this.memset(c, addr, byte, this.num(c, a[2]), e.loc);
        return BigInt(addr);
      }
      case 'page':
      case 'pages':
        throw runtimeError(`${e.name}(...) can only be assigned to (${e.name}(...) = {seed: 1})`, e.loc);
    }
    if (BUILTINS[e.name]?.statement) throw runtimeError(`${e.name}() must be a statement of its own`, e.loc);
    throw runtimeError(`unknown function ${e.name}()`, e.loc);
  }

  private ioctl(c: Ctx, e: Expr & { k: 'call' }): Value {
    const t = c.task;
    const fd = this.num(c, e.args[0]);
    const req = Number(BigInt.asUintN(32, this.int(this.eval(c, e.args[1]), e.args[1].loc)));
    if (e.args.length < 3) return BigInt(t.ioctl(fd, req, { kind: 'none' }).r);
    const v = this.eval(c, e.args[2]);
    const layout = requestLayout(req);
    let arg: IoctlArg;
    let ref: Record<string, bigint> | null = null;
    let refLayout: StructLayout | null = null;
    if (typeof v === 'bigint') {
      arg = { kind: 'value', value: v };
    } else if (v instanceof Uint8Array) {
      arg = { kind: 'bytes', bytes: v, layout };
    } else if (typeof v === 'object' && v.t === 'ref') {
      const s = v.target.value as { t: 'struct'; layout: StructLayout; v: Record<string, bigint> };
      ref = s.v;
      refLayout = s.layout;
      arg = { kind: 'bytes', bytes: encodeStruct(s.layout, s.v), layout: s.layout };
    } else if (typeof v === 'object' && v.t === 'obj') {
      if (layout === null) throw runtimeError(`${requestName(req)} passes no struct a header defines: give its bytes (x"...") or an address`, e.args[2].loc);
      arg = { kind: 'bytes', bytes: encodeStruct(layout, this.structFields(layout, v)), layout };
    } else {
      throw runtimeError(`ioctl's third argument is &struct_var, {field: value, ...}, x"bytes" or an address, not ${describe(v)}`, e.args[2].loc);
    }
    const { r, out } = t.ioctl(fd, req, arg);
    if (ref !== null && refLayout !== null && out !== null) Object.assign(ref, decodeStruct(refLayout, out));
    for (const k of Object.keys(ref ?? {})) ref![k] = BigInt(ref![k]);
    return BigInt(r);
  }
}


/** The C char (signed, as on x86) at i of a string. */
function charAt(s: string, i: number): bigint {
  return BigInt.asIntN(8, BigInt(s.charCodeAt(i) & 0xff));
}

/** µs as a human reads them: `1 day`, `3600 s`, `250 ms`. */
function formatMicros(us: number): string {
  if (us >= 86_400e6 && us % 86_400e6 === 0) return `${us / 86_400e6} day${us === 86_400e6 ? '' : 's'}`;
  if (us >= 1e6) return `${(us / 1e6).toLocaleString('en-US', { maximumFractionDigits: 6 })} s`;
  return `${us.toLocaleString('en-US')} µs`;
}

function formatBytes(n: number): string {
  return n >= 1 << 30 && n % (1 << 30) === 0 ? `${n / (1 << 30)} GiB` : `${Math.round(n / (1 << 20)).toLocaleString('en-US')} MiB`;
}
