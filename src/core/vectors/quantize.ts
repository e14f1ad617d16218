/**
 * Stored embeddings for re-ranking: int8 per component plus one float scale per
 * item, a quarter of float32's size. The scale is chosen so the dequantised vector
 * has unit length, so a query's dot product with it, times the scale, is the
 * cosine between the query and the stored direction (the rounding error is ~0.1%
 * of a cosine on MobileNet features). Queries are scored as int16 (int8-scorer.ts).
 */

/** Writes `vector` (any length > 0) into `out[outOffset…]`; returns its scale. */
export function quantizeInt8(vector: Float32Array, vectorOffset: number, dim: number, out: Int8Array, outOffset: number): number {
  let maxAbs = 0;
  for (let d = 0; d < dim; d++) maxAbs = Math.max(maxAbs, Math.abs(vector[vectorOffset + d]!));
  if (maxAbs === 0 || !Number.isFinite(maxAbs)) throw new RangeError('Cannot store a zero or non-finite embedding.');
  let sumSquares = 0;
  for (let d = 0; d < dim; d++) {
    const q = Math.round((vector[vectorOffset + d]! / maxAbs) * 127);
    out[outOffset + d] = q;
    sumSquares += q * q;
  }
  return 1 / Math.sqrt(sumSquares);
}

/**
 * The largest magnitude of a query's int16 values when scoring `stride` components at a time (score-int8.wat): each
 * of the kernel's four i32 lanes adds stride / 4 products of at most 128 times this, which must stay below 2^31.
 */
export function queryLevels(stride: number): number {
  return Math.min(32_767, Math.floor((2 ** 31 - 1) / (32 * stride)));
}

/**
 * Writes a query as int16 values (its largest component becomes ±`levels`) into `out`; returns the scale back.
 * Integer dot products are exact in any order, so the SIMD kernel and `dotInt8` agree to the bit. Each value moves by
 * at most half a step (the returned scale), so a cosine with a unit stored vector moves by at most half a step times
 * √dim: under 5e-4 of the largest component at 1023 dims and 32 767 levels, far under int8's own error.
 */
export function quantizeQuery(query: Float32Array, levels: number, out: Int16Array): number {
  let maxAbs = 0;
  for (let d = 0; d < query.length; d++) maxAbs = Math.max(maxAbs, Math.abs(query[d]!));
  if (maxAbs === 0) {
    out.fill(0, 0, query.length);
    return 0;
  }
  const toLevels = levels / maxAbs;
  for (let d = 0; d < query.length; d++) out[d] = Math.round(query[d]! * toLevels);
  return maxAbs / levels;
}

/** The exact dot product of an int16 query's first `dim` values with the stored item at `offset`. */
export function dotInt8(query: Int16Array, stored: Int8Array, offset: number, dim: number): number {
  let sum = 0;
  for (let d = 0; d < dim; d++) sum += query[d]! * stored[offset + d]!;
  return sum;
}

export function dequantizeInt8(stored: Int8Array, offset: number, dim: number, scale: number, out: Float32Array, outOffset: number): void {
  for (let d = 0; d < dim; d++) out[outOffset + d] = stored[offset + d]! * scale;
}
