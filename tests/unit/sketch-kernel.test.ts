import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/codes/random.ts';
import { SketchArray } from '../../src/core/index/sketch-kernel.ts';
import type { SketchEncoding } from '../../src/core/pack/format.ts';

const LEVELS = { int8: 127, int4: 7 };

describe('SketchArray', () => {
  const cases: [SketchEncoding, number][] = [['int8', 16], ['int8', 96], ['int8', 128], ['int4', 32], ['int4', 96], ['int4', 256]];
  for (const [encoding, dims] of cases) {
    it(`scores ${dims} ${encoding} components with the WebAssembly SIMD kernel exactly as the plain loop does, and as the encoded values say`, () => {
      const random = seededRandom(dims);
      const count = 3000;
      const withKernel = new SketchArray(dims, encoding, 10);
      const plain = new SketchArray(dims, encoding, 10, { simd: false });
      expect(withKernel.simd).toBe(true); // Node 20 and Chromium have WebAssembly SIMD
      expect(plain.simd).toBe(false);
      // Growing past the first memory page moves nothing the caller sees.
      withKernel.reserve(count);
      plain.reserve(count);
      const values = Float32Array.from({ length: count * dims }, () => random() * 2 - 1);
      const scales = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        const row = values.subarray(i * dims, (i + 1) * dims);
        const scale = withKernel.encode(row, i);
        expect(plain.encode(row, i)).toBe(scale);
        scales[i] = scale;
      }
      expect(plain.bytes).toEqual(withKernel.bytes);
      const query = Float32Array.from({ length: dims }, () => random() * 2 - 1);
      const slots = Uint32Array.from({ length: 2000 }, () => Math.floor(random() * count));
      const a = new Float32Array(slots.length);
      const b = new Float32Array(slots.length);
      const unit = withKernel.dots(query, slots, slots.length, a);
      expect(plain.dots(query, slots, slots.length, b)).toBe(unit);
      expect(a).toEqual(b);
      for (const i of [0, 1, 999, 1999]) {
        // The quantised values, rebuilt from the originals: each within half a step.
        const slot = slots[i]!;
        let exact = 0;
        let quantised = 0;
        for (let j = 0; j < dims; j++) {
          const v = values[slot * dims + j]!;
          exact += query[j]! * v;
          quantised += query[j]! * Math.round(v / scales[slot]!) * scales[slot]!;
        }
        expect(a[i]! * unit * scales[slot]!).toBeCloseTo(quantised, 2);
        expect(Math.abs(a[i]! * unit * scales[slot]! - exact)).toBeLessThan((dims * scales[slot]!) / 2);
      }
      // The largest component reaches the top level.
      const top = Math.max(...Array.from(values.subarray(0, dims), Math.abs));
      expect(scales[0]).toBeCloseTo(top / LEVELS[encoding], 6);
    });
  }

  it('packs int4 components two to a byte, 32 to a block of 16 bytes', () => {
    const sketches = new SketchArray(64, 'int4', 1);
    expect(sketches.sketchBytes).toBe(32);
    const values = new Float32Array(64);
    values[0] = 7; // byte 0, low nibble
    values[16] = -7; // byte 0, high nibble
    values[33] = 1; // byte 17, low nibble
    expect(sketches.encode(values, 0)).toBe(1);
    expect(sketches.bytes[0]).toBe((-7 << 4) | 7);
    expect(sketches.bytes[17]).toBe(1);
    expect(Array.from(sketches.bytes).filter((b) => b !== 0)).toHaveLength(2);
  });

  it('falls back to the plain loop for sketch lengths the kernel does not take', () => {
    for (const [encoding, dims] of [['int8', 20], ['int4', 48]] as const) {
      const sketches = new SketchArray(dims, encoding, 4);
      expect(sketches.simd).toBe(false);
      const scale = sketches.encode(new Float32Array(dims).fill(0.25), 3);
      const out = new Float32Array(2);
      const unit = sketches.dots(new Float32Array(dims).fill(0.5), Uint32Array.of(0, 3), 2, out);
      expect(out[0]).toBe(0);
      expect(out[1]! * unit * scale).toBeCloseTo(dims * 0.125, 3);
    }
  });
});
