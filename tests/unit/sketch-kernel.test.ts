import { readFileSync } from 'node:fs';
import wabt from 'wabt';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/codes/random.ts';
import { HEAD_DIMS, scan4Agrees, SketchArray } from '../../src/core/index/sketch-kernel.ts';
import { SKETCH_SCAN_WASM_BASE64 } from '../../src/core/index/sketch-scan-wasm.ts';
import { memoryFor, simdModule } from '../../src/core/wasm/simd-module.ts';
import type { SketchEncoding } from '../../src/core/pack/format.ts';

const LEVELS = { int8: 127, int4: 7 };

/** Every stored sketch of slots 0 … count − 1, back to back. */
const storedForm = (sketches: SketchArray, count: number) => Int8Array.from(Array.from({ length: count }, (_, i) => Array.from(sketches.sketch(i))).flat());

describe('SketchArray', () => {
  const cases: [SketchEncoding, number][] = [['int8', 16], ['int8', 96], ['int8', 128], ['int4', 32], ['int4', 96], ['int4', 256]];
  for (const [encoding, dims] of cases) {
    it(`scores ${dims} ${encoding} components with the WebAssembly SIMD kernels exactly as the plain loop does, and as the encoded values say`, () => {
      const random = seededRandom(dims);
      const count = 3000;
      const withKernel = new SketchArray(dims, encoding, 10);
      const plainSimd = new SketchArray(dims, encoding, 10, { relaxed: false });
      const plain = new SketchArray(dims, encoding, 10, { simd: false });
      // Node 20 and Chromium have WebAssembly SIMD; Chromium's relaxed SIMD runs int4 sketches (a browser test checks
      // it there), where Node 20 has none.
      expect(withKernel.simd).toBe(true);
      expect([plainSimd.simd, plainSimd.relaxed]).toEqual([true, false]);
      expect(plain.simd).toBe(false);
      expect(withKernel.headDims).toBe(dims > HEAD_DIMS ? HEAD_DIMS : dims);
      const values = Float32Array.from({ length: count * dims }, () => random() * 2 - 1);
      const scales = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        // Growing (past the first memory page, moving the rests and the scales) midway loses nothing.
        if (i === 5) {
          const before = Array.from({ length: 5 }, (_, slot) => [withKernel.sketch(slot), withKernel.scale(slot)]);
          withKernel.reserve(count);
          plainSimd.reserve(count);
          plain.reserve(count);
          before.forEach(([sketch, scale], slot) => {
            expect(withKernel.sketch(slot)).toEqual(sketch);
            expect(withKernel.scale(slot)).toBe(scale);
          });
        }
        const row = values.subarray(i * dims, (i + 1) * dims);
        const scale = withKernel.encode(row, i);
        expect(plain.encode(row, i)).toBe(scale);
        plainSimd.encode(row, i);
        scales[i] = scale;
      }
      expect(storedForm(plain, count)).toEqual(storedForm(withKernel, count));
      const query = Float32Array.from({ length: dims }, () => random() * 2 - 1);
      const slots = Uint32Array.from({ length: 2000 }, () => Math.floor(random() * count));
      const [a, b, c] = [new Float32Array(slots.length), new Float32Array(slots.length), new Float32Array(slots.length)];
      const unit = withKernel.setQuery(query);
      expect(plain.setQuery(query)).toBe(unit);
      expect(plainSimd.setQuery(query)).toBe(unit);
      withKernel.scores(slots, slots.length, a);
      plain.scores(slots, slots.length, b);
      plainSimd.scores(slots, slots.length, c);
      expect(a).toEqual(b);
      expect(c).toEqual(b);
      withKernel.headScores(slots, slots.length, a);
      plain.headScores(slots, slots.length, b);
      plainSimd.headScores(slots, slots.length, c);
      expect(a).toEqual(b);
      expect(c).toEqual(b);
      withKernel.scores(slots, slots.length, a);
      for (const i of [0, 1, 999, 1999]) {
        // The quantised values, rebuilt from the originals: each within half a step. The query is rounded to steps of
        // `unit` (−127 … 127 of them for int4 sketches, −16 383 … 16 383 for int8), each within half a step too.
        const slot = slots[i]!;
        let exact = 0;
        let quantised = 0;
        let stored = 0;
        for (let j = 0; j < dims; j++) {
          const v = values[slot * dims + j]!;
          const q = Math.round(v / scales[slot]!) * scales[slot]!;
          exact += query[j]! * v;
          quantised += query[j]! * q;
          stored += Math.abs(q);
        }
        const queryRounding = (unit / 2) * stored;
        expect(unit).toBeCloseTo(Math.max(...Array.from(query, Math.abs)) / (encoding === 'int4' ? 127 : 16_383), 9);
        expect(Math.abs(a[i]! * unit - quantised)).toBeLessThanOrEqual(queryRounding + 1e-5 * Math.abs(quantised));
        expect(Math.abs(a[i]! * unit - exact)).toBeLessThan((dims * scales[slot]!) / 2 + queryRounding);
      }
      // The largest component reaches the top level.
      const top = Math.max(...Array.from(values.subarray(0, dims), Math.abs));
      expect(scales[0]).toBeCloseTo(top / LEVELS[encoding], 6);
    });
  }

  // int4 split (the default), int4 unsplit (32 components: all head) and int8: the slots are padded for either kernel.
  for (const [encoding, dims] of [['int4', 256], ['int4', 32], ['int8', 128]] as [SketchEncoding, number][]) {
    it(`scores any count of ${dims} ${encoding} sketches, padding the slots to the fours scan4 takes, and writes no score past the count`, () => {
      const random = seededRandom(dims);
      const count = 40;
      const plain = new SketchArray(dims, encoding, count, { simd: false });
      // The default kernel (relaxed for int4 where the engine has it: Chromium, not Node 20) and the plain SIMD one.
      const kernels = [new SketchArray(dims, encoding, count), new SketchArray(dims, encoding, count, { relaxed: false })];
      expect(kernels.map((k) => k.simd)).toEqual([true, true]);
      expect(kernels[1]!.relaxed).toBe(false);
      for (let i = 0; i < count; i++) {
        const row = Float32Array.from({ length: dims }, () => random() * 2 - 1);
        for (const sketches of [plain, ...kernels]) sketches.encode(row, i);
      }
      const query = Float32Array.from({ length: dims }, () => random() * 2 - 1);
      for (const sketches of [plain, ...kernels]) sketches.setQuery(query);
      const someSlots = (n: number) => Uint32Array.from({ length: n }, () => Math.floor(random() * count));
      for (const withKernel of kernels) {
        for (const n of [0, 1, 2, 3, 4, 5, 6, 7, 37]) {
          for (const whole of [true, false]) {
            // A scan of the whole fours first leaves its scores where the padding goes: read as slots they lie far
            // out of bounds, so a scan that scored them instead of padding would trap.
            if (n > 4 && n % 4 !== 0) withKernel.scores(someSlots(n & ~3), n & ~3, new Float32Array(n));
            const slots = someSlots(n);
            const [a, b] = [new Float32Array(n + 4).fill(-1), new Float32Array(n + 4).fill(-1)];
            if (whole) {
              withKernel.scores(slots, n, a);
              plain.scores(slots, n, b);
            } else {
              withKernel.headScores(slots, n, a);
              plain.headScores(slots, n, b);
            }
            expect(a).toEqual(b);
            expect(Array.from(a.subarray(n))).toEqual([-1, -1, -1, -1]);
          }
        }
      }
    });
  }

  for (const headDims of [32, 64, 128, 256]) {
    it(`scores heads of ${headDims} components as the first ${headDims} alone, and whole split sketches as unsplit ones`, () => {
      const dims = 256;
      const random = seededRandom(headDims);
      const count = 500;
      const split = new SketchArray(dims, 'int4', count, { headDims });
      const whole = new SketchArray(dims, 'int4', count, { headDims: dims });
      expect(split.headDims).toBe(headDims);
      const values = Float32Array.from({ length: count * dims }, () => random() * 2 - 1);
      for (let i = 0; i < count; i++) {
        const row = values.subarray(i * dims, (i + 1) * dims);
        const scale = split.encode(row, i);
        expect(whole.encode(row, i)).toBe(scale);
      }
      expect(storedForm(split, count)).toEqual(storedForm(whole, count));
      const query = Float32Array.from({ length: dims }, () => random() * 2 - 1);
      const slots = Uint32Array.from({ length: 300 }, () => Math.floor(random() * count));
      const [fromSplit, fromWhole] = [new Float32Array(300), new Float32Array(300)];
      split.setQuery(query);
      whole.setQuery(query);
      split.headScores(slots, 300, fromSplit);
      // The head's dots, from the stored nibbles and the query as setQuery quantises it for int4 sketches (largest to ±127).
      const maxAbs = Math.max(...Array.from(query, Math.abs));
      const q = Array.from(query, (v) => Math.round((v * 127) / maxAbs));
      const component = (sketch: Int8Array, j: number) => {
        const byte = sketch[(j >> 5) * 16 + (j & 15)]!;
        return j & 16 ? byte >> 4 : (byte << 28) >> 28;
      };
      slots.forEach((slot, i) => {
        const sketch = whole.sketch(slot);
        let dot = 0;
        for (let j = 0; j < headDims; j++) dot += q[j]! * component(sketch, j);
        expect(fromSplit[i]).toBe(Math.fround(Math.fround(dot) * whole.scale(slot)));
      });
      split.scores(slots, 300, fromSplit);
      whole.scores(slots, 300, fromWhole);
      expect(fromSplit).toEqual(fromWhole);
      expect(fromWhole.some((d) => d !== 0)).toBe(true);
    });
  }

  it('takes a relaxed kernel only when its scan4 scores as the plain loop does', async () => {
    expect(scan4Agrees(simdModule(SKETCH_SCAN_WASM_BASE64)()!, memoryFor(0))).toBe(true);
    // The plain kernel with one step broken at a time: each is refused.
    const source = readFileSync(new URL('../../src/core/index/sketch-scan.wat', import.meta.url), 'utf8');
    const scan4At = source.indexOf('(func (export "scan4")');
    const broken = async (from: string, to: string) => {
      expect(source.indexOf(from, scan4At)).toBeGreaterThan(scan4At);
      const wat = source.slice(0, scan4At) + source.slice(scan4At).replace(from, to);
      return new WebAssembly.Module(new Uint8Array((await wabt()).parseWat('broken.wat', wat, { simd: true }).toBinary({}).buffer));
    };
    const perItem = '(local.set $q (local.get $query))';
    const mutants: [string, string][] = [
      [perItem, `${perItem} (local.set $restDims (i32.const 0))`], // the rests left out of whole scores
      [perItem, '(local.set $q (i32.add (local.get $query) (i32.const 2)))'], // the query one component off
      ['(local.set $i (i32.add (local.get $i) (i32.const 4)))', '(local.set $i (i32.add (local.get $i) (i32.const 8)))'], // every other four skipped
      ['(i16x8.shr_s (local.get $front) (i32.const 4))', '(i16x8.shr_u (local.get $front) (i32.const 4))'], // high nibbles without their sign
    ];
    for (const [from, to] of mutants) expect(scan4Agrees(await broken(from, to), memoryFor(0))).toBe(false);
  });

  it('copies sketches between arrays of one shape, and refuses others', () => {
    const random = seededRandom(7);
    const from = new SketchArray(256, 'int4', 40);
    for (let i = 0; i < 40; i++) from.encode(Float32Array.from({ length: 256 }, () => random() - 0.5), i);
    const to = new SketchArray(256, 'int4', 100);
    const order = Uint32Array.of(39, 0, 17, 17, 5);
    to.copyFrom(from, order, order.length);
    order.forEach((source, i) => {
      expect(to.sketch(i)).toEqual(from.sketch(source));
      expect(to.scale(i)).toBe(from.scale(source));
    });
    expect(() => to.copyFrom(new SketchArray(256, 'int4', 4, { headDims: 32 }), order, 1)).toThrow(RangeError);
    expect(() => new SketchArray(256, 'int4', 4).copyFrom(from, order, 5)).toThrow(RangeError);
  });

  it('decodes a sketch into the values it stands for, within half a step of those encoded', () => {
    const random = seededRandom(5);
    for (const encoding of ['int4', 'int8'] as const) {
      const sketches = new SketchArray(256, encoding, 3);
      const values = Float32Array.from({ length: 256 }, () => random() - 0.5);
      const scale = sketches.encode(values, 2);
      const decoded = new Float32Array(256);
      sketches.decode(2, decoded);
      decoded.forEach((v, j) => expect(Math.abs(v - values[j]!)).toBeLessThanOrEqual(scale / 2 + 1e-6));
      expect(decoded.some((v, j) => v !== values[j])).toBe(true); // rounded, not kept
    }
  });

  it('scores its first slots as a matrix times a vector, in scratch room a scan of every slot fits (not 2.5 MB)', () => {
    // (980 rows of 256: their sketches, scales and a scan's room just pass 4 memory pages, so a room that left out the
    // scan's scores and picks, 8 bytes a slot, would show as growth.)
    const [rows, dims] = [980, 256];
    const random = seededRandom(6);
    const sketches = new SketchArray(dims, 'int8', rows, { headDims: dims });
    const scales = Float32Array.from({ length: rows }, (_, row) => sketches.encode(Float32Array.from({ length: dims }, () => random() - 0.5), row));
    const before = sketches.byteLength;
    expect(before).toBeLessThan(2 ** 19); // 256 KiB of sketches, their scales and the scan's room, in whole 64 KiB pages
    const query = Float32Array.from({ length: dims }, () => random() - 0.5);
    const out = new Float32Array(rows);
    sketches.scoreFirst(rows, query, out);
    expect(sketches.byteLength - before).toBe(4 * rows); // the slots it scans; the memory did not grow
    const decoded = new Float32Array(dims);
    for (let row = 0; row < rows; row++) {
      sketches.decode(row, decoded);
      const dot = decoded.reduce((sum, v, j) => sum + v * query[j]!, 0);
      // The query is rounded to 16 383 levels of its largest value: each product off by at most half a step.
      const bound = (Math.max(...query.map(Math.abs)) / 16_383 / 2) * 127 * dims * scales[row]! + 1e-6;
      expect(Math.abs(out[row]! - dot)).toBeLessThanOrEqual(bound);
    }
  });

  it('scans only after setQuery, and again after growing (the query sat where the scales go)', () => {
    const sketches = new SketchArray(64, 'int4', 4);
    const out = new Float32Array(1);
    expect(() => sketches.scores(Uint32Array.of(0), 1, out)).toThrow(/setQuery/);
    sketches.setQuery(new Float32Array(64).fill(1));
    sketches.scores(Uint32Array.of(0), 1, out);
    sketches.reserve(5000);
    expect(() => sketches.headScores(Uint32Array.of(0), 1, out)).toThrow(/setQuery/);
  });

  it('packs int4 components two to a byte, 32 to a block of 16 bytes', () => {
    const sketches = new SketchArray(64, 'int4', 1);
    expect(sketches.sketchBytes).toBe(32);
    const values = new Float32Array(64);
    values[0] = 7; // byte 0, low nibble
    values[16] = -7; // byte 0, high nibble
    values[33] = 1; // byte 17, low nibble
    expect(sketches.encode(values, 0)).toBe(1);
    const stored = sketches.sketch(0);
    expect(stored[0]).toBe((-7 << 4) | 7);
    expect(stored[17]).toBe(1);
    expect(Array.from(stored).filter((b) => b !== 0)).toHaveLength(2);
  });

  it('falls back to the plain loop for sketch lengths the kernel does not take', () => {
    for (const [encoding, dims] of [['int8', 20], ['int4', 48]] as const) {
      const sketches = new SketchArray(dims, encoding, 4);
      expect(sketches.simd).toBe(false);
      expect(sketches.headDims).toBe(dims);
      const scale = sketches.encode(new Float32Array(dims).fill(0.25), 3);
      const out = new Float32Array(2);
      const unit = sketches.setQuery(new Float32Array(dims).fill(0.5));
      sketches.scores(Uint32Array.of(0, 3), 2, out);
      expect(out[0]).toBe(0);
      expect(scale).toBeGreaterThan(0);
      expect(out[1]! * unit).toBeCloseTo(dims * 0.125, 3);
    }
  });
});
