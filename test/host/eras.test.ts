/**
 * `ksmctl host` on every era of the registry, in-process: a workload boots
 * into it through the era's adapter (its registrations in the trace with
 * their pids), a script registers memory and stays paused, ksmd merges it,
 * the status shows the era's counters, and the legacy verbs answer as the
 * original program did: on v1 its output, elsewhere `could not open
 * /dev/ksm`.
 */
import test from 'ava';
import { ERAS } from '../../src/eras/registry.js';
import { DEFAULT_HOST_ERA, HostMachine } from '../../src/host/machine.js';
import type { OutputChunk } from '../../src/host/protocol.js';
import type { Workload } from '../../src/workload/schema.js';
import { registerScript } from '../helpers/script.js';

const text = (out: OutputChunk[], fd?: 1 | 2) => out.filter((c) => fd === undefined || c.fd === fd).map((c) => c.text).join('');

/** Two guests of 8 equal pages each, registered before the first scan. */
const GUESTS: Workload = {
  name: 'two',
  description: '',
  pagesToScan: 100,
  hashTables: { pageHash: 4099, rmapHash: 4099, sha1Cache: 1031 },
  processes: ['a', 'b'].map((name) => ({ name, regions: [{ pages: 8, runs: [{ pages: 8, content: { kind: 'fill' as const, value: 9 } }] }] })),
  steps: [
    { index: 0, kind: 'register', proc: 'a' },
    { index: 1, kind: 'register', proc: 'b' },
    { index: 2, kind: 'fullScans', count: 2 },
  ],
};

test('the host\'s default era is v1 with the one default ABI', (t) => {
  t.is(DEFAULT_HOST_ERA, 'v1:2008');
  t.is(new HostMachine({ clock: 'manual' }).info().era, 'v1:2008');
});

for (const era of ERAS) {
  test(`host --era ${era.id}: a script's processes live on, merged; status, and the legacy verbs`, (t) => {
    const m = new HostMachine({ era: era.id, clock: 'manual' });
    t.like(m.info(), { era: era.id, abi: era.abi ?? null, title: `${era.id}: ${era.title}` });
    const r = m.run('guest.ksm', registerScript(era, { pause: true }), false);
    t.is(r.status, 0, text(r.output));
    const s = m.state();
    t.true(s.processes.some((p) => p.name === 'guest' && p.alive));
    t.true(s.fullScans >= 2);
    if (era.family === 'v1') t.deepEqual(s.counters, {}, '/dev/ksm has no counter files');
    else t.true(s.counters.pages_shared >= 1, JSON.stringify(s.counters));
    if (era.id === 'v3:6.18') t.true(s.counters.general_profit > 0);
    const info = m.ksmctl(['info']);
    if (era.family === 'v1') {
      t.is(info.status, 0);
      t.regex(text(info.output, 1), /^flags 1, pages_to_scan 100(,| npages_merge 100,) sleep_time 20\n$/);
    } else {
      t.deepEqual({ out: text(info.output), status: info.status }, { out: 'could not open /dev/ksm\n', status: 1 });
    }
  });

  test(`host --era ${era.id}: a workload boots through the adapter, its registrations in the trace with their pids`, (t) => {
    const m = new HostMachine({ era: era.id, clock: 'manual', workload: GUESTS });
    const lines = m.trace.read(0, 1000).lines.map((l) => l.text);
    const guests = m.state().processes.filter((p) => p.alive);
    t.deepEqual(guests.map((p) => p.name), ['a', 'b']);
    for (const g of guests) {
      t.true(lines.some((l) => l.startsWith(`[pid ${g.pid}] mmap(NULL, 32768, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x`)), lines.join('\n'));
      const call = era.family === 'v1' ? 'ioctl(4, KSM_REGISTER_MEMORY_REGION, {npages=8, ' : `madvise(0x`;
      t.true(lines.some((l) => l.startsWith(`[pid ${g.pid}] ${call}`) && l.endsWith(' = 0')), lines.join('\n'));
      const p = m.sys.machine.processes.get(g.pid)!;
      t.is(m.adapter.registeredRanges(p.mm).length, 1);
    }
  });
}
