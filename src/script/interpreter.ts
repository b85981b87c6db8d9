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
import { errnoName, strerror } from '../engine/errno.js';
import { pageInRun, type RunContent, type SinglePage } from '../engine/pages.js';
import { decodeStruct, encodeStruct, type StructLayout } from '../kernel/cstruct.js';
import { internPage } from '../workload/fill.js';
import type { Declarator, Expr, FuncDef, Loc, Program, Stmt } from './ast.js';
import { BUILTINS } from './builtins.js';
import { COMMON, type Header } from './constants.js';
import { runtimeError, ScriptError } from './errors.js';
import { cFormat, FormatError } from './format.js';
import { runKsmctl } from './ksmctl.js';
import { typeName } from './parser.js';
import { type IoctlArg, type Runtime, type Task } from './runtime.js';
import { requestLayout, requestName } from './strace.js';
import { cloneScope, cloneValue, convert, describe, newStruct, type ObjVal, type Scope, show, truthy, type Value, type Var } from './values.js';

/** Where a call's result goes when the call returns. */
type RetTarget = { kind: 'discard'; call: Expr & { k: 'call' }; checked: boolean } | { kind: 'assign'; target: Expr; op: string } | { kind: 'exit' } | { kind: 'nested' };

type Frame =
  | { k: 'block'; stmts: Stmt[]; i: number }
  | { k: 'loop'; node: Stmt & { k: 'for' | 'while' }; phase: 'test' | 'step' }
  | { k: 'call'; fn: FuncDef; scope: Scope; ret: RetTarget };

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

  constructor(
    public task: Task,
    public globals: Scope,
  ) {}
}

