import { describe, expect, it } from 'vitest';
import { lowDct } from '../../src/core/image/dct.ts';

describe('low-frequency DCT', () => {
  it('lowDct puts a cosine of horizontal frequency u at index u and of vertical frequency v at 8v', () => {
    const n = 32;
    const wave = (f: number, vertical: boolean) => {
      const grey = new Float32Array(n * n);
      for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) grey[y * n + x] = Math.cos(((2 * (vertical ? y : x) + 1) * f * Math.PI) / (2 * n));
      return lowDct(grey, n, 8);
    };
    const strongest = (c: Float32Array) => c.reduce((best, v, i) => (Math.abs(v) > Math.abs(c[best]!) ? i : best), 0);
    expect(strongest(wave(3, false))).toBe(3);
    expect(strongest(wave(5, true))).toBe(40);
  });
});
