import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/codes/random.ts';
import { chooseSubstringCount, linearScan, MultiIndexHash, type CodeSet } from '../../src/core/index/mih.ts';

/** Codes around a few centres with few flipped bits, so neighbours are close and ties are common. */
function clusteredCodes(count: number, words: number, seed: number, flipRate: number): CodeSet {
  const random = seededRandom(seed);
  const word = () => (random() * 0x100000000) >>> 0;
  const centres = Array.from({ length: 5 }, () => Array.from({ length: words }, word));
  const codes = new Uint32Array(count * words);
  for (let i = 0; i < count; i++) {
    const centre = centres[Math.floor(random() * centres.length)]!;
    for (let w = 0; w < words; w++) {
      let noise = 0;
      for (let bit = 0; bit < 32; bit++) if (random() < flipRate) noise |= 1 << bit;
      codes[i * words + w] = (centre[w]! ^ noise) >>> 0;
    }
  }
  return { codes, count, words };
}

describe('multi-index hashing', () => {
  const cases = [
    { name: 'uniform random 64-bit', bits: 64, count: 3000, flipRate: 0.5 },
    { name: 'clustered 128-bit', bits: 128, count: 3000, flipRate: 0.08 },
    { name: 'clustered 256-bit with duplicates', bits: 256, count: 2000, flipRate: 0.01 },
  ];
  for (const { name, bits, count, flipRate } of cases) {
    it(`returns exactly what a linear scan returns: ${name}`, () => {
      const words = bits / 32;
      const set = clusteredCodes(count, words, bits, flipRate);
      const random = seededRandom(7 + bits);
      for (const m of [chooseSubstringCount(bits, count), Math.ceil(bits / 22), bits / 16]) {
        const mih = new MultiIndexHash(set, m);
        for (let q = 0; q < 25; q++) {
          // Queries: existing codes, perturbed ones and unrelated ones.
          const query = new Uint32Array(words);
          const base = Math.floor(random() * count);
          for (let w = 0; w < words; w++) {
            const flips = q % 3 === 2 ? (random() * 0x100000000) >>> 0 : q % 3 === 1 ? 1 << Math.floor(random() * 32) : 0;
            query[w] = (set.codes[base * words + w]! ^ flips) >>> 0;
          }
          const k = [1, 10, 100, count + 5][q % 4]!;
          const dropped = new Set(Array.from({ length: 50 }, () => Math.floor(random() * count)));
          const accept = (slot: number) => !dropped.has(slot);
          const expected = linearScan(set, query, k, accept);
          const actual = mih.search(set, query, k, accept)!;
          expect(Array.from(actual.slots)).toEqual(Array.from(expected.slots));
          expect(Array.from(actual.distances)).toEqual(Array.from(expected.distances));
          expect(actual.slots.length).toBe(Math.min(k, count - dropped.size));
        }
      }
    }, 30_000);
  }

  it('checks slots added after the tables were built', () => {
    const words = 4;
    const all = clusteredCodes(1200, words, 3, 0.1);
    const mih = new MultiIndexHash({ ...all, count: 1000 }, 8);
    const accept = () => true;
    for (let q = 990; q < 1200; q += 7) {
      const query = all.codes.slice(q * words, (q + 1) * words);
      const expected = linearScan(all, query, 10, accept);
      const actual = mih.search(all, query, 10, accept)!;
      expect(Array.from(actual.slots)).toEqual(Array.from(expected.slots));
      expect(actual.distances[0]).toBe(0);
    }
  });

  it('gives up (null) once probing costs more than the work budget', () => {
    const set = clusteredCodes(3000, 8, 5, 0.5); // random 256-bit codes: neighbours are ~100 bits away
    const mih = new MultiIndexHash(set, chooseSubstringCount(256, 3000));
    const query = set.codes.slice(0, 8);
    query[0]! ^= 0xffff;
    expect(mih.search(set, query, 50, () => true, 1000)).toBeNull();
    expect(mih.search(set, query, 50, () => true)).not.toBeNull();
  });

  it('orders ties by slot and returns distances in ascending order', () => {
    const set: CodeSet = { codes: new Uint32Array([1, 0, 1, 0, 3, 0, 1, 0]), count: 4, words: 2 };
    const query = new Uint32Array([1, 0]);
    const result = new MultiIndexHash(set, 4).search(set, query, 4, () => true)!;
    expect(Array.from(result.slots)).toEqual([0, 1, 3, 2]);
    expect(Array.from(result.distances)).toEqual([0, 0, 0, 1]);
  });

  it('picks about log2(N)-bit substrings, as the paper suggests', () => {
    expect(chooseSubstringCount(256, 1_000_000)).toBe(13);
    expect(chooseSubstringCount(64, 65_536)).toBe(4);
    expect(chooseSubstringCount(1024, 100)).toBe(128);
    expect(() => new MultiIndexHash({ codes: new Uint32Array(8), count: 1, words: 8 }, 2)).toThrow(RangeError);
    // Every supported code length and collection size gives tables the class accepts.
    for (let bits = 64; bits <= 1024; bits += 32) {
      for (const count of [1, 1000, 1e6, 3e6, 1e8]) expect(Math.ceil(bits / chooseSubstringCount(bits, count))).toBeLessThanOrEqual(22);
    }
  });
});
