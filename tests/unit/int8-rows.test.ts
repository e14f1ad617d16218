import { describe, expect, it } from 'vitest';
import { floatRows, samplePca } from '../../src/core/codes/linalg.ts';
import { seededRandom } from '../../src/core/codes/random.ts';
import { trainPartition } from '../../src/core/index/partition.ts';
import { Int8Rows } from '../../src/core/vectors/int8-rows.ts';
import { dequantizeInt8, quantizeInt8 } from '../../src/core/vectors/quantize.ts';

describe('Int8Rows (a retrain\'s sample, kept as stored)', () => {
  const [n, dim] = [40, 33];
  const random = seededRandom(4);
  const vectors = Array.from({ length: n }, () => Float32Array.from({ length: dim }, () => random() - 0.3));
  // What the index stores of each vector (its pages keep the scale as a float32), and what it reads back.
  const stored = vectors.map((vector, i) => {
    const page = new Int8Array(3 * dim);
    const offset = dim * (i % 3);
    return { vectors: page, offset, scale: Math.fround(quantizeInt8(vector, 0, dim, page, offset)) };
  });
  const widened = stored.map(({ vectors: page, offset, scale }) => {
    const out = new Float32Array(dim);
    dequantizeInt8(page, offset, dim, scale, out, 0);
    return out;
  });

  it('reads back stored rows as the index dequantises them, and float rows as they will be stored', () => {
    const rows = new Int8Rows(n, dim);
    // Even rows from storage, odd ones from float vectors (incoming items), in no particular order.
    for (let i = n - 1; i >= 0; i--) (i % 2 === 0 ? rows.setStored(i, stored[i]!) : rows.setVector(i, vectors[i]!));
    for (let i = 0; i < n; i++) expect(rows.row(i)).toEqual(widened[i]);
    const floats = rows.floats(n - 5);
    expect(floats.length).toBe((n - 5) * dim);
    for (let i = 0; i < n - 5; i++) expect(floats.subarray(i * dim, (i + 1) * dim)).toEqual(widened[i]);
  });

  it('trains the same PCA and partition as the widened rows held as floats', () => {
    const rows = new Int8Rows(n, dim);
    vectors.forEach((vector, i) => rows.setVector(i, vector));
    const floats = new Float32Array(n * dim);
    widened.forEach((row, i) => floats.set(row, i * dim));
    expect(samplePca(rows, 8)).toEqual(samplePca(floatRows(floats, n, dim), 8));
    const options = { dims: 8, lists: 4, sketch: 'int4', seed: 1 } as const;
    expect(trainPartition(rows, options)).toEqual(trainPartition(floatRows(floats, n, dim), options));
  });
});
