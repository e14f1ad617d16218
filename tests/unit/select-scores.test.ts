import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/codes/random.ts';
import { compiledSelectKernel, indexesAtLeast, type AtLeastFunction } from '../../src/core/index/select-scores.ts';
import { SketchArray } from '../../src/core/index/sketch-kernel.ts';
import { memoryFor } from '../../src/core/wasm/simd-module.ts';

/** The definition: every index whose score is at or above the threshold, in order. */
const byFilter = (scores: Float32Array, threshold: number) => Array.from(scores.keys()).filter((i) => scores[i]! >= threshold);

describe('Picking the scores at or above a threshold', () => {
  it('picks what the definition picks, in the kernel as in the loop: any length, ties, −0, infinities and NaN', () => {
    const module = compiledSelectKernel();
    expect(module).not.toBeNull(); // Node 20 and Chromium have WebAssembly SIMD
    const memory = memoryFor(0);
    const atLeast = new WebAssembly.Instance(module!, { env: { memory } }).exports.atLeast as AtLeastFunction;
    const random = seededRandom(3);
    const specials = [NaN, Infinity, -Infinity, -0, 0];
    for (let trial = 0; trial < 400; trial++) {
      const n = Math.floor(random() * 41);
      // Few levels, so that many tie with the threshold; now and then a special value.
      const scores = Float32Array.from({ length: n }, () => (random() < 0.1 ? specials[Math.floor(random() * specials.length)]! : Math.floor(random() * 7) - 3));
      const threshold = [Math.floor(random() * 7) - 3, -Infinity, Infinity, -0, NaN][trial % 5]!;
      const expected = byFilter(scores, threshold);
      expect(Array.from(indexesAtLeast(scores, threshold, new Uint32Array(n)))).toEqual(expected);
      new Float32Array(memory.buffer, 16, n).set(scores);
      const count = atLeast(16, n, threshold, 16 + 4 * n + 12);
      expect(Array.from(new Uint32Array(memory.buffer, 16 + 4 * n + 12, count))).toEqual(expected);
    }
  });

  it('picks from the sketch array\'s last scan, with or without SIMD, and refuses without a scan or room', () => {
    const random = seededRandom(5);
    const [dims, count] = [96, 1001];
    const arrays = [new SketchArray(dims, 'int4', count), new SketchArray(dims, 'int4', count, { simd: false })];
    const query = Float32Array.from({ length: dims }, () => random() * 2 - 1);
    for (let slot = 0; slot < count; slot++) {
      const values = Float32Array.from({ length: dims }, () => random() * 2 - 1);
      for (const array of arrays) array.encode(values, slot);
    }
    const slots = Uint32Array.from({ length: 999 }, () => Math.floor(random() * count));
    for (const array of arrays) {
      expect(() => array.atLeast(0, new Uint32Array(count))).toThrow(/scan first/);
      array.setQuery(query);
      for (const whole of [true, false]) {
        const scores = array.scan(whole, slots, slots.length).slice();
        const sorted = scores.slice().sort();
        for (const threshold of [sorted[0]!, sorted[500]!, sorted[998]!, Infinity]) {
          expect(Array.from(array.atLeast(threshold, new Uint32Array(slots.length)))).toEqual(byFilter(scores, threshold));
        }
        expect(() => array.atLeast(0, new Uint32Array(slots.length - 1))).toThrow(/Room for 998/);
      }
      array.reserve(2 * count); // growing moves the scales where the scores were
      expect(() => array.atLeast(0, new Uint32Array(count))).toThrow(/scan first/);
    }
  });
});
