/**
 * One process of a workload on the real kernel (the driver starts one per
 * workload process: `node child.js PARENT_PID`). It maps its regions as
 * anonymous private mappings in address order, inside one reservation with
 * a PROT_NONE guard page before, between and after them (each region its own
 * VMA, scanned in region order, as the kernel oracle lays them out), turns
 * THP off on them (MADV_NOHUGEPAGE: ksmd merges 4 KiB pages), writes their
 * contents, and then obeys the driver line by line (protocol.ts):
 * MADV_MERGEABLE, MADV_UNMERGEABLE, page writes, exit.
 *
 * It dies with its parent (PR_SET_PDEATHSIG = SIGKILL), so a driver killed
 * by SIGKILL leaves no process holding KSM pages.
 */
import { readSync, writeSync } from 'node:fs';
import { PAGE_SIZE } from '../engine/constants.js';
import { pageInRun, type SinglePage, writePageBytes } from '../engine/pages.js';
import {
  libc,
  MADV_MERGEABLE,
  MADV_NOHUGEPAGE,
  MADV_UNMERGEABLE,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_NORESERVE,
  MAP_PRIVATE,
  PR_SET_PDEATHSIG,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  SIGKILL,
} from './libc.js';
import { type Command, contentFromWire, type WireRegion } from './protocol.js';

const c = libc();
c.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
// The parent may have died before the line above: then nobody would kill us.
if (c.getppid() !== Number(process.argv[2])) process.exit(3);

let pending = '';
const chunk = Buffer.alloc(65536);

/** The next line from the driver, or null at end of file (the driver is gone). */
function readLine(): string | null {
  for (;;) {
    const nl = pending.indexOf('\n');
    if (nl >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      return line;
    }
    let n: number;
    try {
      n = readSync(0, chunk, 0, chunk.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw e;
    }
    if (n === 0) return null;
    pending += chunk.toString('utf8', 0, n);
  }
}

function reply(v: unknown): void {
  writeSync(1, `${JSON.stringify(v)}\n`);
}

const failed = (what: string): never => {
  throw new Error(`${what} failed: errno ${c.errno()}`);
};

/** Writes pages through a buffer of up to 64 pages per memcpy. */
const STAGE_PAGES = 64;
const stage = new Uint8Array(STAGE_PAGES * PAGE_SIZE);

function fill(addr: number, region: WireRegion): void {
  let i = 0;
  let from = 0;
  let staged = 0;
  const flush = () => {
    if (staged > 0) c.copyIn(addr + from * PAGE_SIZE, stage, staged * PAGE_SIZE);
    staged = 0;
  };
  for (const run of region.runs) {
    const content = contentFromWire(run.content);
    for (let j = 0; j < run.pages; j++, i++) {
      if (staged === 0) from = i;
      writePageBytes(pageInRun(content, j), stage, staged * PAGE_SIZE);
      if (++staged === STAGE_PAGES) flush();
    }
  }
  flush();
}

function main(): void {
  const first = readLine();
  if (first === null) return;
  const { regions } = JSON.parse(first) as { regions: WireRegion[] };
  const total = regions.reduce((n, r) => n + r.pages, 0) + regions.length + 1;
  const base = c.mmap(0, total * PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (typeof base !== 'number' || base === -1) failed('mmap of the reservation');
  const addrs: number[] = [];
  let off = PAGE_SIZE;
  for (const r of regions) {
    const want = (base as number) + off;
    const got = c.mmap(want, r.pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (got !== want) failed('mmap of a region');
    if (c.madvise(want, r.pages * PAGE_SIZE, MADV_NOHUGEPAGE) !== 0) failed('madvise(MADV_NOHUGEPAGE)');
    if (r.node !== undefined && c.mbindNode(want, r.pages * PAGE_SIZE, r.node) !== 0) failed(`mbind to node ${r.node}`);
    addrs.push(want);
    off += (r.pages + 1) * PAGE_SIZE;
  }
  regions.forEach((r, i) => fill(addrs[i], r));
  reply({ ready: addrs });

  for (;;) {
    const line = readLine();
    if (line === null) return;
    const cmd = JSON.parse(line) as Command;
    if (cmd.op === 'exit') return;
    if (cmd.op === 'register' || cmd.op === 'unregister') {
      const r = regions[cmd.region];
      const rc = c.madvise(addrs[cmd.region], r.pages * PAGE_SIZE, cmd.op === 'register' ? MADV_MERGEABLE : MADV_UNMERGEABLE);
      reply({ ok: rc === 0 ? 0 : -c.errno() });
    } else if (cmd.op === 'write') {
      writePageBytes(contentFromWire(cmd.content) as SinglePage, stage, 0);
      c.copyIn(addrs[cmd.region] + cmd.page * PAGE_SIZE, stage, PAGE_SIZE);
      reply({ ok: 0 });
    }
  }
}

try {
  main();
  process.exit(0);
} catch (e) {
  try {
    reply({ error: (e as Error).message });
  } catch {
    // the driver is gone
  }
  process.exit(1);
}
