/**
 * Built-in workloads, so that the main job runs on a fresh machine with no
 * file at hand. They are ordinary workload documents, parsed and validated
 * like any file.
 */
import { GENERATORS, generatedWorkload } from './library.js';
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

const LIVE_GUESTS = ['guest-a', 'guest-b', 'guest-c', 'guest-d'];

/**
 * The TUI's default: four guests booted from one image, each with an image
 * region (zero pages and the shared image), a private heap, and a working
 * set that starts out like the other guests' and keeps changing (CHURN).
 * Small enough that ksmd's passes can be watched at the default speed.
 */
const GUESTS_LIVE = {
  name: 'guests-live',
  description:
    'Four guests booted from one image: zero pages, a shared image, private heaps, and a working set that keeps changing (rewritten at random, half of the writes going back to the common content).',
  pagesToScan: 100,
  processes: Object.fromEntries(
    LIVE_GUESTS.map((g, i) => [
      g,
      [
        { runs: [{ pages: 128, content: 'zero' }, { pages: 512, content: { seedFrom: 100000 } }] },
        { pages: 256, content: { seedFrom: 200000 + i * 1000 } },
        { pages: 128, content: { seedFrom: 400000 } },
      ],
    ]),
  ),
  steps: [...LIVE_GUESTS.map((g) => ({ register: g })), { fullScans: 1 }],
};

const STORM_GUESTS = Array.from({ length: 6 }, (_, i) => `guest-${i}`);

/**
 * A boot storm on a host with little headroom (docs/workload-extensions.md:
 * host and timeline): six guests start 10 s apart from one image (zero
 * pages, the shared image, a private heap), each grows a working set 20 s
 * after it starts (the same content in every guest, then rewritten at 8
 * pages a second, half of the writes going back to the common content),
 * and two guests shut down at 150 and 200 s. The host's RAM (7168 pages,
 * 28 MiB) is 1.17 times the guests' memory, so free memory falls below 20 %
 * as the last guests boot, and rises again as KSM merges and guests exit:
 * the pressure the tuning policies react to. Base-format tools run its
 * steps: all six guests at once, three full passes.
 */
const VM_BOOT_STORM = {
  name: 'vm-boot-storm',
  description: 'Six guests boot 10 s apart from one image on a host with 17 % headroom, grow a churning working set, and two of them exit at 150 and 200 s (a timeline for the tuning policies).',
  pagesToScan: 100,
  host: { ramPages: 7168 },
  processes: Object.fromEntries(
    STORM_GUESTS.map((g, i) => [
      g,
      [
        { runs: [{ pages: 128, content: 'zero' }, { pages: 512, content: { seedFrom: 100000 } }] },
        { pages: 256, content: { seedFrom: 200000 + i * 1000 } },
        { pages: 128, content: { seedFrom: 400000 } },
      ],
    ]),
  ),
  steps: [...STORM_GUESTS.map((g) => ({ register: g })), { fullScans: 3 }],
  timeline: {
    until: 300000,
    events: [
      ...STORM_GUESTS.flatMap((g, i) => [
        { at: i * 10000, start: g },
        { at: i * 10000 + 20000, grow: g, region: 2 },
        { at: i * 10000 + 20000, churn: g, region: 2, pagesPerSecond: 8, revert: 50 },
      ]),
      { at: 150000, exit: 'guest-4' },
      { at: 200000, exit: 'guest-5' },
    ],
  },
};

const BUILTINS: Record<string, unknown> = { guests: GUESTS, 'guests-live': GUESTS_LIVE, 'vm-boot-storm': VM_BOOT_STORM };

/** What `ksmctl workload run` and ksmctl without a terminal run. */
export const DEFAULT_WORKLOAD = 'guests';
/** What the TUI opens. */
export const DEFAULT_TUI_WORKLOAD = 'guests-live';

/**
 * Pages that keep changing while time runs (the TUI applies it): process
 * `proc` rewrites `pagesPerSecond` pages of virtual time, picked at random
 * in region `region`; a fraction `revert` of the writes restores the page's
 * initial content. Not part of the workload schema, whose runs have no time.
 */
export interface Churn {
  proc: string;
  region: number;
  pagesPerSecond: number;
  revert: number;
}

const CHURN: Record<string, Churn[]> = {
  'guests-live': LIVE_GUESTS.map((proc) => ({ proc, region: 2, pagesPerSecond: 8, revert: 0.5 })),
};

/** The churn of a built-in workload (none for files and the other built-ins). */
export function builtinChurn(name: string): Churn[] {
  return CHURN[name] ?? [];
}

/** The fixed built-ins, then the parameterized ones of library.ts (`NAME:key=value,...`). */
export function builtinNames(): string[] {
  return [...Object.keys(BUILTINS), ...GENERATORS.map((g) => g.name)];
}

/** A built-in workload by name (`guests`, or `identical-guests:n=8,pages=2048` for the parameterized ones), or undefined. */
export function builtinWorkload(name: string): Workload | undefined {
  const doc = BUILTINS[name];
  if (doc === undefined) return generatedWorkload(name);
  return parseWorkloadText(JSON.stringify(doc), `builtin:${name}`);
}
