/**
 * The coarse partition and the sketches of an index of PARTITION_FROM items or more (image-index.ts): an inverted file
 * (Jégou, Douze & Schmid, "Product quantization for nearest neighbor search",
 * PAMI 2011, §4) over a PCA-reduced space.
 *
 * Each item's embedding x is projected onto the top `dims` principal directions
 * P of the collection: y = P·(x − mean). That projection serves twice:
 *
 * - **The sketch**: y, each component divided by its spread s (its standard
 *   deviation in the sample), quantised with one scale per item
 *   (sketch-kernel.ts: 256 int4 components, 128 bytes, at the default), kept in
 *   memory. For a unit query q, q·x = q·mean + q·(x − mean) ≈ q·mean + (P·q)·y,
 *   and (P·q)·y = ((P·q)⊙s)·(y⊘s), so the sketch ranks items nearly as cosine
 *   does, without touching storage. Dividing by the spread gives every
 *   component the same resolution, where one scale for raw y would leave the
 *   weak components mostly zeros.
 * - **The lists**: k-means centroids c_1 … c_L of y (Lloyd's algorithm from a
 *   seeded k-means++ start); each item is filed under its nearest centroid. A
 *   query scans the lists whose centroids score highest against P·q (the
 *   same inner product the sketches use), best first, until it has seen
 *   enough items (the search's `probe`; a probe that covers the whole
 *   collection takes them in order, unranked).
 *
 * Like the coder, the partition is trained on a sample and stored with the
 * index, and every item's list and sketch are stored as computed (engines with
 * and without WebAssembly SIMD round the projection's sums differently, which
 * only matters to a value within rounding of a tie).
 */
import { pcaFor, type SamplePca, type TrainingRows } from '../codes/linalg.ts';
import { seededRandom } from '../codes/random.ts';
import { MAX_LISTS, type SketchEncoding } from '../pack/format.ts';
import { MatrixKernel } from './matrix-kernel.ts';
import { SketchArray } from './sketch-kernel.ts';

export interface PartitionParams {
  /** Embedding size. */
  readonly dim: number;
  /** PCA dimensions kept (sketch length). */
  readonly dims: number;
  /** Number of lists (centroids). */
  readonly lists: number;
  /** How sketch components are stored. */
  readonly sketch: SketchEncoding;
  readonly mean: Float32Array; // dim
  readonly projection: Float32Array; // dims × dim, row-major
  /** Per projected component, what it is divided by before quantising (all 1 in int8 partitions, which predate it). */
  readonly spread: Float32Array; // dims
  readonly centroids: Float32Array; // lists × dims, row-major
}

export interface PartitionOptions {
  readonly dims: number;
  readonly lists: number;
  readonly sketch: SketchEncoding;
  readonly seed: number;
  /** Lloyd iterations after the k-means++ start (default 10). */
  readonly iterations?: number;
  /** A PCA of this sample, when it is computed already (see pcaFor). */
  readonly pca?: SamplePca;
}

/** Trains on every row of `sample` (the caller subsamples). */
export function trainPartition(sample: TrainingRows, options: PartitionOptions): PartitionParams {
  const { dims, lists, seed, sketch } = options;
  const { n, dim } = sample;
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`A partition needs at least 2 sample rows of ${dim} values.`);
  if (!Number.isInteger(dims) || dims < 1 || dims > dim) throw new RangeError(`Sketch dimensions must be 1 … ${dim}, not ${dims}.`);
  if (!Number.isInteger(lists) || lists < 1 || lists > Math.min(MAX_LISTS, n)) throw new RangeError(`A partition of ${n} sample rows can have 1 … ${Math.min(MAX_LISTS, n)} lists, not ${lists}.`);
  const pca = pcaFor(sample, dims, options.pca);
  const mean = new Float32Array(pca.mean);
  const projection = new Float32Array(pca.directions);
  const projected = new Float32Array(n * dims);
  const projector = new Projector(projection, mean, dims, dim);
  for (let i = 0; i < n; i++) projector.centred(sample.row(i), projected, i * dims);
  const variance = new Float64Array(dims);
  for (let i = 0; i < n; i++) for (let j = 0; j < dims; j++) variance[j] = variance[j]! + projected[i * dims + j]! ** 2 / n;
  // int8 sketches (pack 1.1, storage format 3) are not divided by a spread; a component without variance keeps 1 (it is ~0 anyway).
  const spread = Float32Array.from(variance, (v) => (sketch === 'int4' && v > 0 ? Math.sqrt(v) : 1));
  const centroids = kMeans(projected, n, dims, lists, seed, options.iterations ?? 10);
  return { dim, dims, lists, sketch, mean, projection, spread, centroids };
}

