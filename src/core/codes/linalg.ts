/**
 * Dense linear algebra on flat row-major Float64Arrays, for training coders:
 * covariance, products, and the top eigenvectors of a symmetric matrix
 * (Householder tridiagonalisation + QL, after JAMA/EISPACK, with inverse
 * iteration when only the leading eigenvectors are wanted).
 *
 * Written here rather than taken from ml-matrix: its eigen-decomposition of a
 * 768×768 covariance takes ~4 s and its 256×256 SVD ~0.4 s (×50 ITQ iterations),
 * too slow to train in a page. Only +, −, ×, ÷ and √ are used, in a fixed order,
 * so results are bit-identical on every engine. tests/unit/codes.test.ts checks
 * them against ml-matrix.
 */

import { memoryFor, simdModule } from '../wasm/simd-module.ts';
import { GEMM_WASM_BASE64 } from './gemm-wasm.ts';
import { gaussianRandom, seededRandom } from './random.ts';

/**
 * Gram–Schmidt (twice) on the rows of Q (c × c) taken in `order`. A row that `keep`
 * rejects, or that is (numerically) dependent on the rows before it, is replaced by the
 * first standard basis vector independent of them, so Q always ends up orthogonal.
 */
export function orthonormaliseRows(Q: Float64Array, c: number, order: readonly number[], keep: (row: number) => boolean): void {
  const done: number[] = [];
  let nextBasis = 0;
  const row = new Float64Array(c);
  for (const j of order) {
    row.set(Q.subarray(j * c, (j + 1) * c));
    let ok = keep(j) && projectOut(row, Q, done, c);
    while (!ok) {
      // Fewer than c orthonormal rows cannot span every basis vector, so this ends.
      row.fill(0);
      row[nextBasis++] = 1;
      ok = projectOut(row, Q, done, c);
    }
    Q.set(row, j * c);
    done.push(j);
  }
}

/** Removes from `row` its components along rows `done` of Q (twice), normalises; false if nothing is left. */
function projectOut(row: Float64Array, Q: Float64Array, done: readonly number[], c: number): boolean {
  const before = norm(row);
  if (!(before > 0)) return false;
  for (let pass = 0; pass < 2; pass++) {
    for (const k of done) {
      let dot = 0;
      for (let a = 0; a < c; a++) dot += row[a]! * Q[k * c + a]!;
      for (let a = 0; a < c; a++) row[a] = row[a]! - dot * Q[k * c + a]!;
    }
  }
  const after = norm(row);
  if (!(after > before * 1e-6)) return false;
  for (let a = 0; a < c; a++) row[a] = row[a]! / after;
  return true;
}

function norm(v: Float64Array): number {
  let s = 0;
  for (let a = 0; a < v.length; a++) s += v[a]! * v[a]!;
  return Math.sqrt(s);
}

/** A random orthogonal c × c matrix: Gram–Schmidt on a seeded Gaussian matrix. */
export function randomOrthogonal(c: number, seed: number): Float64Array {
  const gaussian = gaussianRandom(seededRandom(seed));
  const Q = new Float64Array(c * c);
  for (let i = 0; i < Q.length; i++) Q[i] = gaussian();
  const order = Array.from({ length: c }, (_, j) => j);
  orthonormaliseRows(Q, c, order, () => true);
  return Q;
}

/** Indices by descending value, ties by index. */
function descendingOrder(values: Float64Array): number[] {
  return Array.from(values.keys()).sort((a, b) => values[b]! - values[a]! || a - b);
}

// ---------------------------------------------------------------------------------------
// PCA

/**
 * A training sample, read a row at a time: a float array's rows (`floatRows`), or rows kept
 * smaller, as the index stores them (index/int8-rows.ts), and widened as they are read.
 */
export interface TrainingRows {
  readonly n: number;
  readonly dim: number;
  /** Row i's values (a view that the next call may overwrite). */
  row(i: number): Float32Array;
}

/** The rows of a row-major float sample. */
export function floatRows(sample: Float32Array, n: number, dim: number): TrainingRows {
  if (!(Number.isInteger(n) && n >= 0 && Number.isInteger(dim) && dim >= 1 && sample.length >= n * dim)) {
    throw new RangeError(`A sample of ${sample.length} values does not hold ${n} rows of ${dim}.`);
  }
  return { n, dim, row: (i) => sample.subarray(i * dim, (i + 1) * dim) };
}

