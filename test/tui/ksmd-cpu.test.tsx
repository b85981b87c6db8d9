/** The counters panel's rates line shows ksmd's share of a core by the CPU model once ksmd has run. */
import test from 'ava';
import { openTui } from './render.js';

test.serial('the rates line shows the modelled ksmd cpu share once ksmd has run batches', async (t) => {
  const tui = await openTui({ columns: 160, rows: 48 });
  t.notRegex(tui.frame(), /ksmd cpu/, 'no share before two samples');
  const f = await tui.press('n', 'n', 'n', 'n');
  const m = /merge [^\n│]*· ksmd cpu ([0-9.]+) %/.exec(f);
  t.truthy(m, f);
  t.true(Number(m![1]) > 0, m![0]);
  tui.unmount();
});
