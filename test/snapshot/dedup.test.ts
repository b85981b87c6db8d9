/** The snapshot writer's page hash and content index: equal pages one entry, pages a word apart two. */
import test from 'ava';
import { ContentIndex } from '../../src/snapshot/content-index.js';
import { pageHash128 } from '../../src/snapshot/hash128.js';

test('pages that differ in one word, anywhere, never share a 128-bit hash', (t) => {
  const words = new Int32Array(1024);
  const h = new Int32Array(4);
  const seen = new Set<string>();
  pageHash128(words, 0, h);
  seen.add(h.join(','));
  for (let w = 0; w < 1024; w++) {
    for (const bit of [0, 17, 31]) {
      words[w] = 1 << bit;
      pageHash128(words, 0, h);
      const key = h.join(',');
      t.false(seen.has(key), `word ${w} bit ${bit}`);
      seen.add(key);
      words[w] = 0;
    }
  }
  t.is(seen.size, 1 + 1024 * 3);
});

test('the content index finds what it filed, across its growth', (t) => {
  const idx = new ContentIndex();
  const words = new Int32Array(1024);
  const h = new Int32Array(4);
  for (let n = 1; n <= 5000; n++) {
    words[n % 1024] = n;
    pageHash128(words, 0, h);
    t.is(idx.get(h), 0);
    idx.add(h, n);
  }
  words.fill(0);
  for (let n = 1; n <= 5000; n++) {
    words[n % 1024] = n;
    pageHash128(words, 0, h);
    if (idx.get(h) !== n) t.fail(`content ${n}`);
  }
  t.is(idx.size, 5000);
});
