/**
 * Cosines of a query with many stored int8 embeddings: the re-rank of every
 * search (100 of them by default, 1023 components each).
 *
 * The query is rounded to int16 values (quantize.ts), so a score is an exact
 * integer dot product times two scales. The WebAssembly SIMD kernel
 * (score-int8.wat) takes eight products a step with i32x4.dot_i16x8_s, where the
 * f64x2 kernel before it took two, widening every byte on the way; `dotInt8` is
 * the plain-JS path for engines without WebAssembly SIMD, and gives the same
 * integers, so both paths give bit-identical scores.
 *
 * Memory layout: the query as int16, zero past `dim` up to the stride (`dim`
 * rounded up to 16), then up to BATCH stored vectors a stride apart, then their
 * sums. Items are scored BATCH at a time, so the memory stays small however many
 * a search re-ranks.
 */
import { memoryFor, simdModule } from '../wasm/simd-module.ts';
import { dotInt8, queryLevels, quantizeQuery } from './quantize.ts';
import { SCORE_INT8_WASM_BASE64 } from './score-int8-wasm.ts';

/** Vectors copied into the kernel's memory per call (a search re-ranks 40–100 at a time by default). */
const BATCH = 128;

type Score = (query: number, stride: number, vectors: number, count: number, out: number) => void;

/** One stored embedding: `dim` int8 components from `offset` of `vectors`, and the scale that makes it a unit vector. */
export interface StoredInt8 {
  readonly vectors: Int8Array;
  readonly offset: number;
  readonly scale: number;
}

/** The compiled kernel, or null where WebAssembly SIMD is missing. */
const compiledKernel = simdModule(SCORE_INT8_WASM_BASE64);

export class Int8Scorer {
  /** The query's int16 values: in the kernel's memory, or on their own without it. */
  private readonly query: Int16Array;
  private readonly stride: number;
  private readonly levels: number;
  private readonly kernel: { readonly score: Score; readonly vectors: Int8Array; readonly sums: Float64Array } | null;
  /** Bytes held: the kernel's memory, or the query's values. */
  readonly byteLength: number;

  constructor(readonly dim: number, options: { readonly simd?: boolean } = {}) {
    this.stride = Math.ceil(dim / 16) * 16;
    this.levels = queryLevels(this.stride);
    const module = options.simd === false ? null : compiledKernel();
    if (!module) {
      this.query = new Int16Array(dim);
      this.kernel = null;
      this.byteLength = this.query.byteLength;
      return;
    }
    const queryBytes = this.stride * 2;
    const sumsAt = queryBytes + BATCH * this.stride;
    const memory = memoryFor(sumsAt + BATCH * 8);
    this.byteLength = memory.buffer.byteLength;
    this.query = new Int16Array(memory.buffer, 0, this.stride);
    this.kernel = {
      score: new WebAssembly.Instance(module, { env: { memory } }).exports.score as Score,
      vectors: new Int8Array(memory.buffer, queryBytes, BATCH * this.stride),
      sums: new Float64Array(memory.buffer, sumsAt, BATCH),
    };
  }

  /** Whether scores come from the WebAssembly SIMD kernel. */
  get simd(): boolean {
    return this.kernel !== null;
  }

  /** The cosine of a unit `query` with each stored item, the same to the bit with or without the kernel. */
  score(query: Float32Array, items: readonly StoredInt8[]): Float64Array {
    const { dim, kernel, stride } = this;
    if (query.length !== dim) throw new RangeError(`Expected a ${dim}-value query, got ${query.length}.`);
    const out = new Float64Array(items.length);
    const queryScale = quantizeQuery(query, this.levels, this.query);
    if (!kernel) {
      items.forEach((item, i) => (out[i] = dotInt8(this.query, item.vectors, item.offset, dim) * queryScale * item.scale));
      return out;
    }
    for (let first = 0; first < items.length; first += BATCH) {
      const count = Math.min(BATCH, items.length - first);
      // (The bytes between one vector's end and the next stride are never written: zeros, as the query is there.)
      for (let i = 0; i < count; i++) {
        const { vectors, offset } = items[first + i]!;
        kernel.vectors.set(vectors.subarray(offset, offset + dim), i * stride);
      }
      kernel.score(this.query.byteOffset, stride, kernel.vectors.byteOffset, count, kernel.sums.byteOffset);
      for (let i = 0; i < count; i++) out[first + i] = kernel.sums[i]! * queryScale * items[first + i]!.scale;
    }
    return out;
  }
}
