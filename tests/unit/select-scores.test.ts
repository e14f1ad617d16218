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
      const out = new Uint32Array(memory.buffer, 16 + 4 * n + 12, n + 4).fill(0xdeadbeef);
      const count = atLeast(16, n, threshold, out.byteOffset);
      expect(Array.from(out.subarray(0, count))).toEqual(expected);
      expect(Array.from(out.subarray(n))).toEqual([0xdeadbeef, 0xdeadbeef, 0xdeadbeef, 0xdeadbeef]); // nothing past its room
    }
  });

  it('picks from the sketch array\'s last scan, with or without SIMD, and refuses other scores, or too little room', () => {
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
      expect(() => array.atLeast(new Float32Array(count), 0, new Uint32Array(count))).toThrow(/last scan/);
      array.setQuery(query);
      for (const whole of [true, false]) {
        const view = array.scan(whole, slots, slots.length);
        const scores = view.slice();
        const sorted = scores.slice().sort();
        for (const threshold of [sorted[0]!, sorted[500]!, sorted[998]!, Infinity]) {
          expect(Array.from(array.atLeast(view, threshold, new Uint32Array(slots.length)))).toEqual(byFilter(scores, threshold));
        }
        expect(() => array.atLeast(view, 0, new Uint32Array(slots.length - 1))).toThrow(/Room for 998/);
        expect(() => array.atLeast(scores, 0, new Uint32Array(slots.length))).toThrow(/last scan/); // a copy, not the scan's
        expect(() => array.atLeast(view.subarray(1), 0, new Uint32Array(slots.length))).toThrow(/last scan/);
      }
      const view = array.scan(true, slots, 10);
      array.reserve(2 * count); // growing moves the scales where the scores were
      expect(() => array.atLeast(view, 0, new Uint32Array(count))).toThrow(/last scan/);
    }
  });
});
