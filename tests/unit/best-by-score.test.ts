import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/codes/random.ts';
import { bestByScore } from '../../src/core/index/inverted-lists.ts';

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
});
