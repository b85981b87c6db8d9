/**
 * A made-up /sys/kernel/mm/ksm and /proc in a temporary directory, for the
 * readers of the real kernel (src/real): files with the kernel's modes
 * (0644 knobs, 0444 counters), ksmd's stat, processes' ksm_stat. Two
 * layouts: Linux 6.18 (24 files, ksm_stat with every field) and Linux 5.19
 * (the 14 files of its day, only /proc/PID/ksm_merging_pages).
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RealPaths } from '../../src/real/paths.js';

export const KNOBS_618: Record<string, string> = {
  run: '0',
  pages_to_scan: '100',
  sleep_millisecs: '20',
  max_page_sharing: '256',
  merge_across_nodes: '1',
  use_zero_pages: '0',
  smart_scan: '1',
  stable_node_chains_prune_millisecs: '2000',
  advisor_mode: '[none] scan-time',
  advisor_max_cpu: '70',
  advisor_max_pages_to_scan: '30000',
  advisor_min_pages_to_scan: '500',
  advisor_target_scan_time: '200',
};
export const COUNTERS_618: Record<string, string> = {
  pages_shared: '0',
  pages_sharing: '0',
  pages_unshared: '0',
  pages_volatile: '0',
  full_scans: '0',
  pages_scanned: '0',
  pages_skipped: '0',
  stable_node_chains: '0',
  stable_node_dups: '0',
  ksm_zero_pages: '0',
  general_profit: '0',
};
export const KNOBS_519: Record<string, string> = {
  run: '0',
  pages_to_scan: '100',
  sleep_millisecs: '20',
  max_page_sharing: '256',
  merge_across_nodes: '1',
  use_zero_pages: '0',
  stable_node_chains_prune_millisecs: '2000',
};
export const COUNTERS_519: Record<string, string> = {
  pages_shared: '0',
  pages_sharing: '0',
  pages_unshared: '0',
  pages_volatile: '0',
  full_scans: '0',
  stable_node_chains: '0',
  stable_node_dups: '0',
};

export interface FakeProcess {
  pid: number;
  comm: string;
  /** /proc/PID/ksm_stat text (6.1+), or undefined for a kernel without it. */
  ksmStat?: string;
  /** /proc/PID/ksm_merging_pages (5.19+). */
  merging?: number;
  /** utime and stime in USER_HZ ticks. */
  ticks?: [number, number];
}

export class FakeKernel {
  readonly dir = mkdtempSync(join(tmpdir(), 'ksmctl-fake-kernel-'));
  readonly paths: RealPaths = { sysfs: join(this.dir, 'sys', 'kernel', 'mm', 'ksm'), proc: join(this.dir, 'proc') };

  constructor(knobs: Record<string, string>, counters: Record<string, string>) {
    mkdirSync(this.paths.sysfs, { recursive: true });
    mkdirSync(this.paths.proc, { recursive: true });
    for (const [n, v] of Object.entries(knobs)) this.file(n, v, 0o644);
    for (const [n, v] of Object.entries(counters)) this.file(n, v, 0o444);
  }

  /** A sysfs file, written as the kernel prints it (a newline after the value); its mode kept unless given. */
  file(name: string, value: string, mode?: number): void {
    const p = join(this.paths.sysfs, name);
    const was = existsSync(p) ? statSync(p).mode & 0o777 : 0o644;
    if (existsSync(p)) chmodSync(p, 0o644); // a counter is 0444: writable again for the test's own update
    writeFileSync(p, `${value}\n`);
    chmodSync(p, mode ?? was);
  }

  process(p: FakeProcess): void {
    const d = join(this.paths.proc, `${p.pid}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'comm'), `${p.comm}\n`);
    const [ut, st] = p.ticks ?? [0, 0];
    writeFileSync(join(d, 'stat'), `${p.pid} (${p.comm}) S 2 0 0 0 -1 2097216 0 0 0 0 ${ut} ${st} 0 0 25 5 1 0 27 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n`);
    if (p.ksmStat !== undefined) writeFileSync(join(d, 'ksm_stat'), p.ksmStat);
    if (p.merging !== undefined) writeFileSync(join(d, 'ksm_merging_pages'), `${p.merging}\n`);
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A 6.18 ksm_stat. */
export function ksmStat618(f: { rmap: number; zero?: number; merging: number; profit: number; any?: boolean; mergeable?: boolean }): string {
  return [
    `ksm_rmap_items ${f.rmap}`,
    `ksm_zero_pages ${f.zero ?? 0}`,
    `ksm_merging_pages ${f.merging}`,
    `ksm_process_profit ${f.profit}`,
    `ksm_merge_any: ${f.any ? 'yes' : 'no'}`,
    `ksm_mergeable: ${f.mergeable ?? true ? 'yes' : 'no'}`,
    '',
  ].join('\n');
}
