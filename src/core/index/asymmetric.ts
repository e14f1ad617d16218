/**
 * Asymmetric scoring of binary codes: the database side is binary, the query
 * is not. Instead of comparing the query's code with an item's (Hamming), the
 * query's real projection y = W·(q − mean) is correlated with the item's signs:
 * score = Σ_b y_b · (2·bit_b − 1). Large |y_b| are the bits the query is sure
 * of, so this ranks a Hamming shortlist much closer to the true cosine order,
 * at no storage cost (Gordo et al., "Asymmetric distances for binary
 * embeddings", PAMI 2014).
 */
import type { CodeSet, Neighbours } from './mih.ts';

/**
 * The `keep` best of `shortlist` by asymmetric score, best first (ties by
 * Hamming distance, then slot), with their Hamming distances.
 */
export function bestByAsymmetricScore(projection: Float64Array, set: CodeSet, shortlist: Neighbours, keep: number): Neighbours {
  // Per code byte, the sum of y over each of the 256 bit patterns: a code then scores in bits/8 lookups.
  const bytes = projection.length / 8;
  const table = new Float64Array(bytes * 256);
  for (let i = 0; i < bytes; i++) {
    const base = i * 256;
    for (let v = 1; v < 256; v++) table[base + v] = table[base + (v & (v - 1))]! + projection[i * 8 + 31 - Math.clz32(v & -v)]!;
  }
  const { codes, words } = set;
  const order = Array.from(shortlist.slots, (slot, i) => {
    let sum = 0;
    for (let w = 0, at = slot * words; w < words; w++) {
      const word = codes[at + w]!;
      const base = w * 1024;
      sum += table[base + (word & 0xff)]! + table[base + 256 + ((word >>> 8) & 0xff)]! + table[base + 512 + ((word >>> 16) & 0xff)]! + table[base + 768 + (word >>> 24)]!;
    }
    // Σ_b y_b (2 bit_b − 1) = 2 Σ_{bit_b = 1} y_b − Σ_b y_b; the constant does not change the order.
    return { i, score: sum };
  });
  order.sort((a, b) => b.score - a.score || shortlist.distances[a.i]! - shortlist.distances[b.i]! || shortlist.slots[a.i]! - shortlist.slots[b.i]!);
  const best = order.slice(0, keep);
  return { slots: Uint32Array.from(best, (o) => shortlist.slots[o.i]!), distances: Uint16Array.from(best, (o) => shortlist.distances[o.i]!) };
}
