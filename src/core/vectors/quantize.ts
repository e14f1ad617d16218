/**
 * Stored embeddings for re-ranking: int8 per component plus one float scale per
 * item, a quarter of float32's size. The scale is chosen so the dequantised vector
 * has unit length, so `score` is the cosine between the query and the stored
 * direction (the rounding error is ~0.1% of a cosine on MobileNet features).
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

/** Cosine between a unit query and the stored item at `offset`. */
export function scoreInt8(query: Float32Array, stored: Int8Array, offset: number, scale: number): number {
  let sum = 0;
  for (let d = 0; d < query.length; d++) sum += query[d]! * stored[offset + d]!;
  return sum * scale;
}

export function dequantizeInt8(stored: Int8Array, offset: number, dim: number, scale: number, out: Float32Array, outOffset: number): void {
  for (let d = 0; d < dim; d++) out[outOffset + d] = stored[offset + d]! * scale;
}