export class Partition {
  private readonly projector: Projector;
  private readonly centroids: CentroidSet;
  /**
   * The centroids again as int8 sketches (sketch-kernel.ts), which `rankLists` scans: a quarter of the float32
   * matrix's bytes. At a million items the 1 MB matrix had left the cache by the next query, and its product took
   * 0.075–0.09 ms there against 0.03–0.04 straight after (scratch); ranking by the int8 copy (and the lists' reach
   * by an int8 one too), each query took 0.21–0.29 ms less at the median, synthetic and real photos alike, and 0.9997
   * of the top 10 stayed the same (scratch, one page, three rounds). Items are still filed by the float32 centroids.
   */
  private readonly rankingSketches: SketchArray;

  constructor(readonly params: PartitionParams) {
    const { dim, dims, lists, mean, projection, spread, centroids } = params;
    if (mean.length !== dim || projection.length !== dims * dim || spread.length !== dims || centroids.length !== lists * dims || !spread.every((s) => s > 0)) {
      throw new RangeError('The partition parameters do not fit together.');
    }
    this.projector = new Projector(projection, mean, dims, dim);
    this.centroids = new CentroidSet(centroids, lists, dims);
    this.rankingSketches = new SketchArray(dims, 'int8', lists, { headDims: dims });
    for (let c = 0; c < lists; c++) this.rankingSketches.encode(centroids.subarray(c * dims, (c + 1) * dims), c);
  }

  /** Bytes held: the parameters, the kernels' copies of the projection and centroids, and the centroids' int8 copy. */
  get byteLength(): number {
    const { mean, projection, spread, centroids } = this.params;
    return mean.byteLength + projection.byteLength + spread.byteLength + centroids.byteLength + this.projector.byteLength + this.centroids.byteLength
      + this.rankingSketches.byteLength;
  }

  /** y = P·(x − mean) into out[outOffset …]. */
  projectCentred(vector: Float32Array, out: Float32Array, outOffset = 0): void {
    this.projector.centred(vector, out, outOffset);
  }

  /** P·q for a query: its inner product with a sketch ranks items as q·x does (less a constant). */
  projectQuery(query: Float32Array): Float32Array {
    const out = new Float32Array(this.params.dims);
    this.projector.kernel.multiply(query, 0, out);
    return out;
  }

  /** The list of a projected item: its nearest centroid. */
  listOf(projected: Float32Array, offset = 0): number {
    return this.centroids.nearest(projected, offset);
  }

  /**
   * The `count` best lists, best first, for a projected query, by inner product with their centroids (as int8
   * sketches) plus `reach` where given (ties by number); and every list's score so (a new array, the caller's to keep).
   */
  rankLists(projectedQuery: Float32Array, count = this.params.lists, reach?: Float32Array): { order: Uint32Array; scores: Float32Array } {
    const { lists } = this.params;
    const scores = new Float32Array(lists);
    this.rankingSketches.scoreFirst(lists, projectedQuery, scores);
    if (reach) for (let c = 0; c < lists; c++) scores[c]! += reach[c]!;
    // (One numeric sort of every list's key, not a comparator: over 1024 lists, which a 100k search ranks, 56 against
    // 210 µs in Node.)
    const keys = new Float64Array(lists);
    for (let c = 0; c < lists; c++) keys[c] = rankKey(scores[c]!, c);
    keys.sort();
    const order = new Uint32Array(Math.max(0, Math.min(count, lists)));
    for (let i = 0; i < order.length; i++) order[i] = keys[i]! % LIST_KEY_SPAN;
    return { order, scores };
  }
}

/** Rank keys hold the list number (u16, < 65536) in their low 16 bits. */
const LIST_KEY_SPAN = 65536;
const scoreAsFloat = new Float32Array(1);
const scoreBits = new Uint32Array(scoreAsFloat.buffer);

/**
 * A number that sorts ascending as (score descending, then list ascending) does: the f32 score's bits made to
 * rise with the score (a negative score's complemented, a non-negative one's sign bit set), counted down from
 * 2³² − 1, times 2¹⁶, plus the list number; below 2⁴⁸, so exact.
 */
function rankKey(score: number, list: number): number {
  scoreAsFloat[0] = score + 0; // −0 + 0 is +0: the two zeros rank as one
  const bits = scoreBits[0]!;
  const rising = bits & 0x80000000 ? ~bits >>> 0 : (bits | 0x80000000) >>> 0;
  return (0xffffffff - rising) * LIST_KEY_SPAN + list;
}

/** x ↦ P·(x − mean), P as a matrix kernel. */
class Projector {
  readonly kernel: MatrixKernel;
  private readonly difference: Float32Array;

  get byteLength(): number {
    return this.kernel.byteLength + this.difference.byteLength;
  }

  constructor(projection: Float32Array, private readonly mean: Float32Array, dims: number, dim: number) {
    this.kernel = new MatrixKernel(projection, dims, dim);
    this.difference = new Float32Array(dim);
  }

