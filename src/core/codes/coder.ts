/**
 * Binary coders: an embedding `x` becomes the code `bit_b = (W_b · (x − mean)) > 0`.
 *
 * Embeddings are L2-normalised ReLU features, so every component is ≥ 0 and the whole
 * collection sits in one orthant: codes are taken about the collection mean, or every
 * hyperplane through the origin would cut almost nothing. Two ways to choose `W`:
 *
 * - `lsh`: random hyperplanes (SimHash). Rows of `W` are i.i.d. standard normal.
 *   Needs no structure in the data, any sample size and any code length.
 * - `itq`: Iterative Quantization (Gong & Lazebnik, PAMI 2013). PCA to `bits`
 *   dimensions, then the orthogonal rotation `R` that minimises the quantisation loss
 *   ‖B − VR‖_F over binary `B`; `W = (P R)ᵀ`. Needs `bits ≤ dim` and ≥ 2 sample rows.
 *
 * Everything here is computed with +, −, ×, ÷ and √ in a fixed order (no Math.random,
 * no Math.hypot/exp/log, no iteration over object keys), so the same sample and seed
 * give bit-identical parameters and codes wherever the seeded Gaussians agree: those
 * come from `gaussianRandom`, whose Math.log/sin/cos ECMAScript leaves to the engine.
 *
 * The linear algebra lives in linalg.ts.
 */

import { wordsPerCode } from './bits.ts';
import { gaussianRandom, seededRandom } from './random.ts';
import { ProjectionKernel } from './projection-kernel.ts';
import { floatRows, hypot, multiplyABt, orthonormaliseRows, pcaFor, randomOrthogonal, sampleMean, symmetricEigen, transpose, type SamplePca, type TrainingRows } from './linalg.ts';

export type CoderKind = 'lsh' | 'itq';
export const CODER_KINDS: readonly CoderKind[] = ['lsh', 'itq'];

export interface CoderParams {
  readonly kind: CoderKind;
  readonly bits: number;
  readonly dim: number;
  readonly seed: number;
  /** rows of the sample it was trained on */
  readonly trainedOn: number;
  readonly mean: Float32Array; // dim
  readonly projection: Float32Array; // bits × dim, row-major
}

export interface TrainOptions {
  readonly bits: number;
  readonly seed: number;
  /** ITQ rotation iterations, default 50 (fewer if the codes stop changing: a fixed point). */
  readonly iterations?: number;
  /** A PCA of this sample, or of a larger one it was drawn from, when it is computed already (see pcaFor; LSH uses only its mean). */
  readonly pca?: SamplePca;
}

const ITQ_ITERATIONS = 50;

/**
 * ITQ fits its rotation on at most this many sample rows (evenly spaced through the
 * sample); the mean and the PCA always use every row. Each rotation iteration costs
 * rows × bits² multiply-adds, besides a bits × bits eigen-decomposition, so this bounds
 * the training time. At 256 bits that is still 262 144 signs to fit a rotation with
 * 32 640 degrees of freedom; on synthetic data recall did not change from 1024 to 4096.
 */
export const ITQ_ROTATION_ROWS = 1024;

/** sample: rows × dim, row-major. Uses all rows given (the caller subsamples). */
export function trainCoder(kind: CoderKind, sample: Float32Array, dim: number, options: TrainOptions): CoderParams {
  checkDim(dim);
  if (sample.length === 0 || sample.length % dim !== 0) {
    throw new RangeError(`Training sample must be whole rows of ${dim} values and at least one row; got ${sample.length} values.`);
  }
  return trainCoderOn(kind, floatRows(sample, sample.length / dim, dim), options);
}

