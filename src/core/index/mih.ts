/**
 * Exact Hamming k-nearest-neighbour search over binary codes.
 *
 * Multi-Index Hashing (Norouzi, Punjani & Fleet, "Fast Exact Search in Hamming
 * Space with Multi-Index Hashing", arXiv 1307.2982): each b-bit code is cut into
 * m disjoint substrings, and each substring indexes its own hash table. If two
 * codes differ in at most r = s·m + a bits (0 ≤ a < m), then after every table
 * has been probed to substring radius s − 1 and tables 0…a to radius s, the
 * pigeonhole principle guarantees the pair was found. So the search probes the
 * tables with growing radius and stops as soon as it holds k codes within the
 * radius it can vouch for: the result is exactly what a linear scan returns.
 *
 * Ties are broken by slot, so results are deterministic: sorted by
 * (distance, slot), the same order `linearScan` uses.
 */
import { hamming } from '../codes/bits.ts';

/** The codes being searched: `count` codes of `words` words, back to back. */
export interface CodeSet {
  readonly codes: Uint32Array;
  readonly count: number;
  readonly words: number;
}

export interface Neighbours {
  readonly slots: Uint32Array;
  readonly distances: Uint16Array;
}

/** Decides which slots may be returned (live items, the caller's filter). */
export type SlotFilter = (slot: number) => boolean;

/** Longest substring a table indexes: its bucket directory has 2^bits + 1 entries (16 MiB at 22). */
const MAX_SUBSTRING_BITS = 22;
/** Shortest substring worth a table; below this a linear scan wins. */
const MIN_SUBSTRING_BITS = 8;

/**
 * m, the number of substrings: the paper's choice m ≈ b / log2(N), so that each
 * bucket holds about one code, bounded by the table sizes above.
 */
export function chooseSubstringCount(bits: number, count: number): number {
  const substringBits = Math.min(MAX_SUBSTRING_BITS, Math.max(MIN_SUBSTRING_BITS, Math.round(Math.log2(Math.max(count, 2)))));
  return Math.max(1, Math.ceil(bits / substringBits));
}

/** Bits [start, start + length) of the code at `offset` (length ≤ MAX_SUBSTRING_BITS), as an unsigned integer. */
function substring(codes: Uint32Array, offset: number, start: number, length: number): number {
  const word = offset + (start >>> 5);
  const shift = start & 31;
  let value = codes[word]! >>> shift;
  if (shift + length > 32) value |= codes[word + 1]! << (32 - shift);
  return (value & ((1 << length) - 1)) >>> 0;
}

/** One hash table: a counting-sorted list of slots grouped by substring value. */
interface SubstringTable {
  readonly start: number;
  readonly length: number;
  /** Slots whose substring is v are `slots[offsets[v] … offsets[v + 1])`. */
  readonly offsets: Uint32Array;
  readonly slots: Uint32Array;
}

export class MultiIndexHash {
  private readonly tables: SubstringTable[] = [];
  /** Per-slot query stamp, so each candidate is checked once per query without clearing an array. */
  private visited: Uint32Array;
  private stamp = 0;

  /** Indexes slots 0 … count − 1 of `set` into m tables. */
  constructor(set: CodeSet, readonly m: number) {
    const bits = set.words * 32;
    if (!Number.isInteger(m) || m < 1 || Math.ceil(bits / m) > MAX_SUBSTRING_BITS) {
      throw new RangeError(`Cannot cut ${bits}-bit codes into ${m} substrings of at most ${MAX_SUBSTRING_BITS} bits.`);
    }
    this.indexedCount = set.count;
    this.visited = new Uint32Array(set.count);
    let start = 0;
    for (let i = 0; i < m; i++) {
      // The first (bits mod m) substrings are one bit longer.
      const length = Math.floor(bits / m) + (i < bits % m ? 1 : 0);
      this.tables.push(buildTable(set, start, length));
      start += length;
    }
  }

  readonly indexedCount: number;

  /** Bytes held by the tables. */
  get byteLength(): number {
    return this.tables.reduce((sum, t) => sum + t.offsets.byteLength + t.slots.byteLength, 0) + this.visited.byteLength;
  }

