/**
 * The resident half of a partitioned index (see partition.ts): every item's
 * list and sketch, in memory. A search scans the sketches of the lists
 * nearest the query and keeps the best by approximate score.
 */
import type { CoderParams } from '../codes/coder.ts';
import type { SlotFilter } from './mih.ts';
import type { Partition } from './partition.ts';
import { QueryProjection } from './query-projection.ts';
import type { ScanThread } from './scan-thread.ts';
import { indexesAtLeast, type SelectAtLeast } from './select-scores.ts';
import { SketchArray } from './sketch-kernel.ts';

export interface Scored {
  readonly slots: Uint32Array;
  /** Approximate scores, best first: (P·q)·y, the item's cosine with the query less a constant. */
  readonly scores: Float32Array;
  /** Sketches in the lists scanned (live or not). */
  readonly scanned: number;
}

/** No position yet. */
const NONE = 0xffffffff;

/**
 * A search scores heads first only where it probes at least this many times its shortlist. Below,
 * one pass over whole sketches is as quick: at 10 000 items (bench:index phases), heads and then
 * 4000 whole took 0.97 ms against 0.47 ms for all whole; at 1M, 5.14 ms against 6.14 ms probing
 * 200 000. The default 1M probe of 50 000 takes one pass: at 8, two passes took 0.79 of its time
 * in Node (scratch, hot queries), but in Chromium the phases timed them the same (2.46 against
 * 2.33 ms, 2.14 against 2.10), for 0.001 less recall@10 by default.
 */
export const HEAD_PASS_RATIO = 16;

/**
 * Lists are ranked by their centroid's score plus this many times their *reach* (`measureReach`): about how far their
 * best item lies above that score for the query, from the spread of their items around the centroid. A query unlike
 * the lists (a real photo among bench:index's synthetic items) has flat centroid scores, and its neighbours lie in the
 * lists whose items spread most its way. Over a million items (scratch, 100 real-photo and 200 synthetic queries),
 * the lists that make up the first 50 000, 100 000 and 200 000 sketches held 0.726, 0.837 and 0.934 of the real
 * queries' top 10 (as a search of every list finds it) ranked by centroid score, 0.849, 0.932 and 0.985 at 0.5
 * times the reach and 0.831, 0.936, 0.985 at 1; the synthetic queries' 0.989, 0.994, 0.999 and 0.999, 1, 1.
 */
export const LIST_REACH = 0.5;
/** Sketches per list, spread over it, whose offsets from the centroid `measureReach` averages. */
const REACH_SAMPLE = 64;

/**
 * Sketches are kept in an arena in *position* order, not slot order, so that a
 * list's sketches sit side by side and a scan streams through memory (a
 * million-item scan of 62 500 sketches took 6.5 ms in slot order, 1.3 ms in
 * list order). Positions [0, sortedEnd) are grouped by list; items sketched
 * since the last `compact` sit after them, in the order they came, and each
 * list also keeps a short list of those. `compact` re-lays the arena (the
 * index runs it after loading, retraining and once the tail or the removed
 * items pass a quarter of the sorted part).
 */
export class InvertedLists {
  readonly dims: number;
  private readonly lists: number;
  /** Per sketch component, the spread it was divided by before quantising (its query weight). */
  private readonly spread: Float32Array;
  private arena: SketchArray;
  /** Per position: its slot. */
  private slotAt: Uint32Array;
  /** Per slot: its list and position (NONE: never sketched). */
  private listOfSlot: Uint16Array;
  private positionOf: Uint32Array;
  /** Positions in use; the sorted part; list l's sorted positions are [listStart[l], listStart[l + 1]). */
  private used = 0;
  private sortedEnd = 0;
  private listStart: Uint32Array;
  /** Per list, positions filed since the last compaction. */
  private readonly tail: Uint32Array[];
  /** Their bytes, kept as they grow: `byteLength` is asked on every search. */
  private tailBytes: number;
  private readonly tailSizes: Uint32Array;
  /** Sorted positions whose items have been removed since the last compaction. */
  private removed = 0;
  private readonly projected: Float32Array;
  private readonly weighted: Float32Array;
  /** 0 … lists − 1: the scan order when every list is scanned. */
  private readonly everyList: Uint32Array;
  /**
   * A search's scratch arrays, kept between searches: a million-item search fills 200k of each, and fresh ones every
   * time meant garbage collections in the middle of queries. `positions`: the sketches it scans; `shortlisted`: the
   * indexes (into those) of the heads the head pass keeps; `selected`: the indexes of the whole scores at or above
   * bestByScore's cut.
   */
  private scratch = { positions: new Uint32Array(0), shortlisted: new Uint32Array(0), selected: new Uint32Array(0) };
  private readonly queryProjection: QueryProjection;
  /** Per list and component, what `measureReach` says (null until the first `compact`), and a query's squares and reaches. */
  private reachMoments: SketchArray | null = null;
  private readonly squared: Float32Array;
  private readonly reach: Float32Array;

