/**
 * `ksmctl eras [--json]`: the era registry (src/eras/registry.ts) as a
 * table: each era's id (what `--era` takes), when it was current, the seed
 * it follows, what a program registers memory with, how ksmd is steered,
 * the merger and the counters the era itself exposed; then the other
 * spellings every command accepts. `--json` gives the same as plain data.
 */
import { COUNTER_NAMES, type CounterName } from '../../eras/adapter.js';
import { DEFAULT_ERA, ERA_IDS, ERAS, eraSpellings, parseEra } from '../../eras/registry.js';
import { formatTable } from '../../format/table.js';

/** One era as `ksmctl eras --json` prints it: the registry entry's facts, no functions. */
export interface EraRow {
  /** What `--era` takes. */
  id: string;
  /** Other spellings of it (`v3`, `v3-2.6.32`). */
  aliases: string[];
  /** The era `--era` means when it is not given. */
  default: boolean;
  family: string;
  /** v1: the ioctl ABI; v3: the kernel version; null for the era that has one of neither. */
  abi: string | null;
  kernel: string | null;
  label: string;
  title: string;
  seed: string;
  date: string;
  registration: string;
  control: string;
  merger: string;
  mergerShort: string;
  algorithm: string;
  checksum: string;
  /** The counters the era itself exposed to user space; the others of the five are derived (SCHEMA.md). */
  exposed: CounterName[];
}

export function listEras(): EraRow[] {
  const spellings = eraSpellings().filter((s) => !(ERA_IDS as readonly string[]).includes(s));
  return ERAS.map((e) => ({
    id: e.id,
    aliases: spellings.filter((s) => parseEra(s) === e),
    default: e.id === DEFAULT_ERA,
    family: e.family,
    abi: e.abi ?? null,
    kernel: e.kernel ?? null,
    label: e.label,
    title: e.title,
    seed: e.seed,
    date: e.date,
    registration: e.registration,
    control: e.control,
    merger: e.merger,
    mergerShort: e.mergerShort,
    algorithm: e.algorithm,
    checksum: e.checksum,
    exposed: [...e.exposed],
  }));
}

/**
 * The lines of `text` at most `width` wide, broken at blanks and after the
 * commas of a long word (a path's `{sleep,pages_to_scan,run}`); a longer
 * piece stays whole.
 */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  let blank = false;
  for (const token of text.match(/\s+|[^\s,]*,|[^\s,]+/g) ?? []) {
    if (/^\s/.test(token)) {
      blank = line !== '';
      continue;
    }
    const piece = blank ? ` ${token}` : token;
    if (line !== '' && line.length + piece.length > width) {
      lines.push(line);
      line = token;
    } else line += piece;
    blank = false;
  }
  if (line !== '' || lines.length === 0) lines.push(line);
  return lines;
}

/** The table's columns: a heading, the cell of a row, and the width it wraps at. */
const COLUMNS: Array<{ head: string; cell: (r: EraRow) => string; width: number }> = [
  { head: 'era', cell: (r) => r.id, width: 10 },
  { head: 'date', cell: (r) => r.date, width: 8 },
  { head: 'seed', cell: (r) => r.seed, width: 16 },
  { head: 'registers with', cell: (r) => r.registration, width: 34 },
  { head: 'control', cell: (r) => r.control, width: 34 },
  { head: 'merger', cell: (r) => r.merger, width: 24 },
  { head: 'counters exposed', cell: (r) => (r.exposed.length === COUNTER_NAMES.length ? 'all five' : r.exposed.length ? r.exposed.join(', ') : 'none'), width: 16 },
];

export function formatEras(rows: readonly EraRow[], json: boolean): string {
  if (json) return JSON.stringify(rows, null, 2);
  const body: string[][] = [];
  rows.forEach((r, i) => {
    if (i > 0) body.push([]);
    const cells = COLUMNS.map((c) => wrap(c.cell(r), c.width));
    const height = Math.max(...cells.map((c) => c.length));
    for (let k = 0; k < height; k++) body.push(cells.map((c) => c[k] ?? ''));
  });
  const aliases = rows.flatMap((r) => r.aliases.map((a) => `${a} = ${r.id}`));
  const def = rows.find((r) => r.default);
  return [
    formatTable(COLUMNS.map((c) => c.head), body),
    '',
    `Every --era also takes: ${aliases.join(', ')}; and --era v1 --abi 2009, --era v3 --kernel 6.18.`,
    ...(def ? [`Without --era: ${def.id}.`] : []),
    `The five counters: ${COUNTER_NAMES.join(', ')}; those an era did not expose are derived as the workload schema defines them (docs/workload-format.md).`,
  ].join('\n');
}
