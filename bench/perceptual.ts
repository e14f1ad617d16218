/**
 * 64-bit perceptual hashes of a whole image, as the `imagehash` library defines
 * them: pHash (signs of the 8×8 lowest DCT frequencies of a 32×32 grey
 * thumbnail against their median) and dHash (whether each pixel of a 9×8 grey
 * thumbnail is brighter than its left neighbour). Codes use the bit layout of
 * `codes/bits.ts`, so `hamming` compares them. bench:quality's baselines; the
 * product uses only the DCT (`src/core/image/dct.ts`).
 */
import { lowDct } from '../src/core/image/dct.ts';
import { resampleRgb, type RgbaImage } from '../src/core/image/preprocess.ts';

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