/** The first n of `rows`. */
export function leadingRows(rows: TrainingRows, n: number): TrainingRows {
  if (!(Number.isInteger(n) && n >= 0 && n <= rows.n)) throw new RangeError(`${rows.n} rows have no first ${n}.`);
  return { n, dim: rows.dim, row: (i) => rows.row(i) };
}

/** Column means in Float64, rows summed in order. */
export function sampleMean(rows: TrainingRows): Float64Array {
  const { n, dim } = rows;
  const sum = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    const row = rows.row(i);
    for (let k = 0; k < dim; k++) sum[k] = sum[k]! + row[k]!;
  }
  for (let k = 0; k < dim; k++) {
    if (!Number.isFinite(sum[k]!)) throw new RangeError(`Training sample has a non-finite value in column ${k}.`);
    sum[k] = sum[k]! / n;
  }
  return sum;
}

/**
 * A sample's mean and top principal directions. A coder and a partition trained
 * on the same sample share one (ITQ-256 and 256-d sketches, the defaults, need
 * the same 256 directions): the covariance and its eigenvectors are most of a
 * small collection's training time.
 */
export interface SamplePca {
  readonly mean: Float64Array;
  /** count × dim: the directions as rows, largest variance first. */
  readonly directions: Float64Array;
  readonly count: number;
}

export function samplePca(rows: TrainingRows, count: number): SamplePca {
  const mean = sampleMean(rows);
  return { mean, directions: principalDirections(covariance(rows, mean), rows.dim, count), count };
}

/**
 * The mean and top `count` directions of `rows` for a trainer, from `shared`
 * (a PCA of this same sample, or of a larger one it was drawn from) where it has them: its mean always, its directions
 * when it has exactly `count` (fewer or more are not a prefix of these: the
 * eigen-solver takes another path). Computed otherwise.
 */
export function pcaFor(rows: TrainingRows, count: number, shared: SamplePca | undefined): SamplePca {
  const { dim } = rows;
  if (!shared) return samplePca(rows, count);
  if (shared.mean.length !== dim || shared.directions.length !== shared.count * dim) throw new RangeError(`A shared PCA must be of ${dim}-d rows.`);
  return shared.count === count ? shared : { mean: shared.mean, directions: principalDirections(covariance(rows, shared.mean), dim, count), count };
}

/** Rows this many at a time are centred and transposed for the covariance kernel. */
const COVARIANCE_CHUNK = 128;

/** X̃ᵀ X̃ (dim × dim, unscaled) of the centred sample. */
export function covariance(rows: TrainingRows, mean: Float64Array): Float64Array {
  const { n, dim } = rows;
  // Columns padded to a multiple of 4 (with zeros) so the product's 2 × 4 tiles need no edge cases.
  const dp = (dim + 3) & ~3;
  const L = COVARIANCE_CHUNK;
  const C = new Float64Array(dp * dp);
  const chunk = new Float64Array(dp * L); // transposed: chunk[k * L + r]
  for (let start = 0; start < n; start += L) {
    const count = Math.min(L, n - start);
    if (count < L) chunk.fill(0);
    for (let r = 0; r < count; r++) {
      const row = rows.row(start + r);
      for (let k = 0; k < dim; k++) chunk[k * L + r] = row[k]! - mean[k]!;
    }
    const product = multiplyABt(chunk, chunk, dp, L, dp, true);
    for (let i = 0; i < C.length; i++) C[i] = C[i]! + product[i]!;
  }
  const out = new Float64Array(dim * dim);
  for (let a = 0; a < dim; a++) out.set(C.subarray(a * dp, a * dp + dim), a * dim);
  return out;
}

/** The eigenvectors of the c largest eigenvalues of the symmetric `cov` (dim × dim), as rows. */
export function principalDirections(cov: Float64Array, dim: number, c: number): Float64Array {
  return symmetricEigen(cov, dim, c).vectors;
}

// ---------------------------------------------------------------------------------------
// Dense kernels (row-major Float64Array)

type Abt = (a: number, b: number, out: number, rows: number, k: number, cols: number, upper: number) => void;

/** The compiled kernel (gemm.wat), or null where WebAssembly SIMD is missing. */
const compiledGemm = simdModule(GEMM_WASM_BASE64);
/**
 * The kernel's instance, kept for the next product and replaced by a larger one
 * when a product needs more memory: training scratch, about 12 MB after a
 * default coder's training (its largest product, the 1024-row sample times P).
 */
