/**
 * The resident half of a partitioned index (see partition.ts): every slot's
 * list number and int8 sketch, and per list the slots filed under it. A search
 * scans the sketches of a few lists and keeps the best by approximate score.
 */
import type { Partition } from './partition.ts';
import type { SlotFilter } from './mih.ts';

export interface Scored {
  readonly slots: Uint32Array;
  /** Approximate scores, best first: (P·q)·y, the item's cosine with the query less a constant. */
  readonly scores: Float32Array;
  /** How many sketches were scanned. */
  readonly scanned: number;
}

export class InvertedLists {
  readonly dims: number;
  /** Per slot: list number, sketch scale and int8 sketch. */
  listOfSlot: Uint16Array;
  scales: Float32Array;
  sketches: Int8Array;
  /** Per list: its slots, in the order they were filed (removed ones stay until the next rebuild; the filter skips them). */
  private readonly members: Uint32Array[];
  private readonly sizes: Uint32Array;
  private readonly projected: Float32Array;

  constructor(readonly partition: Partition, capacity: number) {
    const { dims, lists } = partition.params;
    this.dims = dims;
    this.listOfSlot = new Uint16Array(capacity);
    this.scales = new Float32Array(capacity);
    this.sketches = new Int8Array(capacity * dims);
    this.members = Array.from({ length: lists }, () => new Uint32Array(16));
    this.sizes = new Uint32Array(lists);
    this.projected = new Float32Array(dims);
  }

  get byteLength(): number {
    return this.listOfSlot.byteLength + this.scales.byteLength + this.sketches.byteLength + this.members.reduce((sum, m) => sum + m.byteLength, 0);
  }

  /** Room for `capacity` slots. */
  reserve(capacity: number): void {
    if (capacity <= this.scales.length) return;
    const grow = <T extends Uint16Array | Float32Array | Int8Array>(old: T, size: number): T => {
      const next = new (old.constructor as new (n: number) => T)(size);
      next.set(old);
      return next;
    };
    this.listOfSlot = grow(this.listOfSlot, capacity);
    this.scales = grow(this.scales, capacity);
    this.sketches = grow(this.sketches, capacity * this.dims);
  }

  /** Writes the list, scale and sketch of `vector` (an embedding) for `slot`; `file` makes it searchable. */
  sketch(slot: number, vector: Float32Array): void {
    this.partition.projectCentred(vector, this.projected);
    this.listOfSlot[slot] = this.partition.listOf(this.projected);
    this.scales[slot] = quantiseSketch(this.projected, this.sketches, slot * this.dims);
  }

  /** Files a sketched slot under its list. */
  file(slot: number): void {
    const list = this.listOfSlot[slot]!;
    let members = this.members[list]!;
    if (this.sizes[list] === members.length) {
      const grown = new Uint32Array(members.length * 2);
      grown.set(members);
      this.members[list] = members = grown;
    }
    members[this.sizes[list]!++] = slot;
  }

  /**
   * The `keep` best slots by approximate score among the lists nearest the
   * query, scanning lists in order until at least `scan` sketches are seen.
   */
  search(query: Float32Array, scan: number, keep: number, accept: SlotFilter): Scored {
    const q = this.partition.projectQuery(query);
    const order = this.partition.rankLists(q);
    const { dims, sketches, scales } = this;
    let total = 0;
    let listCount = 0;
    while (listCount < order.length && total < scan) total += this.sizes[order[listCount++]!]!;
    const slots = new Uint32Array(total);
    const scores = new Float32Array(total);
    let n = 0;
    for (let l = 0; l < listCount; l++) {
      const list = order[l]!;
      const members = this.members[list]!;
      for (let m = 0, size = this.sizes[list]!; m < size; m++) {
        const slot = members[m]!;
        if (!accept(slot)) continue;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0; // prettier-ignore
        const at = slot * dims;
        let j = 0;
        for (; j + 3 < dims; j += 4) {
          s0 += q[j]! * sketches[at + j]!;
          s1 += q[j + 1]! * sketches[at + j + 1]!;
          s2 += q[j + 2]! * sketches[at + j + 2]!;
          s3 += q[j + 3]! * sketches[at + j + 3]!;
        }
        for (; j < dims; j++) s0 += q[j]! * sketches[at + j]!;
        slots[n] = slot;
        scores[n++] = (s0 + s1 + (s2 + s3)) * scales[slot]!;
      }
    }
    return { ...best(slots.subarray(0, n), scores.subarray(0, n), keep), scanned: n };
  }
}

/** int8 of y with one scale (max |y| / 127), so that y ≈ scale · sketch; returns the scale. */
export function quantiseSketch(y: Float32Array, out: Int8Array, outOffset: number): number {
  let maxAbs = 0;
  for (let j = 0; j < y.length; j++) maxAbs = Math.max(maxAbs, Math.abs(y[j]!));
  if (maxAbs === 0) {
    out.fill(0, outOffset, outOffset + y.length);
    return 0;
  }
  const toInt = 127 / maxAbs;
  for (let j = 0; j < y.length; j++) out[outOffset + j] = Math.round(y[j]! * toInt);
  return maxAbs / 127;
}

/** The `keep` highest scores with their slots, best first (ties by slot). */
function best(slots: Uint32Array, scores: Float32Array, keep: number): { slots: Uint32Array; scores: Float32Array } {
  const order = Array.from(scores.keys());
  if (order.length > keep) {
    // Only the order of the best `keep` matters: select them first with a threshold, then sort those.
    const threshold = kthLargest(Float32Array.from(scores), keep);
    const above = order.filter((i) => scores[i]! > threshold);
    const at = order.filter((i) => scores[i] === threshold);
    order.length = 0;
    order.push(...above, ...at.slice(0, keep - above.length));
  }
  order.sort((a, b) => scores[b]! - scores[a]! || slots[a]! - slots[b]!);
  return { slots: Uint32Array.from(order, (i) => slots[i]!), scores: Float32Array.from(order, (i) => scores[i]!) };
}

/** The k-th largest value (1-based), by quickselect; reorders `values`. */
function kthLargest(values: Float32Array, k: number): number {
  let lo = 0;
  let hi = values.length - 1;
  const target = values.length - k;
  while (lo < hi) {
    const pivot = values[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i]! < pivot) i++;
      while (values[j]! > pivot) j--;
      if (i <= j) {
        const t = values[i]!;
        values[i++] = values[j]!;
        values[j--] = t;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else break;
  }
  return values[target]!;
}
