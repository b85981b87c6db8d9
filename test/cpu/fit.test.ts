/**
 * The fit of the ksmd CPU model: non-negative least squares, and costs
 * recovered from synthetic passes whose CPU time is made from known costs.
 */
import test from 'ava';
import fc from 'fast-check';
import { zeroWork } from '../../src/engine/merge/stats.js';
import { fitCosts, type PassSample } from '../../src/cpu/fit.js';
import { nnls } from '../../src/cpu/nnls.js';
import { PRICED_WORK } from '../../src/cpu/profile.js';

test('nnls solves a consistent system exactly and keeps a negative solution at the bound', (t) => {
  const A = [
    [1, 0],
    [0, 1],
    [1, 1],
  ];
  const x = nnls(A, [2, 3, 5]);
  t.true(Math.abs(x[0] - 2) < 1e-9 && Math.abs(x[1] - 3) < 1e-9);
  // The unconstrained answer is (-1, 2): the constrained one holds x0 at 0.
  const y = nnls([[1, 1], [1, 2]], [1, 3]);
  t.is(y[0], 0);
  t.true(y[1] > 0);
});

const cost = fc.oneof(fc.constant(0), fc.double({ min: 0.01, max: 2000, noNaN: true }));
const perByte = fc.oneof(fc.constant(0), fc.double({ min: 0.001, max: 1, noNaN: true }));

test('the fit recovers known costs from passes made with them (fast-check)', (t) => {
  fc.assert(
    fc.property(
      fc.record({
        pagesScanned: cost, bytesHashed: perByte, bytesCompared: perByte, stableLevels: cost, unstableLevels: cost, chainDups: cost,
        mergeAttempts: cost, merges: cost, itemAllocs: cost, stableNodeAllocs: cost, pass: fc.double({ min: 1000, max: 1e6, noNaN: true }),
      }),
      fc.array(fc.array(fc.integer({ min: 0, max: 1 << 16 }), { minLength: PRICED_WORK.length, maxLength: PRICED_WORK.length }), { minLength: 30, maxLength: 40 }),
      (costs, counts) => {
        const samples: PassSample[] = counts.map((c, i) => {
          const work = zeroWork();
          PRICED_WORK.forEach((k, j) => (work[k] = k.startsWith('bytes') ? c[j] * 64 : c[j]));
          let ns = costs.pass;
          for (const k of PRICED_WORK) ns += costs[k] * work[k];
          return { workload: `w${i % 5}`, pass: i, work, measuredNs: ns };
        });
        const fit = fitCosts(samples);
        for (const k of [...PRICED_WORK, 'pass'] as const) {
          // Each cost within a millionth of the largest contribution any pass has from it.
          const scale = Math.max(...samples.map((s) => (k === 'pass' ? 1 : s.work[k]))) || 1;
          const contribution = Math.max(...samples.map((s) => s.measuredNs));
          if (Math.abs(fit.costsNs[k] - costs[k]) * scale > 1e-6 * contribution) return false;
        }
        return fit.rmsRelativeError < 1e-6 && fit.costsNs.wakeup === 0;
      },
    ),
    { numRuns: 60 },
  );
  t.pass();
});

test('a cost no pass exercises is 0, and the profile says so', (t) => {
  const samples: PassSample[] = [1, 2, 3, 4].map((i) => {
    const work = zeroWork();
    work.pagesScanned = 1000 * i;
    work.bytesHashed = 4096 * 1000 * i * i;
    return { workload: 'w', pass: i, work, measuredNs: 300 * work.pagesScanned + 0.1 * work.bytesHashed + 5000 };
  });
  const fit = fitCosts(samples);
  t.true(Math.abs(fit.costsNs.pagesScanned - 300) < 1e-3);
  t.is(fit.costsNs.merges, 0);
  t.true(fit.notes.some((n) => n.includes('merges')));
});
