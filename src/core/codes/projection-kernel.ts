/**
 * A coder's W·x in float64: the sums whose signs (against W·mean) are an item's
 * code. Every item added and every query pays for one (256 × 1023 multiply-adds
 * at the default), so this was most of a large build's time.
 *
 * The WebAssembly SIMD kernel (projection.wat) keeps one row's sum in each f64
 * lane and adds that row's products in the same order as the plain loop below
 * (for engines without WebAssembly SIMD). Float64 products of float32 values are
 * exact and each add rounds the same way, so both give bit-identical sums: a code
 * is the same wherever it is computed.
 *
 * Memory layout: W as f32 in panels of 16 rows (see projection.wat), then x as
 * f64, then the sums.
 */
import { memoryFor, simdModule } from '../wasm/simd-module.ts';
import { PROJECTION_WASM_BASE64 } from './projection-wasm.ts';

/** Rows per panel of the kernel's layout. */
const PANEL_ROWS = 16;

type Project = (panels: number, panelCount: number, dim: number, x: number, out: number) => void;

/** The compiled kernel, or null where WebAssembly SIMD is missing. */
const compiledKernel = simdModule(PROJECTION_WASM_BASE64);

export class ProjectionKernel {
  private readonly project: Project | null;
  private readonly x: Float64Array;
  private readonly sums: Float64Array;
  /** Bytes held besides `projection`: the kernel's memory (its copy of W, a vector and the sums); without SIMD, none but the sums, uncounted. */
  readonly byteLength: number;

  /** `projection`: rows × dim, row-major (kept, not copied: the plain loop reads it); rows a multiple of 16. */
  constructor(private readonly projection: Float32Array, readonly rows: number, readonly dim: number, options: { readonly simd?: boolean } = {}) {
    if (rows % PANEL_ROWS !== 0 || projection.length !== rows * dim) throw new RangeError(`Expected a ${rows} × ${dim} projection with rows a multiple of ${PANEL_ROWS}.`);
    const module = options.simd === false ? null : compiledKernel();
    if (!module) {
      this.project = null;
      this.x = new Float64Array(0);
      this.sums = new Float64Array(rows);
      this.byteLength = 0;
      return;
    }
    const panelBytes = rows * dim * 4;
    const memory = memoryFor(panelBytes + dim * 8 + rows * 8);
    const panels = new Float32Array(memory.buffer, 0, rows * dim);
    for (let r = 0; r < rows; r++) {
      const panel = Math.floor(r / PANEL_ROWS) * dim * PANEL_ROWS;
      const lane = r % PANEL_ROWS;
      for (let k = 0; k < dim; k++) panels[panel + k * PANEL_ROWS + lane] = projection[r * dim + k]!;
    }
    this.x = new Float64Array(memory.buffer, panelBytes, dim);
    this.sums = new Float64Array(memory.buffer, panelBytes + dim * 8, rows);
    this.byteLength = memory.buffer.byteLength;
    this.project = new WebAssembly.Instance(module, { env: { memory } }).exports.project as Project;
  }

  /** Whether sums come from the WebAssembly SIMD kernel. */
  get simd(): boolean {
    return this.project !== null;
  }

  /** Row r · vectors[offset … offset + dim) for every row r, in a view that the next call overwrites. */
  multiply(vectors: Float32Array, offset: number): Float64Array {
    const { rows, dim, sums } = this;
    if (this.project) {
      for (let k = 0; k < dim; k++) this.x[k] = vectors[offset + k]!;
      this.project(0, rows / PANEL_ROWS, dim, this.x.byteOffset, sums.byteOffset);
      return sums;
    }
    const W = this.projection;
    // Eight rows per pass over x: eight independent chains of adds.
    for (let b = 0; b < rows; b += 8) {
      const r0 = b * dim, r1 = r0 + dim, r2 = r1 + dim, r3 = r2 + dim, r4 = r3 + dim, r5 = r4 + dim, r6 = r5 + dim, r7 = r6 + dim; // prettier-ignore
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0; // prettier-ignore
      for (let k = 0; k < dim; k++) {
        const x = vectors[offset + k]!;
        s0 += W[r0 + k]! * x;
        s1 += W[r1 + k]! * x;
        s2 += W[r2 + k]! * x;
        s3 += W[r3 + k]! * x;
        s4 += W[r4 + k]! * x;
        s5 += W[r5 + k]! * x;
        s6 += W[r6 + k]! * x;
        s7 += W[r7 + k]! * x;
      }
      sums[b] = s0;
      sums[b + 1] = s1;
      sums[b + 2] = s2;
      sums[b + 3] = s3;
      sums[b + 4] = s4;
      sums[b + 5] = s5;
      sums[b + 6] = s6;
      sums[b + 7] = s7;
    }
    return sums;
  }
}