  centred(x: Float32Array, out: Float32Array, outOffset: number): void {
    for (let k = 0; k < this.difference.length; k++) this.difference[k] = x[k]! - this.mean[k]!;
    this.kernel.multiply(this.difference, 0, out, outOffset);
  }
}

/** Centroids as a matrix kernel, with their squared norms: the nearest to y minimises ‖c‖² − 2·c·y (‖y‖² is common to all). */
class CentroidSet {
  private readonly kernel: MatrixKernel;
  private readonly norms: Float64Array;
  private readonly dots: Float32Array;

  get byteLength(): number {
    return this.kernel.byteLength + this.norms.byteLength + this.dots.byteLength;
  }

  constructor(centroids: Float32Array, private readonly count: number, dims: number) {
    this.kernel = new MatrixKernel(centroids, count, dims);
    this.norms = new Float64Array(count);
    for (let c = 0; c < count; c++) for (let j = 0; j < dims; j++) this.norms[c] = this.norms[c]! + centroids[c * dims + j]! ** 2;
    this.dots = new Float32Array(count);
  }

  /** c·y for every centroid c (a view, overwritten by the next call). */
  private dotsWith(y: Float32Array, offset: number): Float32Array {
    this.kernel.multiply(y, offset, this.dots);
    return this.dots;
  }

  /** The nearest centroid to y (the lowest number on a tie). */
  nearest(y: Float32Array, offset: number): number {
    const dots = this.dotsWith(y, offset);
    let best = 0;
    let bestDistance = Infinity;
    for (let c = 0; c < this.count; c++) {
      const d = this.norms[c]! - 2 * dots[c]!;
      if (d < bestDistance) {
        bestDistance = d;
        best = c;
      }
    }
    return best;
  }
}

/**
 * Lloyd's k-means from a k-means++ start (Arthur & Vassilvitskii 2007), seeded. An emptied centroid takes the farthest point.
 * The start's squared distances come from products with the points' matrix (‖p‖² − 2·p·c + ‖c‖²), so that 32 768 points
 * and 1024 centres are a second's work, not the better part of a minute.
 */
function kMeans(points: Float32Array, n: number, dims: number, k: number, seed: number, iterations: number): Float32Array {
  const random = seededRandom(seed);
  const centroids = new Float32Array(k * dims);
  const matrix = new MatrixKernel(points, n, dims);
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < dims; j++) norms[i] = norms[i]! + points[i * dims + j]! ** 2;
  const dots = new Float32Array(n);
  const nearest = new Float64Array(n).fill(Infinity);
  let chosen = Math.floor(random() * n);
  for (let c = 0; c < k; c++) {
    centroids.set(points.subarray(chosen * dims, (chosen + 1) * dims), c * dims);
    matrix.multiply(centroids, c * dims, dots);
    let total = 0;
    for (let i = 0; i < n; i++) {
      // (Rounding can take a point's distance to itself a little below 0.)
      const d = Math.max(0, norms[i]! - 2 * dots[i]! + norms[chosen]!);
      if (d < nearest[i]!) nearest[i] = d;
      total += nearest[i]!;
    }
    // The next centre: a point drawn with probability proportional to its squared distance to the nearest centre so far.
    let target = random() * total;
    chosen = n - 1;
    for (let i = 0; i < n; i++) {
      target -= nearest[i]!;
      if (target < 0) {
        chosen = i;
        break;
      }
    }
  }
  const assignment = new Uint32Array(n);
  for (let t = 0; t < iterations; t++) {
    const sums = new Float64Array(k * dims);
    const counts = new Uint32Array(k);
    const set = new CentroidSet(centroids, k, dims);
    for (let i = 0; i < n; i++) {
      const c = set.nearest(points, i * dims);
      assignment[i] = c;
      counts[c]!++;
      for (let j = 0; j < dims; j++) sums[c * dims + j] = sums[c * dims + j]! + points[i * dims + j]!;
    }
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) {
        centroids.set(points.subarray(farthest(points, n, dims, centroids, assignment) * dims).subarray(0, dims), c * dims);
        continue;
      }
      for (let j = 0; j < dims; j++) centroids[c * dims + j] = sums[c * dims + j]! / counts[c]!;
    }
  }
  return centroids;
}

function farthest(points: Float32Array, n: number, dims: number, centroids: Float32Array, assignment: Uint32Array): number {
  let best = 0;
  let bestDistance = -1;
  for (let i = 0; i < n; i++) {
    let d = 0;
    for (let j = 0; j < dims; j++) d += (points[i * dims + j]! - centroids[assignment[i]! * dims + j]!) ** 2;
    if (d > bestDistance) {
      bestDistance = d;
      best = i;
    }
  }
  return best;
}
