/**
 * The index benchmark's worker (`npm run bench:index`; bench/index.ts drives it
 * through index-bench-page.ts and documents the method). Everything measured
 * runs here, in a dedicated worker as the app's library does, so the index's
 * store is the app's (IndexedDB with its vectors pages mirrored in OPFS): the synthetic collection is generated in seeded chunks (so a million
 * 768-d vectors never sit in memory at once), exact top-10 by float cosine is
 * computed while the same chunks stream into an ImageIndex on real IndexedDB,
 * and the baselines (brute force, linear Hamming scan, MeMemo) see the same
 * vectors and queries. State lives in module variables between the driver's calls.
 */
import { HNSW } from 'mememo';
import { expose } from 'comlink';
import { startScanThread } from '../../src/browser/scan-thread.ts';
import { IdbPageStore } from '../../src/browser/store/idb-store.ts';
import { deleteIndexStore, openIndexStore } from '../../src/browser/store/index-store.ts';
import { gaussianRandom, seededRandom } from '../../src/core/codes/random.ts';
import { Coder, trainCoder, type CoderKind } from '../../src/core/codes/coder.ts';
import { EMBEDDING_METHOD } from '../../src/core/embed/embedder.ts';
import { bestByAsymmetricScore } from '../../src/core/index/asymmetric.ts';
import { DEFAULT_CANDIDATES, DEFAULT_SHORTLIST, ImageIndex, LINEAR_SCAN_BELOW, type IndexSettings, type MemoryUsage, type NewItem, type SearchOptions } from '../../src/core/index/image-index.ts';
import { chooseSubstringCount, linearScan, MultiIndexHash, type CodeSet, type Neighbours } from '../../src/core/index/mih.ts';
import { InvertedLists } from '../../src/core/index/inverted-lists.ts';
import {
  CODES_PER_PAGE, codesKey, decodeCodesPage, decodeJson, decodePartition, decodeSketchesPage, MANIFEST_KEY, META_PREFIX, metaKey, PARTITION_KEY, sketchesKey,
  VECTORS_PREFIX, vectorsKey, vectorsPageView, type Manifest,
} from '../../src/core/index/pages.ts';
import { Partition } from '../../src/core/index/partition.ts';
import { MemoryPageStore } from '../../src/core/store/memory-store.ts';
import { MirroredPageStore } from '../../src/core/store/mirrored-page-store.ts';
import type { PageStore } from '../../src/core/store/page-store.ts';
import { Int8Scorer, type StoredInt8 } from '../../src/core/vectors/int8-scorer.ts';

/** Vectors are generated (and seeded) this many at a time. */
export const CHUNK = 1024;
const K = 10;
/** The first add trains the coder: at least RETRAIN_UNTIL (16384) items, so it is not retrained later (a smaller collection is one add, with PROVISIONAL_LISTS lists). */
const FIRST_BATCH = 20_000;
const BATCH = 4096;

// ——— the synthetic embedding model (fitted in Node, see bench/index.ts) ———

export interface InitArgs {
  /** base64 of Float32 [sorted marginals (dim × n), components (rank × dim), residual sd (dim)] */
  readonly model: string;
  /** base64 of Float32 real embeddings, realCount × dim */
  readonly real: string;
  readonly dim: number;
  readonly rank: number;
  readonly realCount: number;
  readonly seed: number;
  readonly syntheticQueries: number;
  /** Every (realCount / realQueries)-th real photo is also a query. */
  readonly realQueries: number;
  /** Share of each synthetic vector's latent variance that comes from its class (0: no classes). */
  readonly classShare: number;
  readonly classes: number;
}

interface Model {
  readonly dim: number;
  readonly rank: number;
  readonly n: number;
  /** Per dimension, the n real values sorted ascending: sorted[d * n + i]. */
  readonly sorted: Float32Array;
  /** √λ_j · u_j, rank × dim. */
  readonly components: Float32Array;
  readonly residual: Float32Array;
  readonly classShare: number;
  readonly classes: number;
}

function fromBase64(text: string): Float32Array {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

/** Standard normal CDF (Abramowitz & Stegun 26.2.17, |error| < 7.5e-8). */
function normalCdf(x: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(x));
  const tail = 0.3989422804014327 * Math.exp(-0.5 * x * x) * t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  return x >= 0 ? 1 - tail : tail;
}

function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  return (h ^ (h >>> 13)) >>> 0;
}

/** z = Σ_j g_j √λ_j u_j + residual ∘ g′, standard normal per component with the real correlations. */
function latent(model: Model, gaussian: () => number, z: Float64Array): void {
  const { dim, rank, components, residual } = model;
  for (let d = 0; d < dim; d++) z[d] = residual[d]! * gaussian();
  let j = 0;
  for (; j + 3 < rank; j += 4) {
    const g0 = gaussian(), g1 = gaussian(), g2 = gaussian(), g3 = gaussian(); // prettier-ignore
    const r0 = j * dim, r1 = r0 + dim, r2 = r1 + dim, r3 = r2 + dim; // prettier-ignore
    for (let d = 0; d < dim; d++) z[d] = z[d]! + g0 * components[r0 + d]! + g1 * components[r1 + d]! + g2 * components[r2 + d]! + g3 * components[r3 + d]!;
  }
  for (; j < rank; j++) {
    const g = gaussian();
    const row = j * dim;
    for (let d = 0; d < dim; d++) z[d] = z[d]! + g * components[row + d]!;
  }
}

/**
 * A seeded stream of synthetic embeddings, CHUNK at a time: a Gaussian copula of
 * the real ones. z = Σ_j g_j √λ_j u_j + residual (PCA of the real vectors' normal
 * scores, so each z_d is standard normal with the real correlations), then each
 * component goes through the real marginal's quantile function, x_d =
 * F_d⁻¹(Φ(z_d)) (zeros included), and the vector is L2-normalised.
 *
 * Classes: the shared photos are one per ImageNet class, so the copula describes
 * how classes differ; a real collection holds many pictures of each. With
 * `classShare` s > 0, vector i belongs to class c(i) (a hash of its position,
 * `classes` in all) and z = √s·z_c + √(1 − s)·z_i, where z_c is the class's own
 * draw: still standard normal per component with the same correlations (so the
 * marginals and the mean cosine stay those of the real photos), but members of
 * a class now resemble each other, by an amount s that the one-per-class photos
 * cannot measure (it is the benchmark's stated assumption).
 */
