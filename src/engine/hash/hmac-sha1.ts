/**
 * HMAC-SHA1 (RFC 2104) and the page digest of the November 2008 KSM patch:
 * `page_hash()` ran the crypto transform "hmac(sha1)" over the first
 * PAGEHASH_LEN bytes of a page, keyed with 20 random bytes per module load.
 */

import { Sha1, SHA1_BLOCK_SIZE, SHA1_DIGEST_SIZE } from './sha1.js';

/** The seed's PAGEHASH_LEN: only the first 128 bytes of a page are digested. */
export const PAGEHASH_LEN = 128;

// Reused contexts and pads: a digest allocates only its 20-byte result.
const inner = new Sha1();
const outer = new Sha1();
const pad = new Uint8Array(SHA1_BLOCK_SIZE);
const keyBlock = new Uint8Array(SHA1_BLOCK_SIZE);
const innerDigest = new Uint8Array(SHA1_DIGEST_SIZE);

/** HMAC-SHA1(key, data[dataOffset .. dataOffset+dataLength)) as a new 20-byte array. */
export function hmacSha1(
  key: Uint8Array,
  data: Uint8Array,
  dataOffset = 0,
  dataLength = data.length - dataOffset,
): Uint8Array {
  keyBlock.fill(0);
  // RFC 2104: a key longer than the block is replaced by its own hash.
  if (key.length > SHA1_BLOCK_SIZE) inner.reset().update(key).digestInto(keyBlock, 0);
  else keyBlock.set(key);
  for (let i = 0; i < SHA1_BLOCK_SIZE; i++) pad[i] = keyBlock[i] ^ 0x36;
  inner.reset().update(pad).update(data, dataOffset, dataLength).digestInto(innerDigest, 0);
  for (let i = 0; i < SHA1_BLOCK_SIZE; i++) pad[i] = keyBlock[i] ^ 0x5c;
  return outer.reset().update(pad).update(innerDigest).digest();
}

/** The seed's page_hash(): HMAC-SHA1 over the first PAGEHASH_LEN bytes of the page at `offset`. */
export function pageHmac(key: Uint8Array, page: Uint8Array, offset: number): Uint8Array {
  return hmacSha1(key, page, offset, PAGEHASH_LEN);
}
