import { describe, expect, it } from 'vitest';
import { dequantizeInt8, dotInt8, quantizeInt8, quantizeQuery, queryLevels } from '../../src/core/vectors/quantize.ts';
import { seededRandom } from '../../src/core/codes/random.ts';

describe('int8 embeddings', () => {
  it('stores a unit vector, and scores it against an int16 query as the plain sum does', () => {
    const random = seededRandom(3);
    for (const dim of [1, 2, 3, 4, 5, 6, 7, 8, 9, 1023]) {
      const vector = Float32Array.from({ length: dim }, () => random() - 0.3);
      const query = Float32Array.from({ length: dim }, () => random() - 0.5);
      const stored = new Int8Array(dim + 3);
      const scale = quantizeInt8(vector, 0, dim, stored, 3); // at an offset, as in a page
      const values = new Int16Array(dim);
      const queryScale = quantizeQuery(query, queryLevels(1024), values);
      let plain = 0;
      let bound = 0; // each int16 value is within half a step of the query's
      for (let d = 0; d < dim; d++) {
        plain += query[d]! * stored[3 + d]!;
        bound += 0.5 * queryScale * Math.abs(stored[3 + d]!);
      }
      expect(Math.max(...values.map(Math.abs))).toBe(queryLevels(1024));
      expect(Math.abs(dotInt8(values, stored, 3, dim) * queryScale - plain)).toBeLessThanOrEqual(bound * (1 + 1e-9));
      // And the stored vector is the unit vector, up to rounding.
      const back = new Float32Array(dim);
      dequantizeInt8(stored, 3, dim, scale, back, 0);
      const norm = Math.hypot(...vector);
      for (let d = 0; d < dim; d++) expect(Math.abs(back[d]! - vector[d]! / norm)).toBeLessThan(0.01);
    }
  });

  it('rounds a query of any magnitude, subnormal to huge, to the full int16 range', () => {
    for (const magnitude of [2 ** -148, 2 ** -130, 1, 2 ** 127]) {
      const query = Float32Array.of(magnitude, -magnitude / 2, 0);
      const values = new Int16Array(3);
      const scale = quantizeQuery(query, 32_767, values);
      expect(Array.from(values)).toEqual([32_767, -16_383, 0]); // (Math.round takes −16 383.5 up)
      expect(scale).toBe(magnitude / 32_767);
    }
  });
});