/** Thrown by exit() anywhere in an expression: the process is gone. */
class ProcessExit {
  constructor(readonly status: number) {}
}

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
    for (const [name, e] of this.opts.defines ?? []) main.globals.set(name, { value: this.eval(main, e), type: null });
    const body = [...this.prog.body];
    const mainFn = this.prog.funcs.get('main');
    if (mainFn !== undefined) {
      const call: Expr = { k: 'call', loc: mainFn.loc, name: 'main', args: [], end: mainFn.loc };
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
          w.state = 'ready';
          woke = true;
          const secs = (this.sys.machine.clock.now - w.waitStart) / 1e6;
          this.rt.trace(w.task.pid, `--- ${w.waitCount} full scan${w.waitCount === 1 ? '' : 's'} in ${secs.toFixed(6)} s of virtual time ---`);
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
        for (const d of s.decls) this.declare(c, d);
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
        c.frames.push({ k: 'loop', node: s, phase: 'test' });
        return;
      case 'while':
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
          if (f.k === 'call') break;
          c.frames.pop();
        }
        throw runtimeError(`${s.k} outside a loop`, s.loc);
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

  private declare(c: Ctx, d: Declarator): void {
    const scope = this.scope(c);
    let value: Value = 0n;
    if (d.type.kind === 'struct') {
      const layout = this.structLayout(d.type.name, d.loc);
      value = newStruct(layout);
    }
    const v: Var = { value, type: d.type };
    scope.set(d.name, v);
    if (d.init === null) return;
    if (d.init.k === 'call' && this.isStatementCall(d.init)) {
      this.statementCall(c, d.init, { kind: 'assign', target: { k: 'ident', loc: d.loc, name: d.name }, op: '=' });
      return;
    }
    this.assign(c, { k: 'ident', loc: d.loc, name: d.name }, '=', this.eval(c, d.init), d.loc);
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
        const cc = this.cloneCtx(c, child);
        this.ctxs.splice(this.ctxs.indexOf(c), 0, cc);
        this.deliver(cc, ret, 0n);
        this.deliver(c, ret, BigInt(child.pid));
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
    const args = e.args.map((a) => this.eval(c, a));
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
    const cl = (s: Scope): Scope => {
      let r = map.get(s);
      if (r === undefined) map.set(s, (r = cloneScope(s)));
      return r;
    };
    const n = new Ctx(task, cl(c.globals));
    n.frames = c.frames.map((f): Frame => (f.k === 'block' ? { ...f } : f.k === 'loop' ? { ...f } : { ...f, scope: cl(f.scope) }));
    n.allocations = new Map(c.allocations);
    n.callDepth = c.callDepth;
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
    for (let i = 0; i < n; i++) {
      const a = addr + i * PAGE_SIZE;
      const vma = mm.vmaAt(a);
      if (vma === null) continue;
      const f = vma.frames[vma.index(a)];
      if (f !== 0 && mem.frames.isKsm(f)) count++;
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
        if (x !== undefined) return x.value;
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
        if (e.arg.k !== 'ident') throw runtimeError('& takes a struct variable (&info)', e.loc);
        const x = this.lookup(c, e.arg.name);
        if (x === undefined || typeof x.value !== 'object' || x.value instanceof Uint8Array || x.value.t !== 'struct') {
          throw runtimeError(`&${e.arg.name}: only the address of a struct variable can be taken`, e.loc);
        }
        return { t: 'ref', target: x, name: e.arg.name };
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
      case 'sizeof': {
        const t = e.type;
        if (t.kind === 'int') return BigInt(t.bits / 8);
        if (t.kind === 'ptr') return 8n;
        if (t.kind === 'struct') return BigInt(this.structLayout(t.name, e.loc).size);
        return 1n;
      }
      case 'binary':
        if (e.op === '&&') return truthy(this.eval(c, e.left)) && truthy(this.eval(c, e.right)) ? 1n : 0n;
        if (e.op === '||') return truthy(this.eval(c, e.left)) || truthy(this.eval(c, e.right)) ? 1n : 0n;
        return this.binary(e.op, this.eval(c, e.left), this.eval(c, e.right), e.loc);
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

  private binary(op: string, l: Value, r: Value, loc: Loc): Value {
    if (op === '==' || op === '!=') {
      const eq = typeof l === 'bigint' && typeof r === 'bigint' ? l === r : typeof l === 'string' && typeof r === 'string' ? l === r : false;
      if (typeof l !== typeof r) throw runtimeError(`cannot compare ${describe(l)} with ${describe(r)}`, loc);
      return (op === '==') === eq ? 1n : 0n;
    }
    const a = this.int(l, loc);
    const b = this.int(r, loc);
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

  private num(c: Ctx, e: Expr): number {
    const v = this.int(this.eval(c, e), e.loc);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw runtimeError(`${v} is too large for this argument`, e.loc);
    return Number(v);
  }

  private str(c: Ctx, e: Expr): string {
    const v = this.eval(c, e);
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
      case 'open':
        return BigInt(t.open(this.str(c, a[0]), this.num(c, a[1]), a[2] ? this.num(c, a[2]) : undefined));
      case 'close':
        return BigInt(t.close(this.num(c, a[0])));
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
        return BigInt(this.sys.fullScans());
      case 'ksm_pages':
        return BigInt(this.ksmPages(c, this.num(c, a[0]), this.num(c, a[1])));
      case 'printf': {
        const fmt = this.str(c, a[0]);
        const args = a.slice(1).map((x) => this.eval(c, x));
        let text: string;
        try {
          text = cFormat(fmt, args);
        } catch (err) {
          if (err instanceof FormatError) throw runtimeError(err.message, e.loc);
          throw err;
        }
        return BigInt(t.write(1, text));
      }
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


/** µs as a human reads them: `1 day`, `3600 s`, `250 ms`. */
function formatMicros(us: number): string {
  if (us >= 86_400e6 && us % 86_400e6 === 0) return `${us / 86_400e6} day${us === 86_400e6 ? '' : 's'}`;
  if (us >= 1e6) return `${(us / 1e6).toLocaleString('en-US', { maximumFractionDigits: 6 })} s`;
  return `${us.toLocaleString('en-US')} µs`;
}

function formatBytes(n: number): string {
  return n >= 1 << 30 && n % (1 << 30) === 0 ? `${n / (1 << 30)} GiB` : `${Math.round(n / (1 << 20)).toLocaleString('en-US')} MiB`;
}
