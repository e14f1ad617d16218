/**
 * A retrain's sample, kept as the index stores embeddings: int8 components and
 * a scale per row, a quarter of float32's size, widened a row at a time as the
 * trainers read it. At 32 768 rows of the default 1023-d embeddings that is
 * 32 MiB instead of 128 MiB, and the rows read back are exactly the stored
 * embeddings (the values the index re-ranks, re-codes and re-sketches by).
 */
import type { TrainingRows } from '../codes/linalg.ts';
import type { StoredInt8 } from '../vectors/int8-scorer.ts';
import { dequantizeInt8, quantizeInt8 } from '../vectors/quantize.ts';

export class Int8Rows implements TrainingRows {
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
    this.check(i);
    this.values.set(stored.vectors.subarray(stored.offset, stored.offset + this.dim), i * this.dim);
    this.scales[i] = stored.scale;
  }

  /** Row i: an embedding quantised as the index will store it. */
  setVector(i: number, vector: Float32Array): void {
    this.check(i);
    this.scales[i] = quantizeInt8(vector, 0, this.dim, this.values, i * this.dim);
  }

  row(i: number): Float32Array {
    this.check(i);
    dequantizeInt8(this.values, i * this.dim, this.dim, this.scales[i]!, this.widened, 0);
    return this.widened;
  }

  private check(i: number): void {
    if (!(Number.isInteger(i) && i >= 0 && i < this.n)) throw new RangeError(`Row ${i} is not one of ${this.n}.`);
  }
}