/** trainCoder, reading the sample a row at a time (ITQ reads ITQ_ROTATION_ROWS of them besides the PCA; LSH only the mean). */
export function trainCoderOn(kind: CoderKind, rows: TrainingRows, options: TrainOptions): CoderParams {
  if (!CODER_KINDS.includes(kind)) throw new RangeError(`Unknown coder kind ${JSON.stringify(kind)}; expected one of ${CODER_KINDS.join(', ')}.`);
  const { bits, seed } = options;
  const { n, dim } = rows;
  wordsPerCode(bits);
  checkDim(dim);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`Coder seed must be an integer from 0 to 4294967295, not ${seed}.`);
  if (n < 1) throw new RangeError('Training sample must have at least one row.');
  if (options.pca && options.pca.mean.length !== dim) throw new RangeError(`A shared PCA must be of ${dim}-d rows.`);
  if (kind === 'lsh') return trainLsh(n, dim, bits, seed, options.pca?.mean ?? sampleMean(rows));

  const iterations = options.iterations ?? ITQ_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 0) throw new RangeError(`ITQ iterations must be a whole number ≥ 0, not ${iterations}.`);
  if (bits > dim) throw new RangeError(`ITQ needs bits ≤ embedding dims (${bits} bits > ${dim} dims); use LSH for longer codes.`);
  if (n < 2) throw new RangeError(`ITQ needs at least 2 sample rows to fit a PCA, got ${n}.`);
  return trainItq(rows, bits, seed, iterations, pcaFor(rows, bits, options.pca));
}

export class Coder {
  readonly params: CoderParams;
  /** Words per code. */
  readonly words: number;
  /** W · mean, so that a code is W·x compared with it. */
  private readonly bias: Float64Array;
  private readonly kernel: ProjectionKernel;
  /** Per bit, 1 where W_b·x > W_b·mean (one code's worth, rewritten by each `encode`). */
  private readonly bitsAbove: Uint8Array;

  /** `simd: false` keeps to plain JavaScript (for tests; the codes are the same either way). */
  constructor(params: CoderParams, options: { readonly simd?: boolean } = {}) {
    const { kind, bits, dim, mean, projection } = params;
    if (!CODER_KINDS.includes(kind)) throw new RangeError(`Unknown coder kind ${JSON.stringify(kind)}; expected one of ${CODER_KINDS.join(', ')}.`);
    this.words = wordsPerCode(bits);
    checkDim(dim);
    if (mean.length !== dim) throw new RangeError(`Coder mean has ${mean.length} values; expected dim = ${dim}.`);
    if (projection.length !== bits * dim) {
      throw new RangeError(`Coder projection has ${projection.length} values; expected bits × dim = ${bits} × ${dim} = ${bits * dim}.`);
    }
    for (let k = 0; k < mean.length; k++) if (!Number.isFinite(mean[k]!)) throw new RangeError(`Coder mean has a non-finite value at ${k}.`);
    for (let k = 0; k < projection.length; k++) if (!Number.isFinite(projection[k]!)) throw new RangeError(`Coder projection has a non-finite value at ${k}.`);
    this.params = params;
    this.kernel = new ProjectionKernel(projection, bits, dim, options);
    this.bias = Float64Array.from(this.kernel.multiply(mean, 0));
    this.bitsAbove = new Uint8Array(bits);
  }

  /** Bytes held: the parameters and the kernel's copy of W. */
  get byteLength(): number {
    return this.params.mean.byteLength + this.params.projection.byteLength + this.bias.byteLength + this.kernel.byteLength;
  }

  /** W·(x − mean): the real values whose signs are the code (bit b is 1 where value b > 0). */
  project(vector: Float32Array): Float64Array {
    const { bits, dim } = this.params;
    if (vector.length !== dim) throw new RangeError(`Expected a ${dim}-value vector, got ${vector.length}.`);
    const sums = this.kernel.multiply(vector, 0);
    const out = new Float64Array(bits);
    for (let b = 0; b < bits; b++) out[b] = sums[b]! - this.bias[b]!;
    return out;
  }

  /**
   * Writes the code of vectors[vectorOffset … +dim] into out[outOffset … +words]; and W·x (uncentred, unlike
   * `project`), in float32, into `sums` (bits long) where given.
   */
  encode(vectors: Float32Array, vectorOffset: number, out: Uint32Array, outOffset: number, sums?: Float32Array): void {
    const { dim } = this.params;
    const { bias, words } = this;
    if (!Number.isInteger(vectorOffset) || vectorOffset < 0 || vectorOffset + dim > vectors.length) {
      throw new RangeError(`No ${dim}-value vector at offset ${vectorOffset} of ${vectors.length} values.`);
    }
    if (!Number.isInteger(outOffset) || outOffset < 0 || outOffset + words > out.length) {
      throw new RangeError(`No room for a ${words}-word code at offset ${outOffset} of ${out.length} words.`);
    }
    // Bit b of the code is row b of W: W_b·x > W_b·mean.
    const above = this.bitsAbove;
    this.kernel.above(vectors, vectorOffset, bias, above, sums);
    for (let w = 0; w < words; w++) {
      let word = 0;
      for (let j = 0; j < 32; j++) word |= above[w * 32 + j]! << j;
      out[outOffset + w] = word;
    }
  }

