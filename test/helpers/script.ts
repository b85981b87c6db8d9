/** Runs scripts in-process and collects what a terminal would show (`2>&1`). */
import { readFileSync } from 'node:fs';
import type { EraEntry } from '../../src/eras/registry.js';
import { runScript, type ScriptRunOptions, type ScriptRunResult } from '../../src/script/run.js';

export interface Transcript extends ScriptRunResult {
  /** Trace, stdout and stderr in the order written, then the error if any. */
  text: string;
  stdout: string;
}

export function runText(file: string, source: string, opts: Omit<ScriptRunOptions, 'sink'> = {}): Transcript {
  let text = '';
  let stdout = '';
  const r = runScript(file, source, {
    trace: true,
    ...opts,
    sink: {
      trace: (l) => (text += `${l}\n`),
      stdout: (t) => {
        text += t;
        stdout += t;
      },
      stderr: (t) => (text += t),
    },
  });
  if (r.error !== undefined) text += `${r.error}\n`;
  return { ...r, text, stdout };
}

export function runFile(path: string, opts: Omit<ScriptRunOptions, 'sink'> = {}): Transcript {
  return runText(path, readFileSync(path, 'utf8'), opts);
}

/**
 * A small program of the era's family: map 64 equal pages, register them
 * with the era's own call, start the scanner as a user of the era did, and
 * wait for two passes; `pause` leaves the process alive (on a host).
 */
export function registerScript(era: EraEntry, opts: { pause?: boolean } = {}): string {
  const body = ['#define N 64', 'char *p = mmap(NULL, N * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)', 'pages(p, N) = {fill: 3}'];
  if (era.family === 'v1') {
    body.unshift(`#include "ksm-${era.abi}.h"`);
    body.push(
      'int fd = open("/dev/ksm", O_RDWR)',
      'int sma = ioctl(fd, KSM_CREATE_SHARED_MEMORY_AREA)',
      'ioctl(sma, KSM_REGISTER_MEMORY_REGION, {npages: N, addr: p})',
      // The 2008 program takes max_pages_to_merge too.
      `ksmctl start 100 ${era.abi === '2008' ? '100 ' : ''}20`,
    );
  } else if (era.family === 'v2') {
    body.push('madvise(p, N * PAGE_SIZE, MADV_SHAREABLE)', 'echo 20000 > /sys/kernel/mm/ksm/sleep', 'echo 100 > /sys/kernel/mm/ksm/pages_to_scan', 'echo 1 > /sys/kernel/mm/ksm/run');
  } else {
    body.push('madvise(p, N * PAGE_SIZE, MADV_MERGEABLE)', 'echo 100 > /sys/kernel/mm/ksm/pages_to_scan', 'echo 1 > /sys/kernel/mm/ksm/run');
  }
  body.push('wait_full_scans(2)', 'expect ksm_pages(p, N) == N');
  if (opts.pause) body.push('pause()');
  return `${body.join('\n')}\n`;
}
