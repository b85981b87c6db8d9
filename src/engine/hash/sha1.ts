/**
 * SHA-1 (FIPS 180-4), pure TypeScript, for the HMAC-SHA1 page digest of the
 * November 2008 KSM patch. A Sha1 context is reusable (reset) so callers
 * hashing many pages allocate nothing per page.
 */

export const SHA1_DIGEST_SIZE = 20;
export const SHA1_BLOCK_SIZE = 64;

export class Sha1 {
  private readonly h = new Int32Array(5);
  private readonly w = new Int32Array(80);
  private readonly block = new Uint8Array(SHA1_BLOCK_SIZE);
  private blockLen = 0;
  /** Total bytes hashed so far; a double is exact for any realistic length. */
  private total = 0;

  constructor() {
    this.reset();
  }

  reset(): this {
    const h = this.h;
    h[0] = 0x67452301;
    h[1] = 0xefcdab89 | 0;
    h[2] = 0x98badcfe | 0;
    h[3] = 0x10325476;
    h[4] = 0xc3d2e1f0 | 0;
    this.blockLen = 0;
    this.total = 0;
    return this;
  }

  update(data: Uint8Array, offset = 0, length = data.length - offset): this {
    let p = offset;
    const end = offset + length;
    this.total += length;
    if (this.blockLen > 0) {
      while (p < end && this.blockLen < SHA1_BLOCK_SIZE) this.block[this.blockLen++] = data[p++];
      if (this.blockLen < SHA1_BLOCK_SIZE) return this;
      this.compress(this.block, 0);
      this.blockLen = 0;
    }
    // Whole blocks are compressed straight from the input, without a copy.
    for (; p + SHA1_BLOCK_SIZE <= end; p += SHA1_BLOCK_SIZE) this.compress(data, p);
    while (p < end) this.block[this.blockLen++] = data[p++];
    return this;
  }

  /** Writes the 20-byte digest at out[outOffset]; the context must be reset before reuse. */
  digestInto(out: Uint8Array, outOffset = 0): Uint8Array {
    const bits = this.total * 8;
    const block = this.block;
    let n = this.blockLen;
    block[n++] = 0x80;
    if (n > 56) {
      block.fill(0, n);
      this.compress(block, 0);
      n = 0;
    }
    block.fill(0, n, 56);
    const hi = Math.floor(bits / 4294967296);
    const lo = bits >>> 0;
    block[56] = hi >>> 24; block[57] = hi >>> 16; block[58] = hi >>> 8; block[59] = hi;
    block[60] = lo >>> 24; block[61] = lo >>> 16; block[62] = lo >>> 8; block[63] = lo;
    this.compress(block, 0);
    const h = this.h;
    for (let i = 0; i < 5; i++) {
      const v = h[i];
      out[outOffset + 4 * i] = v >>> 24;
      out[outOffset + 4 * i + 1] = v >>> 16;
      out[outOffset + 4 * i + 2] = v >>> 8;
      out[outOffset + 4 * i + 3] = v;
    }
    return out;
  }

  digest(): Uint8Array {
    return this.digestInto(new Uint8Array(SHA1_DIGEST_SIZE));
  }

  private compress(data: Uint8Array, p: number): void {
    const w = this.w;
    for (let t = 0; t < 16; t++, p += 4) {
      w[t] = (data[p] << 24) | (data[p + 1] << 16) | (data[p + 2] << 8) | data[p + 3];
    }
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16];
      w[t] = (x << 1) | (x >>> 31);
    }
    const h = this.h;
    let a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (let t = 0; t < 80; t++) {
      let f: number, k: number;
      if (t < 20) { f = (b & c) | (~b & d); k = 0x5a827999; }
      else if (t < 40) { f = b ^ c ^ d; k = 0x6ed9eba1; }
      else if (t < 60) { f = (b & c) | (b & d) | (c & d); k = 0x8f1bbcdc | 0; }
      else { f = b ^ c ^ d; k = 0xca62c1d6 | 0; }
      const tmp = (((a << 5) | (a >>> 27)) + f + e + k + w[t]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = tmp;
    }
    h[0] = (h[0] + a) | 0;
    h[1] = (h[1] + b) | 0;
    h[2] = (h[2] + c) | 0;
    h[3] = (h[3] + d) | 0;
    h[4] = (h[4] + e) | 0;
  }
}

/** SHA-1 of data[offset .. offset+length) as a new 20-byte array. */
export function sha1(data: Uint8Array, offset = 0, length = data.length - offset): Uint8Array {
  return new Sha1().update(data, offset, length).digest();
}