  /**
   * The k nearest codes to `query` among the slots of `set` that pass `accept`.
   * Slots added since the tables were built (indexedCount and up) are checked directly.
   *
   * When the neighbours are far (in high-entropy codes the k-th one can be a
   * third of the bits away), probing costs more than a linear scan: after
   * `maxWork` bucket probes plus candidate checks the search gives up and
   * returns null, and the caller scans instead.
   */
  search(set: CodeSet, query: Uint32Array, k: number, accept: SlotFilter, maxWork = Infinity): Neighbours | null {
    const bits = set.words * 32;
    if (this.visited.length < set.count) this.visited = new Uint32Array(Math.max(set.count, this.visited.length * 2));
    if (++this.stamp === 0xffffffff) {
      this.visited.fill(0);
      this.stamp = 1;
    }
    const stamp = this.stamp;
    const visited = this.visited;
    const found = new Candidates(bits);
    let work = 0;
    const check = (slot: number) => {
      work++;
      if (visited[slot] === stamp) return;
      visited[slot] = stamp;
      if (accept(slot)) found.add(slot, hamming(query, 0, set.codes, slot * set.words, set.words));
    };
    for (let slot = this.indexedCount; slot < set.count; slot++) check(slot);

    const querySubstrings = this.tables.map((t) => substring(query, 0, t.start, t.length));
    const longest = Math.max(...this.tables.map((t) => t.length));
    for (let s = 0; s <= longest; s++) {
      for (let i = 0; i < this.m; i++) {
        const table = this.tables[i]!;
        if (s <= table.length) {
          forEachAtDistance(querySubstrings[i]!, table.length, s, (value) => {
            work++;
            const end = table.offsets[value + 1]!;
            for (let j = table.offsets[value]!; j < end; j++) check(table.slots[j]!);
          });
        }
        // Every code within s·m + i bits of the query has now been seen.
        if (found.countWithin(s * this.m + i) >= k) return found.nearest(k);
        if (work > maxWork) return null;
      }
    }
    return found.nearest(k);
  }
}

function buildTable(set: CodeSet, start: number, length: number): SubstringTable {
  const offsets = new Uint32Array((1 << length) + 1);
  const values = new Uint32Array(set.count);
  for (let slot = 0; slot < set.count; slot++) {
    const value = substring(set.codes, slot * set.words, start, length);
    values[slot] = value;
    offsets[value + 1]!++;
  }
  for (let v = 1; v < offsets.length; v++) offsets[v]! += offsets[v - 1]!;
  const next = offsets.slice(0, offsets.length - 1);
  const slots = new Uint32Array(set.count);
  for (let slot = 0; slot < set.count; slot++) slots[next[values[slot]!]!++] = slot;
  return { start, length, offsets, slots };
}

/** Calls `visit` with every `length`-bit value at Hamming distance exactly `radius` from `value`. */
function forEachAtDistance(value: number, length: number, radius: number, visit: (value: number) => void): void {
  if (radius === 0) {
    visit(value);
    return;
  }
  // Gosper's hack: all length-bit masks with `radius` bits set, in increasing order.
  const limit = 1 << length;
  let mask = (1 << radius) - 1;
  while (mask < limit) {
    visit((value ^ mask) >>> 0);
    const lowest = mask & -mask;
    const ripple = mask + lowest;
    mask = (((ripple ^ mask) >>> 2) / lowest) | ripple;
  }
}

/** Codes found so far, bucketed by distance so "how many within r" is a running sum. */
class Candidates {
  private readonly slotsByDistance: number[][];
  constructor(bits: number) {
    this.slotsByDistance = Array.from({ length: bits + 1 }, () => []);
  }

  add(slot: number, distance: number): void {
    this.slotsByDistance[distance]!.push(slot);
  }

  countWithin(radius: number): number {
    let total = 0;
    const last = Math.min(radius, this.slotsByDistance.length - 1);
    for (let d = 0; d <= last; d++) total += this.slotsByDistance[d]!.length;
    return total;
  }

  nearest(k: number): Neighbours {
    const slots: number[] = [];
    const distances: number[] = [];
    for (let d = 0; d < this.slotsByDistance.length && slots.length < k; d++) {
      const bucket = this.slotsByDistance[d]!.sort((a, b) => a - b);
      for (const slot of bucket) {
        if (slots.length === k) break;
        slots.push(slot);
        distances.push(d);
      }
    }
    return { slots: Uint32Array.from(slots), distances: Uint16Array.from(distances) };
  }
}

/** The same k nearest by checking every code: the reference MIH must match, and faster for small N. */
export function linearScan(set: CodeSet, query: Uint32Array, k: number, accept: SlotFilter): Neighbours {
  const bits = set.words * 32;
  const distance = new Uint16Array(set.count);
  const histogram = new Uint32Array(bits + 2);
  for (let slot = 0; slot < set.count; slot++) {
    if (!accept(slot)) {
      distance[slot] = bits + 1;
      continue;
    }
    const d = hamming(query, 0, set.codes, slot * set.words, set.words);
    distance[slot] = d;
    histogram[d]!++;
  }
  // The smallest radius that holds k codes; everything closer is in, ties at it go by slot.
  let radius = 0;
  let within = histogram[0]!;
  while (within < k && radius < bits) within += histogram[++radius]!;
  const result = new Candidates(bits);
  for (let slot = 0; slot < set.count; slot++) if (distance[slot]! <= radius) result.add(slot, distance[slot]!);
  return result.nearest(k);
}
