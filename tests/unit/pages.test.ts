import { describe, expect, it } from 'vitest';
import { emptyVectorsPage, vectorsPageView } from '../../src/core/index/pages.ts';

describe('vectorsPageView', () => {
  const dim = 5;
  const perPage = 4;

  it('gives the same views of the same bytes, over their memory, and other views of other bytes', () => {
    const bytes = emptyVectorsPage(dim, perPage);
    const view = vectorsPageView(bytes, dim, perPage);
    expect(vectorsPageView(bytes, dim, perPage)).toBe(view);
    view.scales[1] = 0.5;
    view.vectors[dim + 2] = -7;
    expect(new Float32Array(bytes.buffer, 0, perPage)[1]).toBe(0.5);
    expect(new Int8Array(bytes.buffer, perPage * 4)[dim + 2]).toBe(-7);
    expect(vectorsPageView(emptyVectorsPage(dim, perPage), dim, perPage)).not.toBe(view);
  });

  it('views the same bytes afresh for another page shape, and rejects a wrong size', () => {
    const bytes = emptyVectorsPage(dim, perPage); // 4 × (4 + 5) = 36 bytes = 1 × (4 + 32)
    vectorsPageView(bytes, dim, perPage);
    const other = vectorsPageView(bytes, 32, 1);
    expect([other.scales.length, other.vectors.length]).toEqual([1, 32]);
    expect(() => vectorsPageView(bytes, dim, 3)).toThrow('wrong size');
  });

  it('reads unaligned bytes through a copy, made again on every call, so it never goes stale', () => {
    const unaligned = new Uint8Array(1 + emptyVectorsPage(dim, perPage).byteLength).subarray(1);
    expect(vectorsPageView(unaligned, dim, perPage).vectors[3]).toBe(0);
    unaligned[perPage * 4 + 3] = 9;
    expect(vectorsPageView(unaligned, dim, perPage).vectors[3]).toBe(9);
  });
});