let gemm: { readonly abt: Abt; readonly memory: WebAssembly.Memory } | null = null;

/**
 * C (m × c) = A (m × k) · Bᵀ, with B c × k. Every entry is a plain in-order sum over k.
 * `symmetric` (A = B): only the upper triangle is computed, then mirrored.
 *
 * Most of a coder's training time (the ITQ iterations' V·R and Procrustes
 * products, the covariance): the WebAssembly SIMD kernel (gemm.wat) keeps one
 * entry per f64 lane, adding its products in the same order as the plain loop,
 * so both give bit-identical products and the same trained parameters.
 */
export function multiplyABt(A: Float64Array, B: Float64Array, m: number, k: number, c: number, symmetric = false): Float64Array {
  const module = compiledGemm();
  if (!module || m === 0 || c === 0 || k === 0) return plainMultiplyABt(A, B, m, k, c, symmetric);
  const rows = (m + 3) & ~3;
  const cols = (c + 3) & ~3;
  // A, then B in interleaved pairs of rows, then the product. Padding rows and lanes hold whatever is
  // there: they only feed entries outside m × c, which are not read.
  const bAt = rows * k;
  const outAt = bAt + cols * k;
  const bytes = (outAt + rows * cols) * 8;
  if (!gemm || gemm.memory.buffer.byteLength < bytes) {
    const memory = memoryFor(bytes);
    gemm = { abt: new WebAssembly.Instance(module, { env: { memory } }).exports.abt as Abt, memory };
  }
  const f64 = new Float64Array(gemm.memory.buffer);
  f64.set(A.subarray(0, m * k));
  for (let j = 0; j < c; j++) {
    const at = bAt + (j >> 1) * 2 * k + (j & 1);
    for (let p = 0; p < k; p++) f64[at + 2 * p] = B[j * k + p]!;
  }
  gemm.abt(0, bAt * 8, outAt * 8, rows, k, cols, symmetric ? 1 : 0);
  const C = new Float64Array(m * c);
  for (let i = 0; i < m; i++) C.set(f64.subarray(outAt + i * cols, outAt + i * cols + c), i * c);
  if (symmetric) for (let a = 1; a < m; a++) for (let b = 0; b < a; b++) C[a * c + b] = C[b * c + a]!;
  return C;
}

/** multiplyABt in plain JavaScript (engines without WebAssembly SIMD; tests compare the two). */
export function plainMultiplyABt(A: Float64Array, B: Float64Array, m: number, k: number, c: number, symmetric = false): Float64Array {
  const C = new Float64Array(m * c);
  let i = 0;
  for (; i + 1 < m; i += 2) {
    const a0 = i * k;
    const a1 = a0 + k;
    let j = symmetric ? i & ~3 : 0;
    for (; j + 3 < c; j += 4) {
      const b0 = j * k;
      const b1 = b0 + k;
      const b2 = b1 + k;
      const b3 = b2 + k;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      for (let p = 0; p < k; p++) {
        const x0 = A[a0 + p]!;
        const x1 = A[a1 + p]!;
        const y0 = B[b0 + p]!;
        const y1 = B[b1 + p]!;
        const y2 = B[b2 + p]!;
        const y3 = B[b3 + p]!;
        s00 += x0 * y0;
        s01 += x0 * y1;
        s02 += x0 * y2;
        s03 += x0 * y3;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s12 += x1 * y2;
        s13 += x1 * y3;
      }
      const c0 = i * c + j;
      const c1 = c0 + c;
      C[c0] = s00;
      C[c0 + 1] = s01;
      C[c0 + 2] = s02;
      C[c0 + 3] = s03;
      C[c1] = s10;
      C[c1 + 1] = s11;
      C[c1 + 2] = s12;
      C[c1 + 3] = s13;
    }
    for (; j < c; j++) {
      const b0 = j * k;
      let s0 = 0;
      let s1 = 0;
      for (let p = 0; p < k; p++) {
        s0 += A[a0 + p]! * B[b0 + p]!;
        s1 += A[a1 + p]! * B[b0 + p]!;
      }
      C[i * c + j] = s0;
      C[(i + 1) * c + j] = s1;
    }
  }
  if (i < m) {
    const a0 = i * k;
    for (let j = 0; j < c; j++) {
      const b0 = j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += A[a0 + p]! * B[b0 + p]!;
      C[i * c + j] = s;
    }
  }
  if (symmetric) for (let a = 1; a < m; a++) for (let b = 0; b < a; b++) C[a * c + b] = C[b * c + a]!;
  return C;
}

