import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { hamming, toBitString } from '../../src/core/codes/bits.ts';
import { CODER_KINDS, Coder, ITQ_ROTATION_ROWS, trainCoder, type CoderParams } from '../../src/core/codes/coder.ts';
import { floatRows, multiplyABt, plainMultiplyABt, samplePca } from '../../src/core/codes/linalg.ts';
import { gaussianRandom, seededRandom } from '../../src/core/codes/random.ts';
import { trainPartition } from '../../src/core/index/partition.ts';

interface Shape {
  /** Seeds the model (lift, clusters, offsets); rows from the same model share its structure. */
  readonly model: number;
  /** Seeds the rows. */
  readonly rows: number;
}

/**
 * Embedding-like rows: clustered points in a 64-d latent space whose variance decays
 * like a real feature spectrum, lifted to `dim` at random, plus noise, then ReLU and
 * L2 normalisation, so every component is ≥ 0 as in MobileNet features.
 */
function embeddings(count: number, dim: number, { model, rows }: Shape): Float32Array {
  const q = 64;
  const m = gaussianRandom(seededRandom(model));
  const lift = Float64Array.from({ length: dim * q }, () => m());
  const scale = Float64Array.from({ length: q }, (_, k) => (k + 1) ** -0.7);
  const centres = Float64Array.from({ length: 30 * q }, (_, i) => m() * scale[i % q]!);
  const offset = Float64Array.from({ length: dim }, () => m() * 0.5);
  const g = gaussianRandom(seededRandom(rows));
  const out = new Float32Array(count * dim);
  const z = new Float64Array(q);
  for (let i = 0; i < count; i++) {
    const c = Math.floor(g() ** 2 * 1e6) % 30;
    for (let k = 0; k < q; k++) z[k] = centres[c * q + k]! + g() * scale[k]!;
    let norm = 0;
    for (let a = 0; a < dim; a++) {
      let v = offset[a]! + 0.3 * g();
      for (let k = 0; k < q; k++) v += lift[a * q + k]! * z[k]!;
      v = Math.max(0, v);
      out[i * dim + a] = v;
      norm += v * v;
    }
    for (let a = 0; a < dim; a++) out[i * dim + a]! /= Math.sqrt(norm);
  }
  return out;
}

/** W (x − mean), in Float64, for row i. */
function projected(params: CoderParams, vectors: Float32Array, i: number): Float64Array {
  const { bits, dim, mean, projection } = params;
  const out = new Float64Array(bits);
  for (let b = 0; b < bits; b++) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += projection[b * dim + k]! * (vectors[i * dim + k]! - mean[k]!);
    out[b] = s;
  }
  return out;
}

function bit(codes: Uint32Array, offset: number, j: number): number {
  return (codes[offset + (j >>> 5)]! >>> (j & 31)) & 1;
}

/** ITQ's objective ‖B − V R‖²_F for the trained coder on its sample: Σ (sgn(z) − z)², z = W (x − mean). */
function quantisationLoss(params: CoderParams, sample: Float32Array): number {
  const n = sample.length / params.dim;
  let loss = 0;
  for (let i = 0; i < n; i++) for (const z of projected(params, sample, i)) loss += ((z > 0 ? 1 : -1) - z) ** 2;
  return loss;
}

/** Fraction of each query's 10 nearest rows by cosine found among its 10 nearest by Hamming distance. */
function recallAt10(coder: Coder, base: Float32Array, queries: Float32Array): number {
  const { dim } = coder.params;
  const n = base.length / dim;
  const nq = queries.length / dim;
  const baseCodes = coder.encodeMany(base, n);
  const queryCodes = coder.encodeMany(queries, nq);
  let found = 0;
  for (let q = 0; q < nq; q++) {
    const cosine: [number, number][] = [];
    const distance: [number, number][] = [];
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let k = 0; k < dim; k++) dot += queries[q * dim + k]! * base[i * dim + k]!;
      cosine.push([-dot, i]);
      distance.push([hamming(queryCodes, q * coder.words, baseCodes, i * coder.words, coder.words), i]);
    }
    const byValueThenIndex = (a: [number, number], b: [number, number]) => a[0] - b[0] || a[1] - b[1];
    const truth = new Set(cosine.sort(byValueThenIndex).slice(0, 10).map(([, i]) => i));
    found += distance.sort(byValueThenIndex).slice(0, 10).filter(([, i]) => truth.has(i)).length;
  }
  return found / (nq * 10);
}

