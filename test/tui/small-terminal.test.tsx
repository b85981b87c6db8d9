/**
 * 80×24, the TUI's stated minimum: every counter of every era, the footer
 * in whole entries with `?` for the rest, a scroll marker for guests that do
 * not fit, one line per call; sparklines scaled to their own window.
 */
import test from 'ava';
import { ERAS } from '../../src/eras/registry.js';
import { MIN_COLUMNS, MIN_ROWS } from '../../src/tui/app.js';
import { sparkline } from '../../src/tui/format.js';
import { KEY_TABLE } from '../../src/tui/keys.js';
import { footerText, MORE_KEYS } from '../../src/tui/panels/bars.js';
import { oneLine } from '../../src/tui/panels/log.js';
import { lines, openTui } from './render.js';

/** The frame once ink has drawn it at 80×24 (on a loaded machine the first frame, at the test terminal's own 100 columns, can come last). */
async function settled(frame: () => string, ms = 10_000): Promise<string> {
  const end = Date.now() + ms;
  let f = frame();
  while (!(lines(f).length === 23 && lines(f).every((l) => l.length <= 80)) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    f = frame();
  }
  return f;
}

/** The frame once it matches `re` (or after `ms`, for the assertion to show it). */
async function settledOn(frame: () => string, re: RegExp, ms = 10_000): Promise<string> {
  const end = Date.now() + ms;
  let f = frame();
  while (!re.test(f) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    f = frame();
  }
  return f;
}

test('the stated minimum is 80×24, as the README says', (t) => {
  t.is(`${MIN_COLUMNS}×${MIN_ROWS}`, '80×24');
});

test('at 80×24 every era shows every counter it has, whole, and the footer points to ? for the keys it leaves out', async (t) => {
  for (const era of ERAS) {
    const tui = await openTui({ era: era.id, before: (p) => p.session.advance(2_000_000) });
    const f = await settled(tui.frame);
    for (const name of tui.props.session.counterNames) t.regex(f, new RegExp(`│${name}\\*? +\\d+ `), `${era.id}: ${name}`);
    const footer = lines(f).at(-1)!;
    t.regex(footer, new RegExp(`^ \\? (help|${MORE_KEYS}) `), era.id);
    t.notRegex(footer, /…/, 'no entry cut in the middle');
    t.true(lines(f).every((l) => l.length <= 80), era.id);
    tui.unmount();
  }
});

test('the footer: whole when it fits, else whole entries after "? all keys"; c and w say what they do', (t) => {
  const all = footerText([], Infinity);
  t.regex(all, /^\? help {2}q quit /);
  t.regex(all, / c write 32 {2}w churn on\/off /);
  for (const width of [30, 50, 79, 100, 140]) {
    const f = footerText([], width);
    t.true(f.length <= width, `${width}`);
    if (f !== all) {
      t.regex(f, /^\? all keys( {2}|$)/);
      for (const entry of f.split('  ').slice(1)) t.true(all.includes(entry), entry);
    }
  }
  t.is(footerText([], all.length), all);
  const help = KEY_TABLE.find((b) => b.command === 'churn')!;
  t.regex(help.help, /writes 32/);
});

test('5 or more guests: the processes panel marks those scrolled out of view, and selecting scrolls to them', async (t) => {
  const tui = await openTui();
  await tui.press('g');
  let f = await settledOn(tui.frame, /Processes · 2-5 of 5/);
  t.regex(f, /▶ +104 guest-e/, 'the new guest is selected');
  t.regex(f, /Processes · 2-5 of 5 · ↑↓ select/);
  t.regex(f, /│▲ +pid name/, 'one above the first row shown');
  await tui.press('k', 'k', 'k', 'k');
  f = await settledOn(tui.frame, /▶ +100 guest-a/);
  t.regex(f, /Processes · 1-4 of 5 · ↑↓ select/);
  t.regex(f, /│▼ +103 guest-d/, 'one below the last row shown');
  t.regex(f, /│ +pid name/);
  tui.unmount();
});

test('a call is one line: cut with … before its result, whole when it fits', (t) => {
  const call = 'ioctl(3, KSM_START_STOP_KTHREAD, {sleep=20000, pages_to_scan=100, flags=0, pad=0, reserved_bits=0}) = 0';
  t.is(oneLine(call, 200), call);
  const cut = oneLine(call, 60);
  t.is(cut.length, 60);
  t.true(cut.endsWith('… = 0'));
  t.true(call.startsWith(cut.slice(0, -5)));
  const refused = 'echo 1024 > /sys/kernel/mm/ksm/max_page_sharing  (write error: Device or resource busy)';
  t.regex(oneLine(refused, 78), /^echo 1024 > \/sys\/kernel\/mm\/ksm\/max_pa.*… {2}\(write error: Device or resource busy\)$/);
  t.is(oneLine('a note without a result that is long', 10), 'a note wi…');
});

test('sparklines are scaled to their own window: a slow climb shows, a steady value is flat', (t) => {
  t.is(sparkline([5000, 5010, 5020, 5030, 5040], 5), '▁▂▄▆█');
  t.is(sparkline([640, 640, 640], 3), '▁▁▁');
  t.is(sparkline([0, 0, 640, 640], 4), '▁▁██');
  t.is(sparkline([1, 2], 4), '▁█  ');
  t.is(sparkline([-4, 0, 4], 3), '▁▄█');
});