/** The transpose of a rows × cols matrix (square if cols is left out). */
export function transpose(A: Float64Array, rows: number, cols = rows): Float64Array {
  const T = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) T[j * rows + i] = A[i * cols + j]!;
  return T;
}

// ---------------------------------------------------------------------------------------
// Symmetric eigen-decomposition on flat arrays: Householder tridiagonalisation and implicit
// QL after the public-domain JAMA tred2/tql2 (from EISPACK). When only a few eigenvectors
// are wanted (PCA: 256 of 768), they come from inverse iteration after EISPACK's tinvit,
// O(n) each plus O(n²) to map each back, where accumulating the transformations and the
// QL rotations costs ~4n³; should that ever fail, the full tred2 + tql2 path runs instead.

interface Eigen {
  /** Descending. */
  readonly values: Float64Array;
  /** Row j: the unit eigenvector of values[j]. */
  readonly vectors: Float64Array;
}

/** The `count` largest eigenpairs of the (exactly) symmetric n × n `A`. */
export function symmetricEigen(A: Float64Array, n: number, count: number): Eigen {
  // The reduction works on the transposed layout (Z[j*n + k] = JAMA's V[k][j]); A is symmetric.
  const Z = new Float64Array(A);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalise(n, Z, d, e);
  // T: diagonal[i], and e[i] between rows i − 1 and i; d[i] scales the i-th reflector.
  const diagonal = new Float64Array(n);
  for (let i = 0; i < n; i++) diagonal[i] = Z[i * n + i]!;

  // A few of many eigenvectors (PCA): eigenvalues alone by QL, then inverse iteration.
  // (For most or all of them, as in the Procrustes step, rotating all n along is faster.)
  if (2 * count <= n) {
    const all = diagonal.slice();
    tql2(n, all, e.slice(), null);
    const values = Float64Array.from(descendingOrder(all).slice(0, count), (j) => all[j]!);
    const vectors = inverseIteration(diagonal, e, values);
    if (vectors) {
      backTransform(n, Z, d, vectors, count);
      return { values, vectors };
    }
  }
  // Accumulate the reduction and rotate it along with QL.
  const V = accumulate(n, Z, d);
  tql2(n, diagonal, e, V);
  const order = descendingOrder(diagonal).slice(0, count);
  const vectors = new Float64Array(count * n);
  for (let j = 0; j < count; j++) for (let k = 0; k < n; k++) vectors[j * n + k] = V[k * n + order[j]!]!;
  return { values: Float64Array.from(order, (j) => diagonal[j]!), vectors };
}

/**
 * Householder reduction of the symmetric matrix in Z (transposed layout) to tridiagonal
 * form (JAMA tred2 without the accumulation). Leaves in Z the diagonal and the reflectors
 * (u_i in Z[i*n + 0 … i−1]), in d[i] each reflector's h_i, in e[i] the sub-diagonal.
 */
function tridiagonalise(n: number, Z: Float64Array, d: Float64Array, e: Float64Array): void {
  // In JAMA's terms V[r][c] is Z[c * n + r].
  for (let j = 0; j < n; j++) d[j] = Z[j * n + n - 1]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = Z[j * n + i - 1]!;
        Z[j * n + i] = 0;
        Z[i * n + j] = 0;
      }
    } else {
      // Generate the Householder vector.
      for (let k = 0; k < i; k++) {
        const v = d[k]! / scale;
        d[k] = v;
        h += v * v;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      // Apply the similarity transformation to the remaining columns.
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        Z[i * n + j] = f;
        const zj = j * n;
        let g0 = e[j]! + Z[zj + j]! * f;
        let g1 = 0;
        let k = j + 1;
        for (; k + 1 < i; k += 2) {
          const v0 = Z[zj + k]!;
          const v1 = Z[zj + k + 1]!;
          g0 += v0 * d[k]!;
          g1 += v1 * d[k + 1]!;
          e[k] = e[k]! + v0 * f;
          e[k + 1] = e[k + 1]! + v1 * f;
        }
        if (k < i) {
          const v0 = Z[zj + k]!;
          g0 += v0 * d[k]!;
          e[k] = e[k]! + v0 * f;
        }
        e[j] = g0 + g1;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] = e[j]! / h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = e[j]! - hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        const zj = j * n;
        for (let k = j; k < i; k++) Z[zj + k] = Z[zj + k]! - (f * e[k]! + g * d[k]!);
        d[j] = Z[zj + i - 1]!;
        Z[zj + i] = 0;
      }
    }
    d[i] = h;
  }
  e[0] = 0;
}