const lite = embeddings(600, 256, { model: 1, rows: 2 });
const small = embeddings(400, 128, { model: 3, rows: 4 });

describe('trainCoder', () => {
  it('LSH: the sample mean and seeded Gaussian rows, in row order', () => {
    const params = trainCoder('lsh', lite, 256, { bits: 128, seed: 7 });
    expect(params).toMatchObject({ kind: 'lsh', bits: 128, dim: 256, seed: 7, trainedOn: 600 });
    const gaussian = gaussianRandom(seededRandom(7));
    const expected = Float32Array.from({ length: 128 * 256 }, () => gaussian());
    expect(params.projection).toEqual(expected);
    for (const k of [0, 100, 255]) {
      let sum = 0;
      for (let i = 0; i < 600; i++) sum += lite[i * 256 + k]!;
      expect(params.mean[k]).toBeCloseTo(sum / 600, 6);
    }
    // Any sample size, and codes longer than the embedding.
    const one = trainCoder('lsh', lite.subarray(0, 16), 16, { bits: 1024, seed: 1 });
    expect(one.projection.length).toBe(1024 * 16);
    expect(Array.from(one.mean)).toEqual(Array.from(lite.subarray(0, 16)));
  });

  it('is a function of the sample and seed alone', () => {
    for (const kind of CODER_KINDS) {
      const a = trainCoder(kind, small, 128, { bits: 64, seed: 3 });
      const b = trainCoder(kind, small.slice(), 128, { bits: 64, seed: 3 });
      expect(b).toEqual(a);
      expect(new Uint8Array(b.projection.buffer)).toEqual(new Uint8Array(a.projection.buffer));
      const other = trainCoder(kind, small, 128, { bits: 64, seed: 4 });
      expect(other.mean).toEqual(a.mean);
      expect(other.projection).not.toEqual(a.projection);
      expect(new Coder(other).encodeMany(small, 400)).not.toEqual(new Coder(a).encodeMany(small, 400));
    }
  });

  it('ITQ: an orthonormal projection onto the top principal subspace', () => {
    // 64 of 96 eigenvectors come from rotating QL, 64 of 160 from inverse iteration.
    for (const dim of [96, 160]) {
      const sample = embeddings(300, dim, { model: 5, rows: 6 });
      const params = trainCoder('itq', sample, dim, { bits: 64, seed: 1 });
      // Rows of W = (P R)ᵀ are orthonormal ...
      const W = new Matrix(64, dim);
      for (let b = 0; b < 64; b++) for (let k = 0; k < dim; k++) W.set(b, k, params.projection[b * dim + k]!);
      const gram = W.mmul(W.transpose());
      let worst = 0;
      for (let a = 0; a < 64; a++) for (let b = 0; b < 64; b++) worst = Math.max(worst, Math.abs(gram.get(a, b) - (a === b ? 1 : 0)));
      expect(worst).toBeLessThan(1e-6);
      // ... and capture as much variance as the top 64 eigenvectors of the covariance.
      const X = new Matrix(300, dim);
      for (let i = 0; i < 300; i++) for (let k = 0; k < dim; k++) X.set(i, k, sample[i * dim + k]! - params.mean[k]!);
      const covariance = X.transpose().mmul(X);
      const eigenvalues = new EigenvalueDecomposition(covariance, { assumeSymmetric: true }).realEigenvalues.sort((a, b) => b - a);
      const top = eigenvalues.slice(0, 64).reduce((sum, v) => sum + v, 0);
      const captured = W.mmul(covariance).mmul(W.transpose()).trace();
      expect(captured / top).toBeCloseTo(1, 5);
      expect(eigenvalues[64]! / eigenvalues[63]!).toBeLessThan(0.99); // the subspace is well defined
    }
  });

  it('ITQ: lowers its quantisation loss ‖B − VR‖ every iteration', () => {
    // 400 rows, under ITQ_ROTATION_ROWS: the rotation is fitted on all of them.
    expect(400).toBeLessThan(ITQ_ROTATION_ROWS);
    const loss = (iterations: number) => quantisationLoss(trainCoder('itq', small, 128, { bits: 64, seed: 2, iterations }), small);
    const losses = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 50].map(loss);
    // (Float32 parameters: equal up to rounding at a fixed point.)
    for (let t = 1; t < losses.length; t++) expect(losses[t]!).toBeLessThanOrEqual(losses[t - 1]! * (1 + 1e-6));
    // Σ(sgn z − z)² = n·bits − 2Σ|z| + Σz², and only Σ|z| depends on the rotation; the first
    // step from a random rotation gains most.
    const scale = 400 * 64;
    expect(losses[0]! - losses[1]!).toBeGreaterThan(0.004 * scale);
    expect(losses[1]! - losses[10]!).toBeGreaterThan(0.004 * scale);
    expect(losses[11]!).toBeLessThan(losses[10]!);
  });

  it('ITQ: copes with fewer rows than bits, and with more rows than it fits the rotation on', () => {
    const few = trainCoder('itq', lite.subarray(0, 10 * 256), 256, { bits: 64, seed: 1 });
    const many = embeddings(ITQ_ROTATION_ROWS + 100, 64, { model: 3, rows: 4 });
    for (const [params, sample] of [[few, lite], [trainCoder('itq', many, 64, { bits: 64, seed: 1 }), many]] as const) {
      expect(params.projection.every(Number.isFinite)).toBe(true);
      const { bits, dim } = params;
      for (const [a, b] of [[0, 0], [0, bits - 1], [bits - 1, bits - 1], [3, 40]] as const) {
        let dot = 0;
        for (let k = 0; k < dim; k++) dot += params.projection[a * dim + k]! * params.projection[b * dim + k]!;
        expect(dot).toBeCloseTo(a === b ? 1 : 0, 5);
      }
      new Coder(params).encodeMany(sample, 10);
    }
    expect(few.trainedOn).toBe(10);
  });

  it('rejects what it cannot train on', () => {
    expect(() => trainCoder('itq', lite, 256, { bits: 512, seed: 1 })).toThrow(RangeError);
    expect(() => trainCoder('itq', lite, 256, { bits: 512, seed: 1 })).toThrow('ITQ needs bits ≤ embedding dims (512 bits > 256 dims)');
    expect(() => trainCoder('itq', lite.subarray(0, 256), 256, { bits: 64, seed: 1 })).toThrow(/at least 2 sample rows/);
    expect(() => trainCoder('lsh', lite, 256, { bits: 100, seed: 1 })).toThrow(/multiple of 32/);
    expect(() => trainCoder('lsh', lite.subarray(0, 300), 256, { bits: 64, seed: 1 })).toThrow(/whole rows of 256/);
    expect(() => trainCoder('lsh', new Float32Array(0), 256, { bits: 64, seed: 1 })).toThrow(/at least one row/);
    expect(() => trainCoder('lsh', lite, 0, { bits: 64, seed: 1 })).toThrow(/positive integer/);
    expect(() => trainCoder('lsh', lite, 256, { bits: 64, seed: -1 })).toThrow(/seed/);
    expect(() => trainCoder('lsh', lite, 256, { bits: 64, seed: 1.5 })).toThrow(/seed/);
    expect(() => trainCoder('itq', lite, 256, { bits: 64, seed: 1, iterations: -1 })).toThrow(/iterations/);
    expect(() => trainCoder('pq' as 'lsh', lite, 256, { bits: 64, seed: 1 })).toThrow(/Unknown coder kind/);
    const broken = lite.slice(0, 2 * 256);
    broken[300] = NaN;
    expect(() => trainCoder('lsh', broken, 256, { bits: 64, seed: 1 })).toThrow(/non-finite/);
  });
});

