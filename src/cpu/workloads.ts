/**
 * The calibration workloads: a fitting set (the costs are fitted on it) and
 * a check set (never fitted on; the model's predictions are compared with
 * the real kernel's on it). Each is varied in what dominates ksmd's time:
 * distinct pages (random contents: checksums and unstable-tree descents),
 * identical pages (merges, stable-node chains under max_page_sharing),
 * pairs and groups (the unstable tree, then the stable tree), zero pages
 * (use_zero_pages), pages equal but for their last bytes (memcmp reads whole
 * pages), chains pruned at every search. They are big enough for a pass to
 * cost ksmd tens to hundreds of milliseconds, and small enough for the
 * fitting set to run in a few minutes on a loaded 2-core machine.
 *
 * pagesToScan is above the workload's pages, so in the simulator one batch
 * is one pass, as the real driver makes it on the kernel. Knobs the model
 * depends on (max_page_sharing, stable_node_chains_prune_millisecs,
 * use_zero_pages) are set by the workloads, so both sides run with them.
 */
import { parseWorkloadText, type Workload } from '../workload/schema.js';

type Content = string | Record<string, unknown>;
type Region = { pages: number; content: Content } | { runs: Array<{ pages: number; content: Content }> };

interface Spec {
  name: string;
  description: string;
  processes: Record<string, Region[]>;
  passes: number;
  sysfs?: Record<string, string>;
}

const NEVER_PRUNE = { stable_node_chains_prune_millisecs: '100000' };

function workload(s: Spec): Workload {
  const pages = Object.values(s.processes)
    .flat()
    .reduce((a, r) => a + ('pages' in r ? r.pages : r.runs.reduce((b, x) => b + x.pages, 0)), 0);
  const json = {
    name: s.name,
    description: s.description,
    pagesToScan: 2 * pages + 64,
    ...(s.sysfs ? { sysfs: s.sysfs } : {}),
    processes: s.processes,
    steps: [...Object.keys(s.processes).map((p) => ({ register: p })), { fullScans: s.passes }],
  };
  return parseWorkloadText(JSON.stringify(json), `calibration:${s.name}`);
}

const K = 1024;
const seeds = (from: number) => ({ seedFrom: from });

/** The fitting set. */
export const FIT_SPECS: Spec[] = [
  { name: 'fit-distinct', description: 'random distinct pages: checksums, then unstable-tree descents every pass', processes: { a: [{ pages: 24 * K, content: seeds(1_000_000) }] }, passes: 4 },
  { name: 'fit-identical', description: 'two processes of one fill: merges into chains of max_page_sharing', processes: { a: [{ pages: 12 * K, content: { fill: 7 } }], b: [{ pages: 12 * K, content: { fill: 7 } }] }, passes: 3, sysfs: NEVER_PRUNE },
  { name: 'fit-pairs', description: 'two processes with the same random pages: pairs merged from the unstable tree, then stable', processes: { a: [{ pages: 12 * K, content: seeds(2_000_000) }], b: [{ pages: 12 * K, content: seeds(2_000_000) }] }, passes: 4 },
  { name: 'fit-zero', description: 'zero pages merged with the zero page (use_zero_pages), a few distinct ones', processes: { a: [{ runs: [{ pages: 24 * K, content: 'zero' }, { pages: 2 * K, content: seeds(3_000_000) }] }] }, passes: 4, sysfs: { use_zero_pages: '1' } },
  { name: 'fit-tail', description: 'pages equal but for their last 8 bytes: every memcmp reads the whole page', processes: { a: [{ pages: 12 * K, content: { tailFrom: 1 } }] }, passes: 3 },
  { name: 'fit-groups', description: 'four processes with the same random pages: the stable tree searched and appended to', processes: Object.fromEntries(['a', 'b', 'c', 'd'].map((p) => [p, [{ pages: 6 * K, content: seeds(4_000_000) }]])), passes: 3 },
  { name: 'fit-chains-prune', description: 'one fill under max_page_sharing 16, chains pruned at every search', processes: { a: [{ pages: 8 * K, content: { fill: 9 } }] }, passes: 3, sysfs: { max_page_sharing: '16', stable_node_chains_prune_millisecs: '0' } },
  { name: 'fit-stable-search', description: 'pairs that become a stable tree, and distinct pages that search it every pass before the unstable tree', processes: { a: [{ pages: 6 * K, content: seeds(7_000_000) }], b: [{ pages: 6 * K, content: seeds(7_000_000) }], c: [{ pages: 12 * K, content: seeds(8_000_000) }] }, passes: 4 },
  { name: 'fit-mixed', description: 'runs of distinct, identical, zero and paired pages in one process', processes: { a: [{ runs: [{ pages: 8 * K, content: seeds(5_000_000) }, { pages: 4 * K, content: { fill: 3 } }, { pages: 4 * K, content: 'zero' }, { pages: 4 * K, content: seeds(6_000_000) }, { pages: 4 * K, content: seeds(6_000_000) }] }] }, passes: 3, sysfs: NEVER_PRUNE },
];