/**
 * Q = P_{n−1} ⋯ P_1 from the reflectors left in Z by tridiagonalise, in the plain layout
 * (what JAMA tred2's accumulation builds): row j of Qᵀ is Q e_j, and P_1 … P_j, acting on
 * indices below j, leave e_j alone.
 */
function accumulate(n: number, Z: Float64Array, h: Float64Array): Float64Array {
  const Qt = new Float64Array(n * n);
  for (let j = 0; j < n; j++) Qt[j * n + j] = 1;
  backTransform(n, Z, h, Qt, n, true);
  return transpose(Qt, n);
}

/**
 * Applies Q = P_{n−1} ⋯ P_1 (the reflectors left in Z by tridiagonalise) to each of the
 * `count` rows of Y, turning eigenvectors of T into eigenvectors of the original matrix.
 * `identity`: Y is the identity, so row r needs only P_{r+1} onwards.
 */
function backTransform(n: number, Z: Float64Array, h: Float64Array, Y: Float64Array, count: number, identity = false): void {
  // Four rows at a time (they stay in L1) through every reflector, P_1 first.
  for (let r = 0; r < count; r += 4) {
    const rows = Math.min(4, count - r);
    const y0 = r * n;
    const y1 = rows > 1 ? y0 + n : y0;
    const y2 = rows > 2 ? y0 + 2 * n : y0;
    const y3 = rows > 3 ? y0 + 3 * n : y0;
    for (let p = identity ? r + 1 : 1; p < n; p++) {
      const hp = h[p]!;
      if (hp === 0) continue;
      const u = p * n;
      let g0 = 0;
      let g1 = 0;
      let g2 = 0;
      let g3 = 0;
      for (let t = 0; t < p; t++) {
        const ut = Z[u + t]!;
        g0 += ut * Y[y0 + t]!;
        g1 += ut * Y[y1 + t]!;
        g2 += ut * Y[y2 + t]!;
        g3 += ut * Y[y3 + t]!;
      }
      g0 /= hp;
      g1 /= hp;
      g2 /= hp;
      g3 /= hp;
      // Rows that are padding (y1…y3 = y0) are updated only once, through y0.
      if (rows === 4) {
        for (let t = 0; t < p; t++) {
          const ut = Z[u + t]!;
          Y[y0 + t] = Y[y0 + t]! - g0 * ut;
          Y[y1 + t] = Y[y1 + t]! - g1 * ut;
          Y[y2 + t] = Y[y2 + t]! - g2 * ut;
          Y[y3 + t] = Y[y3 + t]! - g3 * ut;
        }
      } else {
        const gs = [g0, g1, g2, g3];
        for (let q = 0; q < rows; q++) {
          const y = y0 + q * n;
          const g = gs[q]!;
          for (let t = 0; t < p; t++) Y[y + t] = Y[y + t]! - g * Z[u + t]!;
        }
      }
    }
  }
}

/**
 * Eigenvectors of the symmetric tridiagonal T (diagonal d, e[i] between rows i−1 and i)
 * for the eigenvalues w (descending), by inverse iteration after EISPACK's tinvit: each
 * vector from a few solves with T − wI, Gram–Schmidt within groups of eigenvalues
 * closer than 1e-6‖T‖ (tinvit groups from 1e-3‖T‖ and stops after one good solve;
 * that chains up most of a decaying covariance spectrum and costs O(k²n)). The
 * result is checked. Rows of the result; null if a vector does not converge or
 * the vectors come out less than orthogonal (the caller then takes the slow, sure path).
 */