  /**
   * `coder`: the index's, whose W·q can give a query's projection (query-projection.ts). `thread`: one to score a part
   * of large scans (scan-thread.ts), handed each arena the lists make.
   */
  constructor(readonly partition: Partition, capacity: number, coder: CoderParams | null = null, private readonly thread: ScanThread | null = null) {
    const { dims, lists, sketch, spread } = partition.params;
    this.dims = dims;
    this.lists = lists;
    this.spread = spread;
    this.arena = new SketchArray(dims, sketch, capacity, { thread });
    this.slotAt = new Uint32Array(capacity);
    this.listOfSlot = new Uint16Array(capacity);
    this.positionOf = new Uint32Array(capacity).fill(NONE);
    this.listStart = new Uint32Array(lists + 1);
    this.tail = Array.from({ length: lists }, () => new Uint32Array(4));
    this.tailBytes = lists * 16;
    this.tailSizes = new Uint32Array(lists);
    this.projected = new Float32Array(dims);
    this.weighted = new Float32Array(dims);
    this.everyList = Uint32Array.from({ length: lists }, (_, l) => l);
    this.queryProjection = new QueryProjection(partition, coder);
    this.squared = new Float32Array(dims);
    this.reach = new Float32Array(lists);
  }

  /** Bytes per sketch. */
  get sketchBytes(): number {
    return this.arena.sketchBytes;
  }

  get byteLength(): number {
    return this.partition.byteLength + this.queryProjection.byteLength + this.arena.byteLength + this.slotAt.byteLength + this.listOfSlot.byteLength + this.positionOf.byteLength
      + this.listStart.byteLength + this.tailBytes + 3 * this.scratch.positions.byteLength + (this.reachMoments?.byteLength ?? 0) + this.squared.byteLength + this.reach.byteLength;
  }

  /** Whether a `compact` would pay: the unsorted tail or the removed items pass a quarter of the sorted part. */
  get needsCompaction(): boolean {
    return (this.used - this.sortedEnd + this.removed) * 4 > Math.max(this.sortedEnd, 4096);
  }

  /** Room for slots 0 … capacity − 1. */
  reserve(capacity: number): void {
    if (capacity <= this.listOfSlot.length) return;
    const listOfSlot = new Uint16Array(capacity);
    listOfSlot.set(this.listOfSlot);
    const positionOf = new Uint32Array(capacity).fill(NONE);
    positionOf.set(this.positionOf);
    this.listOfSlot = listOfSlot;
    this.positionOf = positionOf;
  }

  /** Writes the list, scale and sketch of `vector` (an embedding) for `slot`; `file` makes it searchable. */
  sketch(slot: number, vector: Float32Array): void {
    const y = this.projected;
    this.partition.projectCentred(vector, y);
    const position = this.newPosition(slot, this.partition.listOf(y));
    for (let j = 0; j < this.dims; j++) y[j] = y[j]! / this.spread[j]!;
    this.arena.encode(y, position);
  }

  /**
   * Stores the sketches of slots first … first + count − 1 as read from storage
   * (the live ones), in one copy when all are live. A `compact` files them.
   */
  putRun(first: number, count: number, listNumbers: Uint16Array, scales: Float32Array, sketches: Int8Array, isLive: SlotFilter): void {
    for (let i = 0; i < count; i++) {
      if (listNumbers[i]! >= this.lists) throw new Error(`The index is damaged: slot ${first + i} is filed under list ${listNumbers[i]} of ${this.lists}.`);
    }
    let allLive = true;
    for (let i = 0; i < count && allLive; i++) allLive = isLive(first + i);
    if (!allLive) {
      for (let i = 0; i < count; i++) {
        if (!isLive(first + i)) continue;
        const position = this.newPosition(first + i, listNumbers[i]!);
        this.arena.put(position, sketches.subarray(i * this.sketchBytes, (i + 1) * this.sketchBytes), scales[i]!);
      }
      return;
    }
    const start = this.used;
    for (let i = 0; i < count; i++) this.newPosition(first + i, listNumbers[i]!);
    this.arena.putRun(start, sketches, scales, count);
  }

