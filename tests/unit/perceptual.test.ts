import { describe, expect, it } from 'vitest';
import { dHash, pHash } from '../../bench/perceptual.ts';
import { hamming } from '../../src/core/codes/bits.ts';
import type { RgbaImage } from '../../src/core/image/preprocess.ts';

/** A scene drawn at any resolution from continuous coordinates (u, v in 0..1). */
function render(width: number, height: number, scene: (u: number, v: number) => [number, number, number]): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([...scene((x + 0.5) / width, (y + 0.5) / height), 255], (y * width + x) * 4);
  }
  return { width, height, data };
}

const sunset = (u: number, v: number): [number, number, number] => {
  const sun = Math.hypot(u - 0.7, v - 0.35) < 0.15 ? 120 : 0;
  return [Math.min(255, 80 + 150 * (1 - v) + sun), 60 + 100 * u, v > 0.7 ? 40 : 180 - 120 * v];
};
const checks = (u: number, v: number): [number, number, number] => {
  const on = (Math.floor(u * 3) + Math.floor(v * 2)) % 2 === 1;
  return on ? [230, 220, 40] : [20, 40, 160];
};

describe('perceptual hashes', () => {
  it('give a resized copy the same 64-bit hash', () => {
    for (const hash of [pHash, dHash]) {
      const big = hash(render(640, 480, sunset));
      const small = hash(render(160, 120, sunset));
      expect(big.length).toBe(2);
      expect(hamming(big, 0, small, 0, 2)).toBe(0);
    }
  });

  it('put different images far apart', () => {
    for (const hash of [pHash, dHash]) {
      expect(hamming(hash(render(320, 240, sunset)), 0, hash(render(320, 240, checks)), 0, 2)).toBeGreaterThanOrEqual(16);
    }
  });

  it('dHash: bit 8·row + col says pixel col + 1 of the 9×8 thumbnail is brighter than pixel col', () => {
    const rampRight = render(90, 80, (u) => [255 * u, 255 * u, 255 * u]);
    expect(Array.from(dHash(rampRight))).toEqual([0xffffffff, 0xffffffff]);
    // Already 9×8, so no resampling blurs rows together: brightening to the right in rows 0-3 only sets bits 0-31, the first word.
    const topHalf = render(9, 8, (u, v) => (v < 0.5 ? [255 * u, 255 * u, 255 * u] : [100, 100, 100]));
    expect(Array.from(dHash(topHalf))).toEqual([0xffffffff, 0]);
  });

  it('pHash: bit j is DCT coefficient j (vertical frequency major) against the median; bit 0 is the DC term', () => {
    // Brightening to the right: all energy in the first row of odd horizontal frequencies, which are negative.
    const code = pHash(render(128, 128, (u) => [40 + 200 * u, 40 + 200 * u, 40 + 200 * u]));
    const bit = (j: number) => (code[j >>> 5]! >>> (j & 31)) & 1;
    expect(bit(0)).toBe(1);
    for (const j of [1, 3, 5, 7]) expect(bit(j)).toBe(0);
  });

});
