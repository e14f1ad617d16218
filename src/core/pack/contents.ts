/** A whole index as the pack format carries it; see docs/pack-format.md. */
import type { CoderKind } from '../codes/coder.ts';
import type { ItemMeta } from '../items.ts';
import type { SketchEncoding } from './format.ts';

export interface PackHeader {
  /** Model registry id the embeddings came from (`default`, `lite`). */
  readonly modelId: string;
  /** How the embedding was computed from the model's features (e.g. `gap`); packs of different methods never mix. */
  readonly method: string;
  /** Embedding dimensions. */
  readonly dim: number;
  /** Items in the pack. */
  readonly count: number;
  readonly coder: {
    readonly kind: CoderKind;
    readonly bits: number;
    readonly seed: number;
    /** How many items the coder was trained on. */
    readonly trainedOn: number;
  };
  /** Encoding of the stored embeddings used for re-ranking. */
  readonly vectors: 'int8';
  /** A large index's partition (format 1.1; int4 sketches 1.2): list count, sketch length and encoding, and the sample rows it was trained on. */
  readonly partition?: { readonly lists: number; readonly dims: number; readonly sketch: SketchEncoding; readonly trainedOn: number };
}

/** The partition and every item's sketch (src/core/index/partition.ts), so an importer need not retrain them. */
export interface PackPartition {
  readonly mean: Float32Array; // dim
  readonly projection: Float32Array; // dims × dim, row-major
  readonly centroids: Float32Array; // lists × dims, row-major
  /** What each projected component is divided by before quantising (dims; all 1 for int8 sketches). */
  readonly spread: Float32Array;
  /** Per item: its list, sketch scale and sketch (count × sketchBytes(dims, sketch) bytes, format.ts). */
  readonly lists: Uint16Array;
  readonly scales: Float32Array;
  readonly sketches: Int8Array;
}

export interface PackContents {
  readonly header: PackHeader;
  /** Coder parameters: `mean` (dim) and `projection` (bits × dim, row-major). */
  readonly coder: { readonly mean: Float32Array; readonly projection: Float32Array };
  /** count × bits/32 words, layout as in codes/bits.ts. */
  readonly codes: Uint32Array;
  /** count × dim; item i's embedding ≈ vectors[i·dim…] × scales[i]. */
  readonly vectors: Int8Array;
  readonly scales: Float32Array;
  /** One per item, in item order; ids unique and non-empty. Fields whose value is `undefined` are not stored. */
  readonly metas: readonly ItemMeta[];
  /**
   * Optional per-item thumbnail bytes (JPEG/WebP), null where an item has none (an
   * empty array counts as none). A pack in which no item has one stores no
   * thumbnail sections and reads back without this field.
   */
  readonly thumbs?: readonly (Uint8Array | null)[];
  /** Present exactly when the header has `partition`. */
  readonly partition?: PackPartition;
}
