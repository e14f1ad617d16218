import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/codes/random.ts';
import { Int8Scorer, type StoredInt8 } from '../../src/core/vectors/int8-scorer.ts';
import { dotInt8, quantizeInt8, quantizeQuery, queryLevels } from '../../src/core/vectors/quantize.ts';

/** What a score must be: the exact integer dot product of the int16 query and the item, times both scales. */
function expectedScores(query: Float32Array, items: readonly StoredInt8[]): Float64Array {
  const dim = query.length;
  const values = new Int16Array(dim);
  const queryScale = quantizeQuery(query, queryLevels(Math.ceil(dim / 16) * 16), values);
  return Float64Array.from(items, (item) => dotInt8(values, item.vectors, item.offset, dim) * queryScale * item.scale);
}

describe('Int8Scorer', () => {
  // Lengths around the kernel's 16-byte steps, and more items than one batch of its memory.
  for (const [dim, count] of [[1, 3], [3, 5], [15, 2], [16, 9], [17, 4], [256, 40], [1023, 600]] as const) {
    it(`scores ${count} stored ${dim}-d vectors to the bit with and without the kernel, within 1e-4 of the float cosine`, () => {
      const random = seededRandom(dim * 31 + count);
      const items: StoredInt8[] = [];
      const cosines: number[] = [];
      const query = Float32Array.from({ length: dim }, () => random() - 0.5);
      const queryNorm = Math.hypot(...query);
      for (let d = 0; d < dim; d++) query[d] = query[d]! / queryNorm;
      for (let i = 0; i < count; i++) {
        // Each at an odd offset of a page of its own, as views of vectors pages are.
        const vectors = new Int8Array(dim * 3 + 5);
        const offset = dim * (i % 3) + 5;
        const scale = quantizeInt8(Float32Array.from({ length: dim }, () => random() - 0.2), 0, dim, vectors, offset);
        items.push({ vectors, offset, scale });
        let cosine = 0;
        for (let d = 0; d < dim; d++) cosine += query[d]! * vectors[offset + d]! * scale;
        cosines.push(cosine);
      }
      const expected = expectedScores(query, items);
      const withKernel = new Int8Scorer(dim);
      const plain = new Int8Scorer(dim, { simd: false });
      expect(withKernel.simd).toBe(true); // Node 20 and Chromium have WebAssembly SIMD
      expect(plain.simd).toBe(false);
      expect(withKernel.score(query, items)).toEqual(expected);
      expect(plain.score(query, items)).toEqual(expected);
      expected.forEach((score, i) => expect(Math.abs(score - cosines[i]!)).toBeLessThan(1e-4));
      expect(withKernel.score(query, [])).toEqual(new Float64Array(0));
    });
  }

  it('keeps every lane of the kernel from overflowing at the largest products, however long the embedding', () => {
    for (const dim of [1023, 2048, 4096, 10_000]) {
      // Every query value at its limit and every stored byte at −128: the largest sum any lane can reach.
      const query = new Float32Array(dim).fill(-1 / Math.sqrt(dim));
      const vectors = new Int8Array(dim).fill(-128);
      const items = [{ vectors, offset: 0, scale: 1 / (128 * Math.sqrt(dim)) }];
      const [score] = new Int8Scorer(dim).score(query, items);
      expect(score).toEqual(expectedScores(query, items)[0]);
      expect(score).toBeCloseTo(1, 4);
    }
  });

  it('rejects a query of another length', () => {
    expect(() => new Int8Scorer(8).score(new Float32Array(7), [])).toThrow(RangeError);
  });
});