  /** Slot's list, scale and sketch (a copy), as stored; zeros for a slot never sketched. */
  stored(slot: number): { list: number; scale: number; sketch: Int8Array | null } {
    const position = slot < this.positionOf.length ? this.positionOf[slot]! : NONE;
    if (position === NONE) return { list: 0, scale: 0, sketch: null };
    return { list: this.listOfSlot[slot]!, scale: this.arena.scale(position), sketch: this.arena.sketch(position) };
  }

  /** Files a sketched slot under its list. */
  file(slot: number): void {
    const list = this.listOfSlot[slot]!;
    let tail = this.tail[list]!;
    if (this.tailSizes[list] === tail.length) {
      const grown = new Uint32Array(tail.length * 2);
      grown.set(tail);
      this.tailBytes += tail.byteLength;
      this.tail[list] = tail = grown;
    }
    tail[this.tailSizes[list]!++] = this.positionOf[slot]!;
  }

  /** Counts removed items toward the next compaction (searches skip them meanwhile). */
  forget(count: number): void {
    this.removed += count;
  }

  /**
   * Re-lays the arena: every live slot that has a sketch, grouped by list and in
   * slot order within a list (a counting sort over the slots); the tails empty.
   */
  compact(isLive: SlotFilter): void {
    const { dims, lists } = this;
    const slots = this.positionOf.length;
    const kept = (slot: number) => this.positionOf[slot] !== NONE && isLive(slot);
    const counts = new Uint32Array(lists + 1);
    for (let slot = 0; slot < slots; slot++) if (kept(slot)) counts[this.listOfSlot[slot]! + 1]!++;
    for (let list = 0; list < lists; list++) counts[list + 1]! += counts[list]!;
    const total = counts[lists]!;
    // Room for a sixteenth more before the next growth: the arena is most of a large index's memory.
    const capacity = total + (total >> 4) + 1024;
    const arena = new SketchArray(dims, this.arena.encoding, capacity, { thread: this.thread });
    const slotAt = new Uint32Array(capacity);
    // Where each new position's sketch is now.
    const from = new Uint32Array(total);
    const next = counts.slice(0, lists);
    for (let slot = 0; slot < slots; slot++) {
      if (!kept(slot)) {
        this.positionOf[slot] = NONE;
        continue;
      }
      const p = this.positionOf[slot]!;
      const at = next[this.listOfSlot[slot]!]!++;
      from[at] = p;
      slotAt[at] = slot;
      this.positionOf[slot] = at;
    }
    arena.copyFrom(this.arena, from, total);
    this.arena = arena;
    this.slotAt = slotAt;
    this.listStart = counts;
    this.used = this.sortedEnd = total;
    this.tailSizes.fill(0);
    this.removed = 0;
    this.reachMoments = this.measureReach();
  }

  /**
   * Per list and component j, the mean of (y_j − c_j)² over a sample of the list's items (y: an item's projection,
   * from its sketch; c: the centroid), times 2·ln(the list's size). For a query's projection u, the square root of
   * Σ_j u_j² times that is the list's reach: were the items' offsets Gaussian, about how far the best of them lies
   * above the centroid's score u·c. Kept as int8 sketches, one per list, which `reachFor` scans as the ranking scans the
   * centroids (Partition's `rankingSketches` says why).
   */
  private measureReach(): SketchArray {
    const { dims, lists, spread } = this;
    const { centroids } = this.partition.params;
    const moments = new SketchArray(dims, 'int8', lists, { headDims: dims });
    const row = new Float32Array(dims);
    const y = this.projected;
    for (let list = 0; list < lists; list++) {
      const start = this.listStart[list]!;
      const size = this.listStart[list + 1]! - start;
      const taken = Math.min(size, REACH_SAMPLE);
      row.fill(0);
      const centroid = centroids.subarray(list * dims, (list + 1) * dims);
      for (let i = 0; i < taken; i++) {
        this.arena.decode(start + Math.floor((i * size) / taken), y);
        for (let j = 0; j < dims; j++) {
          const offset = y[j]! * spread[j]! - centroid[j]!;
          row[j]! += offset * offset;
        }
      }
      if (taken > 0) for (let j = 0; j < dims; j++) row[j]! *= (2 * Math.log(Math.max(2, size))) / taken;
      moments.encode(row, list);
    }
    return moments;
  }

