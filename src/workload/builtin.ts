/**
 * Built-in workloads, so that the main job runs on a fresh machine with no
 * file at hand. They are ordinary workload documents, parsed and validated
 * like any file.
 */
import { parseWorkloadText, type Workload } from './schema.js';

const GUESTS = {
  name: 'guests',
  description:
    'Four guests booted from one image: zero pages, a shared kernel/library image, private heaps; then two guests dirty some image and heap pages, and one guest shuts down.',
  pagesToScan: 1000,
  processes: Object.fromEntries(
    ['guest-a', 'guest-b', 'guest-c', 'guest-d'].map((g, i) => [
      g,
      [
        { pages: 512, content: 'zero' },
        { pages: 2048, content: { seedFrom: 100000 } },
        { pages: 512, content: { seedFrom: 200000 + i * 1000 } },
      ],
    ]),
  ),
  steps: [
    { register: 'guest-a' },
    { register: 'guest-b' },
    { register: 'guest-c' },
    { register: 'guest-d' },
    { fullScans: 3 },
    { write: { proc: 'guest-a', region: 1, page: 10, content: { seed: 900001 } } },
    { write: { proc: 'guest-b', region: 1, page: 11, content: { seed: 900002 } } },
    { write: { proc: 'guest-b', region: 2, page: 0, content: { fill: 7 } } },
    { snapshot: 'after-writes' },
    { fullScans: 2 },
    { exit: 'guest-d' },
    { snapshot: 'after-exit' },
    { fullScans: 2 },
  ],
};

const BUILTINS: Record<string, unknown> = { guests: GUESTS };

export const DEFAULT_WORKLOAD = 'guests';

export function builtinNames(): string[] {
  return Object.keys(BUILTINS);
}

export function builtinWorkload(name: string): Workload | undefined {
  const doc = BUILTINS[name];
  return doc === undefined ? undefined : parseWorkloadText(JSON.stringify(doc), `builtin:${name}`);
}
