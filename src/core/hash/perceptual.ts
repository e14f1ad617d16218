/**
 * 64-bit perceptual hashes of a whole image, as the `imagehash` library defines
 * them: pHash (signs of the 8×8 lowest DCT frequencies of a 32×32 grey
 * thumbnail against their median) and dHash (whether each pixel of a 9×8 grey
 * thumbnail is brighter than its left neighbour). Codes use the bit layout of
 * `codes/bits.ts`, so `hamming` compares them.
 */
import { resampleRgb, type RgbaImage } from '../image/preprocess.ts';

export const PERCEPTUAL_HASH_BITS = 64;

/** ITU-R BT.601 luma of HWC RGB values. */
export function luma(rgb: Float32Array): Float32Array {
  const out = new Float32Array(rgb.length / 3);
  for (let i = 0; i < out.length; i++) out[i] = 0.299 * rgb[i * 3]! + 0.587 * rgb[i * 3 + 1]! + 0.114 * rgb[i * 3 + 2]!;
  return out;
}

/** The whole image as a `width`×`height` grey thumbnail (antialiased, alpha on white). */
export function greyThumbnail(image: RgbaImage, width: number, height: number): Float32Array {
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
  // Rows first (n rows × keep horizontal frequencies), then columns.
  const rows = new Float64Array(n * keep);
  for (let y = 0; y < n; y++) {
    for (let u = 0; u < keep; u++) {
      let s = 0;
      for (let x = 0; x < n; x++) s += grey[y * n + x]! * basis[u * n + x]!;
      rows[y * keep + u] = s;
    }
  }
  const out = new Float32Array(keep * keep);
  for (let v = 0; v < keep; v++) {
    for (let u = 0; u < keep; u++) {
      let s = 0;
      for (let y = 0; y < n; y++) s += rows[y * keep + u]! * basis[v * n + y]!;
      out[v * keep + u] = s;
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
