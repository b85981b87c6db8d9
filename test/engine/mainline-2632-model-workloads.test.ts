/**
 * The differential test at the level the era is judged: whole workload
 * files run through the workload runner, once with the v3 driver (the
 * engine's 2.6.32 merger behind V3Kernel) and once with a driver over the
 * literal model of seed 003 (test/helpers/ref-2632.ts); every per-pass
 * snapshot (the five counters and pages_saved) and every refused step must
 * be the same. Workloads: the example files, the fixed built-ins, and each
 * generator of the library at a few sizes.
 */
import test from 'ava';
import { createDriver } from '../../src/workload/eras.js';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MAP_ANONYMOUS, MAP_PRIVATE, PAGE_SIZE, PROT_READ, PROT_WRITE } from '../../src/engine/constants.js';
import { ERRNO } from '../../src/engine/errno.js';
import { type Range, Memory } from '../../src/engine/memory/memory.js';
import type { Mm } from '../../src/engine/memory/mm.js';
import type { SinglePage } from '../../src/engine/pages.js';
import { strictStrtoul, UINT_MAX } from '../../src/kernel/strtoul.js';
import { MADV_MERGEABLE, MADV_UNMERGEABLE } from '../../src/v3-sysfs/constants.js';
import { builtinWorkload } from '../../src/workload/builtin.js';
import { COUNTER_NAMES, type Counters, type EraDriver } from '../../src/workload/driver.js';
import { fillRegion, internPage } from '../../src/workload/fill.js';
import { runWorkload } from '../../src/workload/runner.js';
import { loadWorkload, type Workload } from '../../src/workload/schema.js';
import { FIXTURES } from '../helpers/golden.js';
import { eraById } from '../../src/eras/registry.js';
import { Ref2632 } from '../helpers/ref-2632.js';

/** The v3 driver's calls, made on the model of seed 003 and a Memory of its own. */
class RefDriver implements EraDriver {
  readonly era = eraById('v3:2.6.32');
  readonly title = 'literal model of seed 003';
  readonly exitKeepsRegistration = false;
  readonly exposed = new Set(COUNTER_NAMES);
  readonly memory = new Memory();
  readonly ref = new Ref2632(this.memory);
  private readonly procs = new Map<string, { mm: Mm; regions: Array<{ addr: number; pages: number }> }>();

  /** The sysfs stores the workload's "sysfs" knobs reach, with strict_strtoul's parse. */
  private echo(name: string, value: string): void {
    const v = strictStrtoul(`${value}\n`, 10);
    let r: number;
    if (typeof v === 'number') r = -ERRNO.EINVAL;
    else if (name === 'pages_to_scan') r = v > UINT_MAX ? -ERRNO.EINVAL : this.ref.pagesToScanStore(Number(v));
    else if (name === 'sleep_millisecs') r = v > UINT_MAX ? -ERRNO.EINVAL : 0;
    else if (name === 'run') r = v > UINT_MAX ? -ERRNO.EINVAL : this.ref.runStore(Number(v));
    else if (name === 'max_kernel_pages') r = this.ref.maxKernelPagesStore(v);
    else throw new Error(`the model has no sysfs file ${name}`);
    if (r < 0) throw new Error(`echo ${value} > ${name}: ${r}`);
  }

  setup(w: Workload): void {
    this.echo('pages_to_scan', `${w.pagesToScan}`);
    for (const [name, value] of w.sysfs ?? []) this.echo(name, value);
    for (const { name, regions } of w.processes) {
      const mm = this.memory.createMm();
      const rs = regions.map((region) => {
        const addr = this.memory.mmap(mm, 0, region.pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        if (addr < 0) throw new Error(`mmap for ${name}: ${addr}`);
        fillRegion(this.memory, mm, addr, region);
        return { addr, pages: region.pages };
      });
      this.procs.set(name, { mm, regions: rs });
    }
  }

  private proc(name: string) {
    const p = this.procs.get(name);
    if (p === undefined) throw new Error(`no process ${name}`);
    return p;
  }

  register(proc: string, region: number): number {
    const { mm, regions } = this.proc(proc);
    return this.ref.madvise(mm, regions[region].addr, regions[region].pages * PAGE_SIZE, MADV_MERGEABLE);
  }

  unregister(proc: string): number {
    const { mm, regions } = this.proc(proc);
    for (const r of regions) {
      const err = this.ref.madvise(mm, r.addr, r.pages * PAGE_SIZE, MADV_UNMERGEABLE);
      if (err) return err;
    }
    return 0;
  }

  scan(pages: number): void {
    this.ref.ksmDoScan(pages);
  }

  passes(): number {
    return this.ref.ksmScan.seqnr;
  }

  pagesScanned(): number {
    return this.ref.pagesScanned;
  }

  write(proc: string, region: number, page: number, content: SinglePage): number {
    const { mm, regions } = this.proc(proc);
    return this.memory.writePage(mm, regions[region].addr + page * PAGE_SIZE, internPage(this.memory, content));
  }

  exit(proc: string): void {
    this.memory.mmput(this.proc(proc).mm);
  }

  counters(): Counters {
    const c = this.ref.counters();
    return { pages_shared: c.pagesShared, pages_sharing: c.pagesSharing, pages_unshared: c.pagesUnshared, pages_volatile: c.pagesVolatile, full_scans: c.fullScans };
  }

  regionRange(proc: string, region: number): Range {
    const { mm, regions } = this.proc(proc);
    return { mm, start: regions[region].addr, end: regions[region].addr + regions[region].pages * PAGE_SIZE };
  }
}

function same(t: import('ava').ExecutionContext, w: Workload): void {
  const engine = runWorkload(w, createDriver('v3:2.6.32'));
  const model = new RefDriver();
  const ref = runWorkload(w, model);
  t.true(engine.snapshots.length > 0, `${w.name}: no snapshots`);
  t.deepEqual(engine.errors, ref.errors, `${w.name}: refused steps`);
  for (let i = 0; i < Math.max(engine.snapshots.length, ref.snapshots.length); i++) {
    t.deepEqual(engine.snapshots[i], ref.snapshots[i], `${w.name}: snapshot ${i}`);
  }
}

const files = readdirSync(join(FIXTURES, 'workloads')).filter((f) => f.endsWith('.json')).sort();

for (const f of files) {
  test(`example file ${f}`, (t) => same(t, loadWorkload(join(FIXTURES, 'workloads', f))));
}

const SPECS = [
  'guests',
  'guests-live',
  'identical-guests:n=4,pages=512',
  'identical-guests:n=3,pages=300,zero=40,private=30,batch=97',
  'ksmpages-worst:n=3,pages=256',
  'zero-heavy:n=3,pages=400',
  'volatile-churn:n=3,pages=256,hot=30,rounds=4',
  'volatile-churn:n=2,pages=200,hot=60,rounds=3,batch=61',
  'many-sharers:n=24,pages=48,distinct=3',
  'many-sharers:n=8,pages=64,distinct=64,batch=50',
];

for (const spec of SPECS) {
  test(`built-in ${spec}`, (t) => {
    const w = builtinWorkload(spec);
    if (w === undefined) return t.fail(`no built-in ${spec}`);
    same(t, w);
  });
}
