import test from 'ava';
import { PAGE_SIZE } from '../../src/engine/constants.js';
import { TASK_SIZE, TASK_UNMAPPED_BASE } from '../../src/engine/memory/mm.js';
import * as m2632 from '../../src/engine/merge/mainline-2632.js';
import * as m39 from '../../src/engine/merge/mainline-39.js';
import * as m618 from '../../src/engine/merge/mainline-618.js';
import { RMAP_FLAGS_MASK, RMAP_MAX_MM_ID, RmapItems } from '../../src/engine/merge/rmap-items.js';
import { RmapItems3x } from '../../src/engine/merge/rmap-items-3x.js';

const ADDRS = [0, PAGE_SIZE, 2 ** 31, 2 ** 32 - PAGE_SIZE, 2 ** 32, 2 ** 32 + PAGE_SIZE, TASK_UNMAPPED_BASE, 2 ** 46, TASK_SIZE - PAGE_SIZE];

test('mm, address and flags come back as they were stored, for addresses up to TASK_SIZE', (t) => {
  const it = new RmapItems();
  for (const addr of ADDRS) {
    for (const mm of [1, 2, 0xffff, RMAP_MAX_MM_ID]) {
      const i = it.alloc();
      it.setMmAddr(i, mm, addr);
      t.is(it.mmId(i), mm);
      t.is(it.addr(i), addr);
      t.is(it.flagsOf(i), 0);
      it.orFlags(i, 0x100 | 0xab);
      it.orFlags(i, 0x200);
      t.is(it.flagsOf(i), 0x3ab);
      it.clearFlags(i, 0x100);
      t.is(it.flagsOf(i), 0x2ab);
      t.is(it.addr(i), addr, 'the flags leave the address alone');
      t.is(it.mmId(i), mm);
      it.setMmAddr(i, mm, addr + PAGE_SIZE);
      t.is(it.flagsOf(i), 0x2ab, 'moving the item keeps its flags');
      t.is(it.addr(i), addr + PAGE_SIZE);
      it.setFlags(i, 0);
      t.is(it.flagsOf(i), 0);
      t.is(it.addr(i), addr + PAGE_SIZE);
      it.release(i);
    }
  }
});

test('the address order is the numeric order across the 2^32 boundary', (t) => {
  const it = new RmapItems();
  const ids = ADDRS.map((a) => {
    const i = it.alloc();
    it.setMmAddr(i, 7, a);
    it.setFlags(i, 0xfff);
    return i;
  });
  for (let k = 1; k < ids.length; k++) t.true(it.addr(ids[k - 1]) < it.addr(ids[k]));
});

test('what the packing cannot hold is refused, not aliased', (t) => {
  const it = new RmapItems();
  const i = it.alloc();
  t.throws(() => it.setMmAddr(i, RMAP_MAX_MM_ID + 1, PAGE_SIZE), { instanceOf: RangeError, message: /mm id/ });
  t.throws(() => it.setMmAddr(i, 1, 2 ** 47), { instanceOf: RangeError });
  t.throws(() => it.setMmAddr(i, 1, PAGE_SIZE + 8), { instanceOf: RangeError });
  t.throws(() => it.setMmAddr(i, 1, -PAGE_SIZE), { instanceOf: RangeError });
  t.throws(() => it.setMmAddr(i, 1, PAGE_SIZE + 0.5), { instanceOf: RangeError });
  t.throws(() => it.setMmAddr(i, 1, Number.NaN), { instanceOf: RangeError });
  t.throws(() => it.setMmAddr(i, -1, PAGE_SIZE), { instanceOf: RangeError, message: /mm id/ });
});

test('the flags of every seed fit below PAGE_SHIFT, where the packing keeps them', (t) => {
  for (const f of [m2632.SEQNR_MASK, m2632.NODE_FLAG, m2632.STABLE_FLAG, m39.SEQNR_MASK, m39.UNSTABLE_FLAG, m39.STABLE_FLAG, m618.SEQNR_MASK, m618.UNSTABLE_FLAG, m618.STABLE_FLAG]) {
    t.is(f & ~RMAP_FLAGS_MASK, 0);
  }
  t.is(RMAP_FLAGS_MASK, PAGE_SIZE - 1);
});

test('memoryBytes counts the typed arrays: 29 bytes an item, 33 with the 3.x fields', (t) => {
  t.is(RmapItems.BYTES_PER_ITEM, 29);
  t.is(RmapItems3x.BYTES_PER_ITEM_3X, 33);
  for (const it of [new RmapItems(), new RmapItems3x()]) {
    it.reserve(5000);
    const o = it as unknown as Record<string, unknown>;
    let bytes = 0;
    for (const k of Object.keys(o)) if (ArrayBuffer.isView(o[k])) bytes += (o[k] as Uint8Array).byteLength;
    t.is(it.memoryBytes(), bytes);
  }
});