/** The check set: none of these is fitted on. */
export const CHECK_SPECS: Spec[] = [
  { name: 'chk-distinct-32k', description: '32 Ki random distinct pages', processes: { a: [{ pages: 32 * K, content: seeds(11_000_000) }] }, passes: 3 },
  { name: 'chk-distinct-2proc', description: 'two processes of random distinct pages', processes: { a: [{ pages: 10 * K, content: seeds(12_000_000) }], b: [{ pages: 10 * K, content: seeds(13_000_000) }] }, passes: 3 },
  { name: 'chk-identical-mps64', description: 'one fill under max_page_sharing 64', processes: { a: [{ pages: 16 * K, content: { fill: 5 } }] }, passes: 3, sysfs: { max_page_sharing: '64', ...NEVER_PRUNE } },
  { name: 'chk-triples', description: 'three processes with the same random pages', processes: Object.fromEntries(['a', 'b', 'c'].map((p) => [p, [{ pages: 8 * K, content: seeds(14_000_000) }]])), passes: 3 },
  { name: 'chk-zero-mixed', description: 'zero pages (use_zero_pages) and random distinct pages', processes: { a: [{ runs: [{ pages: 12 * K, content: 'zero' }, { pages: 8 * K, content: seeds(15_000_000) }] }] }, passes: 3, sysfs: { use_zero_pages: '1' } },
  { name: 'chk-zero-ksm', description: 'zero pages merged as KSM pages (use_zero_pages 0)', processes: { a: [{ pages: 16 * K, content: 'zero' }] }, passes: 3, sysfs: NEVER_PRUNE },
  { name: 'chk-tail-16k', description: 'pages equal but for their last 8 bytes, two processes', processes: { a: [{ pages: 8 * K, content: { tailFrom: 100_000 } }], b: [{ pages: 8 * K, content: { tailFrom: 200_000 } }] }, passes: 3 },
  { name: 'chk-groups-8', description: 'eight processes with the same random pages', processes: Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((p) => [p, [{ pages: 3 * K, content: seeds(16_000_000) }]])), passes: 3 },
  { name: 'chk-cycle-64', description: 'a cycle of 64 random pages: groups of 320 identical pages, chains under max_page_sharing 256', processes: { a: [{ pages: 20 * K, content: { cycle: Array.from({ length: 64 }, (_, i) => ({ seed: 17_000_000 + i })) } }] }, passes: 3, sysfs: NEVER_PRUNE },
  { name: 'chk-half-shared', description: 'two processes sharing half of their random pages', processes: { a: [{ runs: [{ pages: 8 * K, content: seeds(18_000_000) }, { pages: 8 * K, content: seeds(19_000_000) }] }], b: [{ runs: [{ pages: 8 * K, content: seeds(18_000_000) }, { pages: 8 * K, content: seeds(20_000_000) }] }] }, passes: 3 },
  { name: 'chk-chains-prune-32', description: 'one fill under max_page_sharing 32, chains pruned at every search', processes: { a: [{ pages: 12 * K, content: { fill: 11 } }] }, passes: 3, sysfs: { max_page_sharing: '32', stable_node_chains_prune_millisecs: '0' } },
  { name: 'chk-guests', description: 'three guests: zero pages, a shared image, a private heap', processes: Object.fromEntries(['g1', 'g2', 'g3'].map((p, i) => [p, [{ runs: [{ pages: 3 * K, content: 'zero' }, { pages: 4 * K, content: seeds(21_000_000) }, { pages: 3 * K, content: seeds(22_000_000 + i * 10_000) }] }]])), passes: 3, sysfs: NEVER_PRUNE },
];

export const fitWorkloads = (): Workload[] => FIT_SPECS.map(workload);
export const checkWorkloads = (): Workload[] => CHECK_SPECS.map(workload);
