/**
 * Uint32Array views over the buffers behind page bytes, so word-form hashes
 * (jhash2, XXH64 stripes) read whole little-endian words. One view is cached
 * per ArrayBuffer (WeakMap) because page hashing runs on every scanned page.
 */

/** True on little-endian hosts, where a Uint32Array reads the words the kernel reads on x86. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

const views = new WeakMap<ArrayBufferLike, Uint32Array>();

/**
 * A Uint32Array over the whole buffer of `bytes` whose word
 * `(bytes.byteOffset + pos) >>> 2` is the word at `bytes[pos]`, covering at
 * least `len` bytes from there; null when the position is not 4-byte aligned
 * or the host is big-endian (callers then read bytes).
 */
export function wordView(bytes: Uint8Array, pos: number, len: number): Uint32Array | null {
  const start = bytes.byteOffset + pos;
  if (!HOST_LITTLE_ENDIAN || (start & 3) !== 0) return null;
  const buffer = bytes.buffer;
  let view = views.get(buffer);
  // A growable buffer may have outgrown the cached view; make a new one then.
  if (view === undefined || view.length * 4 < start + len) {
    view = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
    views.set(buffer, view);
  }
  return view;
}
