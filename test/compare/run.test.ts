/** One configuration of a comparison: what each metric counts, convergence, checksums swapped, determinism. */
import test from 'ava';
import { compare } from '../../src/compare/compare.js';
import { CompareInputError, configurations, DEFAULT_COMPARE_ERAS, parseChecksums, parseEras } from '../../src/compare/configs.js';
import type { EraId } from '../../src/eras/registry.js';
import { STRUCT_BYTES, treeShape } from '../../src/compare/probe.js';
import { type ConfigResult, convergence, type PassRecord, type Plan, runConfiguration, SLEEP_MS } from '../../src/compare/run.js';
import { builtinWorkload } from '../../src/workload/builtin.js';

const run = (spec: string, era: EraId, plan: Plan = { mode: 'until-converged', passes: 20 }, checksum: string | null = null): ConfigResult => {
  const [config] = configurations([era], checksum === null ? null : parseChecksums(checksum));
  return runConfiguration({ workload: builtinWorkload(spec)! }, config, plan);
};

const GUESTS = 'identical-guests:n=2,pages=256,passes=1';

test('--eras and --checksum lists: order kept, v1 alone is v1:2008, unknown names refused', (t) => {
  t.deepEqual(parseEras('v3, v1,v2'), ['v3:2.6.32', 'v1:2008', 'v2']);
  t.throws(() => parseEras('v4'), { instanceOf: CompareInputError, message: /unknown era "v4" in --eras \(known: v1:2008, v1:2009, v2, v3:2.6.32, v3:3.9, v3:6.18\)/ });
  t.throws(() => parseEras('v2,v2'), { instanceOf: CompareInputError, message: /given twice/ });
  t.throws(() => parseChecksums('md5'), { instanceOf: CompareInputError, message: /unknown checksum "md5" in --checksum \(known: lookup2, lookup3, xxhash\)/ });
  t.deepEqual(
    configurations(['v2', 'v3:2.6.32'], ['lookup3', 'xxhash']).map((c) => c.label),
    ['v2+lookup3', 'v2+xxhash', 'v3:2.6.32+lookup3', 'v3:2.6.32+xxhash'],
  );
  t.deepEqual(
    configurations(DEFAULT_COMPARE_ERAS, null).map((c) => c.label),
    ['v1:2008', 'v1:2009', 'v2', 'v3:2.6.32'],
  );
});

test('tree shapes: depths from the root (1), over every node', (t) => {
  // 1 -> (2 -> 4), 3
  const left = new Int32Array([0, 2, 4, 0, 0]);
  const right = new Int32Array([0, 3, 0, 0, 0]);
  t.deepEqual(treeShape({ left, right }, 1), { nodes: 4, maxDepth: 3, meanDepth: (1 + 2 + 2 + 3) / 4 });
  t.deepEqual(treeShape({ left, right }, 0), { nodes: 0, maxDepth: 0, meanDepth: 0 });
});

const rec = (pagesSaved: number, merges: number, virtualMs: number): PassRecord =>
  ({ pagesSaved, merges, virtualMs, pagesShared: 0, pagesSharing: 0, cowBreaks: 0 }) as PassRecord;

test('convergence: the last pass that changed anything, once two quiet passes follow it', (t) => {
  t.deepEqual(convergence([rec(0, 0, 20), rec(5, 5, 40), rec(5, 5, 60), rec(5, 5, 80)]), { pass: 2, virtualMs: 40 });
  t.is(convergence([rec(0, 0, 20), rec(5, 5, 40), rec(5, 5, 60)]), null);
  t.deepEqual(convergence([rec(0, 0, 20), rec(0, 0, 40)]), { pass: 0, virtualMs: 0 });
  // Merges count as change even when pages saved stays (a page merged as another was broken).
  t.is(convergence([rec(5, 5, 20), rec(5, 5, 40), rec(5, 6, 60), rec(5, 6, 80)]), null);
});

test('v3 merges nothing in its first pass (the checksum gate), the hash merger at once', (t) => {
  const v3 = run(GUESTS, 'v3:2.6.32');
  const hash = run(GUESTS, 'v1:2008');
  t.is(v3.passes[0].pagesSaved, 0);
  t.true(v3.passes[1].pagesSaved > 0);
  t.true(hash.passes[0].pagesSaved > 0);
  t.is(v3.end.pagesSaved, hash.end.pagesSaved);
  t.deepEqual(v3.converged, { pass: 2, virtualMs: v3.passes[1].batches * SLEEP_MS });
  t.is(hash.converged?.pass, 1);
});

test('each merger reports its own structures: trees for the tree mergers, page_hash for the hash merger', (t) => {
  for (const era of ['v1:2009', 'v2', 'v3:2.6.32'] as const) {
    const r = run(GUESTS, era);
    const last = r.passes[r.passes.length - 1];
    t.is(last.buckets, null, era);
    t.true(last.stable!.nodes > 0, era);
    t.true(last.stable!.maxDepth >= Math.log2(last.stable!.nodes + 1), era);
    // Red-black: no path is longer than twice the shortest, so max <= 2 log2(n + 1).
    t.true(last.stable!.maxDepth <= 2 * Math.log2(last.stable!.nodes + 1), era);
    t.is(r.end.falseHashMatches, 0, era);
  }
  const h = run(GUESTS, 'v1:2008');
  const last = h.passes[h.passes.length - 1];
  t.is(last.stable, null);
  t.true(last.buckets!.used > 0);
  t.true(last.buckets!.longest >= 1);
  t.true(last.buckets!.mean >= 1);
});