function inverseIteration(d: Float64Array, e: Float64Array, w: Float64Array): Float64Array | null {
  const n = d.length;
  const count = w.length;
  const Y = new Float64Array(count * n);
  let norm = Math.abs(d[0]!);
  for (let i = 1; i < n; i++) norm = Math.max(norm, Math.abs(d[i]!) + Math.abs(e[i]!));
  if (norm === 0) {
    // T = 0: any orthonormal basis will do.
    for (let r = 0; r < count; r++) Y[r * n + r] = 1;
    return Y;
  }
  // eps2 groups close roots, eps3 replaces zero pivots and separates equal roots, eps4 is
  // the (tiny, against overflow) start vector's size.
  const eps2 = 1e-6 * norm;
  let eps3 = norm;
  do eps3 *= 0.5;
  while (norm + eps3 > norm);
  let uk = Math.sqrt(n + 4);
  eps3 *= uk;
  const eps4 = uk * eps3;
  uk = eps4 / uk;

  // The LU factors of T − x·I with row interchanges: pivots rv1, rv2, rv3 on the three
  // diagonals of U, multipliers rv4, swapped[i] when rows i−1 and i were exchanged.
  const rv1 = new Float64Array(n);
  const rv2 = new Float64Array(n);
  const rv3 = new Float64Array(n);
  const rv4 = new Float64Array(n);
  const swapped = new Uint8Array(n);
  const x = new Float64Array(n);
  let x0 = 0;
  let group = 0;
  let s = 0;
  for (let r = 0; r < count; r++) {
    let x1 = w[r]!;
    if (r > 0) {
      if (Math.abs(x1 - x0) >= eps2) {
        group = 0;
      } else {
        group++;
        if (x1 >= x0) x1 = x0 - eps3;
      }
    }
    // Eliminate, and start from the vector of all uk.
    let u = 0;
    let v = 0;
    let xu = 1;
    for (let i = 0; i < n; i++) {
      x[i] = uk;
      if (i > 0) {
        const ei = e[i]!;
        if (u === 0 && ei === 0) u = eps3;
        if (Math.abs(ei) >= Math.abs(u)) {
          xu = u / ei;
          rv4[i] = xu;
          swapped[i] = 1;
          rv1[i - 1] = ei;
          rv2[i - 1] = d[i]! - x1;
          rv3[i - 1] = i + 1 < n ? e[i + 1]! : 0;
          u = v - xu * rv2[i - 1]!;
          v = -xu * rv3[i - 1]!;
          continue;
        }
        xu = ei / u;
        rv4[i] = xu;
        swapped[i] = 0;
        rv1[i - 1] = u;
        rv2[i - 1] = v;
        rv3[i - 1] = 0;
      }
      u = d[i]! - x1 - xu * v;
      if (i + 1 < n) v = e[i + 1]!;
    }
    if (u === 0) u = eps3;
    rv1[n - 1] = u;
    rv2[n - 1] = 0;
    rv3[n - 1] = 0;

    for (let its = 1; ; its++) {
      // Back substitution.
      for (let i = n - 1; i >= 0; i--) {
        x[i] = (x[i]! - u * rv2[i]! - v * rv3[i]!) / rv1[i]!;
        v = u;
        u = x[i]!;
      }
      // Orthogonalise against the earlier members of the group.
      for (let j = r - group; j < r; j++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += x[i]! * Y[j * n + i]!;
        for (let i = 0; i < n; i++) x[i] = x[i]! - dot * Y[j * n + i]!;
      }
      // Each solve shrinks the components along other eigenvectors by ~ (error in w[r]) / gap;
      // three solves make that negligible for any gap ≥ 1e-6‖T‖ (closer ones are grouped).
      // The growth (size, from a vector of size eps4) shows the solves are amplifying:
      // QL's eigenvalues are good to ~1e-13‖T‖, not always to tinvit's 1/eps4.
      let size = 0;
      for (let i = 0; i < n; i++) size += Math.abs(x[i]!);
      if (its >= 3 && size >= 1e-3) break;
      if (its === 6) return null;
      // Rescale (or restart from a unit vector) and solve again.
      if (size === 0) {
        x[s] = eps4;
        s = (s + 1) % n;
      } else {
        const scale = eps4 / size;
        for (let i = 0; i < n; i++) x[i] = x[i]! * scale;
      }
      for (let i = 1; i < n; i++) {
        let t = x[i]!;
        if (swapped[i]) {
          t = x[i - 1]!;
          x[i - 1] = x[i]!;
        }
        x[i] = t - rv4[i]! * x[i - 1]!;
      }
    }
    let ss = 0;
    for (let i = 0; i < n; i++) ss += x[i]! * x[i]!;
    const scale = 1 / Math.sqrt(ss);
    for (let i = 0; i < n; i++) Y[r * n + i] = x[i]! * scale;
    x0 = x1;
  }
  return orthonormal(Y, n, count) ? Y : null;
}

