import { describe, expect, it } from 'vitest';
import { HEAD_PASS_RATIO, InvertedLists, LIST_REACH } from '../../src/core/index/inverted-lists.ts';
import { Partition, trainPartition, type PartitionParams } from '../../src/core/index/partition.ts';
import { SketchArray } from '../../src/core/index/sketch-kernel.ts';
import { Coder, trainCoderOn, type CoderParams } from '../../src/core/codes/coder.ts';
import { floatRows, samplePca } from '../../src/core/codes/linalg.ts';
import { gaussianRandom, seededRandom } from '../../src/core/codes/random.ts';
import { syntheticItems } from '../index-data.ts';

const DIM = 160;
const DIMS = 128; // a 64-component head and a 64-component rest

describe('InvertedLists.search', () => {
  const items = syntheticItems(3000, 5, DIM);
  const sample = new Float32Array(1000 * DIM);
  items.slice(0, 1000).forEach((item, i) => sample.set(item.vector, i * DIM));
  const params = trainPartition(floatRows(sample, 1000, DIM), { dims: DIMS, lists: 16, sketch: 'int4', seed: 3 });
  const filed = (trained: PartitionParams, coder: CoderParams | null = null) => {
    const lists = new InvertedLists(new Partition(trained), items.length, coder);
    items.forEach((item, slot) => {
      lists.sketch(slot, item.vector);
      lists.file(slot);
    });
    lists.compact(() => true);
    return lists;
  };
  const lists = filed(params);
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
    const shortlist = 150;
    expect(HEAD_PASS_RATIO * shortlist).toBeLessThanOrEqual(items.length); // the probe is large enough for two passes
    // (Keeping 30 of the ~190 shortlisted, the pick cuts at its first block's best; keeping 50, it takes all to a heap.)
    for (const [keep, query] of syntheticItems(12, 9, DIM, 'query').map((q, i) => [i % 2 ? 50 : 30, q.vector] as const)) {
      const { head, whole, unit } = reference(query);
      const found = lists.search(lists.project(query), items.length, shortlist, keep, () => true);
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

  it('scoring every sketch whole, keeps exactly the best `keep` scores', () => {
    for (const query of syntheticItems(6, 10, DIM, 'query').map((q) => q.vector)) {
      const { whole, unit } = reference(query);
      for (const keep of [1, 50, 400]) {
        const found = lists.search(lists.project(query), items.length, items.length, keep, () => true);
        const best = Array.from(whole, (score) => Math.fround(score * unit)).sort((a, b) => b - a).slice(0, keep);
        expect(Array.from(found.scores)).toEqual(best);
        Array.from(found.slots).forEach((slot, i) => expect(found.scores[i]).toBe(Math.fround(whole[slot]! * unit)));
      }
    }
  });

  it('takes a query\'s projection from the coder\'s W·q where the coder shares the PCA, and finds the same', () => {
    const rows = floatRows(sample, 1000, DIM);
    const pca = samplePca(rows, DIMS);
    const shared = filed(trainPartition(rows, { dims: DIMS, lists: 16, sketch: 'int4', seed: 3, pca }), trainCoderOn('itq', rows, { bits: DIMS, seed: 4, pca }));
    expect([shared.projectsViaCoder, lists.projectsViaCoder]).toEqual([true, false]);
    const coder = new Coder(trainCoderOn('itq', rows, { bits: DIMS, seed: 4, pca }));
    for (const query of syntheticItems(12, 9, DIM, 'query').map((q) => q.vector)) {
      const sums = new Float32Array(DIMS);
      coder.encode(query, 0, new Uint32Array(coder.words), 0, sums);
      const [viaCoder, direct] = [shared.project(query, sums), shared.project(query)];
      expect(viaCoder).not.toEqual(direct); // another path, to float32 rounding
      expect(shared.search(viaCoder, items.length, 150, 50, () => true).slots).toEqual(shared.search(direct, items.length, 150, 50, () => true).slots);
    }
    expect(() => shared.search(Float32Array.from(items[0]!.vector), items.length, 150, 50, () => true)).toThrow(/projection/);
  });

  it('finds nearly what scoring every sketch whole finds', () => {
    let same = 0;
    const queries = syntheticItems(12, 9, DIM, 'query').map((q) => q.vector);
    for (const query of queries) {
      const twoPass = new Set(lists.search(lists.project(query), items.length, 150, 50, () => true).slots);
      const onePass = lists.search(lists.project(query), items.length, items.length, 50, () => true).slots;
      same += onePass.filter((slot) => twoPass.has(slot)).length;
    }
    expect(same / (queries.length * 50)).toBeGreaterThan(0.85); // keeping 150 of 3000 by head at random would share about 5%
  });

  it('widens the scan, up to `widest`, for queries whose best items could lie in lower lists, and never keeps worse', () => {
    // One list per centre of the items (tests/index-data.ts), as lists trained on enough items come to be.
    const lists = filed(trainPartition(floatRows(sample, 1000, DIM), { dims: DIMS, lists: 64, sketch: 'int4', seed: 3 }));
    const [scan, keep] = [100, 20]; // a few lists; fewer kept than a centre has items
    const all = () => true;
    const gauss = gaussianRandom(seededRandom(11));
    // Queries like the items (more drawn around the same centres) and unlike them (non-negative noise, no centre).
    const near = syntheticItems(items.length + 10, 5, DIM).slice(items.length).map((item) => item.vector);
    const far = Array.from({ length: 10 }, () => unitVector(Float32Array.from({ length: DIM }, () => Math.abs(gauss()))));
    // Near-duplicates of stored items: each has one copy that scores far above its list, and finds it.
    const copies = items.slice(0, 10).map((item) => unitVector(item.vector.map((x) => x + 0.02 * gauss())));
    const overlap = (query: Float32Array, widest: number) => {
      const found = lists.search(lists.project(query), scan, items.length, keep, all, widest);
      const best = new Set(lists.search(lists.project(query), items.length, items.length, keep, all).slots); // every sketch, one pass
      return Array.from(found.slots).filter((slot) => best.has(slot)).length / keep;
    };
    for (const query of [...near, ...far]) {
      const narrow = lists.search(lists.project(query), scan, items.length, keep, all);
      const wide = lists.search(lists.project(query), scan, items.length, keep, all, items.length);
      // A superset scanned: each rank's score is at least as good.
      wide.scores.forEach((score, i) => expect(score).toBeGreaterThanOrEqual(narrow.scores[i]!));
    }
    const mean = (queries: Float32Array[], value: (query: Float32Array) => number) => queries.reduce((sum, q) => sum + value(q), 0) / queries.length;
    expect(mean(far, (q) => overlap(q, items.length))).toBeGreaterThan(mean(far, (q) => overlap(q, scan)) + 0.1);
    // Queries like the items stop sooner; none scans past `widest` by more than its last list.
    const scanned = (query: Float32Array, widest = items.length) => lists.search(lists.project(query), scan, items.length, keep, all, widest).scanned;
    expect(mean(near, scanned)).toBeLessThan(0.5 * mean(far, scanned));
    copies.forEach((copy, slot) => expect(lists.search(lists.project(copy), scan, items.length, keep, all, items.length).slots).toContain(slot));
    for (const query of far) expect(scanned(query, 2 * scan)).toBeLessThan(2 * scan + 200);
  });
});

describe('InvertedLists ranking by reach', () => {
  it('scans a list whose items spread the query\'s way before a narrow one whose centroid scores a little higher', () => {
    // Two components, projected as they are: list 0 tight around (1, 0), list 1 around (0, 0) spread along the second.
    const partition = new Partition({ dim: 2, dims: 2, lists: 2, sketch: 'int4', mean: new Float32Array(2), projection: Float32Array.of(1, 0, 0, 1), centroids: Float32Array.of(1, 0, 0, 0), spread: Float32Array.of(1, 1) });
    const random = seededRandom(4);
    const narrow = Array.from({ length: 50 }, () => Float32Array.of(1 + 0.01 * (random() - 0.5), 0.01 * (random() - 0.5)));
    const wide = Array.from({ length: 50 }, (_, i) => Float32Array.of(0.01 * (random() - 0.5), 2 * ((2 * i) / 49 - 1)));
    const lists = new InvertedLists(partition, 100);
    [...narrow, ...wide].forEach((vector, slot) => {
      lists.sketch(slot, vector);
      lists.file(slot);
    });
    lists.compact(() => true);
    expect([0, 50, 99].map((slot) => lists.stored(slot).list)).toEqual([0, 1, 1]);
    const q = lists.project(Float32Array.of(0.5, 1));
    expect(Array.from(partition.rankLists(q).order)).toEqual([0, 1]); // by centroid score alone: 0.5 against 0
    // One list's worth of sketches: the wide list's, whose best items score up to 2.
    const found = lists.search(q, 50, 50, 5, () => true);
    expect(found.scanned).toBe(50);
    expect(Array.from(found.slots)).toEqual([99, 98, 97, 96, 95]);
  });
});

describe('InvertedLists.reachFor', () => {
  it('gives LIST_REACH times the square root of Σ u_j² · m_lj, within the int8 and int16 roundings', () => {
    // int8 sketches (which decode simply), spread 1 and a projection that keeps the first 32 of 40 dimensions.
    const [dim, dims, listCount, perList] = [40, 32, 6, 40];
    const gaussian = gaussianRandom(seededRandom(14));
    const centroids = Float32Array.from({ length: listCount * dims }, () => 3 * gaussian());
    const projection = Float32Array.from({ length: dims * dim }, (_, i) => (i % dim === Math.floor(i / dim) ? 1 : 0));
    const partition = new Partition({ dim, dims, lists: listCount, sketch: 'int8', mean: new Float32Array(dim), projection, centroids, spread: new Float32Array(dims).fill(1) });
    const lists = new InvertedLists(partition, listCount * perList);
    for (let slot = 0; slot < listCount * perList; slot++) {
      const list = slot % listCount;
      // Spread more in some components than in others, and more in some lists.
      lists.sketch(slot, Float32Array.from({ length: dim }, (_, j) => (j < dims ? centroids[list * dims + j]! + 0.02 * (1 + list) * (1 + (j % 4)) * gaussian() : 0)));
      lists.file(slot);
    }
    expect(lists.reachFor(new Float32Array(dims))).toBeUndefined(); // none before the first compact
    lists.compact(() => true);
    const query = Float32Array.from({ length: dims }, gaussian);
    const reach = Array.from(lists.reachFor(query)!);
    const decoded = new Float32Array(dims);
    const squared = query.map((u) => u * u);
    for (let list = 0; list < listCount; list++) {
      // Every item of a list is in the sample (40 of at most 64); their sketches say what the lists measured.
      const moments = new Float64Array(dims);
      const members = Array.from({ length: perList }, (_, i) => list + i * listCount).filter((slot) => lists.stored(slot).list === list);
      for (const slot of members) {
        const { scale, sketch } = lists.stored(slot);
        sketch!.forEach((component, j) => (decoded[j] = scale * component));
        decoded.forEach((y, j) => (moments[j] = moments[j]! + (y - centroids[list * dims + j]!) ** 2));
      }
      moments.forEach((m, j) => (moments[j] = (m * 2 * Math.log(Math.max(2, members.length))) / members.length));
      const exact = moments.reduce((sum, m, j) => sum + m * squared[j]!, 0);
      const momentStep = Math.max(...moments) / 127;
      const queryStep = Math.max(...squared) / 16_383;
      const bound = (squared.reduce((a, b) => a + b, 0) * momentStep) / 2 + (moments.reduce((a, b) => a + b, 0) * queryStep) / 2 + (dims * momentStep * queryStep) / 4 + 1e-4 * exact;
      expect(members.length).toBeGreaterThan(perList / 2);
      expect(Math.abs((reach[list]! / LIST_REACH) ** 2 - exact)).toBeLessThanOrEqual(bound);
      expect(bound).toBeLessThan(0.1 * exact);
    }
  });
});

function unitVector(v: Float32Array): Float32Array {
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

describe('Partition.rankLists', () => {
  // Components of −2, 0 or 2, which the int8 ranking sketches hold exactly (each row's largest is 2, or the row is all 0),
  // so that many scores tie, negatives included.
  const lists = 300;
  const dims = 4;
  const random = seededRandom(11);
  const centroids = Float32Array.from({ length: lists * dims }, () => 2 * (Math.floor(random() * 3) - 1));
  const partition = new Partition({ dim: 1, dims, lists, sketch: 'int4', mean: new Float32Array(1), projection: new Float32Array(dims), centroids, spread: new Float32Array(dims).fill(1) });
  const byScoreThenNumber = (scores: Float32Array) => Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b);

  it('orders lists by score, best first, ties by list number, and keeps the best `count`', () => {
    // (Queries the int16 rounding keeps exactly: every component 0 or ± the largest.)
    for (const query of [[1, 1, 0, 0], [0, 0, 0, 1], [-1, -1, -1, -1], [2, -2, 2, 0]]) {
      const projected = Float32Array.from(query);
      const all = partition.rankLists(projected);
      const expected = byScoreThenNumber(all.scores);
      expect(new Set(all.scores).size).toBeLessThan(lists / 30); // ties are the rule here
      expect(Array.from(all.order)).toEqual(expected);
      for (const count of [1, 7, 150, lists - 1]) expect(Array.from(partition.rankLists(projected, count).order)).toEqual(expected.slice(0, count));
    }
  });

  it('scores each list by its centroid as an int8 sketch, within that rounding of the exact inner product', () => {
    const [many, wide] = [50, 64];
    const gaussian = gaussianRandom(seededRandom(12));
    const rows = Float32Array.from({ length: many * wide }, gaussian);
    const sketched = new Partition({ dim: 1, dims: wide, lists: many, sketch: 'int4', mean: new Float32Array(1), projection: new Float32Array(wide), centroids: rows, spread: new Float32Array(wide).fill(1) });
    const query = Float32Array.from({ length: wide }, gaussian);
    const { order, scores } = sketched.rankLists(query);
    const largest = (v: Float32Array) => Math.max(...v.map(Math.abs));
    const sum = (v: Float32Array) => v.reduce((a, b) => a + Math.abs(b), 0);
    const queryStep = largest(query) / 16_383;
    const exact = Array.from({ length: many }, (_, c) => {
      const row = rows.subarray(c * wide, (c + 1) * wide);
      const step = largest(row) / 127;
      // Each component off by at most half a step, the query's too.
      const bound = (sum(query) * step) / 2 + (sum(row) * queryStep) / 2 + (wide * step * queryStep) / 4 + 1e-5;
      return { score: row.reduce((a, x, j) => a + x * query[j]!, 0), bound };
    });
    exact.forEach(({ score, bound }, c) => {
      expect(Math.abs(scores[c]! - score)).toBeLessThanOrEqual(bound);
      expect(bound).toBeLessThan(0.05 * Math.hypot(...rows.subarray(c * wide, (c + 1) * wide)) * Math.hypot(...query));
    });
    // So the order is the exact one, but for lists within rounding of each other.
    for (let i = 1; i < many; i++) {
      const [a, b] = [exact[order[i - 1]!]!, exact[order[i]!]!];
      expect(a.score + a.bound + b.bound).toBeGreaterThanOrEqual(b.score);
    }
    // Values that both roundings keep (each row's largest 127 times its scale, the query's 16 383 times its own) score exactly.
    const random = seededRandom(13);
    const onGrid = Float32Array.from({ length: many * wide }, (_, i) => (i % wide === 0 ? 127 : Math.round(254 * random()) - 127) * 2 ** -(Math.floor(i / wide) % 5));
    const gridded = new Partition({ dim: 1, dims: wide, lists: many, sketch: 'int4', mean: new Float32Array(1), projection: new Float32Array(wide), centroids: onGrid, spread: new Float32Array(wide).fill(1) });
    const gridQuery = Float32Array.from({ length: wide }, (_, j) => (j === 0 ? 16_383 : Math.round(32_766 * random()) - 16_383) / 4096);
    const gridScores = gridded.rankLists(gridQuery).scores;
    for (let c = 0; c < many; c++) {
      const dot = onGrid.subarray(c * wide, (c + 1) * wide).reduce((a, x, j) => a + x * gridQuery[j]!, 0);
      expect(Math.abs(gridScores[c]! - dot)).toBeLessThanOrEqual(1e-6 * Math.abs(dot));
    }
  });

  it('ranks up to 65 536 lists, ties by number', () => {
    const many = 65536;
    const wide = new Partition({ dim: 1, dims: 1, lists: many, sketch: 'int4', mean: new Float32Array(1), projection: new Float32Array(1), centroids: Float32Array.from({ length: many }, (_, c) => c % 3), spread: new Float32Array(1).fill(1) });
    const { order, scores } = wide.rankLists(Float32Array.from([1]));
    expect(Array.from(order)).toEqual(byScoreThenNumber(scores));
    expect(Array.from(order.subarray(-3))).toEqual([65529, 65532, 65535]);
  });

  it('adds each list\'s reach to its score where given, and ranks by the sums', () => {
    const projected = Float32Array.of(1, -1, 2, 0.5);
    const plain = partition.rankLists(projected);
    const reach = Float32Array.from({ length: lists }, (_, c) => (c % 7) * 0.75);
    const raised = partition.rankLists(projected, 20, reach);
    const sums = plain.scores.map((score, c) => score + reach[c]!);
    expect(Array.from(raised.scores)).toEqual(Array.from(sums));
    expect(Array.from(raised.order)).toEqual(byScoreThenNumber(sums).slice(0, 20));
    expect(Array.from(raised.order)).not.toEqual(Array.from(plain.order.subarray(0, 20)));
  });

  it('ranks scores of any size and sign by value', () => {
    // The scores come in as the reach (the centroids, at 0, add nothing): float32 extremes and both zeros.
    const flat = new Partition({ dim: 1, dims: 1, lists: 6, sketch: 'int4', mean: new Float32Array(1), projection: new Float32Array(1), centroids: new Float32Array(6), spread: new Float32Array(1).fill(1) });
    const extremes = Float32Array.from([0, -0, 3e38, -1e-38, 1e-38, -3e38]);
    expect(Array.from(flat.rankLists(Float32Array.from([1]), 6, extremes).order)).toEqual([2, 4, 0, 1, 3, 5]);
    expect(Array.from(flat.rankLists(Float32Array.from([1]), 6, extremes.map((x) => -x)).order)).toEqual([5, 3, 0, 1, 4, 2]);
  });
});
