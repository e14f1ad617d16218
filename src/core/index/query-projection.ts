/**
 * A query's projection onto the partition's principal directions, P·q (partition.ts): what every partitioned
 * search scans the sketches and ranks the lists with.
 *
 * Where the coder is ITQ trained on the same PCA (image-index.ts trains the two from one, by default), its
 * W = Rᵀ·P for ITQ's orthogonal R, so P·q = R·(W·q): the coder's W·q, which the query's code needs anyway, times R
 * (dims × bits, 256 × 256 at the default) instead of P (dims × dim, 256 × 1023). The same holds, with an R of more
 * columns, for an ITQ coder of more bits whose PCA's leading directions are P's. R is not stored with the index: it is
 * P·Wᵀ (row j is W·P_j), worked out whenever the lists are made (a few ms at the default). It is used only where
 * each of its rows has unit length, as it must, and it gives P·z back for PROBES fixed random vectors z, to within
 * MAX_RELATIVE_ERROR. An LSH coder, or one of fewer bits than P has rows, cannot give P·q; an ITQ coder on another
 * sample's PCA (a partition retrained alone, at 32 768 items) fails the checks, mostly at the first row; for those the
 * query is projected by P itself.
 */
import type { CoderParams } from '../codes/coder.ts';
import { gaussianRandom, seededRandom } from '../codes/random.ts';
import { MatrixKernel } from './matrix-kernel.ts';
import type { Partition } from './partition.ts';

/** Random vectors R must map back: where R·W ≠ P, a random vector all but surely shows it. */
const PROBES = 4;
/**
 * How far R·(W·z) may stray from P·z, relative to ‖P·z‖, and a row of R's squared length from 1: far above float32's
 * rounding of W and P (~1e-6 here), far below the query's own quantisation for the sketch scan (int8 steps: 1/127 of
 * its largest component).
 */
const MAX_RELATIVE_ERROR = 1e-4;

export class QueryProjection {
  /** R (dims × bits) where the coder shares the partition's PCA, else null. */
  private readonly rotation: MatrixKernel | null;

  constructor(private readonly partition: Partition, coder: CoderParams | null) {
    this.rotation = coder ? rotationFrom(coder, partition) : null;
  }

  /** Whether queries are projected from the coder's W·q. */
  get viaCoder(): boolean {
    return this.rotation !== null;
  }

  get byteLength(): number {
    return this.rotation?.byteLength ?? 0;
  }

  /**
   * P·q, from `coderSums` (W·q, uncentred, as Coder.encode gives it) where the coder shares the PCA, else from q. A
   * fresh array: a search keeps it across its awaits, where other searches project theirs.
   */
  project(query: Float32Array, coderSums: Float32Array | null): Float32Array {
    if (!this.rotation || !coderSums) return this.partition.projectQuery(query);
    const out = new Float32Array(this.partition.params.dims);
    this.rotation.multiply(coderSums, 0, out);
    return out;
  }
}

/** R = P·Wᵀ as a kernel, where its rows have unit length and R·W = P over the probes, to within MAX_RELATIVE_ERROR; else null. */
function rotationFrom(coder: CoderParams, partition: Partition): MatrixKernel | null {
  const { dim, dims, projection: P } = partition.params;
  const { bits, projection: W } = coder;
  if (coder.kind !== 'itq' || coder.dim !== dim || bits < dims) return null;
  const coderKernel = new MatrixKernel(W, bits, dim);
  const rotation = new Float32Array(dims * bits);
  for (let j = 0; j < dims; j++) {
    // P_j (unit length) lies in the span of W's orthonormal rows only if W·P_j has unit length too.
    coderKernel.multiply(P, j * dim, rotation, j * bits);
    let squares = 0;
    for (let b = 0; b < bits; b++) squares += rotation[j * bits + b]! ** 2;
    if (!(Math.abs(squares - 1) <= MAX_RELATIVE_ERROR)) return null;
  }
  const kernel = new MatrixKernel(rotation, dims, bits);
  const gaussian = gaussianRandom(seededRandom(1));
  const [z, Wz, RWz] = [new Float32Array(dim), new Float32Array(bits), new Float32Array(dims)];
  for (let probe = 0; probe < PROBES; probe++) {
    for (let k = 0; k < dim; k++) z[k] = gaussian();
    const Pz = partition.projectQuery(z);
    coderKernel.multiply(z, 0, Wz);
    kernel.multiply(Wz, 0, RWz);
    let [error, norm] = [0, 0];
    for (let j = 0; j < dims; j++) {
      error += (RWz[j]! - Pz[j]!) ** 2;
      norm += Pz[j]! ** 2;
    }
    if (!(error <= MAX_RELATIVE_ERROR ** 2 * norm)) return null;
  }
  return kernel;
}
