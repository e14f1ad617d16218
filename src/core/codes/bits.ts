/**
 * Binary codes as packed 32-bit words.
 *
 * Bit `j` of a code is `(word[j >>> 5] >>> (j & 31)) & 1`; many codes sit back to
 * back in one `Uint32Array` (`words` words each), which is also their layout in
 * a pack (little-endian). Code lengths are whole words: 64 to 1024 bits.
 */

export const MIN_BITS = 64;
export const MAX_BITS = 1024;
export const DEFAULT_BITS = 256;

/** Words per code; throws a clear error for a length the index does not support. */
export function wordsPerCode(bits: number): number {
  if (!Number.isInteger(bits) || bits < MIN_BITS || bits > MAX_BITS || bits % 32 !== 0) {
    throw new RangeError(`Code length must be a multiple of 32 from ${MIN_BITS} to ${MAX_BITS} bits, not ${bits}.`);
  }
  return bits / 32;
}

export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Hamming distance between the code at `a[aOffset…]` and the one at `b[bOffset…]`. */
export function hamming(a: Uint32Array, aOffset: number, b: Uint32Array, bOffset: number, words: number): number {
  let distance = 0;
  for (let w = 0; w < words; w++) distance += popcount32((a[aOffset + w]! ^ b[bOffset + w]!) >>> 0);
  return distance;
}

/** "0101…", bit 0 first: the form the CLI prints. */
export function toBitString(code: Uint32Array, bits: number, offset = 0): string {
  let out = '';
  for (let j = 0; j < bits; j++) out += (code[offset + (j >>> 5)]! >>> (j & 31)) & 1 ? '1' : '0';
  return out;
}
