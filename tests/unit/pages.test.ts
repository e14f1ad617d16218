import { describe, expect, it } from 'vitest';
import { emptyVectorsPage, PageKeys, vectorsKey, vectorsPageView } from '../../src/core/index/pages.ts';

describe('vectorsPageView', () => {
  const dim = 5;
  const perPage = 4;

  it('views the scales and the embeddings over the bytes\' own memory', () => {
    const bytes = emptyVectorsPage(dim, perPage);
    const view = vectorsPageView(bytes, dim, perPage);
    view.scales[1] = 0.5;
    view.vectors[dim + 2] = -7;
    expect(new Float32Array(bytes.buffer, 0, perPage)[1]).toBe(0.5);
    expect(new Int8Array(bytes.buffer, perPage * 4)[dim + 2]).toBe(-7);
    const within = new Uint8Array(8 + bytes.byteLength).subarray(8);
    vectorsPageView(within, dim, perPage).vectors[0] = 3;
    expect(within[perPage * 4]).toBe(3);
  });

  it('views the same bytes as another page shape, and rejects a wrong size', () => {
    const bytes = emptyVectorsPage(dim, perPage); // 4 × (4 + 5) = 36 bytes = 1 × (4 + 32)
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

describe('PageKeys', () => {
  it('gives each page its key, asked in any order, and counts a pointer a page up to the highest and each string once', () => {
    const keys = new PageKeys(vectorsKey);
    expect(keys.byteLength).toBe(0);
    expect(keys.of(1000)).toBe('vectors/1000');
    const afterOne = keys.byteLength;
    expect(afterOne).toBe(8 * 1001 + 32); // 16 + 12 characters, in whole 8-byte words
    expect(keys.of(3)).toBe('vectors/3');
    expect(keys.of(1000)).toBe('vectors/1000');
    expect(keys.byteLength).toBe(afterOne + 32); // 16 + 9 characters: one more string, no more pointers
  });
});
