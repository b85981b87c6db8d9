/**
 * Child processes with known page contents for the snapshot tests:
 * test/fixtures/snapshot/pages.c, compiled with the machine's C compiler
 * once per test process, and the bytes its pages hold (the workload
 * schema's seeded pages).
 */
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePageBytes } from '../../src/engine/pages.js';
import { FIXTURES } from './golden.js';

let binary: string | null | undefined;

/** The compiled program, or null (with the reason in `why`) when there is no C compiler. */
export function pagesBinary(): string | null {
  if (binary !== undefined) return binary;
  const dir = mkdtempSync(join(tmpdir(), 'ksm-pages-'));
  const out = join(dir, 'pages');
  const r = spawnSync('cc', ['-O2', '-o', out, join(FIXTURES, 'snapshot', 'pages.c')], { encoding: 'utf8' });
  binary = r.status === 0 ? out : null;
  return binary;
}

export interface Layout {
  /** Shared pages (seeded 1000+i, the same in every process), zero pages, private pages (seeded 0x10000000 + id*p + i), untouched pages of mapping A. */
  s: number;
  z: number;
  p: number;
  u: number;
  /** Pages of mapping B (private, never mergeable) and C (shared anonymous), seeded 1000+i. */
  d: number;
  h: number;
  mergeable: boolean;
}

export interface PagesProcess {
  id: number;
  pid: number;
  /** Start addresses of mappings A, B, C (0 when empty). */
  a: number;
  b: number;
  c: number;
  child: ChildProcessWithoutNullStreams;
  /** Rewrites the private pages (seeded 0x20000000 + id*p + i); resolves once done. */
  rewrite(): Promise<void>;
  kill(): void;
}

/** Starts process `id` with the layout; resolves once its pages are in. */
export function startPages(id: number, l: Layout): Promise<PagesProcess> {
  const bin = pagesBinary();
  if (bin === null) throw new Error('no C compiler');
  const child = spawn(bin, [id, l.mergeable ? 1 : 0, l.s, l.z, l.p, l.u, l.d, l.h].map(String));
  return new Promise((resolve, reject) => {
    let buf = '';
    const waiters: Array<() => void> = [];
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const m = /^ready ([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+)$/.exec(line);
        if (m) {
          resolve({
            id,
            pid: child.pid!,
            a: parseInt(m[1], 16),
            b: parseInt(m[2], 16),
            c: parseInt(m[3], 16),
            child,
            rewrite: () => new Promise<void>((done) => {
              waiters.push(done);
              child.kill('SIGUSR1');
            }),
            kill: () => child.kill('SIGKILL'),
          });
        } else if (line === 'changed') waiters.shift()?.();
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`pages exited with ${code}`)));
  });
}

/** The bytes of a page seeded `seed`. */
export function seedBytes(seed: number): Uint8Array {
  const out = new Uint8Array(4096);
  writePageBytes({ kind: 'seed', seed }, out, 0);
  return out;
}