  /** Codes of `count` rows, back to back. */
  encodeMany(vectors: Float32Array, count: number): Uint32Array {
    const { dim } = this.params;
    if (!Number.isInteger(count) || count < 0 || count * dim > vectors.length) {
      throw new RangeError(`Cannot encode ${count} vectors of ${dim} values from ${vectors.length} values.`);
    }
    const out = new Uint32Array(count * this.words);
    for (let i = 0; i < count; i++) this.encode(vectors, i * dim, out, i * this.words);
    return out;
  }
}

function checkDim(dim: number): void {
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`Embedding dims must be a positive integer, not ${dim}.`);
}

function trainLsh(n: number, dim: number, bits: number, seed: number, mean: Float64Array): CoderParams {
  const gaussian = gaussianRandom(seededRandom(seed));
  const projection = new Float32Array(bits * dim);
  for (let i = 0; i < projection.length; i++) projection[i] = gaussian();
  return { kind: 'lsh', bits, dim, seed, trainedOn: n, mean: new Float32Array(mean), projection };
}

// ---------------------------------------------------------------------------------------
// ITQ

function trainItq(rows: TrainingRows, bits: number, seed: number, iterations: number, pca: SamplePca): CoderParams {
  const { n, dim } = rows;
  const c = bits;
  // P: the top-c principal directions, as the rows of Pt (c × dim).
  const { mean, directions: Pt } = pca;

  // V = X̃ P: the centred rotation sample in PCA coordinates (m × c).
  const m = Math.min(n, ITQ_ROTATION_ROWS);
  const Xs = new Float64Array(m * dim);
  for (let i = 0; i < m; i++) {
    const row = rows.row(Math.floor((i * n) / m));
    for (let k = 0; k < dim; k++) Xs[i * dim + k] = row[k]! - mean[k]!;
  }
  const V = multiplyABt(Xs, Pt, m, dim, c);

  // R: a random orthogonal c × c start, kept transposed (Rt = Rᵀ, row b = column b of R).
  let Rt = randomOrthogonal(c, seed);
  const rotation = new ItqRotation(V, m, c);
  for (let t = 0; t < iterations; t++) {
    // B = sgn(V R): fix R, the best codes are the signs.
    const changed = rotation.updateCodes(Rt);
    // Codes the same as last time ⇒ R (a function of B) too: a fixed point, the rest are no-ops.
    if (t > 0 && changed === 0) break;
    // R = Ŝ Sᵀ where Bᵀ V = S Ω Ŝᵀ: fix B, the orthogonal Procrustes solution.
    Rt = procrustesRotation(rotation.codesTimesV(), c);
  }

  // W = (P R)ᵀ = Rᵀ Pᵀ: one bits × dim matrix, so encoding is a single projection.
  const W = multiplyABt(Rt, transpose(Pt, c, dim), c, c, dim);
  return { kind: 'itq', bits, dim, seed, trainedOn: n, mean: new Float32Array(mean), projection: new Float32Array(W) };
}

/** The B-step of the ITQ iterations, for a fixed V (m × c). */
class ItqRotation {
  /** B as 0/1 (B_ib = +1 ⇔ 1), m × c. */
  private readonly B: Uint8Array;
  /** Σ over rows with B_ib = +1 of V_i, c × c: row b is for code bit b. */
  private readonly positive: Float64Array;
  /** Σ over all rows of V_i. */
  private readonly total: Float64Array;

  constructor(
    private readonly V: Float64Array,
    private readonly m: number,
    private readonly c: number,
  ) {
    this.B = new Uint8Array(m * c);
    this.positive = new Float64Array(c * c);
    this.total = new Float64Array(c);
    for (let i = 0; i < m; i++) for (let a = 0; a < c; a++) this.total[a] = this.total[a]! + V[i * c + a]!;
  }

