/** The low-frequency 2-D DCT of a grey image, on which the fused embedding's DCT part (and bench:quality's pHash) is built. */

/**
 * The `keep`×`keep` lowest frequencies of the 2-D DCT-II of an `n`×`n` grey
 * image (row-major, vertical frequency major); unnormalised, index 0 is DC.
 */
export function lowDct(grey: Float32Array, n: number, keep: number): Float32Array {
  if (grey.length !== n * n) throw new RangeError(`Expected ${n}×${n} = ${n * n} grey values, got ${grey.length}.`);
  if (keep > n) throw new RangeError(`Cannot keep ${keep} of ${n} frequencies.`);
  const basis = new Float64Array(keep * n);
  for (let u = 0; u < keep; u++) for (let x = 0; x < n; x++) basis[u * n + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * n));
  // Separable: each row (y, then u after the first pass) becomes its `keep` lowest frequencies, written transposed.
  const rowsThenColumns = dctRowsTransposed(dctRowsTransposed(grey, n, n, keep, basis), keep, n, keep, basis);
  return Float32Array.from(rowsThenColumns);
}

/** The `keep` lowest DCT frequencies of each of `rows` rows of `n` values, as a keep × rows matrix. */
function dctRowsTransposed(values: ArrayLike<number>, rows: number, n: number, keep: number, basis: Float64Array): Float64Array {
  const out = new Float64Array(keep * rows);
  for (let r = 0; r < rows; r++) {
    for (let u = 0; u < keep; u++) {
      let s = 0;
      for (let x = 0; x < n; x++) s += values[r * n + x]! * basis[u * n + x]!;
      out[u * rows + r] = s;
    }
  }
  return out;
}
