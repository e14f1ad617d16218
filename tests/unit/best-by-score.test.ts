import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/codes/random.ts';
import { bestByScore, shortlistByScore } from '../../src/core/index/inverted-lists.ts';

/** The definition: sort by score (then earliest first), keep `keep`, order the kept by score then position. */
function bySorting(positions: Uint32Array, scores: Float32Array, keep: number) {
  const kept = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b).slice(0, keep);
  kept.sort((a, b) => scores[b]! - scores[a]! || positions[a]! - positions[b]!);
  return { positions: Uint32Array.from(kept, (i) => positions[i]!), scores: Float32Array.from(kept, (i) => scores[i]!) };
}

describe('bestByScore (the sketch scan\'s pick)', () => {
  it('keeps what sorting keeps, ties at the cut included, in any order of arrival', () => {
    const random = seededRandom(7);
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(random() * 400);
      const keep = 1 + Math.floor(random() * 60);
      // Few distinct values, so that many scores tie, some arriving best first (as the nearest lists do), some not.
      const levels = 1 + Math.floor(random() * 12);
      const scores = Float32Array.from({ length: n }, (_, i) => Math.floor(random() * levels) - (trial % 3 === 0 ? i / n : 0));
      const positions = Uint32Array.from({ length: n }, () => Math.floor(random() * 1000));
      expect(bestByScore(positions, scores, keep)).toEqual(bySorting(positions, scores, keep));
    }
  });

  it('keeps the same where a first block sets the cut and `atLeast` picks what reaches it', () => {
    const random = seededRandom(9);
    for (const [n, keep, levels] of [[40_000, 100, 1e6], [40_000, 100, 20], [5000, 30, 3], [3000, 1, 1e6]] as const) {
      const scores = Float32Array.from({ length: n }, () => Math.floor(random() * levels) / levels);
      const positions = Uint32Array.from({ length: n }, () => Math.floor(random() * 1e6));
      const thresholds: number[] = [];
      const atLeast = (threshold: number) => {
        thresholds.push(threshold);
        return Uint32Array.from(Array.from(scores.keys()).filter((i) => scores[i]! >= threshold));
      };
      expect(bestByScore(positions, scores, keep, atLeast)).toEqual(bySorting(positions, scores, keep));
      expect(thresholds).toHaveLength(1); // the pick ran, once
    }
  });
});

describe('shortlistByScore (the head pass\'s pick)', () => {
  it('keeps at least `keep` indexes, in order, and every score at or above the lowest it keeps', () => {
    const random = seededRandom(11);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(random() * 20_000);
      const keep = 1 + Math.floor(random() * Math.min(n, 5000));
      // Ties, scores rising or falling along the scan (where an even sample sees few of the best), or neither.
      const levels = trial % 4 === 0 ? 5 : 1e6;
      const trend = [0, 1, -1][trial % 3]!;
      const scores = Float32Array.from({ length: n }, (_, i) => Math.floor(random() * levels) / levels + (trend * i) / n);
      const picked = shortlistByScore(scores, keep, new Uint32Array(n));
      expect(picked.length).toBeGreaterThanOrEqual(keep);
      expect(picked.every((index, i) => i === 0 || index > picked[i - 1]!)).toBe(true);
      const lowest = picked.reduce((low, i) => Math.min(low, scores[i]!), Infinity);
      expect(picked.length).toBe(scores.reduce((count, s) => count + (s >= lowest ? 1 : 0), 0));
      // Not many more than asked for, where scores do not tie: the sample's resolution is n / 2048 ranks.
      if (levels > n) expect(picked.length).toBeLessThanOrEqual(Math.max(4 * keep, keep + (8 * n) / 2048));
    }
  });

  it('ends, keeping what it can, when NaN scores leave fewer than asked for', () => {
    const scores = Float32Array.of(NaN, 2, NaN, 1, NaN, NaN);
    expect(Array.from(shortlistByScore(scores, 4, new Uint32Array(6)))).toEqual([1, 3]);
  });

  it('keeps everything when asked for as many as there are, or more', () => {
    const scores = Float32Array.of(3, 1, 2);
    expect(Array.from(shortlistByScore(scores, 3, new Uint32Array(3)))).toEqual([0, 1, 2]);
    expect(Array.from(shortlistByScore(scores, 5, new Uint32Array(3)))).toEqual([0, 1, 2]);
  });
});