  /** B = sgn(V R) (with sgn(0) = −1, as in encoding); returns how many entries of B changed. */
  updateCodes(Rt: Float64Array): number {
    const { V, B, positive, m, c } = this;
    // U = V R: U[i][b] = Σ_a V[i][a] Rt[b][a].
    const U = multiplyABt(V, Rt, m, c, c);
    let changed = 0;
    for (let i = 0; i < m; i++) {
      const v = i * c;
      for (let b = 0; b < c; b++) {
        const bit = U[v + b]! > 0 ? 1 : 0;
        if (B[v + b] === bit) continue;
        B[v + b] = bit;
        changed++;
        // Keep Σ_{B_ib = +1} V_i up to date: after the first few iterations few codes flip.
        const p = b * c;
        if (bit) for (let a = 0; a < c; a++) positive[p + a] = positive[p + a]! + V[v + a]!;
        else for (let a = 0; a < c; a++) positive[p + a] = positive[p + a]! - V[v + a]!;
      }
    }
    return changed;
  }

  /** Bᵀ V (c × c, row b = Σ_i B_ib V_i) = 2 · Σ_{B=+1} V_i − Σ_i V_i. */
  codesTimesV(): Float64Array {
    const { positive, total, c } = this;
    const out = new Float64Array(c * c);
    for (let b = 0; b < c; b++) for (let a = 0; a < c; a++) out[b * c + a] = 2 * positive[b * c + a]! - total[a]!;
    return out;
  }
}

/**
 * The orthogonal Procrustes step: with Bᵀ V = C = S Ω Ŝᵀ (c × c), R = Ŝ Sᵀ maximises
 * tr(Bᵀ V R) = tr(C R), i.e. minimises ‖B − V R‖_F. Returned as Rᵀ = S Ŝᵀ.
 * Via the eigen-decomposition C Cᵀ = S Ω² Sᵀ: Ŝ = Cᵀ S Ω⁻¹, so Rᵀ = (S Ω⁻¹ Sᵀ) C.
 */
function procrustesRotation(C: Float64Array, c: number): Float64Array {
  // Rows of St are the columns s_j of S, with ω_j² in `values`, largest first.
  const { values, vectors: St } = symmetricEigen(multiplyABt(C, C, c, c, c, true), c, c);
  const largest = values[0]!;
  if (largest > 0 && values[c - 1]! > largest * 1e-8) {
    // S Ω⁻¹ Sᵀ = L Lᵀ with L = S Ω^(−1/2): column j of L is s_j / √ω_j.
    const L = transpose(St, c);
    for (let j = 0; j < c; j++) {
      const scale = 1 / Math.sqrt(Math.sqrt(values[j]!));
      for (let a = 0; a < c; a++) L[a * c + j] = L[a * c + j]! * scale;
    }
    return multiplyABt(multiplyABt(L, L, c, c, c, true), transpose(C, c), c, c, c);
  }
  // Singular values spanning more than 10⁴ (or zero, for a rank-deficient V) leave
  // Ŝ = Cᵀ S Ω⁻¹ inaccurate or undefined: compute it, then re-orthonormalise in order
  // of ω, filling in null directions from the standard basis, so that it is orthogonal.
  // Rows of Shat are the columns ŝ_j = Cᵀ s_j / ω_j: (Cᵀ s_j)[a] = Σ_b St[j][b] C[b][a].
  const Shat = multiplyABt(St, transpose(C, c), c, c, c);
  for (let j = 0; j < c; j++) {
    const scale = values[j]! > 0 ? 1 / Math.sqrt(values[j]!) : 0;
    for (let a = 0; a < c; a++) Shat[j * c + a] = Shat[j * c + a]! * scale;
  }
  const floor = largest * c * 2 ** -52;
  orthonormaliseRows(Shat, c, Array.from(values.keys()), (j) => values[j]! > floor);
  // Rᵀ = S Ŝᵀ: Rt[b][a] = Σ_j S[b][j] Ŝ[a][j].
  return multiplyABt(transpose(St, c), transpose(Shat, c), c, c, c);
}