/** Whether the unit rows of Y (count × n) are orthogonal to within 1e-8. */
function orthonormal(Y: Float64Array, n: number, count: number): boolean {
  for (let a = 0; a < count; a++) {
    const ya = a * n;
    for (let b = a + 1; b < count; b++) {
      const yb = b * n;
      let d0 = 0;
      let d1 = 0;
      let i = 0;
      for (; i + 1 < n; i += 2) {
        d0 += Y[ya + i]! * Y[yb + i]!;
        d1 += Y[ya + i + 1]! * Y[yb + i + 1]!;
      }
      if (i < n) d0 += Y[ya + i]! * Y[yb + i]!;
      if (!(Math.abs(d0 + d1) <= 1e-8)) return false;
    }
  }
  return true;
}

/** √(a² + b²) without overflow, with √ only (Math.hypot is not exactly specified). */
export function hypot(a: number, b: number): number {
  const x = Math.abs(a);
  const y = Math.abs(b);
  if (x > y) {
    const r = y / x;
    return x * Math.sqrt(1 + r * r);
  }
  if (y !== 0) {
    const r = x / y;
    return y * Math.sqrt(1 + r * r);
  }
  return 0;
}

/**
 * Implicit QL: the eigenvalues of the tridiagonal T (d, e as tridiagonalise leaves them)
 * into d, rotating the rows of V (plain layout) along unless V is null.
 */
function tql2(n: number, d: Float64Array, e: Float64Array, V: Float64Array | null): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  // One sweep's rotations, applied to V after the sweep (they do not depend on V).
  const cosines = new Float64Array(n);
  const sines = new Float64Array(n);
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    // Find a small sub-diagonal element.
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]!) <= eps * tst1) break;
      m++;
    }
    // If m === l, d[l] is already an eigenvalue; otherwise iterate.
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 100) throw new Error('Eigen-decomposition did not converge.');
        // Implicit shift.
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i] = d[i]! - h;
        f += h;
        // Implicit QL transformation.
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          cosines[i] = c;
          sines[i] = s;
        }
        if (V) rotateRows(V, n, l, m, cosines, sines);
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
}

/**
 * Applies a QL sweep's rotations i = m−1 … l (each mixing columns i and i+1) to every
 * row of V, carrying the running column in a register; four rows at a time so that the
 * four carries' dependency chains overlap.
 */
function rotateRows(V: Float64Array, n: number, l: number, m: number, cosines: Float64Array, sines: Float64Array): void {
  let k = 0;
  for (; k + 3 < n; k += 4) {
    const r0 = k * n;
    const r1 = r0 + n;
    const r2 = r1 + n;
    const r3 = r2 + n;
    let h0 = V[r0 + m]!;
    let h1 = V[r1 + m]!;
    let h2 = V[r2 + m]!;
    let h3 = V[r3 + m]!;
    for (let i = m - 1; i >= l; i--) {
      const c = cosines[i]!;
      const s = sines[i]!;
      const v0 = V[r0 + i]!;
      const v1 = V[r1 + i]!;
      const v2 = V[r2 + i]!;
      const v3 = V[r3 + i]!;
      V[r0 + i + 1] = s * v0 + c * h0;
      V[r1 + i + 1] = s * v1 + c * h1;
      V[r2 + i + 1] = s * v2 + c * h2;
      V[r3 + i + 1] = s * v3 + c * h3;
      h0 = c * v0 - s * h0;
      h1 = c * v1 - s * h1;
      h2 = c * v2 - s * h2;
      h3 = c * v3 - s * h3;
    }
    V[r0 + l] = h0;
    V[r1 + l] = h1;
    V[r2 + l] = h2;
    V[r3 + l] = h3;
  }
  for (; k < n; k++) {
    const r0 = k * n;
    let h0 = V[r0 + m]!;
    for (let i = m - 1; i >= l; i--) {
      const c = cosines[i]!;
      const s = sines[i]!;
      const v0 = V[r0 + i]!;
      V[r0 + i + 1] = s * v0 + c * h0;
      h0 = c * v0 - s * h0;
    }
    V[r0 + l] = h0;
  }
}