  /**
   * LIST_REACH times each list's reach for projection `q`, which ranking the lists adds to their scores (none before
   * the first `compact`): a view, overwritten by the next call.
   */
  reachFor(q: Float32Array): Float32Array | undefined {
    if (!this.reachMoments) return undefined;
    for (let j = 0; j < this.dims; j++) this.squared[j] = q[j]! * q[j]!;
    this.reachMoments.scoreFirst(this.lists, this.squared, this.reach);
    // (Every term is a product of two non-negative integers, so no sum is below 0.)
    for (let list = 0; list < this.lists; list++) this.reach[list] = LIST_REACH * Math.sqrt(this.reach[list]!);
    return this.reach;
  }

  /** Whether `project` takes a query's projection from the coder's W·q (query-projection.ts). */
  get projectsViaCoder(): boolean {
    return this.queryProjection.viaCoder;
  }

  /** A unit query's projection P·q, which `search` takes: from the coder's W·q (`coderSums`, as Coder.encode gives them) where it can be. */
  project(query: Float32Array, coderSums: Float32Array | null = null): Float32Array {
    return this.queryProjection.project(query, coderSums);
  }

  /**
   * The `keep` best slots by approximate score among the lists that rank best for the
   * query (given as its projection, `project`: by centroid score plus reach), scanning lists in that order until at least `scan` sketches are seen:
   * the heads of all of them, then whole sketches for at least the best
   * `shortlist` by head score (every one, in one pass, when the scan is less
   * than HEAD_PASS_RATIO times the shortlist). `isLive` says which slots
   * still hold items (it is asked only once items have been removed since the
   * last compaction).
   *
   * Up to `widest` sketches (default: `scan`, no widening), the scan then goes
   * on through the next lists for as long as one is likely to hold a better
   * item than the `keep`-th: while the list's rank score (its centroid's score
   * plus LIST_REACH times its reach), plus the largest gain over its own list's
   * rank score among the items kept, reaches the
   * `keep`-th score (a guess from what the first lists held, not a bound). A
   * query like the collection's items finds its best near the top lists and
   * stops; one unlike them (an outlier, such as a real photo among the
   * synthetic ones of bench:index) has flat list scores, and scans wider; so
   * does a near-duplicate of an item, whose copy scores far above its list.
   * (Leaving that largest gain out spared near-duplicates, but cost the
   * outliers recall: at a million items 0.947–0.958 in all, on the target's edge.)
   */
  search(q: Float32Array, scan: number, shortlist: number, keep: number, isLive: SlotFilter, widest = scan): Scored {
    if (q.length !== this.dims) throw new RangeError(`A search takes the query's projection (${this.dims} values, \`project\`), not ${q.length} values.`);
    const size = (list: number) => this.listStart[list + 1]! - this.listStart[list]! + this.tailSizes[list]!;
    // Rank only as many lists as the widest scan is likely to reach (twice the average-size estimate), all of them if that
    // falls short; none when the first scan must reach every sketch anyway (a collection smaller than the probe).
    const average = Math.max(1, this.used / this.lists);
    const farthest = Math.max(scan, widest);
    const reach = scan >= this.used ? undefined : this.reachFor(q);
    let ranked = scan >= this.used ? null : this.partition.rankLists(q, Math.min(this.lists, 2 * Math.ceil(farthest / average) + 1), reach);
    let order = ranked?.order ?? this.everyList;
    let total = 0;
    let listCount = 0;
    for (;;) {
      while (listCount < order.length && total < scan) total += size(order[listCount++]!);
      if (total >= scan || order.length === this.lists) break;
      ranked = this.partition.rankLists(q, this.lists, reach);
      order = ranked.order;
      total = 0;
      listCount = 0;
    }
    const weighted = this.weighted;
    for (let j = 0; j < this.dims; j++) weighted[j] = q[j]! * this.spread[j]!;
    const unit = this.arena.setQuery(weighted);
    let kept = this.bestInLists(order.subarray(0, listCount), total, shortlist, keep, isLive);
    if (ranked && total < widest && listCount < this.lists) {
      const listScores = ranked.scores;
      const listOf = (position: number) => this.listOfSlot[this.slotAt[position]!]!;
      // (A NaN score makes the gain NaN, and the scan stops here.)
      let gain = -Infinity;
      for (let i = 0; i < kept.scores.length; i++) gain = Math.max(gain, kept.scores[i]! * unit - listScores[listOf(kept.positions[i]!)]!);
      // Fewer than `keep` found: any list could add one.
      const worst = kept.scores.length < keep ? -Infinity : kept.scores[keep - 1]! * unit;
      const from = listCount;
      let more = 0;
      for (;;) {
        while (listCount < order.length && total + more < widest && listScores[order[listCount]!]! + gain >= worst) more += size(order[listCount++]!);
        if (listCount < order.length || order.length === this.lists || total + more >= widest) break;
        // The lists ranked ran out (they are ranked by an estimate of their sizes): rank them all, a ranking the first ones begin.
        order = this.partition.rankLists(q, this.lists, reach).order;
      }
      if (more > 0) {
        const wider = this.bestInLists(order.subarray(from, listCount), more, shortlist, keep, isLive);
        kept = bestByScore(joined(kept.positions, wider.positions), joined(kept.scores, wider.scores), keep);
        total += more;
      }
    }
    const slots = new Uint32Array(kept.positions.length);
    for (let i = 0; i < slots.length; i++) slots[i] = this.slotAt[kept.positions[i]!]!;
    const scores = new Float32Array(kept.scores.length);
    for (let i = 0; i < scores.length; i++) scores[i] = kept.scores[i]! * unit;
    return { slots, scores, scanned: total };
  }

