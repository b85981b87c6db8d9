/** The memory system's side tables: their sizes, and what lazily allocated or trimmed parts read. */
import test from 'ava';
import { ChecksumCache } from '../../src/engine/memory/checksum-cache.js';
import { ContentStore, nextCapacity } from '../../src/engine/memory/content-store.js';
import { Frames } from '../../src/engine/memory/frames.js';

function page(i: number): Uint8Array {
  const p = new Uint8Array(4096);
  new DataView(p.buffer).setUint32(4092, i, true);
  return p;
}

test('nextCapacity doubles below 64 Ki entries and grows by a quarter from there', (t) => {
  t.is(nextCapacity(1024, 1025), 2048);
  t.is(nextCapacity(32768, 32769), 65536);
  t.is(nextCapacity(65536, 65537), 81920);
  t.is(nextCapacity(262144, 262145), 327680);
  t.true(nextCapacity(200000, 262145) < 262145 * 1.26);
});

test('frames: node reads 0 and costs nothing until a frame is placed off node 0', (t) => {
  const c = new ContentStore();
  const fr = new Frames(c);
  fr.reserve(2000);
  const bytes = fr.memoryBytes();
  t.is(bytes, 2001 * 13);
  const f = fr.alloc(c.intern(page(1), 0), 0);
  t.is(fr.nodeOf(f), 0);
  t.is(fr.nodeOf(1999), 0);
  t.is(fr.memoryBytes(), bytes);
  const g = fr.alloc(c.intern(page(2), 0), 0, 3);
  t.is(fr.memoryBytes(), 2001 * 14);
  t.is(fr.nodeOf(g), 3);
  t.is(fr.node[g], 3);
  t.is(fr.nodeOf(f), 0);
  t.is(fr.node[f], 0);
  // The node table follows the frame table as it grows, and a reused frame takes its new node.
  for (let i = 0; i < 2200; i++) fr.alloc(c.intern(page(10 + i), 0), 0, i % 2);
  t.is(fr.node.length, fr.memoryBytes() / 14);
  t.is(fr.nodeOf(fr.limit - 1), 1);
  t.is(fr.nodeOf(g), 3);
  fr.put(g);
  t.is(fr.alloc(c.intern(page(5), 0), 0), g);
  t.is(fr.nodeOf(g), 0);
});

test('frames: the node table is allocated, all zeros, when `node` is first used', (t) => {
  const c = new ContentStore();
  const fr = new Frames(c);
  const f = fr.alloc(c.intern(page(1), 0), 0);
  const bytes = fr.memoryBytes();
  t.is(fr.node[f], 0);
  t.is(fr.memoryBytes(), bytes + fr.node.length);
  const g = fr.alloc(c.intern(page(2), 0), 0, 2);
  t.is(fr.node[g], 2);
  t.is(fr.nodeOf(g), 2);
});

test('checksum cache: sized by the content store, valid bits cleared when a content is freed, trimmed with it', (t) => {
  const c = new ContentStore();
  let calls = 0;
  const cache = new ChecksumCache(c, (p, off) => {
    calls++;
    return new DataView(p.buffer, p.byteOffset).getUint32(off + 4092, true) * 2 + 1;
  });
  const ids: number[] = [];
  for (let i = 0; i < 5000; i++) ids.push(c.intern(page(i), 0));
  t.is(cache.memoryBytes(), 0);
  t.is(cache.of(ids[4999]), 4999 * 2 + 1);
  t.is(cache.memoryBytes(), c.capacity * 4 + Math.ceil(c.capacity / 32) * 4);
  for (let i = 0; i < 5000; i++) t.is(cache.of(ids[i]), i * 2 + 1);
  t.is(calls, 5000);
  for (let i = 0; i < 5000; i++) cache.of(ids[i]);
  t.is(calls, 5000);
  // A freed id reused for another content is hashed again.
  c.unref(ids[40]);
  t.is(c.intern(page(777777), 0), ids[40]);
  t.is(cache.of(ids[40]), 777777 * 2 + 1);
  t.is(calls, 5001);
  c.trim();
  t.is(cache.memoryBytes(), c.capacity * 4 + Math.ceil(c.capacity / 32) * 4);
  for (let i = 0; i < 5000; i++) if (i !== 40) t.is(cache.of(ids[i]), i * 2 + 1);
  t.is(calls, 5001);
  // New ids past the trimmed capacity grow the cache with the store.
  const more = c.intern(page(123456789), 0);
  t.is(cache.of(more), (123456789 * 2 + 1) >>> 0);
  t.true(cache.memoryBytes() >= c.capacity * 4);
});
