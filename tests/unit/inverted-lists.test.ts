import { describe, expect, it } from 'vitest';
import { HEAD_PASS_RATIO, InvertedLists } from '../../src/core/index/inverted-lists.ts';
import { Partition, trainPartition } from '../../src/core/index/partition.ts';
import { SketchArray } from '../../src/core/index/sketch-kernel.ts';
import { syntheticItems } from '../index-data.ts';

const DIM = 160;
const DIMS = 128; // a 64-component head and a 64-component rest

describe('InvertedLists.search in two passes', () => {
  const items = syntheticItems(3000, 5, DIM);
  const sample = new Float32Array(1000 * DIM);
  items.slice(0, 1000).forEach((item, i) => sample.set(item.vector, i * DIM));
  const params = trainPartition(sample, DIM, { dims: DIMS, lists: 16, sketch: 'int4', seed: 3 });
  const lists = new InvertedLists(new Partition(params), items.length);
  items.forEach((item, slot) => {
    lists.sketch(slot, item.vector);
    lists.file(slot);
  });
  lists.compact(() => true);
  // Every item's score by its head and by its whole sketch, from the stored sketches, as a search weighs the query.
  const [heads, wholes] = [new SketchArray(DIMS, 'int4', items.length), new SketchArray(DIMS, 'int4', items.length, { headDims: DIMS })];
  items.forEach((_, slot) => {
    const { sketch, scale } = lists.stored(slot);
    heads.put(slot, sketch!, scale);
    wholes.put(slot, sketch!, scale);
  });
  const slots = Uint32Array.from(items.keys());
  function reference(query: Float32Array) {
    const weighted = new Partition(params).projectQuery(query).map((v, j) => v * params.spread[j]!);
    const [head, whole] = [new Float32Array(items.length), new Float32Array(items.length)];
    heads.setQuery(weighted);
    heads.headScores(slots, slots.length, head);
    const unit = wholes.setQuery(weighted);
    wholes.scores(slots, slots.length, whole);
    return { head, whole, unit };
  }

  it('keeps the best `keep` by whole sketch among all whose heads reach some threshold that at least `shortlist` reach', () => {
    const [shortlist, keep] = [150, 50];
    expect(HEAD_PASS_RATIO * shortlist).toBeLessThanOrEqual(items.length); // the probe is large enough for two passes
    for (const query of syntheticItems(12, 9, DIM, 'query').map((q) => q.vector)) {
      const { head, whole, unit } = reference(query);
      const found = lists.search(query, items.length, shortlist, keep, () => true);
      // Each kept score is its whole-sketch score, to the bit.
      Array.from(found.slots).forEach((slot, i) => expect(found.scores[i]).toBe(Math.fround(whole[slot]! * unit)));
      // Some head threshold T (no higher than the lowest kept head) passes ≥ shortlist items, and the kept are the best `keep` of those by whole score.
      const lowestKept = Math.min(...Array.from(found.slots, (slot) => head[slot]!));
      const thresholds = [...new Set(head)].filter((t) => t <= lowestKept).sort((a, b) => b - a);
      const explained = thresholds.some((t) => {
        const passing = Array.from(slots).filter((slot) => head[slot]! >= t);
        if (passing.length < shortlist) return false;
        const best = passing.sort((a, b) => whole[b]! - whole[a]! || a - b).slice(0, keep);
        return best.every((slot) => found.slots.includes(slot));
      });
      expect(found.slots.length).toBe(keep);
      expect(explained).toBe(true);
    }
  });

  it('finds nearly what scoring every sketch whole finds', () => {
    let same = 0;
    const queries = syntheticItems(12, 9, DIM, 'query').map((q) => q.vector);
    for (const query of queries) {
      const twoPass = new Set(lists.search(query, items.length, 150, 50, () => true).slots);
      const onePass = lists.search(query, items.length, items.length, 50, () => true).slots;
      same += onePass.filter((slot) => twoPass.has(slot)).length;
    }
    expect(same / (queries.length * 50)).toBeGreaterThan(0.85); // keeping 150 of 3000 by head at random would share about 5%
  });
});