test('false hash matches: a small page_hash puts different pages in one bucket', (t) => {
  // 509 pages x 2 guests of unique content into 4099 buckets: collisions are certain.
  const r = run('zero-heavy:n=2,pages=1024,zero=50', 'v1:2008');
  t.true(r.end.falseHashMatches > 0);
});

test('metadata: tracking items priced at their era struct sizes', (t) => {
  const v3 = run(GUESTS, 'v3:2.6.32');
  // Every registered page has an rmap_item; 2 mm_slots.
  t.is(v3.end.trackingItems, 512 + 2);
  t.is(v3.end.metadataBytes, 512 * STRUCT_BYTES.mainline.rmapItem + 2 * STRUCT_BYTES.mainline.mmSlot);
  const v2 = run(GUESTS, 'v2');
  const v1 = run(GUESTS, 'v1:2009');
  // The same merger: only the slot struct differs (000 has no sma_link).
  t.is(v1.end.metadataBytes - v2.end.metadataBytes, 2 * (STRUCT_BYTES.tree2009.memSlot002 - STRUCT_BYTES.tree2009.memSlot000));
});

test('volatile churn: the hash merger merges the hot pages and pays in copy-on-write breaks; the checksum gate keeps v3 off them', (t) => {
  const spec = 'volatile-churn:n=2,pages=64,hot=50,rounds=3';
  const plan: Plan = { mode: 'passes', passes: 0 };
  const hash = run(spec, 'v1:2008', plan);
  const v3 = run(spec, 'v3:2.6.32', plan);
  t.is(hash.passes.length, 4);
  t.true(hash.end.cowBreaks >= 3 * 32, `${hash.end.cowBreaks}`);
  t.is(v3.end.cowBreaks, 0);
});

test('--passes N runs exactly N passes after the steps', (t) => {
  const r = run(GUESTS, 'v3:2.6.32', { mode: 'passes', passes: 4 });
  t.is(r.passes.length, 1 + 4);
  t.deepEqual(
    r.passes.map((p) => p.pass),
    [1, 2, 3, 4, 5],
  );
});

test('a swapped checksum changes no tree result (32-bit checksums do not collide here) but moves the hash merger to other buckets', (t) => {
  const own = run(GUESTS, 'v3:2.6.32');
  const xx = run(GUESTS, 'v3:2.6.32', undefined, 'xxhash');
  t.is(xx.checksum, 'xxhash');
  t.is(own.checksum, 'lookup2');
  t.deepEqual(
    xx.passes.map((p) => p.pagesSaved),
    own.passes.map((p) => p.pagesSaved),
  );
  const hOwn = run('zero-heavy:n=2,pages=1024,zero=50', 'v1:2008');
  const hXx = run('zero-heavy:n=2,pages=1024,zero=50', 'v1:2008', undefined, 'xxhash');
  t.notDeepEqual(hXx.passes[0].buckets, hOwn.passes[0].buckets);
});

test('the same comparison twice, in worker threads, gives the same numbers', async (t) => {
  const w = builtinWorkload('volatile-churn:n=2,pages=64,hot=25,rounds=2')!;
  const configs = configurations(DEFAULT_COMPARE_ERAS, null);
  const plan: Plan = { mode: 'until-converged', passes: 10 };
  const a = await compare({ workload: w }, configs, plan);
  const b = await compare({ workload: w }, configs, plan);
  const inline = await compare({ workload: w }, configs, plan, { jobs: 0 });
  t.deepEqual(a, b);
  t.deepEqual(a, inline);
  t.deepEqual(
    a.configurations.map((r) => r.label),
    ['v1:2008', 'v1:2009', 'v2', 'v3:2.6.32'],
  );
});

test('v3 kernel versions compare too: 6.18 splits a page mapped more than max_page_sharing (256) times, 3.9 does not', (t) => {
  const spec = 'many-sharers:n=4,pages=128'; // 512 mappings of one page
  const v39 = run(spec, 'v3:3.9');
  const v618 = run(spec, 'v3:6.18');
  t.is(v39.checksum, 'lookup3');
  t.is(v618.checksum, 'xxhash');
  t.like(v39.end, { pagesSaved: 511, pagesShared: 1 });
  t.like(v618.end, { pagesSaved: 510, pagesShared: 2 });
  // 512 rmap_items, one stable_node, 4 mm_slots.
  t.is(v39.end.metadataBytes, 512 * STRUCT_BYTES.mainline39.rmapItem + STRUCT_BYTES.mainline39.stableNode + 4 * STRUCT_BYTES.mainline39.mmSlot);
  // 6.18: a chain and its two dups.
  t.is(v618.end.metadataBytes, 512 * STRUCT_BYTES.mainline618.rmapItem + 3 * STRUCT_BYTES.mainline618.stableNode + 4 * STRUCT_BYTES.mainline618.mmSlot);
  t.is(lastPassOf(v618).stable!.nodes, 1);
  t.deepEqual(parseEras('v3:2.6.32,v3:6.18'), ['v3:2.6.32', 'v3:6.18']);
  t.deepEqual(parseEras('v3-3.9,v1-2009'), ['v3:3.9', 'v1:2009']);
  t.throws(() => parseEras('v3,v3:2.6.32'), { instanceOf: CompareInputError, message: /era v3:2.6.32 given twice/ });
});

const lastPassOf = (r: ConfigResult) => r.passes[r.passes.length - 1];
