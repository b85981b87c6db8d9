/**
 * The era registry against the tools: every era of the registry runs in
 * every tool, through the tool's own entry point. One row of TOOLS per tool
 * (a name and what "this era runs in it" means); a test is made for every
 * (era, tool) pair, so a new era is covered by every tool, and a new tool by
 * one row here.
 */
import test, { type ExecutionContext } from 'ava';
import { workloadRun } from '../../src/cli/commands/workload-run.js';
import { compare } from '../../src/compare/compare.js';
import { configurations } from '../../src/compare/configs.js';
import { ERAS, type EraEntry } from '../../src/eras/registry.js';
import { runFuzz } from '../../src/fuzz/fuzz.js';
import { runSoak } from '../../src/fuzz/soak.js';
import { targetsOf } from '../../src/fuzz/targets.js';
import { parseWorkloadText } from '../../src/workload/schema.js';
import { HostMachine } from '../../src/host/machine.js';
import { runScript } from '../../src/script/run.js';
import { registerScript } from '../helpers/script.js';
import { openTui } from '../tui/render.js';

/** A tool, and what running an era in it checks. */
export interface EraTool {
  name: string;
  run(t: ExecutionContext, era: EraEntry): void | Promise<void>;
}

/** Two guests sharing an image, registered and scanned: something to merge in every era. */
const TWO_GUESTS = parseWorkloadText(
  JSON.stringify({
    name: 'two-guests-small',
    pagesToScan: 16,
    processes: {
      a: [{ pages: 12, content: { seedFrom: 100 } }, { pages: 4, content: 'zero' }],
      b: [{ pages: 12, content: { seedFrom: 100 } }, { pages: 4, content: { seedFrom: 500 } }],
    },
    steps: [{ register: 'a' }, { register: 'b' }, { fullScans: 3 }, { snapshot: 'merged' }],
  }),
  'two-guests-small.json',
);

const workloadRunsEra = (t: ExecutionContext, era: EraEntry): void => {
  const r = workloadRun(TWO_GUESTS, { era: era.id });
  const merged = r.snapshots.find((s) => s.label === 'merged');
  t.truthy(merged, 'the snapshot was taken');
  t.true(merged!.pages_saved >= 11, `${era.id}: the shared image merged (${merged!.pages_saved} pages saved)`);
  t.deepEqual(r.errors, []);
};

const compareRunsEra = async (t: ExecutionContext, era: EraEntry): Promise<void> => {
  const c = await compare({ workload: TWO_GUESTS }, configurations([era.id], null), { mode: 'passes', passes: 2 }, { jobs: 0 });
  const [r] = c.configurations;
  t.like(r, { label: era.id, era: era.id, merger: era.merger });
  t.is(r.passes.length, 5, 'the workload\'s 3 passes and the 2 planned');
  t.true(r.end.pagesSaved >= 11);
};

const fuzzRunsEra = (t: ExecutionContext, era: EraEntry): void => {
  const targets = targetsOf(era);
  t.true(targets.length > 0, 'the era has its own fuzz targets');
  const r = runFuzz({ seed: 20251201, inputs: 60, targets });
  for (const x of r.targets) {
    t.is(x.inputs, 60, x.name);
    t.true(x.checks > 0, x.name);
  }
};

const soakRunsEra = (t: ExecutionContext, era: EraEntry): void => {
  const r = runSoak({ seed: 20251201, ops: 400, worldOps: 200, eras: [era.id] });
  t.like(r.perEra[era.id], { worlds: 2, ops: 400 });
  t.is(r.checks, 400);
};

const tuiRunsEra = async (t: ExecutionContext, era: EraEntry): Promise<void> => {
  const tui = await openTui({ era: era.id });
  try {
    const f = tui.frame();
    t.true(f.includes(era.label), `the header names ${era.label}`);
    t.regex(f, /pages_shar/, 'the counters are on screen');
    t.is(tui.props.session.info.id, era.id);
    t.true(tui.props.session.advance(2_000_000) > 0, 'ksmd runs its batches');
  } finally {
    tui.unmount();
  }
};

const scriptRunsEra = (t: ExecutionContext, era: EraEntry): void => {
  let out = '';
  const sink = { trace: () => {}, stdout: (s: string) => void (out += s), stderr: (s: string) => void (out += s) };
  const r = runScript('guest.ksm', registerScript(era), { era: era.id, sink });
  t.is(r.status, 0, r.error ?? out);
  t.is(r.settings?.era.id, era.id);
};

const hostRunsEra = (t: ExecutionContext, era: EraEntry): void => {
  const m = new HostMachine({ era: era.id, clock: 'manual' });
  t.is(m.info().era, era.id);
  const r = m.run('guest.ksm', registerScript(era, { pause: true }), false);
  t.is(r.status, 0, r.output.map((c) => c.text).join(''));
  t.true(m.state().fullScans >= 2);
};

/** Every tool that takes an era. */
export const TOOLS: EraTool[] = [
  { name: 'workload run', run: workloadRunsEra },
  { name: 'compare', run: compareRunsEra },
  { name: 'fuzz', run: fuzzRunsEra },
  { name: 'soak', run: soakRunsEra },
  { name: 'the TUI', run: tuiRunsEra },
  { name: 'run', run: scriptRunsEra },
  { name: 'host', run: hostRunsEra },
];

for (const era of ERAS) {
  for (const tool of TOOLS) test(`${era.id} runs in ${tool.name}`, (t) => tool.run(t, era));
}
