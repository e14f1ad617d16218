/**
 * Cosines of a query with many stored int8 embeddings: the re-rank of every
 * search (100 of them by default, 1023 components each).
 *
 * The WebAssembly SIMD kernel (score-int8.wat) adds the same four partial sums
 * as `scoreInt8`, each in the same order, and every product of an f32 and an
 * int8 is exact in f64, so both give bit-identical scores; `scoreInt8` stays the
 * plain-JS path for engines without WebAssembly SIMD.
 *
 * Memory layout: the query as f64, then up to BATCH stored vectors back to
 * back, then their sums. Items are scored BATCH at a time, so the memory stays
 * small however many a search re-ranks.
 */
import { memoryFor, simdModule } from '../wasm/simd-module.ts';
import { scoreInt8 } from './quantize.ts';
import { SCORE_INT8_WASM_BASE64 } from './score-int8-wasm.ts';

/** Vectors copied into the kernel's memory per call (a search re-ranks 40–100 at a time by default). */
const BATCH = 128;

type Score = (query: number, dim: number, vectors: number, count: number, out: number) => void;

/** One stored embedding: `dim` int8 components from `offset` of `vectors`, and the scale that makes it a unit vector. */
export interface StoredInt8 {
  readonly vectors: Int8Array;
  readonly offset: number;
  readonly scale: number;
}

/** The compiled kernel, or null where WebAssembly SIMD is missing. */
const compiledKernel = simdModule(SCORE_INT8_WASM_BASE64);

export class Int8Scorer {
  private readonly kernel: { readonly score: Score; readonly query: Float64Array; readonly vectors: Int8Array; readonly sums: Float64Array } | null;
  /** Bytes held: the kernel's memory (none without SIMD). */
  readonly byteLength: number;

  constructor(readonly dim: number, options: { readonly simd?: boolean } = {}) {
    const module = options.simd === false ? null : compiledKernel();
    if (!module) {
      this.kernel = null;
      this.byteLength = 0;
      return;
    }
    const queryBytes = Math.ceil(dim / 2) * 16;
    const sumsAt = queryBytes + Math.ceil((BATCH * dim) / 16) * 16;
    const memory = memoryFor(sumsAt + BATCH * 8);
    this.byteLength = memory.buffer.byteLength;
    this.kernel = {
      score: new WebAssembly.Instance(module, { env: { memory } }).exports.score as Score,
      query: new Float64Array(memory.buffer, 0, dim),
      vectors: new Int8Array(memory.buffer, queryBytes, BATCH * dim),
      sums: new Float64Array(memory.buffer, sumsAt, BATCH),
    };
  }

  /** Whether scores come from the WebAssembly SIMD kernel. */
  get simd(): boolean {
    return this.kernel !== null;
  }

  /** The cosine of a unit `query` with each stored item, exactly as `scoreInt8` gives it. */
  score(query: Float32Array, items: readonly StoredInt8[]): Float64Array {
    const { dim, kernel } = this;
    if (query.length !== dim) throw new RangeError(`Expected a ${dim}-value query, got ${query.length}.`);
    const out = new Float64Array(items.length);
    if (!kernel) {
      items.forEach((item, i) => (out[i] = scoreInt8(query, item.vectors, item.offset, item.scale)));
      return out;
    }
    kernel.query.set(query);
    for (let first = 0; first < items.length; first += BATCH) {
      const count = Math.min(BATCH, items.length - first);
      for (let i = 0; i < count; i++) {
        const { vectors, offset } = items[first + i]!;
        kernel.vectors.set(vectors.subarray(offset, offset + dim), i * dim);
      }
      kernel.score(kernel.query.byteOffset, dim, kernel.vectors.byteOffset, count, kernel.sums.byteOffset);
      for (let i = 0; i < count; i++) out[first + i] = kernel.sums[i]! * items[first + i]!.scale;
    }
    return out;
  }
}
