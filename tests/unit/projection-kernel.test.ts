import { describe, expect, it } from 'vitest';
import { Coder, trainCoder } from '../../src/core/codes/coder.ts';
import { ProjectionKernel } from '../../src/core/codes/projection-kernel.ts';
import { seededRandom } from '../../src/core/codes/random.ts';

describe('ProjectionKernel', () => {
  for (const [rows, dim] of [[16, 1], [32, 5], [64, 768], [256, 1023], [1024, 256]] as const) {
    it(`gives a ${rows} × ${dim} projection's sums to the bit, as one float64 add per product in order does`, () => {
      const random = seededRandom(rows * 7 + dim);
      const projection = Float32Array.from({ length: rows * dim }, () => random() * 2 - 1);
      const withKernel = new ProjectionKernel(projection, rows, dim);
      const plain = new ProjectionKernel(projection, rows, dim, { simd: false });
      expect(withKernel.simd).toBe(true); // Node 20 and Chromium have WebAssembly SIMD
      expect(plain.simd).toBe(false);
      for (let trial = 0; trial < 3; trial++) {
        const vectors = Float32Array.from({ length: dim + 3 }, () => random());
        const exact = new Float64Array(rows);
        for (let r = 0; r < rows; r++) {
          let s = 0;
          for (let k = 0; k < dim; k++) s += projection[r * dim + k]! * vectors[3 + k]!;
          exact[r] = s;
        }
        expect(withKernel.multiply(vectors, 3)).toEqual(exact);
        expect(plain.multiply(vectors, 3)).toEqual(exact);
      }
    });
  }

  it('says which sums exceed their thresholds exactly as the float64 sums do, also where float32 could not tell', () => {
    const random = seededRandom(11);
    for (const [rows, dim] of [[16, 3], [256, 1023]] as const) {
      const projection = Float32Array.from({ length: rows * dim }, () => random() * 2 - 1);
      const kernel = new ProjectionKernel(projection, rows, dim);
      const vectors = Float32Array.from({ length: dim + 1 }, () => random() - 0.5);
      const exact = Float64Array.from(new ProjectionKernel(projection, rows, dim, { simd: false }).multiply(vectors, 1));
      const nextUp = (v: number) => v + Math.max(Math.abs(v) * 2 ** -52, Number.MIN_VALUE);
      // Thresholds far off, at each exact sum (not above it), a hair below and above it, and at the float32 rounding of
      // it: all but the first are too close for float32 sums, so the float64 rows decide.
      const cases: [string, (sum: number, r: number) => number][] = [
        ['far', (sum, r) => sum + (r % 2 ? 1 : -1) * 10],
        ['equal', (sum) => sum],
        ['a hair below', (sum) => sum - Math.max(Math.abs(sum) * 2 ** -50, Number.MIN_VALUE)],
        ['a hair above', (sum) => nextUp(sum)],
        ['float32', (sum) => Math.fround(sum)],
      ];
      for (const [name, threshold] of cases) {
        const thresholds = Float64Array.from(exact, threshold);
        const out = new Uint8Array(rows);
        kernel.above(vectors, 1, thresholds, out);
        expect(Array.from(out), name).toEqual(Array.from(exact, (sum, r) => (sum > thresholds[r]! ? 1 : 0)));
        // Asked for the sums too, on either path: the same bits, and every sum in float32, within its rounding.
        for (const withSums of [kernel, new ProjectionKernel(projection, rows, dim, { simd: false })]) {
          const [bits, sums] = [new Uint8Array(rows), new Float32Array(rows).fill(NaN)];
          withSums.above(vectors, 1, thresholds, bits, sums);
          expect(bits).toEqual(out);
          sums.forEach((sum, r) => expect(Math.abs(sum - exact[r]!)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(exact[r]!))));
        }
      }
    }
  });

  it('sums a row again where a float32 sum overflowed, or its products underflowed', () => {
    const check = (row: number[], vectors: number[], thresholds = new Float64Array(16)) => {
      const projection = new Float32Array(16 * row.length);
      projection.set(row);
      const x = Float32Array.from(vectors);
      const exact = new ProjectionKernel(projection, 16, row.length, { simd: false }).multiply(x, 0);
      const out = new Uint8Array(16);
      new ProjectionKernel(projection, 16, row.length).above(x, 0, thresholds, out);
      expect(Array.from(out)).toEqual(Array.from(exact, (sum, r) => (sum > thresholds[r]! ? 1 : 0)));
    };
    // The float32 sum runs to +∞ before the negative half comes in; the float64 one is −2e38.
    check([1, 1, -1, -1], [2e38, 2e38, 3e38, 3e38]);
    // Products under float32's normal range: 2⁻¹⁴⁹, −0 and −0 in float32 (ties to even), −2⁻¹⁵¹ exactly.
    check([0.75, -0.5, -0.5], [2 ** -149, 2 ** -149, 2 ** -149]);
  });

  it('rejects a projection that is not whole panels of 16 rows', () => {
    expect(() => new ProjectionKernel(new Float32Array(8 * 4), 8, 4)).toThrow(RangeError);
    expect(() => new ProjectionKernel(new Float32Array(16 * 4 - 1), 16, 4)).toThrow(RangeError);
  });

  it('makes the same codes and projections with and without SIMD', () => {
    const random = seededRandom(5);
    const dim = 1023;
    const sample = Float32Array.from({ length: 300 * dim }, () => Math.max(0, random() - 0.3));
    for (const kind of ['itq', 'lsh'] as const) {
      const params = trainCoder(kind, sample, dim, { bits: 256, seed: 3, iterations: 3 });
      const [withKernel, plain] = [new Coder(params), new Coder(params, { simd: false })];
      expect(withKernel.encodeMany(sample, 300)).toEqual(plain.encodeMany(sample, 300));
      // The mean itself sits on every threshold, and vectors a hair from it are too close for float32 sums to tell.
      const mean = params.mean;
      const near = Float32Array.from({ length: 4 * dim }, (_, i) => mean[i % dim]! + (i < dim ? 0 : (random() - 0.5) * 2 ** -(10 + 4 * Math.floor(i / dim))));
      expect(withKernel.encodeMany(near, 4)).toEqual(plain.encodeMany(near, 4));
      const query = sample.slice(17 * dim, 18 * dim);
      expect(withKernel.project(query)).toEqual(plain.project(query));
    }
  });
});
