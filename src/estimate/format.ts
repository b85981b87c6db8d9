/** An estimate as text for the terminal (the JSON is the Estimate itself). */
import { PAGE_SIZE } from '../engine/constants.js';
import { bytes, duration, int } from '../compare/format.js';
import { formatTable } from '../format/table.js';
import { formatKsmdCpu } from '../cpu/model.js';
import type { Estimate, EraEstimate } from './estimate.js';
import { LOSS_LABELS, LOSS_REASONS } from './static-bound.js';

const pages = (n: number) => `${int(n)} (${bytes(n * PAGE_SIZE)})`;
const TOP_MAPPINGS = 10;

/** The pass table of one era. */
export function passTable(e: EraEstimate): string {
  const header = ['pass', 'virtual time', 'pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'ksm_zero_pages', 'pages_saved', 'metadata', 'profit'];
  const rows = e.replay.passes.map((p) => [p.pass, duration(p.virtualMs), int(p.pagesShared), int(p.pagesSharing), int(p.pagesUnshared), int(p.pagesVolatile), int(p.ksmZeroPages), int(p.pagesSaved), bytes(p.metadataBytes), bytes(p.generalProfit ?? p.pagesSaved * PAGE_SIZE - p.metadataBytes)]);
  return formatTable(header, rows, header.map((_, i) => i > 0));
}

function eraSection(x: Estimate, e: EraEstimate): string[] {
  const r = e.replay;
  const b = e.bound;
  const knobs = Object.entries(r.knobs).map(([k, v]) => `${k} ${v}`).join(', ');
  const out = [`${r.title}`, `  knobs: ${knobs}`, ''];
  if (r.passes.length) out.push(indent(passTable(e)), '');
  const end = r.passes[r.passes.length - 1];
  out.push(r.converged !== null ? `  converged: nothing changed after full scan ${r.converged} (${r.passes.length} scans run)` : `  not converged after ${r.passes.length} full scans (--max-passes)`);
  if (r.timeTo) out.push(`  time to 50 % / 90 % / 100 % of the final saving: ${duration(r.timeTo.p50)} / ${duration(r.timeTo.p90)} / ${duration(r.timeTo.p100)} of virtual time (a batch of ${r.pagesToScan} pages every ${r.sleepMs} ms)`);
  out.push(`  saved at the end: ${pages(r.finalSaved)} of ${pages(b.mergeableSaved)} within KSM's reach under --register ${x.snapshot.policy}`);
  if (end) out.push(`  metadata: ${int(end.metadataItems)} tracking items, ${bytes(end.metadataBytes)} (the era's struct sizes)`);
  const profitWhat = r.profitSource === 'general_profit' ? 'general_profit (the era\'s own file)' : 'net profit (saved bytes - metadata)';
  out.push(`  ${profitWhat}: ${bytes(r.profit)}`);
  out.push(`  ksmd CPU (model, profile ${r.ksmdCpu.profile}): ${formatKsmdCpu(r.ksmdCpu)} over ${duration((r.passes[r.passes.length - 1]?.virtualMs ?? 0))} of virtual time`);
  if (r.profit < 0) out.push(`  WARNING: the profit is negative: KSM's metadata costs more than it saves here`);
  for (const err of r.errors) out.push(`  ${err}`);
  out.push('');
  // Per process.
  const byProc = new Map<string, { registered: number; saved: number; within: number; across: number }>();
  for (const s of r.regions) {
    const t = byProc.get(s.proc) ?? { registered: 0, saved: 0, within: 0, across: 0 };
    t.registered += s.registered;
    t.saved += s.saved;
    t.within += s.within;
    t.across += s.across;
    byProc.set(s.proc, t);
  }
  const ph = ['process', 'present', 'registered', 'saved', 'within', 'across', 'static bound'];
  const pr = b.byProcess.map((p) => {
    const t = byProc.get(p.name) ?? { registered: 0, saved: 0, within: 0, across: 0 };
    return [p.name, int(p.present), int(t.registered), int(t.saved), int(t.within), int(t.across), int(p.saved)];
  });
  out.push('  saved per process (simulated end state; "static bound": what KSM could save there at best)', indent(formatTable(ph, pr, ph.map((_, i) => i > 0))), '');
  // Per mapping (top).
  const mh = ['process', 'range', 'mapping', 'mergeable', 'saved', 'within', 'across'];
  const top = b.byMapping.slice(0, TOP_MAPPINGS).map((m) => [m.proc, m.start, m.label.length > 40 ? `...${m.label.slice(-37)}` : m.label, int(m.mergeable), int(m.saved), int(m.within), int(m.across)]);
  if (top.length) out.push(`  static bound per mapping (top ${Math.min(TOP_MAPPINGS, b.byMapping.length)} of ${b.byMapping.length})`, indent(formatTable(mh, top, mh.map((_, i) => i > 2))), '');
  // Reasons.
  const reasons = LOSS_REASONS.filter((k) => b.lost[k] > 0).map((k) => [LOSS_LABELS[k], int(b.lost[k])]);
  reasons.push(['within reach, but not merged when the run ended', int(e.notReached)]);
  out.push('  pages identical to another page that will not merge, by reason', indent(formatTable(['reason', 'pages'], reasons, [false, true])));
  return out;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

/** An estimate as `ksmctl estimate` prints it. */
export function formatEstimate(x: Estimate): string {
  const s = x.snapshot;
  const b = x.eras[0]?.bound;
  const lines = [
    `estimate of ${s.files.join(', ')}: ${s.processes} process${s.processes === 1 ? '' : 'es'} captured ${s.time}${s.captures > 1 ? ` (${s.captures} captures: ${int(s.volatilePages)} pages changed between them)` : ''}`,
    `ranges registered: --register ${s.policy} (${pages(s.registeredPages)} present anonymous pages in them)`,
    '',
  ];
  if (b) {
    lines.push(
      'static bound (every present page captured)',
      indent(
        formatTable(
          ['', 'pages'],
          [
            ['present pages', pages(b.present)],
            ['zero pages', pages(b.zero)],
            ['distinct contents', int(b.distinctContents)],
            ['already one frame (shared libraries, forks)', pages(b.alreadyShared)],
            ['a perfect deduplicator saves', pages(b.perfectSaved)],
            [`KSM could save at best (--register ${s.policy})`, pages(b.mergeableSaved)],
          ],
          [false, true],
        ),
      ),
      '',
    );
  }
  for (const e of x.eras) lines.push(...eraSection(x, e), '');
  return lines.join('\n').trimEnd();
}