describe('Coder', () => {
  const coders = CODER_KINDS.map((kind) => new Coder(trainCoder(kind, lite, 256, { bits: 96, seed: 11 })));

  it('encodes bit b as W_b · (x − mean) > 0, bit j at word j >>> 5, shift j & 31', () => {
    for (const coder of coders) {
      expect(coder.words).toBe(3);
      // Odd offsets on both sides; the words around the code are left alone.
      const out = new Uint32Array(2 + 3 + 2).fill(0xdeadbeef);
      for (const i of [0, 1, 17, 599]) {
        const vectors = new Float32Array(5 + 256);
        vectors.set(lite.subarray(i * 256, (i + 1) * 256), 5);
        coder.encode(vectors, 5, out, 2);
        const expected = Array.from(projected(coder.params, lite, i), (z) => (z > 0 ? '1' : '0')).join('');
        expect(toBitString(out, 96, 2)).toBe(expected);
        for (let j = 0; j < 96; j++) expect(bit(out, 2, j)).toBe(Number(expected[j]));
      }
      expect([out[0], out[1], out[5], out[6]]).toEqual([0xdeadbeef, 0xdeadbeef, 0xdeadbeef, 0xdeadbeef]);
    }
  });

  it('encodeMany gives each row its encode code, back to back', () => {
    for (const coder of coders) {
      for (const count of [0, 1, 2, 7, 600]) {
        const many = coder.encodeMany(lite, count);
        expect(many.length).toBe(count * coder.words);
        const one = new Uint32Array(count * coder.words);
        for (let i = 0; i < count; i++) coder.encode(lite, i * 256, one, i * coder.words);
        expect(many).toEqual(one);
      }
    }
  });

  it('validates its parameters and arguments', () => {
    const params = coders[0]!.params;
    expect(() => new Coder({ ...params, bits: 100 })).toThrow(/multiple of 32/);
    expect(() => new Coder({ ...params, bits: 2048 })).toThrow(RangeError);
    expect(() => new Coder({ ...params, mean: new Float32Array(255) })).toThrow('Coder mean has 255 values; expected dim = 256.');
    expect(() => new Coder({ ...params, projection: params.projection.subarray(1) })).toThrow(/projection has 24575 values; expected bits × dim/);
    expect(() => new Coder({ ...params, bits: 64 })).toThrow(/projection/);
    expect(() => new Coder({ ...params, kind: 'pq' as 'lsh' })).toThrow(/Unknown coder kind/);
    const corrupt = params.projection.slice();
    corrupt[5] = Infinity;
    expect(() => new Coder({ ...params, projection: corrupt })).toThrow(/non-finite/);

    const coder = coders[0]!;
    const out = new Uint32Array(3);
    expect(() => coder.encode(lite, lite.length - 255, out, 0)).toThrow(RangeError);
    expect(() => coder.encode(lite, -1, out, 0)).toThrow(RangeError);
    expect(() => coder.encode(lite, 0, out, 1)).toThrow(/No room/);
    expect(() => coder.encodeMany(lite, 601)).toThrow(/Cannot encode 601/);
  });

  it('centres on the mean: uncentred hyperplanes barely split non-negative data', () => {
    const lsh = coders[0]!;
    const uncentred = new Coder({ ...lsh.params, mean: new Float32Array(256) });
    const imbalance = (coder: Coder) => {
      const codes = coder.encodeMany(lite, 600);
      let total = 0;
      for (let j = 0; j < 96; j++) {
        let ones = 0;
        for (let i = 0; i < 600; i++) ones += bit(codes, i * coder.words, j);
        total += Math.abs(ones / 600 - 0.5);
      }
      return total / 96; // mean |firing rate − ½| over bits
    };
    // Measured: 0.012–0.014 centred (ITQ and LSH), 0.21 uncentred.
    for (const coder of coders) expect(imbalance(coder)).toBeLessThan(0.04);
    expect(imbalance(uncentred)).toBeGreaterThan(0.15);
  });

  it('ITQ-64 finds more of the true neighbours than LSH-64 (768-d)', () => {
    const shape = { model: 21, rows: 22 };
    const base = embeddings(1000, 768, shape);
    const queries = embeddings(100, 768, { ...shape, rows: 23 });
    const itq = recallAt10(new Coder(trainCoder('itq', base, 768, { bits: 64, seed: 1 })), base, queries);
    const lsh = recallAt10(new Coder(trainCoder('lsh', base, 768, { bits: 64, seed: 1 })), base, queries);
    // Measured here: ITQ 0.58, LSH 0.40; over three data sets × two seeds ITQ 0.52–0.59,
    // LSH 0.35–0.42, never less than 0.15 apart.
    expect(itq).toBeGreaterThan(lsh + 0.1);
    expect(itq).toBeGreaterThan(0.45);
  });
});

