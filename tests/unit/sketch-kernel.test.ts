import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/codes/random.ts';
import { SKETCH_SCAN_WASM_BASE64 } from '../../src/core/index/sketch-scan-wasm.ts';
import { SketchArray } from '../../src/core/index/sketch-kernel.ts';
import { assembleSketchScan } from '../../scripts/build-wasm.ts';

describe('SketchArray', () => {
  it('runs the module assembled from sketch-scan.wat (npm run wasm after editing it)', async () => {
    expect(Buffer.from(await assembleSketchScan()).toString('base64')).toBe(SKETCH_SCAN_WASM_BASE64);
  });

  it('scores with the WebAssembly SIMD kernel exactly as the plain loop does, and as integer arithmetic says', () => {
    const random = seededRandom(5);
    for (const dims of [16, 96, 128]) {
      const count = 3000;
      const withKernel = new SketchArray(dims, 10);
      const plain = new SketchArray(dims, 10, { simd: false });
      expect(withKernel.simd).toBe(true); // Node 20 and Chromium have WebAssembly SIMD
      expect(plain.simd).toBe(false);
      // Growing past the first memory page moves nothing the caller sees.
      withKernel.reserve(count);
      plain.reserve(count);
      for (let i = 0; i < count * dims; i++) withKernel.bytes[i] = plain.bytes[i] = Math.round(random() * 254) - 127;
      const query = Float32Array.from({ length: dims }, () => random() * 2 - 1);
      const slots = Uint32Array.from({ length: 2000 }, () => Math.floor(random() * count));
      const a = new Float32Array(slots.length);
      const b = new Float32Array(slots.length);
      const unit = withKernel.dots(query, slots, slots.length, a);
      expect(plain.dots(query, slots, slots.length, b)).toBe(unit);
      expect(a).toEqual(b);
      for (const i of [0, 1, 999, 1999]) {
        let exact = 0;
        for (let j = 0; j < dims; j++) exact += query[j]! * withKernel.bytes[slots[i]! * dims + j]!;
        expect(a[i]! * unit).toBeCloseTo(exact, 1);
      }
    }
  });

  it('falls back to the plain loop for sketch lengths that are not a multiple of 16', () => {
    const sketches = new SketchArray(20, 4);
    expect(sketches.simd).toBe(false);
    sketches.bytes.fill(1);
    const out = new Float32Array(2);
    const unit = sketches.dots(new Float32Array(20).fill(0.5), Uint32Array.of(0, 3), 2, out);
    expect(out[0]! * unit).toBeCloseTo(10, 3);
  });
});
