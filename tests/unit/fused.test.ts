import { describe, expect, it } from 'vitest';
import { dctCosine, dctDescriptor, DCT_DIMS, fuse, inputGrey } from '../../src/core/embed/fused.ts';
import { dot, unit } from '../../src/core/embed/vector.ts';
import { seededRandom } from '../../src/core/codes/random.ts';

const random = seededRandom(3);
const randomUnit = (n: number) => unit(Float32Array.from({ length: n }, () => random() - 0.5));

describe('fused embedding pieces', () => {
  it('inputGrey sums each 7×7 block of a 224² input into one of 32×32 cells', () => {
    const input = new Float32Array(224 * 224 * 3);
    // One pixel in block (row 2, column 5), red and blue channels.
    const p = (2 * 7 + 3) * 224 + 5 * 7 + 6;
    input[p * 3] = 1;
    input[p * 3 + 2] = 0.5;
    const grey = inputGrey(input, 224);
    expect(grey.length).toBe(1024);
    expect(grey[2 * 32 + 5]).toBeCloseTo(1.5);
    expect(grey.reduce((s, v) => s + v, 0)).toBeCloseTo(1.5);
    expect(() => inputGrey(new Float32Array(100 * 100 * 3), 100)).toThrow(/divisible by 32/);
  });

  it('dctDescriptor is a unit vector that ignores brightness and contrast changes', () => {
    const grey = Float32Array.from({ length: 1024 }, (_, i) => Math.sin(i / 50) + random());
    const d = dctDescriptor(grey);
    expect(d.length).toBe(DCT_DIMS);
    expect(dot(d, d)).toBeCloseTo(1, 5);
    const shifted = dctDescriptor(grey.map((v) => 3 * v + 40));
    expect(dot(d, shifted)).toBeCloseTo(1, 5);
    const other = dctDescriptor(Float32Array.from({ length: 1024 }, () => random()));
    expect(dot(d, other)).toBeLessThan(0.9);
  });

  it('fuse gives unit vectors whose cosine is (1 − w)·cos_cnn + w·cos_dct', () => {
    const [a, b] = [randomUnit(768), randomUnit(768)];
    const [da, db] = [randomUnit(DCT_DIMS), randomUnit(DCT_DIMS)];
    const w = 0.3;
    const fa = fuse(a, da, w), fb = fuse(b, db, w);
    expect(fa.length).toBe(768 + DCT_DIMS);
    expect(dot(fa, fa)).toBeCloseTo(1, 5);
    expect(dot(fa, fb)).toBeCloseTo((1 - w) * dot(a, b) + w * dot(da, db), 5);
  });

  it('dctCosine compares the DCT parts alone, whatever the CNN parts and the weight', () => {
    const [a, b] = [randomUnit(768), randomUnit(768)];
    const [da, db] = [randomUnit(DCT_DIMS), randomUnit(DCT_DIMS)];
    expect(dctCosine(fuse(a, da, 0.25), fuse(b, da, 0.4))).toBeCloseTo(1, 5);
    expect(dctCosine(fuse(a, da, 0.25), fuse(a, db, 0.25))).toBeCloseTo(dot(da, db), 5);
    expect(() => dctCosine(fuse(a, da, 0.25), da)).toThrow(/one length/);
    // A zero DCT part has no direction: cosine 0, not NaN.
    expect(dctCosine(fuse(a, da, 0.25), fuse(b, new Float32Array(DCT_DIMS), 0.25))).toBe(0);
  });
});
