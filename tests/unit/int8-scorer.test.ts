import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/codes/random.ts';
import { Int8Scorer, type StoredInt8 } from '../../src/core/vectors/int8-scorer.ts';
import { quantizeInt8, scoreInt8 } from '../../src/core/vectors/quantize.ts';
import { SCORE_INT8_WASM_BASE64 } from '../../src/core/vectors/score-int8-wasm.ts';

describe('Int8Scorer', () => {
  // Lengths around the four partial sums, and more items than one batch of the kernel's memory.
  for (const [dim, count] of [[1, 3], [3, 5], [4, 2], [7, 9], [256, 40], [1023, 600]] as const) {
    it(`scores ${count} stored ${dim}-d vectors to the bit as scoreInt8 does`, () => {
      const random = seededRandom(dim * 31 + count);
      const items: StoredInt8[] = [];
      for (let i = 0; i < count; i++) {
        // Each at an odd offset of a page of its own, as views of vectors pages are.
        const vectors = new Int8Array(dim * 3 + 5);
        const offset = dim * (i % 3) + 5;
        const scale = quantizeInt8(Float32Array.from({ length: dim }, () => random() - 0.2), 0, dim, vectors, offset);
        items.push({ vectors, offset, scale });
      }
      // Magnitudes from 2^-40 to 2^20, so that sums round (f32 × int8 products of one magnitude add up exactly in f64) and their order shows.
      const query = Float32Array.from({ length: dim }, () => (random() - 0.5) * 2 ** Math.floor(random() * 60 - 40));
      const expected = Float64Array.from(items, (item) => scoreInt8(query, item.vectors, item.offset, item.scale));
      const withKernel = new Int8Scorer(dim);
      const plain = new Int8Scorer(dim, { simd: false });
      expect(withKernel.simd).toBe(true); // Node 20 and Chromium have WebAssembly SIMD
      expect(plain.simd).toBe(false);
      expect(withKernel.score(query, items)).toEqual(expected);
      expect(plain.score(query, items)).toEqual(expected);
      expect(withKernel.score(query, [])).toEqual(new Float64Array(0));
    });
  }

  it('rejects a query of another length', () => {
    expect(() => new Int8Scorer(8).score(new Float32Array(7), [])).toThrow(RangeError);
  });
});