class SyntheticStream {
  private cachedChunk = -1;
  private cached: Float32Array;
  private readonly classLatents = new Map<number, Float64Array>();
  constructor(private readonly model: Model, private readonly streamSeed: number) {
    this.cached = new Float32Array(CHUNK * model.dim);
  }

  chunk(c: number): Float32Array {
    if (c === this.cachedChunk) return this.cached;
    const { dim, n, sorted, classShare, classes } = this.model;
    const gaussian = gaussianRandom(seededRandom(mix(this.streamSeed, c)));
    const out = this.cached;
    const z = new Float64Array(dim);
    for (let i = 0; i < CHUNK; i++) {
      let sumSquares = 0;
      while (sumSquares === 0) {
        latent(this.model, gaussian, z);
        if (classShare > 0) {
          const own = this.classLatent(mix(c * CHUNK + i, this.streamSeed) % classes);
          for (let d = 0; d < dim; d++) z[d] = Math.sqrt(1 - classShare) * z[d]! + Math.sqrt(classShare) * own[d]!;
        }
        const base = i * dim;
        for (let d = 0; d < dim; d++) {
          const q = normalCdf(z[d]!) * n - 0.5;
          const lo = q <= 0 ? 0 : Math.min(n - 1, Math.floor(q));
          const hi = Math.min(n - 1, lo + 1);
          const f = q <= 0 ? 0 : Math.min(1, q - lo);
          const v = sorted[d * n + lo]! * (1 - f) + sorted[d * n + hi]! * f;
          out[base + d] = v;
          sumSquares += v * v;
        }
        if (sumSquares > 0) {
          const scale = 1 / Math.sqrt(sumSquares);
          for (let d = 0; d < dim; d++) out[base + d] = out[base + d]! * scale;
        }
      }
    }
    this.cachedChunk = c;
    return out;
  }

  /** Class c's latent draw, the same in every stream (seeded by the class alone). */
  private classLatent(c: number): Float64Array {
    let z = this.classLatents.get(c);
    if (!z) {
      z = new Float64Array(this.model.dim);
      latent(this.model, gaussianRandom(seededRandom(mix(0x636c6173, c))), z);
      this.classLatents.set(c, z);
    }
    return z;
  }

  /** Vectors first … first + count − 1 of the stream into out. */
  fill(first: number, count: number, out: Float32Array, outOffset = 0): void {
    const { dim } = this.model;
    for (let i = 0; i < count; ) {
      const c = Math.floor((first + i) / CHUNK);
      const within = (first + i) % CHUNK;
      const take = Math.min(count - i, CHUNK - within);
      out.set(this.chunk(c).subarray(within * dim, (within + take) * dim), outOffset + i * dim);
      i += take;
    }
  }
}

/** The collection: the real embeddings at positions 0 … realCount − 1, then the synthetic stream. */
class Collection {
  constructor(private readonly real: Float32Array, private readonly realCount: number, private readonly synthetic: SyntheticStream, private readonly dim: number) {}

  fill(first: number, count: number, out: Float32Array): void {
    const { dim, realCount } = this;
    let i = 0;
    for (; i < count && first + i < realCount; i++) out.set(this.real.subarray((first + i) * dim, (first + i + 1) * dim), i * dim);
    if (i < count) this.synthetic.fill(first + i - realCount, count - i, out, i * dim);
  }
}

// ——— exact top-k by float cosine, streamed ———

function dot(a: Float32Array, aOffset: number, b: Float32Array, bOffset: number, dim: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0; // prettier-ignore
  let d = 0;
  for (; d + 3 < dim; d += 4) {
    s0 += a[aOffset + d]! * b[bOffset + d]!;
    s1 += a[aOffset + d + 1]! * b[bOffset + d + 1]!;
    s2 += a[aOffset + d + 2]! * b[bOffset + d + 2]!;
    s3 += a[aOffset + d + 3]! * b[bOffset + d + 3]!;
  }
  for (; d < dim; d++) s0 += a[aOffset + d]! * b[bOffset + d]!;
  return s0 + s1 + (s2 + s3);
}

class ExactTopK {
  readonly ids: Int32Array;
  readonly scores: Float32Array;
  private readonly floor: Float32Array;
  constructor(private readonly queries: Float32Array, private readonly count: number, private readonly dim: number, private readonly k = K) {
    this.ids = new Int32Array(count * k).fill(-1);
    this.scores = new Float32Array(count * k).fill(-Infinity);
    this.floor = new Float32Array(count).fill(-Infinity);
  }

  /** Offers vectors (count × dim) at collection positions first … */
  add(vectors: Float32Array, count: number, first: number): void {
    const { dim, k, queries } = this;
    for (let v = 0; v < count; v++) {
      for (let q = 0; q < this.count; q++) {
        const s = dot(vectors, v * dim, queries, q * dim, dim);
        if (s <= this.floor[q]!) continue;
        // Replace the current minimum, then find the new one.
        let minAt = q * k;
        for (let j = q * k + 1; j < (q + 1) * k; j++) if (this.scores[j]! < this.scores[minAt]!) minAt = j;
        this.scores[minAt] = s;
        this.ids[minAt] = first + v;
        let floor = Infinity;
        for (let j = q * k; j < (q + 1) * k; j++) floor = Math.min(floor, this.scores[j]!);
        this.floor[q] = floor;
      }
    }
  }

  truth(q: number): Set<number> {
    return new Set(this.ids.subarray(q * this.k, (q + 1) * this.k));
  }

  /** The k-th best exact cosine of query q. */
  kthScore(q: number): number {
    return this.floor[q]!;
  }
}

// ——— state ———

