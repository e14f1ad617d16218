import { describe, expect, it } from 'vitest';
import { Coder, trainCoderOn, type CoderKind } from '../../src/core/codes/coder.ts';
import { floatRows, samplePca, type TrainingRows } from '../../src/core/codes/linalg.ts';
import { Partition, trainPartition } from '../../src/core/index/partition.ts';
import { QueryProjection } from '../../src/core/index/query-projection.ts';
import { syntheticItems } from '../index-data.ts';

const DIM = 160;
const DIMS = 96;

describe('QueryProjection', () => {
  const rowsOf = (first: number, count: number, seed: number): TrainingRows => {
    const sample = new Float32Array(count * DIM);
    syntheticItems(first + count, seed, DIM).slice(first).forEach((item, i) => sample.set(item.vector, i * DIM));
    return floatRows(sample, count, DIM);
  };
  const rows = rowsOf(0, 600, 4);
  const pca = samplePca(rows, DIMS);
  const partition = new Partition(trainPartition(rows, { dims: DIMS, lists: 8, sketch: 'int4', seed: 2, pca }));
  const queries = syntheticItems(10, 8, DIM, 'query').map((q) => q.vector);
  const coderOf = (kind: CoderKind, bits: number, shared = pca, sample = rows) => trainCoderOn(kind, sample, { bits, seed: 5, pca: shared });
  /** W·q as a search takes it from Coder.encode, with the code. */
  const coderSums = (coder: Coder, query: Float32Array) => {
    const sums = new Float32Array(coder.params.bits);
    coder.encode(query, 0, new Uint32Array(coder.words), 0, sums);
    return sums;
  };

  it('gives P·q from W·q where the coder is ITQ on the partition\'s PCA (or one of more directions of the same sample), to float32 rounding', () => {
    for (const bits of [DIMS, 128]) {
      const params = coderOf('itq', bits);
      const projection = new QueryProjection(partition, params);
      expect(projection.viaCoder).toBe(true);
      const coder = new Coder(params);
      for (const query of queries) {
        const viaCoder = projection.project(query, coderSums(coder, query));
        const direct = partition.projectQuery(query);
        const norm = Math.hypot(...direct);
        direct.forEach((value, j) => expect(Math.abs(viaCoder[j]! - value)).toBeLessThan(1e-5 * norm));
      }
    }
  });

  it('projects by P itself for any other coder, or without W·q', () => {
    const otherPca = samplePca(rowsOf(600, 600, 6), DIMS);
    const others = [
      coderOf('lsh', DIMS), // random hyperplanes
      coderOf('itq', DIMS, otherPca), // ITQ on another sample's PCA
      coderOf('itq', 64), // fewer bits than the partition has dimensions
    ];
    // ITQ on this PCA, but with one row of W replaced by a direction outside P's span (the PCA's next one).
    const shared = coderOf('itq', DIMS);
    const outside = Float32Array.from(samplePca(rows, DIMS + 1).directions.subarray(DIMS * DIM));
    const nearMiss = { ...shared, projection: shared.projection.slice() };
    nearMiss.projection.set(outside, 5 * DIM);
    others.push(nearMiss);
    for (const params of [...others, null]) {
      const projection = new QueryProjection(partition, params);
      expect(projection.viaCoder).toBe(false);
      const w = params ? coderSums(new Coder(params), queries[0]!) : null;
      expect(projection.project(queries[0]!, w)).toEqual(partition.projectQuery(queries[0]!));
    }
    // A coder that could give it, not asked to.
    expect(new QueryProjection(partition, coderOf('itq', DIMS)).project(queries[0]!, null)).toEqual(partition.projectQuery(queries[0]!));
  });
});