describe('samplePca', () => {
  it('shared by a coder and a partition trained on one sample, gives both exactly what they compute alone', () => {
    const dim = 128;
    const sample = embeddings(300, dim, { model: 5, rows: 6 });
    const rows = floatRows(sample, 300, dim);
    const pca = samplePca(rows, 64);
    for (const kind of CODER_KINDS) {
      expect(trainCoder(kind, sample, dim, { bits: 64, seed: 2, pca })).toEqual(trainCoder(kind, sample, dim, { bits: 64, seed: 2 }));
    }
    const options = { dims: 64, lists: 8, sketch: 'int4', seed: 2 } as const;
    expect(trainPartition(rows, { ...options, pca })).toEqual(trainPartition(rows, options));
    // A PCA of another number of directions gives its mean only: the directions are computed (the same as alone).
    expect(trainCoder('itq', sample, dim, { bits: 96, seed: 2, pca })).toEqual(trainCoder('itq', sample, dim, { bits: 96, seed: 2 }));
    expect(trainPartition(rows, { ...options, dims: 32, pca })).toEqual(trainPartition(rows, { ...options, dims: 32 }));
    // And it is used: a PCA of another sample (which callers must not pass) shows in what both train.
    const other = samplePca(floatRows(embeddings(300, dim, { model: 5, rows: 7 }), 300, dim), 64);
    expect(trainCoder('itq', sample, dim, { bits: 64, seed: 2, pca: other }).projection).not.toEqual(trainCoder('itq', sample, dim, { bits: 64, seed: 2 }).projection);
    expect(trainCoder('lsh', sample, dim, { bits: 64, seed: 2, pca: other }).mean).toEqual(new Float32Array(other.mean));
    expect(trainPartition(rows, { ...options, pca: other }).projection).toEqual(new Float32Array(other.directions));
    expect(() => trainCoder('itq', sample, dim, { bits: 64, seed: 2, pca: samplePca(floatRows(sample, 10, 64), 64) })).toThrow(/64-d|128-d/);
  });
});

