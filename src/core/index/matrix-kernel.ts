/**
 * A fixed f32 matrix times vectors: a partition's projection (256 × 1023 at the
 * default), used once per item added and once per query, and its centroids
 * (1024 × 256), once per item added (a query ranks the lists by an int8 copy,
 * partition.ts); and, while a partition is trained, its sample's projections
 * (k-means++ takes distances to each new centre from their products). The
 * WebAssembly SIMD kernel (matvec.wat) does four rows per pass over the
 * vector with four f32 lanes each; a plain loop does the same
 * where SIMD is missing. Their sums round differently in the last bits, which
 * only matters to a value within rounding of a tie (an item's list, a sketch
 * component's rounding): nothing reads those back expecting the other result.
 *
 * Memory layout: the matrix (rows and columns zero-padded to multiples of 4),
 * then the vector, then the products.
 */
import { memoryFor, simdModule } from '../wasm/simd-module.ts';
import { MATVEC_WASM_BASE64 } from './matvec-wasm.ts';

type MatVec = (matrix: number, rows: number, stride: number, x: number, out: number) => void;

/** The compiled kernel, or null where WebAssembly SIMD is missing. */
const compiledKernel = simdModule(MATVEC_WASM_BASE64);

export class MatrixKernel {
  private readonly matvec: MatVec | null;
  private readonly stride: number;
  private readonly paddedRows: number;
  private readonly matrix: Float32Array;
  private readonly x: Float32Array;
  private readonly out: Float32Array;
  /** Bytes held: the padded matrix and room for a vector and its products. */
  readonly byteLength: number;

  /** `matrix`: rows × cols, row-major (copied). */
  constructor(matrix: Float32Array, readonly rows: number, readonly cols: number, options: { readonly simd?: boolean } = {}) {
    if (matrix.length !== rows * cols) throw new RangeError(`A ${rows} × ${cols} matrix has ${rows * cols} values, not ${matrix.length}.`);
    this.stride = Math.ceil(cols / 4) * 4;
    this.paddedRows = Math.ceil(rows / 4) * 4;
    const matrixBytes = this.paddedRows * this.stride * 4;
    const bytes = matrixBytes + this.stride * 4 + this.paddedRows * 4;
    const memory = memoryFor(bytes);
    this.byteLength = memory.buffer.byteLength;
    this.matrix = new Float32Array(memory.buffer, 0, this.paddedRows * this.stride);
    this.x = new Float32Array(memory.buffer, matrixBytes, this.stride);
    this.out = new Float32Array(memory.buffer, matrixBytes + this.stride * 4, this.paddedRows);
    for (let r = 0; r < rows; r++) this.matrix.set(matrix.subarray(r * cols, (r + 1) * cols), r * this.stride);
    const module = options.simd === false ? null : compiledKernel();
    this.matvec = module ? (new WebAssembly.Instance(module, { env: { memory } }).exports.matvec as MatVec) : null;
  }

  /** Whether products come from the WebAssembly SIMD kernel. */
  get simd(): boolean {
    return this.matvec !== null;
  }

  /** out[outOffset + r] = row r · x[xOffset … xOffset + cols) for every row. */
  multiply(x: Float32Array, xOffset: number, out: Float32Array, outOffset = 0): void {
    const { rows, cols, stride } = this;
    this.x.set(x.subarray(xOffset, xOffset + cols));
    if (this.matvec) {
      this.matvec(0, this.paddedRows, stride, this.matrix.byteLength, this.matrix.byteLength + stride * 4);
    } else {
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let k = 0, at = r * stride; k < cols; k++) s += this.matrix[at + k]! * this.x[k]!;
        this.out[r] = s;
      }
    }
    out.set(this.out.subarray(0, rows), outOffset);
  }
}
