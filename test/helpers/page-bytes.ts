/**
 * A tiny local page generator for tests: the single-page contents "zero",
 * { fill }, { seed } and { tail } of test/fixtures/workloads/SCHEMA.md
 * ("Page contents", "Seeded pages"), so hash tests need no engine code.
 */

export type SinglePageContent = 'zero' | { fill: number } | { seed: number } | { tail: number };

export const PAGE_BYTES = 4096;

/** Writes the page for `content` into out[offset .. offset+4096). */
export function writePage(content: SinglePageContent, out: Uint8Array, offset = 0): Uint8Array {
  if (content === 'zero') {
    out.fill(0, offset, offset + PAGE_BYTES);
  } else if ('fill' in content) {
    out.fill(content.fill, offset, offset + PAGE_BYTES);
  } else if ('seed' in content) {
    // xorshift32 from x = s * 2654435761 + 1 (mod 2^32), 0 replaced by 1.
    let x = (Math.imul(content.seed >>> 0, 2654435761) + 1) >>> 0;
    if (x === 0) x = 1;
    for (let j = 0; j < 1024; j++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const p = offset + 4 * j;
      out[p] = x;
      out[p + 1] = x >>> 8;
      out[p + 2] = x >>> 16;
      out[p + 3] = x >>> 24;
    }
  } else if ('tail' in content) {
    out.fill(0, offset, offset + PAGE_BYTES);
    const lo = content.tail >>> 0;
    const hi = Math.floor(content.tail / 4294967296) >>> 0;
    const p = offset + 4088;
    for (let i = 0; i < 4; i++) {
      out[p + i] = lo >>> (8 * i);
      out[p + 4 + i] = hi >>> (8 * i);
    }
  } else {
    throw new Error(`unsupported page content ${JSON.stringify(content)}`);
  }
  return out;
}

/** A fresh 4096-byte page for `content`. */
export function pageBytes(content: SinglePageContent): Uint8Array {
  return writePage(content, new Uint8Array(PAGE_BYTES));
}
