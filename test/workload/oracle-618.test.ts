/**
 * `--kernel 6.18` against the real Linux 6.18 kernel: the expected files in
 * test/fixtures/oracle-618/ are what shared/tools/kernel-oracle printed on
 * the project machine (Linux 6.18.44, x86_64, one NUMA node) for each
 * workload, pass by pass: the schema's counters and the kernel's extra
 * detail (pages_scanned, stable_node_chains, stable_node_dups,
 * ksm_zero_pages, pages_skipped, and each process's ksm_rmap_items and
 * ksm_merging_pages from /proc/<pid>/ksm_stat). The oracle ran the kernel
 * with smart_scan 0 and use_zero_pages 0 unless `knobs` says otherwise
 * (those runs used a copy of the oracle with the knob set); the oracle is
 * never run from here.
 */
import test from 'ava';
import { createDriver } from '../../src/workload/eras.js';
import type { V3Adapter } from '../../src/eras/v3.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultJson, runWorkload } from '../../src/workload/runner.js';
import { loadWorkload } from '../../src/workload/schema.js';
import { FIXTURES } from '../helpers/golden.js';

const DIR = join(FIXTURES, 'oracle-618');

interface Expected {
  workload: string;
  kernel: string;
  knobs: Record<string, string>;
  snapshots: unknown[];
  kernel_detail: unknown[];
}

for (const file of readdirSync(DIR).filter((f) => f.endsWith('.expected.json')).sort()) {
  const name = file.replace(/\.expected\.json$/, '');
  const expected = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Expected;
  const knobs = Object.entries(expected.knobs);
  test(`${name}${knobs.length ? ` (${knobs.map(([k, v]) => `${k}=${v}`).join(', ')})` : ''}: every pass as on Linux ${expected.kernel}`, (t) => {
    const w = loadWorkload(join(DIR, expected.workload));
    const d = createDriver('v3:6.18', { sysfs: knobs });
    const detail: unknown[] = [];
    const r = runWorkload(w, d, {
      onSnapshot: () => {
        const k = (d.adapter as V3Adapter).kernel;
        const n = (f: string) => Number(String(k.readSysfs(f)).trim());
        const processes: Record<string, unknown> = {};
        for (const p of k.machine.processes.values()) {
          const stat = k.readProc(p, 'ksm_stat');
          if (typeof stat === 'number') {
            processes[p.name] = null;
            continue;
          }
          const field = (key: string) => Number(new RegExp(`^${key} (-?\\d+)$`, 'm').exec(stat)![1]);
          processes[p.name] = { ksm_rmap_items: field('ksm_rmap_items'), ksm_merging_pages: field('ksm_merging_pages') };
        }
        detail.push({
          pages_scanned: n('pages_scanned'),
          stable_node_chains: n('stable_node_chains'),
          stable_node_dups: n('stable_node_dups'),
          ksm_zero_pages: n('ksm_zero_pages'),
          pages_skipped: n('pages_skipped'),
          processes,
        });
      },
    });
    t.deepEqual(resultJson(r).snapshots, expected.snapshots);
    t.deepEqual(detail, expected.kernel_detail);
  });
}