  /**
   * The `keep` best positions, with their scores, of the sketches in lists `listNumbers` (`count` of them at most) against
   * the query set last: by heads and then the best `shortlist` whole where there are many, else all whole.
   */
  private bestInLists(listNumbers: Uint32Array, count: number, shortlist: number, keep: number, isLive: SlotFilter): { positions: Uint32Array; scores: Float32Array } {
    if (this.scratch.positions.length < count) {
      const size = Math.ceil(count * 1.25);
      this.scratch = { positions: new Uint32Array(size), shortlisted: new Uint32Array(size), selected: new Uint32Array(size) };
    }
    const { positions, shortlisted, selected } = this.scratch;
    let n = 0;
    // Every filed item is live until one is removed (compaction then drops it): only then is each checked.
    const check = this.removed > 0;
    for (let l = 0; l < listNumbers.length; l++) {
      const list = listNumbers[l]!;
      const tail = this.tail[list]!;
      const end = this.listStart[list + 1]!;
      if (check) {
        for (let p = this.listStart[list]!; p < end; p++) if (isLive(this.slotAt[p]!)) positions[n++] = p;
        for (let t = 0; t < this.tailSizes[list]!; t++) if (isLive(this.slotAt[tail[t]!]!)) positions[n++] = tail[t]!;
      } else {
        for (let p = this.listStart[list]!; p < end; p++) positions[n++] = p;
        positions.set(tail.subarray(0, this.tailSizes[list]!), n);
        n += this.tailSizes[list]!;
      }
    }
    let candidates: Uint32Array = positions.subarray(0, n);
    // Both picks choose among the scores where the scan left them, by the sketch array's `atLeast`.
    if (HEAD_PASS_RATIO * Math.max(shortlist, keep) <= n && this.arena.headDims < this.dims) {
      const heads = this.arena.scan(false, candidates, n);
      candidates = shortlistByScore(heads, Math.max(shortlist, keep), shortlisted, (threshold) => this.arena.atLeast(heads, threshold, shortlisted));
      for (let i = 0; i < candidates.length; i++) candidates[i] = positions[candidates[i]!]!;
    }
    const scores = this.arena.scan(true, candidates, candidates.length);
    return bestByScore(candidates, scores, keep, (threshold) => this.arena.atLeast(scores, threshold, selected));
  }