describe('multiplyABt', () => {
  // Shapes the trainers use (covariance chunks, V·R, Procrustes, W = R·Pᵀ) and edges: sizes not multiples of 4, and 1.
  for (const [m, k, c] of [[1, 1, 1], [3, 5, 7], [6, 2, 9], [64, 128, 64], [256, 256, 256], [130, 1023, 66]] as const) {
    it(`gives the WebAssembly kernel's ${m} × ${c} products (k = ${k}) to the bit, as the plain loop does, symmetric or not`, () => {
      const random = seededRandom(m * 1000 + k * 10 + c);
      // Magnitudes from 2^-30 to 2^30, so that sums round and their order shows.
      const values = (length: number) => Float64Array.from({ length }, () => (random() - 0.5) * 2 ** Math.floor(random() * 60 - 30));
      const [A, B] = [values(m * k), values(c * k)];
      expect(multiplyABt(A, B, m, k, c)).toEqual(plainMultiplyABt(A, B, m, k, c));
      let exact = 0;
      for (let p = 0; p < k; p++) exact += A[(m - 1) * k + p]! * B[(c - 1) * k + p]!;
      expect(multiplyABt(A, B, m, k, c)[m * c - 1]).toBe(exact);
      expect(multiplyABt(A, A, m, k, m, true)).toEqual(plainMultiplyABt(A, A, m, k, m, true));
      expect(multiplyABt(A, A, m, k, m, true)).toEqual(multiplyABt(A, A, m, k, m));
    });
  }
});
