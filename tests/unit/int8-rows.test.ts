import { describe, expect, it } from 'vitest';
import { trainCoder, trainCoderOn } from '../../src/core/codes/coder.ts';
import { floatRows, leadingRows, samplePca } from '../../src/core/codes/linalg.ts';
import { seededRandom } from '../../src/core/codes/random.ts';
import { Int8Rows } from '../../src/core/index/int8-rows.ts';
import { trainPartition } from '../../src/core/index/partition.ts';
import { dequantizeInt8, quantizeInt8 } from '../../src/core/vectors/quantize.ts';

describe('Int8Rows (a retrain\'s sample, kept as stored)', () => {
  // More rows than one chunk of the covariance (128).
  const [n, dim] = [300, 72];
  const random = seededRandom(4);
  const vectors = Array.from({ length: n }, () => Float32Array.from({ length: dim }, () => random() - 0.3));
  // What the index stores of each vector (its pages keep the scale as a float32), and what it reads back.
  const stored = vectors.map((vector, i) => {
    const page = new Int8Array(3 * dim);
    const offset = dim * (i % 3);
    return { vectors: page, offset, scale: Math.fround(quantizeInt8(vector, 0, dim, page, offset)) };
  });
  const widened = new Float32Array(n * dim);
  stored.forEach(({ vectors: page, offset, scale }, i) => dequantizeInt8(page, offset, dim, scale, widened, i * dim));
  const widenedRow = (i: number) => widened.subarray(i * dim, (i + 1) * dim);

  it('reads back stored rows as the index dequantises them, and float rows as they will be stored', () => {
    const rows = new Int8Rows(n, dim);
    // Even rows from storage, odd ones from float vectors (incoming items), in no particular order.
    for (let i = n - 1; i >= 0; i--) (i % 2 === 0 ? rows.setStored(i, stored[i]!) : rows.setVector(i, vectors[i]!));
    for (let i = 0; i < n; i++) expect(rows.row(i)).toEqual(widenedRow(i));
    expect(() => rows.row(n)).toThrow(RangeError);
    expect(() => rows.setVector(-1, vectors[0]!)).toThrow(RangeError);
  });

  it('trains the same PCA, partition and coder as those rows held as floats', () => {
    const rows = new Int8Rows(n, dim);
    vectors.forEach((vector, i) => rows.setVector(i, vector));
    const floats = floatRows(widened, n, dim);
    const pca = samplePca(rows, 64);
    expect(pca).toEqual(samplePca(floats, 64));
    const options = { dims: 64, lists: 4, sketch: 'int4', seed: 1 } as const;
    expect(trainPartition(rows, options)).toEqual(trainPartition(floats, options));
    expect(trainPartition(rows, { ...options, pca })).toEqual(trainPartition(floats, options));
    // The coder on the first 200, with the PCA of all 300 (as a retrain shares it) and alone.
    const first = widened.subarray(0, 200 * dim);
    for (const kind of ['itq', 'lsh'] as const) {
      expect(trainCoderOn(kind, leadingRows(rows, 200), { bits: 64, seed: 3, pca })).toEqual(trainCoder(kind, first, dim, { bits: 64, seed: 3, pca }));
      expect(trainCoderOn(kind, leadingRows(rows, 200), { bits: 64, seed: 3 })).toEqual(trainCoder(kind, first, dim, { bits: 64, seed: 3 }));
    }
    expect(() => leadingRows(rows, n + 1)).toThrow(RangeError);
    expect(() => floatRows(widened, n + 1, dim)).toThrow(RangeError);
  });
});