interface State {
  readonly model: Model;
  readonly real: Float32Array;
  readonly realCount: number;
  readonly dim: number;
  readonly collection: Collection;
  /** Synthetic queries (fresh draws, not in any collection) then real ones (in every collection). */
  readonly queries: Float32Array;
  readonly queryCount: number;
  readonly syntheticQueries: number;
  readonly warmUp: Float32Array;
}

let state: State | undefined;
let index: ImageIndex | undefined;
let store: PageStore | undefined;
/** Collection vectors kept by `build` for the in-memory baselines (small sizes only). */
let floats: Float32Array | null = null;
let truthIds: Int32Array | null = null;

const WARM_UP = 20;

function st(): State {
  if (!state) throw new Error('Call init first.');
  return state;
}

function queryVector(q: number): Float32Array {
  const { queries, dim } = st();
  return queries.subarray(q * dim, (q + 1) * dim);
}

function log(line: string): void {
  console.log(`[bench] ${line}`);
}

// ——— statistics ———

export interface Percentiles { readonly p50: number; readonly p99: number; readonly mean: number; readonly max: number; readonly n: number }

function percentiles(xs: readonly number[]): Percentiles {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length), max: s[s.length - 1] ?? NaN, n: s.length };
}

interface RecallSplit { readonly all: number; readonly synthetic: number; readonly real: number }

function recallSplit(perQuery: readonly number[], syntheticQueries: number): RecallSplit {
  const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  return { all: mean(perQuery), synthetic: mean(perQuery.slice(0, syntheticQueries)), real: mean(perQuery.slice(syntheticQueries)) };
}

function overlap(got: Iterable<number>, truth: Set<number>): number {
  let hits = 0;
  for (const id of got) if (truth.has(id)) hits++;
  return hits / truth.size;
}

function truthOf(q: number): Set<number> {
  if (!truthIds) throw new Error('No ground truth: run build or pass it to open.');
  return new Set(truthIds.subarray(q * K, (q + 1) * K));
}

export interface PageMemory {
  /** performance.measureUserAgentSpecificMemory() in the page: the JS heaps and array buffers of the page and this worker, after a GC here. */
  readonly userAgentBytes: number | null;
  readonly index: MemoryUsage | null;
}

/** The page's measurement (workers cannot measure the agent's memory): set by index-bench-page.ts. */
let measureAgentMemory: () => Promise<number | null> = async () => null;

async function pageMemory(): Promise<PageMemory> {
  (globalThis as { gc?: () => void }).gc?.();
  return { userAgentBytes: await measureAgentMemory(), index: index?.memoryUsage() ?? null };
}

/** The bench's index settings; `partitioned: false` keeps an index on the Hamming path at any size. */
function settings(bits: number, coder: CoderKind, partitioned = true): IndexSettings {
  return { modelId: 'default', method: EMBEDDING_METHOD, dim: st().dim, bits, coder, seed: 1, ...(partitioned ? {} : { partitionFrom: null }) };
}

// ——— steps ———

export interface SynthStats {
  readonly meanPairwiseCosine: number;
  readonly meanNearestNeighbourCosine: number;
  readonly zeroFraction: number;
  readonly count: number;
  /**
   * How hard the set is for binary codes: a 256-bit ITQ coder trained on the set
   * itself, each vector the query against the others. Recall@10 against exact
   * cosine of the raw Hamming top-10, and of the Hamming top-40 (5%) re-ranked.
   */
  readonly itq256HammingTop10Recall: number;
  readonly itq256Rerank40Recall: number;
}

function statsOf(vectors: Float32Array, n: number, dim: number): SynthStats {
  let pair = 0, pairs = 0, nearest = 0, zeros = 0; // prettier-ignore
  for (let i = 0; i < n * dim; i++) if (vectors[i] === 0) zeros++;
  for (let i = 0; i < n; i++) {
    let best = -Infinity;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const s = dot(vectors, i * dim, vectors, j * dim, dim);
      if (j > i) {
        pair += s;
        pairs++;
      }
      best = Math.max(best, s);
    }
    nearest += best;
  }
  const bits = 256;
  const words = bits / 32;
  const coder = new Coder(trainCoder('itq', vectors.subarray(0, n * dim), dim, { bits, seed: 1 }));
  const codes = new Uint32Array(n * words);
  for (let i = 0; i < n; i++) coder.encode(vectors, i * dim, codes, i * words);
  let raw = 0, reranked = 0; // prettier-ignore
  for (let q = 0; q < n; q++) {
    const cosine = (i: number) => dot(vectors, q * dim, vectors, i * dim, dim);
    const others = Array.from({ length: n }, (_, i) => i).filter((i) => i !== q);
    const truth = new Set(others.sort((a, b) => cosine(b) - cosine(a)).slice(0, K));
    const set: CodeSet = { codes, count: n, words };
    const query = codes.subarray(q * words, (q + 1) * words);
    raw += overlap(linearScan(set, query, K, (i) => i !== q).slots, truth);
    reranked += overlap([...linearScan(set, query, 40, (i) => i !== q).slots].sort((a, b) => cosine(b) - cosine(a)).slice(0, K), truth);
  }
  return {
    meanPairwiseCosine: pair / pairs, meanNearestNeighbourCosine: nearest / n, zeroFraction: zeros / (n * dim), count: n,
    itq256HammingTop10Recall: raw / n, itq256Rerank40Recall: reranked / n,
  };
}

export interface BuildArgs {
  readonly db: string;
  readonly n: number;
  readonly bits: number;
  readonly coder: CoderKind;
  readonly budgetBytes: number;
  /** Keep the collection's floats for the in-memory baselines. */
  readonly keepFloats: boolean;
}

export interface BuildResult {
  readonly n: number;
  /** Sum of the `add` calls: coding, quantising, page writes and commits (and the first batch's coder training). */
  readonly addMs: number;
  readonly firstBatch: { readonly items: number; readonly ms: number };
  /** Each add: the collection size after it, and its duration. */
  readonly batchTimes: readonly { readonly items: number; readonly ms: number }[];
  readonly batches: number;
  readonly generateMs: number;
  readonly groundTruthMs: number;
  readonly wallMs: number;
  readonly memory: PageMemory;
  readonly truth: number[];
  /** Mean exact cosine of each query's 10th nearest neighbour. */
  readonly tenthNeighbourCosine: RecallSplit;
}