  private newPosition(slot: number, list: number): number {
    const position = this.used++;
    if (position >= this.slotAt.length) {
      const capacity = Math.max(1024, Math.ceil(this.slotAt.length * 1.5));
      this.arena.reserve(capacity);
      const slotAt = new Uint32Array(capacity);
      slotAt.set(this.slotAt);
      this.slotAt = slotAt;
    }
    this.slotAt[position] = slot;
    this.listOfSlot[slot] = list;
    this.positionOf[slot] = position;
    return position;
  }
}

/**
 * The `keep` highest scores with their positions, best first (ties by
 * position). Of scores tied at the cut, the earliest in `scores` are kept.
 *
 * Where there are many, a first block of them sets a cut: its `keep`-th best
 * score, which the `keep`-th best of all reaches too. `atLeast` (over these
 * same scores; default: a loop over them) picks the indexes of every score at
 * or above the cut, in order, and only those go through the heap: what it
 * keeps is the same, as every score left out is below the cut. The scan meets
 * the nearest lists first, so few pass. (Keeping 100 of 50 000 sketch scores
 * in Chromium 150, scratch: 37–84 µs so, with the sketch array's SIMD pick
 * where the scores are, against 123–243 µs for the heap over all of them.)
 * Scores are finite, as sketch scores are.
 */
export function bestByScore(positions: Uint32Array, scores: Float32Array, keep: number, atLeast?: SelectAtLeast): { positions: Uint32Array; scores: Float32Array } {
  const block = Math.max(CUT_BLOCK_KEEPS * keep, Math.min(CUT_BLOCK, scores.length >> 3));
  if (keep < 1 || scores.length <= block) return heapBest(positions, scores, keep);
  const cut = fillHeap(scores.subarray(0, block), keep).heapScores[0]!; // the block's keep-th best: the worst its heap keeps
  if (Number.isNaN(cut)) return heapBest(positions, scores, keep); // (not a sketch score: nothing would reach it)
  const picked = atLeast ? atLeast(cut) : indexesAtLeast(scores, cut, new Uint32Array(scores.length));
  const pickedPositions = reused(pickScratch.positions, picked.length);
  const pickedScores = reused(pickScratch.scores, picked.length);
  for (let i = 0; i < picked.length; i++) {
    pickedPositions[i] = positions[picked[i]!]!;
    pickedScores[i] = scores[picked[i]!]!;
  }
  return heapBest(pickedPositions, pickedScores, keep);
}

/** bestByScore over every score, by the heap below. */
function heapBest(positions: Uint32Array, scores: Float32Array, keep: number): { positions: Uint32Array; scores: Float32Array } {
  const { heap } = fillHeap(scores, keep);
  // (Sorted in place and copied out in loops: an Array copy and `from` with map functions took 7% of a small index's search.)
  heap.sort((a, b) => scores[b]! - scores[a]! || positions[a]! - positions[b]!);
  const kept = { positions: new Uint32Array(heap.length), scores: new Float32Array(heap.length) };
  for (let i = 0; i < heap.length; i++) {
    kept.positions[i] = positions[heap[i]!]!;
    kept.scores[i] = scores[heap[i]!]!;
  }
  return kept;
}

/**
 * Arrays the picks use and leave (each runs to its end, never pausing): typed arrays of more than 64 bytes took 1–3 µs
 * each to make in Chromium 150 (scratch), and a search's picks made several. PICK_SCRATCH entries each (64 KiB in
 * all, outside any index's budget); a larger pick (a filtered search widening toward every item) makes its own.
 */
const PICK_SCRATCH = 4096;
const pickScratch = {
  heap: new Uint32Array(PICK_SCRATCH), heapScores: new Float32Array(PICK_SCRATCH),
  positions: new Uint32Array(PICK_SCRATCH), scores: new Float32Array(PICK_SCRATCH),
};

/** The first `length` entries of `array`, or a new array of its type where it is too short. */
function reused<T extends Uint32Array | Float32Array>(array: T, length: number): T {
  return (length <= array.length ? array.subarray(0, length) : new (array.constructor as new (length: number) => T)(length)) as T;
}

