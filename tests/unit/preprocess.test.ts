import { describe, expect, it } from 'vitest';
import { centralCrop, decodeSize, toModelInput, type RgbaImage } from '../../src/core/image/preprocess.ts';
import { MODELS } from '../../src/core/models/registry.ts';

function image(width: number, height: number, pixel: (x: number, y: number) => [number, number, number, number]): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(pixel(x, y), (y * width + x) * 4);
  return { width, height, data };
}

function extent(values: Float32Array): [number, number] {
  return values.reduce(([lo, hi], v) => [Math.min(lo, v), Math.max(hi, v)], [Infinity, -Infinity]);
}

describe('preprocessing', () => {
  it('crops the central 87.5% square', () => {
    expect(centralCrop(400, 200)).toEqual({ x: 112.5, y: 12.5, size: 175 });
  });

  it('maps pixel values onto each model input range', () => {
    const black = image(300, 200, () => [0, 0, 0, 255]);
    const white = image(300, 200, () => [255, 255, 255, 255]);
    for (const spec of Object.values(MODELS)) {
      const [lo, hi] = spec.inputRange;
      const b = toModelInput(black, spec);
      expect(b.length).toBe(224 * 224 * 3);
      expect(extent(b)).toEqual([expect.closeTo(lo, 5), expect.closeTo(lo, 5)]);
      expect(extent(toModelInput(white, spec))).toEqual([expect.closeTo(hi, 5), expect.closeTo(hi, 5)]);
    }
  });

  it('keeps RGB channel order and composites transparency onto white', () => {
    const spec = MODELS.lite; // range [0, 1]: value = byte / 255
    const red = toModelInput(image(50, 50, () => [255, 0, 0, 255]), spec);
    expect([red[0], red[1], red[2]]).toEqual([1, 0, 0]);
    const clear = toModelInput(image(50, 50, () => [0, 0, 0, 0]), spec);
    expect(clear[3 * 1000 + 1]).toBeCloseTo(1, 5);
  });

  it('resamples without aliasing: a fine checkerboard averages to grey', () => {
    const checker = image(2000, 2000, (x, y) => ((x + y) % 2 ? [255, 255, 255, 255] : [0, 0, 0, 255]));
    const out = toModelInput(checker, MODELS.lite);
    for (const v of out) expect(v).toBeCloseTo(0.5, 2);
  });

  it('preserves a horizontal gradient in order and orientation', () => {
    const gradient = image(448, 448, (x) => [(x * 255) / 447, 0, 255 - (x * 255) / 447, 255]);
    const out = toModelInput(gradient, MODELS.lite);
    const redAt = (x: number) => out[(100 * 224 + x) * 3]!;
    expect(redAt(0)).toBeLessThan(redAt(100));
    expect(redAt(100)).toBeLessThan(redAt(223));
    expect(redAt(112)).toBeCloseTo(0.5, 1);
  });

  it('takes the crop from the centre of a wide image', () => {
    // Left third red, middle third green, right third blue: only green survives the central square.
    const bands = image(900, 300, (x) => (x < 300 ? [255, 0, 0, 255] : x < 600 ? [0, 255, 0, 255] : [0, 0, 255, 255]));
    const out = toModelInput(bands, MODELS.lite);
    for (const x of [0, 112, 223]) expect([out[x * 3], out[x * 3 + 1], out[x * 3 + 2]]).toEqual([0, 1, 0].map((v) => expect.closeTo(v, 5)));
  });

  it('upscales tiny images and rejects a buffer of the wrong length', () => {
    expect(toModelInput(image(3, 2, () => [10, 20, 30, 255]), MODELS.default).length).toBe(224 * 224 * 3);
    expect(() => toModelInput({ width: 10, height: 10, data: new Uint8Array(10) }, MODELS.default)).toThrow(/expected 400/);
  });

  it('lets decoders pre-shrink only large images, keeping twice the model resolution', () => {
    expect(decodeSize(500, 375, 224)).toBeNull();
    const s = decodeSize(8000, 6000, 224)!;
    expect(Math.min(s.width, s.height)).toBe(512);
    expect(s.width / s.height).toBeCloseTo(8000 / 6000, 2);
  });
});
