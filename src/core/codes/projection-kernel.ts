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
 * A code needs only each sum's side of its threshold. `above` takes it from the
 * kernel's float32 sums (project32: four lanes to float64's two, nothing widened)
 * wherever a sum lies further from its threshold than float32 rounding can move
 * it, and from the row's float64 sum, exactly as `multiply` gives it, elsewhere:
 * the same bits, for a fraction of the work (at the default 256 × 1023, a unit
 * query's rows are that close about once in a thousand).
 *
 * Memory layout: W as f32 in panels of 16 rows (see projection.wat), then x as
 * f64, then the sums; then x as f32 and the f32 sums.
 */
import { memoryFor, simdModule } from '../wasm/simd-module.ts';
import { PROJECTION_WASM_BASE64 } from './projection-wasm.ts';

/** Rows per panel of the kernel's layout. */
const PANEL_ROWS = 16;

type Project = (panels: number, panelCount: number, dim: number, x: number, out: number) => void;

/** γ_n = n·u / (1 − n·u): a sum of n products, rounding to unit roundoff u, is within γ_n · Σ|products| of the exact sum. */
const gamma = (n: number, unitRoundoff: number) => (n * unitRoundoff) / (1 - n * unitRoundoff);

/** The compiled kernel, or null where WebAssembly SIMD is missing. */
const compiledKernel = simdModule(PROJECTION_WASM_BASE64);

export class ProjectionKernel {
  private readonly project: Project | null;
  private readonly project32: Project | null;
  private readonly x: Float64Array;
  private readonly sums: Float64Array;
  private readonly x32: Float32Array;
  private readonly sums32: Float32Array;
  /**
   * Per row, ‖W_r‖₂ times how far float32 and float64 sums of `dim` products may stray, per unit of ‖x‖₂ (Cauchy–Schwarz
   * bounds Σ|W_r,k · x_k|), as long as no float32 product or sum leaves the normal range; and how far underflow adds.
   */
  private readonly reach: Float64Array;
  private readonly underflowReach: number;
  /** Bytes held besides `projection`: the kernel's memory (its copy of W, a vector and the sums) and the rows' bounds; without SIMD, none but the sums, uncounted. */
  readonly byteLength: number;

  /** `projection`: rows × dim, row-major (kept, not copied: the plain loop reads it); rows a multiple of 16. */
  constructor(private readonly projection: Float32Array, readonly rows: number, readonly dim: number, options: { readonly simd?: boolean } = {}) {
    if (rows % PANEL_ROWS !== 0 || projection.length !== rows * dim) throw new RangeError(`Expected a ${rows} × ${dim} projection with rows a multiple of ${PANEL_ROWS}.`);
    const module = options.simd === false ? null : compiledKernel();
    if (!module) {
      this.project = this.project32 = null;
      this.x = new Float64Array(0);
      this.sums = new Float64Array(rows);
      this.x32 = new Float32Array(0);
      this.sums32 = new Float32Array(0);
      this.reach = new Float64Array(0);
      this.underflowReach = 0;
      this.byteLength = 0;
      return;
    }
    // (The slack of 2⁻²⁰ covers the rounding of the norms and of the bound itself.)
    const perUnit = (gamma(dim, 2 ** -24) + gamma(dim, 2 ** -53)) * (1 + 2 ** -20);
    this.reach = new Float64Array(rows);
    for (let r = 0; r < rows; r++) {
      let squares = 0;
      for (let k = 0; k < dim; k++) squares += projection[r * dim + k]! ** 2;
      this.reach[r] = Math.sqrt(squares) * perUnit;
    }
    // Products below float32's normal range round to a multiple of 2⁻¹⁴⁹ instead: up to 2⁻¹⁵⁰ each, whatever their size.
    this.underflowReach = dim * 2 ** -149;
    const panelBytes = rows * dim * 4;
    const memory = memoryFor(panelBytes + dim * 8 + rows * 8 + dim * 4 + rows * 4);
    const panels = new Float32Array(memory.buffer, 0, rows * dim);
    for (let r = 0; r < rows; r++) {
      const panel = Math.floor(r / PANEL_ROWS) * dim * PANEL_ROWS;
      const lane = r % PANEL_ROWS;
      for (let k = 0; k < dim; k++) panels[panel + k * PANEL_ROWS + lane] = projection[r * dim + k]!;
    }
    this.x = new Float64Array(memory.buffer, panelBytes, dim);
    this.sums = new Float64Array(memory.buffer, panelBytes + dim * 8, rows);
    this.x32 = new Float32Array(memory.buffer, panelBytes + dim * 8 + rows * 8, dim);
    this.sums32 = new Float32Array(memory.buffer, this.x32.byteOffset + dim * 4, rows);
    this.byteLength = memory.buffer.byteLength + this.reach.byteLength;
    const { exports } = new WebAssembly.Instance(module, { env: { memory } });
    this.project = exports.project as Project;
    this.project32 = exports.project32 as Project;
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

  /**
   * out[r] = 1 where row r · vectors[offset … offset + dim) > thresholds[r], else 0: exactly as `multiply`'s sums
   * compare, from the float32 sums where they are clear of the threshold. `sums` (rows long), where given, gets
   * every row's sum in float32 (a query's projection is more use than its signs to a partitioned search).
   */
  above(vectors: Float32Array, offset: number, thresholds: Float64Array, out: Uint8Array, sums?: Float32Array): void {
    const { rows, dim } = this;
    if (!this.project32) {
      const exact = this.multiply(vectors, offset);
      for (let r = 0; r < rows; r++) out[r] = exact[r]! > thresholds[r]! ? 1 : 0;
      sums?.set(exact);
      return;
    }
    let squares = 0;
    for (let k = 0; k < dim; k++) {
      const x = vectors[offset + k]!;
      this.x32[k] = x;
      squares += x * x;
    }
    const norm = Math.sqrt(squares);
    this.project32(0, rows / PANEL_ROWS, dim, this.x32.byteOffset, this.sums32.byteOffset);
    for (let r = 0; r < rows; r++) {
      // (A sum that overflowed is ±∞ or NaN from there on: its row is summed again, as is one too near its threshold.)
      const gap = this.sums32[r]! - thresholds[r]!;
      const reach = this.reach[r]! * norm + this.underflowReach;
      const clear = Number.isFinite(this.sums32[r]!) && (gap > reach || gap < -reach);
      out[r] = clear ? (gap > 0 ? 1 : 0) : this.exactRow(r, vectors, offset) > thresholds[r]! ? 1 : 0;
    }
    sums?.set(this.sums32);
  }

  /** Row r's float64 sum, in `multiply`'s order (the kernel's lanes and the plain loop add the same way). */
  private exactRow(r: number, vectors: Float32Array, offset: number): number {
    const W = this.projection;
    const row = r * this.dim;
    let sum = 0;
    for (let k = 0; k < this.dim; k++) sum += W[row + k]! * vectors[offset + k]!;
    return sum;
  }
}