/**
 * A bounded heap of the `keep` best of `scores`, the worst kept at heap[0]: lower score, or the same score and later.
 * heap[h] is an index into `scores`, heapScores[h] its score, so that a comparison reads one array (a third less time
 * over 2 700 scores, in Node); both are views of `pickScratch` where it has room. The scan meets the nearest lists
 * first, so after the first lists most scores lose one comparison with the worst kept (a full quickselect over
 * 200 000 scores took 1.5 ms).
 */
function fillHeap(scores: Float32Array, keep: number): { heap: Uint32Array; heapScores: Float32Array } {
  const size = Math.min(keep, scores.length);
  const [heap, heapScores] = [reused(pickScratch.heap, size), reused(pickScratch.heapScores, size)];
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i]!;
    let at: number;
    if (i < size) {
      // Up past every parent that is no lower: i, the latest, is worse than an equal one.
      at = i;
      while (at > 0 && score <= heapScores[(at - 1) >> 1]!) {
        heap[at] = heap[(at - 1) >> 1]!;
        heapScores[at] = heapScores[(at - 1) >> 1]!;
        at = (at - 1) >> 1;
      }
    } else if (score > heapScores[0]!) { // a later equal score never beats a kept one
      at = 0;
      for (;;) {
        let child = 2 * at + 1;
        if (child >= size) break;
        const right = child + 1;
        if (right < size && (heapScores[right]! < heapScores[child]! || (heapScores[right] === heapScores[child] && heap[right]! > heap[child]!))) child = right;
        // Stop at a worse child that is not below i (an equal one came earlier, so it is the better).
        if (!(heapScores[child]! < score)) break;
        heap[at] = heap[child]!;
        heapScores[at] = heapScores[child]!;
        at = child;
      }
    } else {
      continue;
    }
    heap[at] = i;
    heapScores[at] = score;
  }
  return { heap, heapScores };
}

/**
 * The indexes, in increasing order, of at least `keep` of the highest scores
 * (every index, when there are no more): those at or above a threshold read
 * off an evenly spaced sample of the scores, lowered until enough pass. The
 * whole-sketch pass needs the best heads, not exactly `keep` of them, and an
 * exact pick is dear at this size (the heap above took 4.2 ms for 4000 of
 * 200 000 scores in random order). `into` (n long) holds the indexes;
 * `atLeast`, which picks those at or above a threshold, writes them there
 * (default: a loop over `scores`).
 */
export function shortlistByScore(scores: Float32Array, keep: number, into: Uint32Array, atLeast: SelectAtLeast = (threshold) => indexesAtLeast(scores, threshold, into)): Uint32Array {
  const n = scores.length;
  if (keep >= n) {
    for (let i = 0; i < n; i++) into[i] = i;
    return into.subarray(0, n);
  }
  const sampleSize = Math.min(n, SHORTLIST_SAMPLE);
  // (A loop, not Float32Array.from with a map function: that took 0.2 ms of a 0.5 ms pick over 50 000 scores, in Node.)
  const sample = new Float32Array(sampleSize);
  for (let i = 0; i < sampleSize; i++) sample[i] = scores[Math.floor((i * n) / sampleSize)]!;
  sample.sort();
  // Aim a quarter above `keep`; each shortfall lowers the threshold by twice as many sample ranks as before.
  let below = Math.ceil((sampleSize * keep * 1.25) / n);
  for (;;) {
    const threshold = below >= sampleSize ? -Infinity : sample[sampleSize - below]!;
    const passed = atLeast(threshold);
    // (Below −∞ nothing more passes: only NaN scores, which never do, can leave fewer than `keep`.)
    if (passed.length >= keep || threshold === -Infinity) return passed;
    below *= 2;
  }
}

/** `a` then `b`, in a new array of their type. */
function joined<T extends Uint32Array | Float32Array>(a: T, b: T): T {
  const out = new (a.constructor as new (length: number) => T)(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Scores sampled to set shortlistByScore's threshold. */
const SHORTLIST_SAMPLE = 2048;
/**
 * bestByScore's first block, whose `keep`-th best score is its cut: this many scores, or an eighth of them where that
 * is fewer, and at least CUT_BLOCK_KEEPS times `keep`. Of scores in random order about keep · n / block pass the cut;
 * the nearest lists, scanned first, set a higher one.
 */
const CUT_BLOCK = 4096;
const CUT_BLOCK_KEEPS = 4;
