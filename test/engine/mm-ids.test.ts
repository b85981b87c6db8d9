/** The engine's mm ids are spent after MM_ID_MAX mms: fork fails as dup_mm does, spawn says why. */
import test from 'ava';
import { ERRNO } from '../../src/engine/errno.js';
import { Machine } from '../../src/engine/machine.js';
import { MM_ID_MAX } from '../../src/engine/memory/mm.js';

test('fork returns -ENOMEM and spawn throws a clear RangeError once MM_ID_MAX mms exist', (t) => {
  const m = new Machine();
  const first = m.spawn('init');
  for (let i = first.mm.id + 1; i < MM_ID_MAX; i++) m.memory.createMm();
  const last = m.fork(first);
  t.false(typeof last === 'number', 'the last id is still handed out');
  t.is(m.fork(first), -ERRNO.ENOMEM);
  t.throws(() => m.spawn('one too many'), { instanceOf: RangeError, message: /no more address spaces/ });
});