/** Bumped with every change to what the driver expects, so a stale harness build fails fast. */
export const INDEX_BENCH_VERSION = 13;

const bench = {
  version: () => INDEX_BENCH_VERSION,
  crossOriginIsolated: () => self.crossOriginIsolated,
  setMemoryProbe(measure: () => Promise<number | null>): void {
    measureAgentMemory = measure;
  },

  init(args: InitArgs): void {
    const modelFloats = fromBase64(args.model);
    const { dim, rank, realCount } = args;
    const n = realCount;
    const model: Model = {
      dim, rank, n,
      sorted: modelFloats.subarray(0, dim * n),
      components: modelFloats.subarray(dim * n, dim * n + rank * dim),
      residual: modelFloats.subarray(dim * n + rank * dim, dim * n + rank * dim + dim),
      classShare: args.classShare,
      classes: args.classes,
    };
    const real = fromBase64(args.real);
    const queryCount = args.syntheticQueries + args.realQueries;
    const queries = new Float32Array(queryCount * dim);
    new SyntheticStream(model, mix(args.seed, 1)).fill(0, args.syntheticQueries, queries);
    const step = Math.floor(realCount / Math.max(1, args.realQueries));
    for (let r = 0; r < args.realQueries; r++) queries.set(real.subarray(r * step * dim, (r * step + 1) * dim), (args.syntheticQueries + r) * dim);
    const warmUp = new Float32Array(WARM_UP * dim);
    new SyntheticStream(model, mix(args.seed, 2)).fill(0, WARM_UP, warmUp);
    state = {
      model, real, realCount, dim, queries, queryCount, warmUp,
      syntheticQueries: args.syntheticQueries,
      collection: new Collection(real, realCount, new SyntheticStream(model, mix(args.seed, 0)), dim),
    };
  },

  /** Real vs synthetic: the real embeddings against the collection's first realCount synthetic ones. */
  synthStats(): { real: SynthStats; synthetic: SynthStats } {
    const { real, realCount, dim, collection } = st();
    const synthetic = new Float32Array(realCount * dim);
    collection.fill(realCount, realCount, synthetic);
    return { real: statsOf(real, realCount, dim), synthetic: statsOf(synthetic, realCount, dim) };
  },

  async build(args: BuildArgs): Promise<BuildResult> {
    const { collection, dim, queries, queryCount, syntheticQueries } = st();
    const started = performance.now();
    await deleteIndexStore(args.db);
    store = await openIndexStore(args.db);
    index = await ImageIndex.open(store, settings(args.bits, args.coder), { memoryBudgetBytes: args.budgetBytes, scanThread: startScanThread() });
    const exact = new ExactTopK(queries, queryCount, dim);
    floats = args.keepFloats ? new Float32Array(args.n * dim) : null;
    let generateMs = 0, groundTruthMs = 0, addMs = 0, batches = 0; // prettier-ignore
    let firstBatch = { items: 0, ms: 0 };
    const batchTimes: { items: number; ms: number }[] = [];
    const pending: NewItem[] = [];
    let added = 0;
    let target = FIRST_BATCH;
    let lastLog = performance.now();
    for (let first = 0; first < args.n; first += CHUNK) {
      const count = Math.min(CHUNK, args.n - first);
      const vectors = new Float32Array(count * dim);
      let t = performance.now();
      collection.fill(first, count, vectors);
      generateMs += performance.now() - t;
      t = performance.now();
      exact.add(vectors, count, first);
      groundTruthMs += performance.now() - t;
      floats?.set(vectors, first * dim);
      for (let i = 0; i < count; i++) pending.push({ meta: { id: String(first + i) }, vector: vectors.subarray(i * dim, (i + 1) * dim) });
      const last = first + count === args.n;
      while (pending.length >= target || (last && pending.length > 0)) {
        const batch = pending.splice(0, target);
        t = performance.now();
        await index.add(batch);
        const ms = performance.now() - t;
        added += batch.length;
        if (batches === 0) firstBatch = { items: batch.length, ms };
        batchTimes.push({ items: added, ms });
        addMs += ms;
        batches++;
        target = BATCH;
        if (performance.now() - lastLog > 15_000 || added === args.n) {
          lastLog = performance.now();
          log(`built ${added} / ${args.n}: add ${(addMs / 1000).toFixed(1)} s, generate ${(generateMs / 1000).toFixed(1)} s, ground truth ${(groundTruthMs / 1000).toFixed(1)} s`);
        }
      }
    }
    truthIds = exact.ids;
    const tenth = Array.from({ length: queryCount }, (_, q) => exact.kthScore(q));
    const memory = await pageMemory();
    return {
      n: args.n, addMs, firstBatch, batchTimes, batches, generateMs, groundTruthMs, wallMs: performance.now() - started, memory,
      truth: Array.from(exact.ids),
      tenthNeighbourCosine: recallSplit(tenth, syntheticQueries),
    };
  },

  /** Exact brute-force float cosine over the kept floats: latency per query (top-10 by a running threshold). */
  bruteForce(maxQueries: number): { latency: Percentiles; recall: number } {
    if (!floats) throw new Error('build kept no floats');
    const { dim, queryCount } = st();
    const n = floats.length / dim;
    const times: number[] = [];
    const recalls: number[] = [];
    const picked = spread(queryCount, maxQueries);
    for (const q of picked) {
      const query = queryVector(q);
      const t = performance.now();
      const ids = new Int32Array(K).fill(-1);
      const scores = new Float32Array(K).fill(-Infinity);
      let floor = -Infinity;
      for (let i = 0; i < n; i++) {
        const s = dot(floats, i * dim, query, 0, dim);
        if (s <= floor) continue;
        let minAt = 0;
        for (let j = 1; j < K; j++) if (scores[j]! < scores[minAt]!) minAt = j;
        scores[minAt] = s;
        ids[minAt] = i;
        floor = Math.min(...scores);
      }
      times.push(performance.now() - t);
      recalls.push(overlap(ids, truthOf(q)));
    }
    return { latency: percentiles(times), recall: recalls.reduce((a, b) => a + b, 0) / recalls.length };
  },

  /**
   * ITQ vs LSH at several code lengths, on an in-memory copy of the collection
   * (the kept floats; MemoryPageStore, same engine): recall@10 of the raw
   * Hamming top-10, of the Hamming top-`candidates` re-ranked by cosine, and of
   * the index's default search (Hamming shortlist → asymmetric → cosine).
   */
  async coders(args: { readonly bits: readonly number[]; readonly kinds: readonly CoderKind[]; readonly candidates: number }) {
    if (!floats) throw new Error('build kept no floats');
    const { dim, queryCount, syntheticQueries } = st();
    const n = floats.length / dim;
    // Without a partition: this compares the codes, which only the Hamming search path uses.
    const memoryIndex = await ImageIndex.open(new MemoryPageStore(), settings(256, 'itq', false), { memoryBudgetBytes: 2 ** 31 });
    for (let first = 0; first < n; ) {
      const count = Math.min(first === 0 ? FIRST_BATCH : BATCH, n - first);
      await memoryIndex.add(Array.from({ length: count }, (_, i) => ({ meta: { id: String(first + i) }, vector: floats!.subarray((first + i) * dim, (first + i + 1) * dim) })));
      first += count;
    }
    const rows = [];
    for (const kind of args.kinds) {
      for (const bits of args.bits) {
        const t = performance.now();
        await memoryIndex.rebuild({ coder: kind, bits });
        const rebuildMs = performance.now() - t;
        const raw: number[] = [];
        const reranked: number[] = [];
        const pipeline: number[] = [];
        const times: number[] = [];
        const ids = async (q: number, options: SearchOptions) => (await memoryIndex.search(queryVector(q), { k: K, ...options })).map((r) => Number(r.id));
        for (let q = 0; q < queryCount; q++) {
          const truth = truthOf(q);
          raw.push(overlap(await ids(q, { shortlist: K, candidates: K }), truth));
          reranked.push(overlap(await ids(q, { shortlist: args.candidates, candidates: args.candidates }), truth));
          const t0 = performance.now();
          const found = await ids(q, {});
          times.push(performance.now() - t0);
          pipeline.push(overlap(found, truth));
        }
        rows.push({
          kind, bits, trainedKind: memoryIndex.coderParams?.kind, rebuildMs,
          hammingTop10: recallSplit(raw, syntheticQueries), reranked: recallSplit(reranked, syntheticQueries), pipeline: recallSplit(pipeline, syntheticQueries),
          latency: percentiles(times),
        });
        log(`coder ${kind} ${bits} bits: raw ${rows.at(-1)!.hammingTop10.all.toFixed(3)}, re-ranked ${rows.at(-1)!.reranked.all.toFixed(3)}, default search ${rows.at(-1)!.pipeline.all.toFixed(3)}`);
      }
    }
    await memoryIndex.close();
    return { n, candidates: args.candidates, shortlist: DEFAULT_SHORTLIST, defaultCandidates: DEFAULT_CANDIDATES, rows };
  },

  /** Drops the build's state so the page can be closed cleanly. */
  async closeIndex(): Promise<void> {
    await index?.close();
    index = undefined;
    store = undefined;
    floats = null;
  },

  /**
   * Cold open: the store (the app's, or with `mirror: false` IndexedDB alone, as before the
   * OPFS mirror), ImageIndex.open, then the first query (which builds the hash tables). With a scan thread where the
   * app's library starts one, or (`scanThread`) wherever one can work.
   */
  async open(args: { readonly db: string; readonly mirror: boolean; readonly bits: number; readonly coder: CoderKind; readonly budgetBytes: number; readonly truth: number[]; readonly firstQuery: number; readonly scanThread?: boolean }) {
    truthIds = Int32Array.from(args.truth);
    const t0 = performance.now();
    store = args.mirror ? await openIndexStore(args.db) : await IdbPageStore.open(args.db);
    const t1 = performance.now();
    index = await ImageIndex.open(store, settings(args.bits, args.coder), { memoryBudgetBytes: args.budgetBytes, scanThread: startScanThread(args.scanThread ? 2 : undefined) });
    const t2 = performance.now();
    const results = await index.search(queryVector(args.firstQuery), { k: K });
    const t3 = performance.now();
    const memoryAfterOpen = await pageMemory();
    return {
      storeOpenMs: t1 - t0, indexOpenMs: t2 - t1, firstQueryMs: t3 - t2, totalMs: t3 - t0,
      firstQueryRecall: overlap(results.map((r) => Number(r.id)), truthOf(args.firstQuery)),
      count: index.count, memoryAfterOpen,
      /** Vectors and meta pages with a good copy in the OPFS mirrors (null: IndexedDB alone). */
      goodCopies: store instanceof MirroredPageStore ? { vectors: store.mirrorOf(VECTORS_PREFIX)?.goodCopies ?? 0, meta: store.mirrorOf(META_PREFIX)?.goodCopies ?? 0 } : null,
    };
  },

  /** `ImageIndex.preload` on the open index: the pages it read, whether every embedding is now cached, its time, and the memory then. */
  async preload() {
    if (!index) throw new Error('open first');
    const t = performance.now();
    const preloaded = await index.preload();
    return { ...preloaded, ms: performance.now() - t, memory: await pageMemory() };
  },

  /**
   * After WARM_UP other queries: every query once (`warm`: first time each, the
   * steady state), then, when asked, each again straight after itself (`hot`:
   * its pages are cached) and the sweep of shortlist and candidates.
   */
  async queries(args: { readonly hot: boolean; readonly sweep: readonly { readonly shortlist: number; readonly probe: number; readonly candidates: number }[] }) {
    if (!index) throw new Error('open first');
    const { queryCount, syntheticQueries, warmUp, dim } = st();
    for (let i = 0; i < WARM_UP; i++) await index.search(warmUp.subarray(i * dim, (i + 1) * dim), { k: K });
    const run = async (settings: SearchOptions, repeat: boolean) => {
      const times: number[] = [];
      const recalls: number[] = [];
      for (let q = 0; q < queryCount; q++) {
        const options = { k: K, ...settings };
        if (repeat) await index!.search(queryVector(q), options);
        const t = performance.now();
        const results = await index!.search(queryVector(q), options);
        times.push(performance.now() - t);
        recalls.push(overlap(results.map((r) => Number(r.id)), truthOf(q)));
      }
      const syn = times.slice(0, syntheticQueries);
      return { latency: percentiles(times), latencySynthetic: percentiles(syn), latencyReal: percentiles(times.slice(syntheticQueries)), recall: recallSplit(recalls, syntheticQueries) };
    };
    const warm = await run({}, false);
    log(`warm p50 ${warm.latency.p50.toFixed(2)} ms p99 ${warm.latency.p99.toFixed(2)} ms recall ${warm.recall.all.toFixed(3)}`);
    const hot = args.hot ? await run({}, true) : null;
    const sweep = [];
    for (const setting of args.sweep) {
      const r = await run(setting, false);
      sweep.push({ ...setting, ...r });
      log(`probe ${setting.probe}, shortlist ${setting.shortlist}, candidates ${setting.candidates}: p50 ${r.latency.p50.toFixed(2)} ms p99 ${r.latency.p99.toFixed(2)} ms recall ${r.recall.all.toFixed(3)}`);
    }
    const memory = await pageMemory();
    return { warm, hot, sweep, memory };
  },

  /**
   * Where a query's time goes, step by step as `search` does it, on a second
   * (uncached) connection to the same database: code and project the query;
   * the Hamming shortlist (MIH with the index's work budget, falling back to a
   * linear scan, and a linear scan alone for comparison); the asymmetric pick of
   * the candidates; in a partitioned index, the sketch scan (query projection,
   * list ranking, scan and pick: what `search` uses instead of the three steps
   * before); reading the candidates' vector pages; cosine scoring; reading the
   * top-k meta pages.
   */
  async phases(args: { readonly db: string; readonly shortlist: number; readonly candidates: number; readonly probe: number; readonly widestProbe: number; readonly partitionedShortlist: number; readonly partitionedCandidates: number; readonly queries: number }) {
    if (!index) throw new Error('open first');
    const { dim, queryCount } = st();
    const coder = new Coder(index.coderParams!);
    const raw = await IdbPageStore.open(args.db);
    const manifest = decodeJson<Manifest>((await raw.get(MANIFEST_KEY))!);
    const words = manifest.bits / 32;
    const count = manifest.slotCount;
    const codes = new Uint32Array(count * words);
    const live = new Uint8Array(count);
    let t = performance.now();
    const pageCount = Math.ceil(count / CODES_PER_PAGE);
    for (let page = 0; page < pageCount; page += 32) {
      const keys = Array.from({ length: Math.min(32, pageCount - page) }, (_, i) => codesKey(page + i));
      (await raw.getMany(keys)).forEach((bytes, i) => decodeCodesPage(bytes!, page + i, words, codes, live, count));
    }
    const loadCodesMs = performance.now() - t;
    const set: CodeSet = { codes, count, words };
    const accept = (slot: number) => live[slot] === 1;
    const perPage = manifest.itemsPerPage;
    // A partitioned index's lists, loaded as `open` loads them.
    t = performance.now();
    const lists = manifest.partition ? new InvertedLists(new Partition(decodePartition((await raw.get(PARTITION_KEY))!, manifest)), count, coder.params) : null;
    for (let page = 0; lists && page < pageCount; page += 32) {
      const keys = Array.from({ length: Math.min(32, pageCount - page) }, (_, i) => sketchesKey(page + i));
      (await raw.getMany(keys)).forEach((bytes, i) => decodeSketchesPage(bytes!, page + i, lists, live, count));
    }
    lists?.compact(accept);
    const loadSketchesMs = lists ? performance.now() - t : null;
    const m = chooseSubstringCount(manifest.bits, count);
    t = performance.now();
    const mih = new MultiIndexHash(set, m);
    const mihBuildMs = performance.now() - t;
    const steps = {
      encode: [] as number[], project: [] as number[], shortlist: [] as number[], mihTried: [] as number[], linear: [] as number[],
      asymmetric: [] as number[], sketchScan: [] as number[], sketchScanOnePass: [] as number[], onePassOverlap: [] as number[], fetchVectors: [] as number[], fetchVectorsMirror: [] as number[], score: [] as number[], fetchMeta: [] as number[], fetchMetaMirror: [] as number[], pages: [] as number[], radius: [] as number[],
    };
    let mihGaveUp = 0;
    const scorer = new Int8Scorer(dim);
    const picked = spread(queryCount, args.queries);
    for (const q of picked) {
      const query = queryVector(q);
      t = performance.now();
      // The code, and W·q, from which a partitioned search projects the query where it can (query-projection.ts).
      const code = new Uint32Array(words);
      const coderSums = new Float32Array(manifest.bits);
      coder.encode(query, 0, code, 0, coderSums);
      steps.encode.push(performance.now() - t);
      t = performance.now();
      const projection = coder.project(query);
      steps.project.push(performance.now() - t);
      // As nearestCodes does: a scan for small collections; else MIH until it has cost about a scan (count / 2 units of work), then a scan.
      t = performance.now();
      const viaMih = count < LINEAR_SCAN_BELOW ? null : mih.search(set, code, args.shortlist, accept, count / 2);
      steps.mihTried.push(performance.now() - t);
      const nearest = viaMih ?? linearScan(set, code, args.shortlist, accept);
      steps.shortlist.push(performance.now() - t);
      if (!viaMih && count >= LINEAR_SCAN_BELOW) mihGaveUp++;
      t = performance.now();
      const viaScan: Neighbours = linearScan(set, code, args.shortlist, accept);
      steps.linear.push(performance.now() - t);
      if (viaScan.distances.at(-1) !== nearest.distances.at(-1)) throw new Error('MIH and the linear scan disagree on the k-th distance.');
      steps.radius.push(nearest.distances.at(-1)!);
      t = performance.now();
      const hammingNeighbours = nearest.slots.length > args.candidates ? bestByAsymmetricScore(projection, set, nearest, args.candidates) : nearest;
      steps.asymmetric.push(performance.now() - t);
      t = performance.now();
      const neighbours = lists ? lists.search(lists.project(query, coderSums), args.probe, args.partitionedShortlist, args.partitionedCandidates, accept, args.widestProbe) : hammingNeighbours;
      if (lists) {
        steps.sketchScan.push(performance.now() - t);
        // Side by side: every probed sketch scored whole (the shortlist is the widest probe; the scan widens by the same rule, on
        // whole scores), and how many of its picks the default shares.
        t = performance.now();
        const onePass = lists.search(lists.project(query, coderSums), args.probe, args.widestProbe, args.partitionedCandidates, accept, args.widestProbe);
        steps.sketchScanOnePass.push(performance.now() - t);
        const byDefault = new Set(neighbours.slots);
        steps.onePassOverlap.push(onePass.slots.filter((slot) => byDefault.has(slot)).length / onePass.slots.length);
      }
      const pages = [...new Set(Array.from(neighbours.slots, (slot) => Math.floor(slot / perPage)))].sort((a, b) => a - b);
      steps.pages.push(pages.length);
      t = performance.now();
      const loaded = await raw.getMany(pages.map(vectorsKey));
      steps.fetchVectors.push(performance.now() - t);
      if (store instanceof MirroredPageStore) {
        // The same pages from the open index's store (below its page cache): its OPFS mirror.
        t = performance.now();
        await store.getMany(pages.map(vectorsKey));
        steps.fetchVectorsMirror.push(performance.now() - t);
      }
      t = performance.now();
      const views = new Map(pages.map((page, i) => [page, vectorsPageView(loaded[i]!, dim, perPage)]));
      const stored = Array.from(neighbours.slots, (slot): StoredInt8 => {
        const view = views.get(Math.floor(slot / perPage))!;
        const offset = slot % perPage;
        return { vectors: view.vectors, offset: offset * dim, scale: view.scales[offset]! };
      });
      const scores = scorer.score(query, stored);
      const scored = Array.from(neighbours.slots, (slot, i) => ({ slot, score: scores[i]! })).sort((a, b) => b.score - a.score);
      steps.score.push(performance.now() - t);
      t = performance.now();
      const metaPages = [...new Set(scored.slice(0, K).map((x) => Math.floor(x.slot / perPage)))];
      (await raw.getMany(metaPages.map(metaKey))).forEach((bytes) => decodeJson(bytes!));
      steps.fetchMeta.push(performance.now() - t);
      if (store instanceof MirroredPageStore) {
        t = performance.now();
        (await store.getMany(metaPages.map(metaKey))).forEach((bytes) => decodeJson(bytes!));
        steps.fetchMetaMirror.push(performance.now() - t);
      }
    }
    await raw.close();
    const summary = Object.fromEntries(Object.entries(steps).map(([key, xs]) => [key, percentiles(xs)])) as Record<keyof typeof steps, Percentiles>;
    return {
      count, m, loadCodesMs, loadSketchesMs, mihBuildMs, shortlist: args.shortlist, candidates: args.candidates, probe: lists ? args.probe : null,
      partitionedShortlist: lists ? args.partitionedShortlist : null, steps: summary,
      /** null where the index scans without trying MIH (below LINEAR_SCAN_BELOW). */
      mihGaveUpFraction: count < LINEAR_SCAN_BELOW ? null : mihGaveUp / picked.length,
    };
  },

  memory: () => pageMemory(),

  /**
   * What IndexedDB charges per read: `records` random-filled records of each
   * size, then `reads` random keys in one getMany (as re-ranking does), on a
   * fresh connection; median of `reps`.
   */
  async storageProbe(args: { readonly records: number; readonly sizes: readonly number[]; readonly reads: readonly number[]; readonly reps: number }) {
    const db = 'bench-probe';
    const random = seededRandom(99);
    const rows = [];
    for (const size of args.sizes) {
      await IdbPageStore.delete(db);
      let probe = await IdbPageStore.open(db);
      for (let first = 0; first < args.records; first += 256) {
        const writes = new Map<string, Uint8Array>();
        for (let i = first; i < Math.min(args.records, first + 256); i++) {
          const words = new Uint32Array(Math.ceil(size / 4));
          for (let w = 0; w < words.length; w++) words[w] = (random() * 2 ** 32) >>> 0;
          writes.set(`r/${i}`, new Uint8Array(words.buffer, 0, size));
        }
        await probe.commit(writes);
      }
      await probe.close();
      probe = await IdbPageStore.open(db);
      for (const reads of args.reads) {
        const times: number[] = [];
        for (let rep = 0; rep < args.reps; rep++) {
          const keys = new Set<string>();
          while (keys.size < reads) keys.add(`r/${Math.floor(random() * args.records)}`);
          const t = performance.now();
          await probe.getMany([...keys]);
          times.push(performance.now() - t);
        }
        rows.push({ size, reads, latency: percentiles(times) });
        log(`IndexedDB: ${reads} random reads of ${size} B: p50 ${percentiles(times).p50.toFixed(2)} ms`);
      }
      await probe.close();
    }
    await IdbPageStore.delete(db);
    return { records: args.records, rows };
  },

  /**
   * MeMemo's HNSW (defaults: m 16, efConstruction 100, cosine on normalised
   * vectors) on the collection's first items, inserted one at a time until the
   * time cap; then Lookalike's index on the same items, and the same queries
   * through both side by side (MeMemo at several ef, Lookalike at several
   * settings), against exact top-10 over the items they hold.
   */
  async mememo(args: {
    readonly mode: 'memory' | 'indexeddb'; readonly capMs: number; readonly maxItems: number; readonly efs: readonly number[]; readonly queryCapMs: number;
    readonly bits: number; readonly coder: CoderKind; readonly candidates: readonly number[];
  }) {
    const { collection, dim, queryCount, syntheticQueries, queries } = st();
    const vectors = new Float32Array(args.maxItems * dim);
    collection.fill(0, args.maxItems, vectors);
    const hnsw = new HNSW({ distanceFunction: 'cosine-normalized', seed: 1, useIndexedDB: args.mode === 'indexeddb' });
    const checkpoints: { items: number; ms: number }[] = [];
    const started = performance.now();
    let items = 0;
    while (items < args.maxItems && performance.now() - started < args.capMs) {
      await hnsw.insert(String(items), Array.from(vectors.subarray(items * dim, (items + 1) * dim)));
      items++;
      if (items % 250 === 0) checkpoints.push({ items, ms: performance.now() - started });
    }
    const buildMs = performance.now() - started;
    checkpoints.push({ items, ms: buildMs });
    log(`MeMemo ${args.mode}: ${items} items in ${(buildMs / 1000).toFixed(1)} s`);
    // Exact top-10 among the items it holds.
    const exact = new ExactTopK(queries, queryCount, dim);
    exact.add(vectors, items, 0);
    const truth = (q: number) => exact.truth(q);
    // Lookalike on the same items, in IndexedDB.
    const twinDb = 'bench-mememo-twin';
    await deleteIndexStore(twinDb);
    let twin = await ImageIndex.open(await openIndexStore(twinDb), settings(args.bits, args.coder));
    let t = performance.now();
    for (let first = 0; first < items; first += FIRST_BATCH) {
      const count = Math.min(FIRST_BATCH, items - first);
      await twin.add(Array.from({ length: count }, (_, i) => ({ meta: { id: String(first + i) }, vector: vectors.subarray((first + i) * dim, (first + i + 1) * dim) })));
    }
    const twinBuildMs = performance.now() - t;
    // Reopened, so that the first pass reads its pages from IndexedDB (the build left every page it wrote in the cache).
    await twin.close();
    twin = await ImageIndex.open(await openIndexStore(twinDb), settings(args.bits, args.coder));
    const twinTimes: number[] = [];
    const twinRecalls: number[] = [];
    for (let i = 0; i < WARM_UP; i++) await twin.search(st().warmUp.subarray(i * dim, (i + 1) * dim), { k: K });
    for (let q = 0; q < queryCount; q++) {
      t = performance.now();
      const results = await twin.search(queryVector(q), { k: K });
      twinTimes.push(performance.now() - t);
      twinRecalls.push(overlap(results.map((r) => Number(r.id)), truth(q)));
    }
    // Then side by side, in rounds: every MeMemo ef over the queries, then every Lookalike setting over them, and again.
    // Run once each, a minute apart, their ratio moved by half on this noisy machine; taken query by query in turn, each
    // disturbed the other (Lookalike's default search, after MeMemo's queries, took longer than reading its pages from
    // storage). Lookalike's pages are cached now (the items fit the budget; fewer candidates read a subset of them), so
    // it reads nothing from IndexedDB, as nothing is for MeMemo in memory: its default search, then fewer candidates.
    // Recall is the first round's (the answers are the same each round).
    const efRuns = args.efs.map((ef) => ({ ef, times: [] as number[], recalls: [] as number[] }));
    const lookalikeRuns = [undefined, ...args.candidates].map((candidates) => ({ candidates, times: [] as number[], recalls: [] as number[] }));
    let answered = queryCount;
    const t0 = performance.now();
    for (let round = 0; round < SIDE_BY_SIDE_ROUNDS; round++) {
      for (const run of efRuns) {
        for (let q = 0; q < answered; q++) {
          if (round === 0 && performance.now() - t0 > args.queryCapMs) answered = q;
          if (q >= answered) break;
          const value = Array.from(queryVector(q));
          const t = performance.now();
          const { keys } = await hnsw.query(value, K, run.ef);
          run.times.push(performance.now() - t);
          if (round === 0) run.recalls.push(overlap(keys.map(Number), truth(q)));
        }
      }
      // (An ef that ran before the cap was reached answered more: every setting keeps the same queries.)
      if (round === 0) for (const run of efRuns) run.times.length = run.recalls.length = Math.min(run.recalls.length, answered);
      for (const run of lookalikeRuns) {
        for (let q = 0; q < answered; q++) {
          const t = performance.now();
          const results = await twin.search(queryVector(q), { k: K, candidates: run.candidates });
          run.times.push(performance.now() - t);
          if (round === 0) run.recalls.push(overlap(results.map((r) => Number(r.id)), truth(q)));
        }
      }
    }
    const sweep = efRuns.map((run) => ({
      ef: run.ef, latency: percentiles(run.times), recall: recallSplit(run.recalls, Math.min(syntheticQueries, answered)), queries: answered, perQuery: run.recalls,
    }));
    for (const e of sweep) log(`MeMemo ${args.mode} ef ${e.ef}: p50 ${e.latency.p50.toFixed(2)} ms recall ${e.recall.all.toFixed(3)} over ${e.queries} queries`);
    const [cached, ...fewer] = lookalikeRuns;
    const candidateSweep = fewer.map((run) => ({
      candidates: run.candidates!, latency: percentiles(run.times), recall: recallSplit(run.recalls, Math.min(syntheticQueries, answered)), perQuery: run.recalls,
    }));
    await hnsw.clear();
    await twin.close();
    await deleteIndexStore(twinDb);
    return {
      mode: args.mode, items, buildMs, checkpoints, sweep,
      lookalike: {
        items, buildMs: twinBuildMs, latency: percentiles(twinTimes), cached: percentiles(cached!.times), recall: recallSplit(twinRecalls, syntheticQueries),
        perQuery: twinRecalls, cachedPerQuery: cached!.recalls, candidateSweep,
      },
    };
  },
};

/** Rounds of MeMemo's queries and then Lookalike's, side by side (`mememo`). */
const SIDE_BY_SIDE_ROUNDS = 3;

/** `want` indexes spread evenly over 0 … total − 1 (all of them if want ≥ total). */
function spread(total: number, want: number): number[] {
  if (want >= total) return Array.from({ length: total }, (_, i) => i);
  return Array.from({ length: want }, (_, i) => Math.floor((i * total) / want));
}

export type IndexBench = typeof bench;

expose(bench);
