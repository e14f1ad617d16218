/**
 * 64-bit perceptual hashes of a whole image, as the `imagehash` library defines
 * them: pHash (signs of the 8×8 lowest DCT frequencies of a 32×32 grey
 * thumbnail against their median) and dHash (whether each pixel of a 9×8 grey
 * thumbnail is brighter than its left neighbour). Codes use the bit layout of
 * `codes/bits.ts`, so `hamming` compares them.
 */
import { resampleRgb, type RgbaImage } from '../image/preprocess.ts';

const PERCEPTUAL_HASH_BITS = 64;

/** ITU-R BT.601 luma of HWC RGB values. */
function luma(rgb: Float32Array): Float32Array {
  const out = new Float32Array(rgb.length / 3);
  for (let i = 0; i < out.length; i++) out[i] = 0.299 * rgb[i * 3]! + 0.587 * rgb[i * 3 + 1]! + 0.114 * rgb[i * 3 + 2]!;
  return out;
}

/** The whole image as a `width`×`height` grey thumbnail (antialiased, alpha on white). */
function greyThumbnail(image: RgbaImage, width: number, height: number): Float32Array {
  return luma(resampleRgb(image, { x: 0, y: 0, width: image.width, height: image.height }, width, height));
}

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

/** pHash: bit j is 1 where DCT coefficient j (of the 8×8 lowest, row-major) exceeds their median. */
export function pHash(image: RgbaImage): Uint32Array {
  const coefficients = lowDct(greyThumbnail(image, 32, 32), 32, 8);
  const sorted = Float32Array.from(coefficients).sort();
  const median = (sorted[31]! + sorted[32]!) / 2;
  return packBits(coefficients.length, (j) => coefficients[j]! > median);
}

/** dHash: bit 8·row + col is 1 where thumbnail pixel (col + 1, row) is brighter than (col, row). */
export function dHash(image: RgbaImage): Uint32Array {
  const grey = greyThumbnail(image, 9, 8);
  return packBits(PERCEPTUAL_HASH_BITS, (j) => {
    const row = j >>> 3, col = j & 7;
    return grey[row * 9 + col + 1]! > grey[row * 9 + col]!;
  });
}

function packBits(bits: number, isSet: (j: number) => boolean): Uint32Array {
  const code = new Uint32Array(bits / 32);
  for (let j = 0; j < bits; j++) if (isSet(j)) code[j >>> 5]! |= 1 << (j & 31);
  return code;
}
