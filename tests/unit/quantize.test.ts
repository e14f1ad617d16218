import { describe, expect, it } from 'vitest';
import { dequantizeInt8, quantizeInt8, scoreInt8 } from '../../src/core/vectors/quantize.ts';
import { seededRandom } from '../../src/core/codes/random.ts';

describe('int8 embeddings', () => {
  it('scores a query against a stored vector as the plain sum would, whatever the length (four partial sums and the rest)', () => {
    const random = seededRandom(3);
    for (const dim of [1, 2, 3, 4, 5, 6, 7, 8, 9, 1023]) {
      const vector = Float32Array.from({ length: dim }, () => random() - 0.3);
      const query = Float32Array.from({ length: dim }, () => random() - 0.5);
      const stored = new Int8Array(dim + 3);
      const scale = quantizeInt8(vector, 0, dim, stored, 3); // at an offset, as in a page
      let plain = 0;
      for (let d = 0; d < dim; d++) plain += query[d]! * stored[3 + d]!;
      expect(scoreInt8(query, stored, 3, scale)).toBeCloseTo(plain * scale, 12);
      // And the stored vector is the unit vector, up to rounding.
      const back = new Float32Array(dim);
      dequantizeInt8(stored, 3, dim, scale, back, 0);
      const norm = Math.hypot(...vector);
      for (let d = 0; d < dim; d++) expect(Math.abs(back[d]! - vector[d]! / norm)).toBeLessThan(0.01);
    }
  });
});
