import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/codes/random.ts';
import { MatrixKernel } from '../../src/core/index/matrix-kernel.ts';

describe('MatrixKernel', () => {
  for (const [rows, cols] of [[1, 1], [3, 5], [8, 16], [256, 1023], [1021, 256]] as const) {
    it(`multiplies a ${rows} × ${cols} matrix by vectors as the plain loop and float64 arithmetic do`, () => {
      const random = seededRandom(rows * 7 + cols);
      const matrix = Float32Array.from({ length: rows * cols }, () => random() * 2 - 1);
      const withKernel = new MatrixKernel(matrix, rows, cols);
      const plain = new MatrixKernel(matrix, rows, cols, { simd: false });
      expect(withKernel.simd).toBe(true); // Node 20 and Chromium have WebAssembly SIMD
      expect(plain.simd).toBe(false);
      const original = matrix.slice();
      matrix.fill(0); // the kernels keep their own copies
      const source = new Float32Array(cols + 3).map(() => random() * 2 - 1);
      const a = new Float32Array(rows + 2).fill(9);
      const b = new Float32Array(rows + 2).fill(9);
      withKernel.multiply(source, 3, a, 1);
      plain.multiply(source, 3, b, 1);
      for (let r = 0; r < rows; r++) {
        let exact = 0;
        for (let k = 0; k < cols; k++) exact += original[r * cols + k]! * source[3 + k]!;
        expect(a[1 + r]).toBeCloseTo(exact, 3);
        expect(b[1 + r]).toBeCloseTo(exact, 3);
      }
      // Only out[outOffset … outOffset + rows) is written.
      expect([a[0], a[rows + 1], b[0], b[rows + 1]]).toEqual([9, 9, 9, 9]);
    });
  }
});
