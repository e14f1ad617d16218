import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/codes/random.ts';
import { DCT_DIMS, fuse } from '../../src/core/embed/fused.ts';
import { unit } from '../../src/core/embed/vector.ts';
import { ImageIndex } from '../../src/core/index/image-index.ts';
import { COPY_SEARCH_DEPTH, originalFirst, SAME_PICTURE_DCT, samePicture, searchOriginalFirst } from '../../src/core/search/original-first.ts';
import { MemoryPageStore } from '../../src/core/store/memory-store.ts';

const random = seededRandom(5);
const randomUnit = (n: number) => unit(Float32Array.from({ length: n }, () => random() - 0.5));
/** A DCT part at cosine `c` from `base` (`side` is a unit vector orthogonal to it). */
const dctAt = (c: number) => unit(base.map((b, i) => c * b + Math.sqrt(1 - c * c) * side[i]!));
const base = randomUnit(DCT_DIMS);
const side = unit(randomUnit(DCT_DIMS).map((v, i, s) => v - base[i]! * s.reduce((sum, x, j) => sum + x * base[j]!, 0)));
/** The query: its CNN part is unrelated to every result's, so only the DCT parts can tell. */
const query = fuse(randomUnit(64), base, 0.25);

const result = (id: string, score: number, dct: Float32Array, width?: number, height?: number) =>
  ({ id, score, vector: fuse(randomUnit(64), dct, 0.25), meta: { id, ...(width ? { width, height } : {}) } });

describe('samePicture', () => {
  it('is decided at SAME_PICTURE_DCT on the DCT parts alone', () => {
    expect(samePicture(query, fuse(randomUnit(64), dctAt(SAME_PICTURE_DCT + 0.005), 0.25))).toBe(true);
    expect(samePicture(query, fuse(randomUnit(64), dctAt(SAME_PICTURE_DCT - 0.005), 0.25))).toBe(false);
  });
});

describe('originalFirst', () => {
  it('puts the largest result showing the query picture first and marks it; the rest keep their score order', () => {
    const results = [
      result('self-1/4', 1, dctAt(0.999), 125, 94),
      result('similar-photo', 0.9, dctAt(0.5), 4000, 3000), // larger, higher score, another picture
      result('half', 0.8, dctAt(0.99), 250, 188),
      result('original', 0.6, dctAt(0.98), 500, 375),
      result('other', 0.5, randomUnit(DCT_DIMS)),
    ];
    const ordered = originalFirst(query, results);
    expect(ordered.results.map((r) => r.id)).toEqual(['original', 'self-1/4', 'similar-photo', 'half', 'other']);
    expect(ordered.original).toBe(results[3]);
  });

  it('moves a lone copy of the picture first without calling it an original, and leaves other results alone', () => {
    const lone = [result('a', 0.9, dctAt(0.2), 800, 600), result('copy', 0.7, dctAt(0.97), 100, 80)];
    expect(originalFirst(query, lone)).toEqual({ results: [lone[1], lone[0]], original: null });
    const none = [result('a', 0.9, dctAt(0.2), 10, 10), result('b', 0.8, dctAt(0.3), 100, 100)];
    expect(originalFirst(query, none)).toEqual({ results: none, original: null });
  });

  it('ranks copies of unknown size last and keeps score order among equal sizes', () => {
    const results = [result('unknown', 1, dctAt(0.99)), result('small', 0.9, dctAt(0.99), 10, 10), result('small-2', 0.8, dctAt(0.99), 10, 10)];
    expect(originalFirst(query, results).results.map((r) => r.id)).toEqual(['small', 'unknown', 'small-2']);
  });

  it('needs the stored vectors', () => {
    expect(() => originalFirst(query, [{ meta: {} }])).toThrow(/vectors: true/);
  });
});

describe('searchOriginalFirst', () => {
  it('finds the original beyond the top k (other pictures score higher), puts it first and returns k results', async () => {
    const cnn = Float32Array.from(query.subarray(0, 64), (v) => v / Math.sqrt(0.75));
    const near = (c: number) => unit(cnn.map((v, i) => c * v + (1 - c) * (i % 2 ? 0.2 : -0.2)));
    const index = await ImageIndex.open(new MemoryPageStore(), { modelId: 'test', method: 'test', dim: query.length, bits: 64 });
    await index.add([
      { meta: { id: 'self-1/4', width: 125, height: 94 }, vector: query },
      { meta: { id: 'original', width: 500, height: 375 }, vector: fuse(randomUnit(64), dctAt(0.95), 0.25) },
      ...Array.from({ length: 20 }, (_, i) => ({ meta: { id: `other-${i}`, width: 4000, height: 3000 }, vector: fuse(near(0.9), randomUnit(DCT_DIMS), 0.25) })),
    ]);
    const byScore = await index.search(query, { k: COPY_SEARCH_DEPTH });
    expect(byScore.findIndex((r) => r.id === 'original')).toBeGreaterThan(10);
    const { results, original } = await searchOriginalFirst(index, query, 3);
    expect(results.map((r) => r.id)).toEqual(['original', 'self-1/4', byScore[1]!.id]);
    expect(original).toBe(results[0]);
  });
});
