/**
 * A query's projection onto the partition's principal directions, P·q (partition.ts): what every partitioned
 * search scans the sketches and ranks the lists with.
 *
 * Where the coder is ITQ trained on the same PCA (image-index.ts trains the two from one, by default), its
 * W = Rᵀ·P for an orthogonal R, so P·q = R·(W·q): the coder's W·q, which the query's code needs anyway, times R
 * (dims × bits, 256 × 256 at the default) instead of P (dims × dim, 256 × 1023). The same holds, with R of more
 * columns, for an ITQ coder of more bits whose PCA's leading directions are P's. R is not stored with the index: it is
 * P·Wᵀ (row j of R is W·P_j), computed whenever the lists are made (a few ms at the default). It is used only where it
 * gives P·z back for PROBES fixed random vectors z, to within MAX_RELATIVE_ERROR; any other coder (LSH, ITQ on another
 * sample's PCA, fewer bits than dims) fails that, and the query is projected by P itself.
 */
import type { CoderParams } from '../codes/coder.ts';
import { gaussianRandom, seededRandom } from '../codes/random.ts';
import { MatrixKernel } from './matrix-kernel.ts';
import type { Partition } from './partition.ts';

/** Random vectors R must map back: with P ≠ R·W, a random vector shows it (the chance of one that does not is 0). */
const PROBES = 4;
/**
 * How far R·(W·z) may stray from P·z, relative to ‖P·z‖: far above float32's rounding of W and P (~1e-6 here), far
 * below the query's own quantisation for the sketch scan (int8 steps: 1/127 of its largest component).
 */
const MAX_RELATIVE_ERROR = 1e-4;

export class QueryProjection {
  /** R (dims × bits) where the coder shares the partition's PCA, else null. */
  private readonly rotation: MatrixKernel | null;
  private readonly out: Float32Array;

  constructor(private readonly partition: Partition, coder: CoderParams | null) {
    this.out = new Float32Array(partition.params.dims);
    this.rotation = coder ? rotationFrom(coder, partition) : null;
  }

  /** Whether queries are projected from the coder's W·q. */
  get viaCoder(): boolean {
    return this.rotation !== null;
  }

  get byteLength(): number {
    return (this.rotation?.byteLength ?? 0) + this.out.byteLength;
  }

  /** P·q (a fresh array), from `coderProjection` (W·q, as Coder.encode gives it) where the coder shares the PCA, else from q. */
  project(query: Float32Array, coderProjection: Float32Array | null): Float32Array {
    if (!this.rotation || !coderProjection) return this.partition.projectQuery(query);
    this.rotation.multiply(coderProjection, 0, this.out);
    return this.out.slice();
  }
}

/** R = P·Wᵀ as a kernel, where R·W = P to within MAX_RELATIVE_ERROR over the probes; else null. */
function rotationFrom(coder: CoderParams, partition: Partition): MatrixKernel | null {
  const { dim, dims, projection: P } = partition.params;
  const { bits, projection: W } = coder;
  if (coder.kind !== 'itq' || coder.dim !== dim || bits < dims) return null;
  const coderKernel = new MatrixKernel(W, bits, dim);
  const rotation = new Float32Array(dims * bits);
  for (let j = 0; j < dims; j++) coderKernel.multiply(P, j * dim, rotation, j * bits);
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
