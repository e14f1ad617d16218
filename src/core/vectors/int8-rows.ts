/**
 * A training sample kept as the index stores embeddings: int8 components and a
 * scale per row, a quarter of float32's size, widened a row at a time as a
 * trainer reads it. At 32 768 rows of the default 1023-d embeddings that is
 * 32 MiB instead of 128 MiB, and the rows read back are exactly the stored
 * embeddings (the same values the index re-ranks and re-sketches by).
 */
import type { SampleRows } from '../codes/linalg.ts';
import type { StoredInt8 } from './int8-scorer.ts';
import { dequantizeInt8, quantizeInt8 } from './quantize.ts';

export class Int8Rows implements SampleRows {
  private readonly values: Int8Array;
  private readonly scales: Float32Array;
  private readonly widened: Float32Array;

  constructor(readonly n: number, readonly dim: number) {
    this.values = new Int8Array(n * dim);
    this.scales = new Float32Array(n);
    this.widened = new Float32Array(dim);
  }

  /** Row i: a stored embedding, as it is. */
  setStored(i: number, stored: StoredInt8): void {
    this.values.set(stored.vectors.subarray(stored.offset, stored.offset + this.dim), i * this.dim);
    this.scales[i] = stored.scale;
  }

  /** Row i: an embedding quantised as the index will store it. */
  setVector(i: number, vector: Float32Array): void {
    this.scales[i] = quantizeInt8(vector, 0, this.dim, this.values, i * this.dim);
  }

  row(i: number): Float32Array {
    dequantizeInt8(this.values, i * this.dim, this.dim, this.scales[i]!, this.widened, 0);
    return this.widened;
  }

  /** Rows 0 … count − 1 widened into one row-major array, for a trainer that takes one. */
  floats(count: number): Float32Array {
    const out = new Float32Array(count * this.dim);
    for (let i = 0; i < count; i++) dequantizeInt8(this.values, i * this.dim, this.dim, this.scales[i]!, out, i * this.dim);
    return out;
  }
}
