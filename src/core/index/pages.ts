/**
 * How an index lays itself out in a PageStore. Items live in slots (0, 1, 2, …
 * in the order they were added); pages group consecutive slots so that storage
 * writes a few large records instead of one per item.
 *
 *   manifest        JSON: settings and counts (written in every commit, last word on what exists)
 *   coder           f32 mean[dim], f32 projection[bits × dim]
 *   codes/<p>       slots p·CODES_PER_PAGE…: a live-bit per slot, then the codes (loaded whole on open)
 *   partition       f32 mean[dim], f32 projection[dims × dim], f32 centroids[lists × dims], f32 spread[dims] (large indexes; format 3 has no spread)
 *   sketches/<p>    slots p·CODES_PER_PAGE…: u16 list, f32 scale, sketch per slot (int4 or int8; loaded whole on open)
 *   vectors/<p>     slots p·itemsPerPage…: f32 scale per slot, then int8 embeddings (read for re-ranking)
 *   meta/<p>        slots p·itemsPerPage…: JSON array of ItemMeta, null for an empty or removed slot
 */
import type { CoderKind, CoderParams } from '../codes/coder.ts';
import type { ItemMeta } from '../items.ts';
import type { SketchEncoding } from '../pack/format.ts';
import type { InvertedLists } from './inverted-lists.ts';
import type { PartitionParams } from './partition.ts';

/** 2: item pages of 16 slots (were 64); 3: the partition and int8 sketches, item pages of `itemsPerPage`; 4: int4 sketches and the partition's spread. */
export const INDEX_FORMAT = 4;
/** 4096 codes of 256 bits = 128 KiB a page: a million items is 245 pages to read on open. */
export const CODES_PER_PAGE = 4096;
/**
 * Item pages of new indexes hold this many slots. Small, because re-ranking reads
 * the page of every candidate (100 random reads from IndexedDB measured 4.7 ms
 * for 1 KiB records, 6.2 ms for 4 KiB, 9.4 ms for 16 KiB and 56 ms for 64 KiB);
 * 4 × 1027 bytes ≈ 4 KiB a page, while a million items stay at 250k records to
 * write. (Format 2 used 16.)
 */
export const ITEMS_PER_PAGE = 4;

export interface Manifest {
  readonly format: number;
  readonly modelId: string;
  readonly method: string;
  readonly dim: number;
  /** The coder the index asks for; `coder` says what is in use now. */
  readonly bits: number;
  readonly coderKind: CoderKind;
  readonly seed: number;
  /** Slots ever used: the next item goes into slot `slotCount`. */
  readonly slotCount: number;
  readonly liveCount: number;
  /** The coder in use: its kind, the sample rows it was trained on, and the collection size then. */
  readonly coder: { readonly kind: CoderKind; readonly trainedOn: number; readonly trainedAtCount: number } | null;
  /** The partition in use (large indexes only): its size, sketch encoding, and the sample rows it was trained on. */
  readonly partition: { readonly lists: number; readonly dims: number; readonly sketch: SketchEncoding; readonly trainedOn: number } | null;
  /** The collection size from which the index keeps a partition (null: never). */
  readonly partitionFrom: number | null;
  /** Slots per vectors and meta page. */
  readonly itemsPerPage: number;
}

export const MANIFEST_KEY = 'manifest';
export const CODER_KEY = 'coder';
export const PARTITION_KEY = 'partition';
export const codesKey = (page: number) => `codes/${page}`;
/** Keys of the pages re-ranking reads: `vectors/<page>`. */
export const VECTORS_PREFIX = 'vectors/';
export const vectorsKey = (page: number) => `${VECTORS_PREFIX}${page}`;
/** Keys of the pages that hold items' metadata: `meta/<page>`. */
export const META_PREFIX = 'meta/';
export const metaKey = (page: number) => `${META_PREFIX}${page}`;
export const sketchesKey = (page: number) => `sketches/${page}`;

/**
 * One kind of page's keys (`vectorsKey`), each made once and then reused, so that the page cache, whose Map
 * holds the string it was first given, finds the very same string: at a million items a lookup took ~1.1 µs
 * against ~2.5 µs with a fresh string of the same text, which must be hashed and compared (scratch, Chromium, after
 * a sketch scan had evicted the processor's caches). A search there looks up ~100 vectors pages.
 */
export class PageKeys {
  private readonly keys: (string | undefined)[] = [];
  private stringBytes = 0;

  constructor(private readonly keyOf: (page: number) => string) {}

  of(page: number): string {
    const keys = this.keys;
    // (Pushed one by one, not set far past the end: that would turn the array into a slow dictionary.)
    while (keys.length <= page) keys.push(undefined);
    let key = keys[page];
    if (key === undefined) {
      key = keys[page] = this.keyOf(page);
      this.stringBytes += Math.ceil((16 + key.length) / 8) * 8; // a one-byte string's header and characters
    }
    return key;
  }

  /** An estimate of the memory held: a pointer a page, up to the highest page asked for, and the strings made. */
  get byteLength(): number {
    return 8 * this.keys.length + this.stringBytes;
  }
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return utf8.encode(JSON.stringify(value));
}

export function decodeJson<T>(bytes: Uint8Array): T {
  return JSON.parse(fromUtf8.decode(bytes)) as T;
}

/** A copy with its own, aligned buffer when `bytes` is not aligned for `alignment`-byte views. */
function aligned(bytes: Uint8Array, alignment: number): Uint8Array {
  return bytes.byteOffset % alignment === 0 ? bytes : bytes.slice();
}

export function encodeCoder(params: CoderParams): Uint8Array {
  const out = new Float32Array(params.mean.length + params.projection.length);
  out.set(params.mean, 0);
  out.set(params.projection, params.mean.length);
  return new Uint8Array(out.buffer);
}

export function decodeCoder(bytes: Uint8Array, manifest: Manifest): CoderParams {
  const { dim, bits, seed } = manifest;
  const copy = aligned(bytes, 4);
  const floats = new Float32Array(copy.buffer, copy.byteOffset, bytes.byteLength / 4);
  if (!manifest.coder || floats.length !== dim + bits * dim) throw new Error('The stored coder does not match the index settings.');
  return {
    kind: manifest.coder.kind,
    bits,
    dim,
    seed,
    trainedOn: manifest.coder.trainedOn,
    mean: floats.slice(0, dim),
    projection: floats.slice(dim),
  };
}

export function encodePartition(params: PartitionParams): Uint8Array {
  const { mean, projection, centroids, spread } = params;
  const out = new Float32Array(mean.length + projection.length + centroids.length + spread.length);
  out.set(mean, 0);
  out.set(projection, mean.length);
  out.set(centroids, mean.length + projection.length);
  out.set(spread, mean.length + projection.length + centroids.length);
  return new Uint8Array(out.buffer);
}

/** The partition record; format 3 wrote int8 partitions without the spread, which is all 1 there. */
export function decodePartition(bytes: Uint8Array, manifest: Manifest): PartitionParams {
  const { dim, partition } = manifest;
  const copy = aligned(bytes, 4);
  const floats = new Float32Array(copy.buffer, copy.byteOffset, bytes.byteLength / 4);
  const centroidsEnd = partition ? dim + partition.dims * dim + partition.lists * partition.dims : 0;
  const withoutSpread = partition?.sketch === 'int8' && floats.length === centroidsEnd;
  if (!partition || (floats.length !== centroidsEnd + partition.dims && !withoutSpread)) throw new Error('The stored partition does not match the index settings.');
  const { lists, dims, sketch } = partition;
  return {
    dim, dims, lists, sketch,
    mean: floats.slice(0, dim),
    projection: floats.slice(dim, dim + dims * dim),
    centroids: floats.slice(dim + dims * dim, centroidsEnd),
    spread: withoutSpread ? new Float32Array(dims).fill(1) : floats.slice(centroidsEnd),
  };
}

/** Bytes per slot in a sketches page: u16 list, f32 scale, sketch. */
const sketchSlotBytes = (sketchBytes: number) => 2 + 4 + sketchBytes;

/** Where a sketches page's contents come from: the resident lists, or a pack being imported. */
export interface SketchSource {
  readonly sketchBytes: number;
  stored(slot: number): { readonly list: number; readonly scale: number; readonly sketch: Int8Array | null };
}

/** A sketches page: CODES_PER_PAGE list numbers (u16), then scales (f32), then sketches (sketchBytes each). */
export function encodeSketchesPage(page: number, source: SketchSource, slotCount: number): Uint8Array {
  const { sketchBytes } = source;
  const out = new Uint8Array(CODES_PER_PAGE * sketchSlotBytes(sketchBytes));
  const listNumbers = new Uint16Array(out.buffer, 0, CODES_PER_PAGE);
  const scales = new Float32Array(out.buffer, CODES_PER_PAGE * 2, CODES_PER_PAGE);
  const sketches = new Int8Array(out.buffer, CODES_PER_PAGE * 6, CODES_PER_PAGE * sketchBytes);
  const first = page * CODES_PER_PAGE;
  for (let i = 0; i < Math.min(CODES_PER_PAGE, slotCount - first); i++) {
    const { list, scale, sketch } = source.stored(first + i);
    listNumbers[i] = list;
    scales[i] = scale;
    if (sketch) sketches.set(sketch, i * sketchBytes);
  }
  return out;
}

/** Stores a sketches page's live slots in the resident lists (a compaction after loading files them). */
export function decodeSketchesPage(bytes: Uint8Array, page: number, lists: InvertedLists, live: Uint8Array, slotCount: number): void {
  const { sketchBytes } = lists;
  if (bytes.byteLength !== CODES_PER_PAGE * sketchSlotBytes(sketchBytes)) throw new Error(`The index is damaged: ${sketchesKey(page)} has the wrong size.`);
  const copy = aligned(bytes, 4);
  const listNumbers = new Uint16Array(copy.buffer, copy.byteOffset, CODES_PER_PAGE);
  const scales = new Float32Array(copy.buffer, copy.byteOffset + CODES_PER_PAGE * 2, CODES_PER_PAGE);
  const sketches = new Int8Array(copy.buffer, copy.byteOffset + CODES_PER_PAGE * 6, CODES_PER_PAGE * sketchBytes);
  const first = page * CODES_PER_PAGE;
  lists.putRun(first, Math.min(CODES_PER_PAGE, slotCount - first), listNumbers, scales, sketches, (slot) => live[slot] === 1);
}

/** A codes page: CODES_PER_PAGE live bits, then CODES_PER_PAGE codes. */
export function encodeCodesPage(page: number, codes: Uint32Array, words: number, isLive: (slot: number) => boolean): Uint8Array {
  const bitmapWords = CODES_PER_PAGE / 32;
  const out = new Uint32Array(bitmapWords + CODES_PER_PAGE * words);
  const first = page * CODES_PER_PAGE;
  for (let i = 0; i < CODES_PER_PAGE; i++) if (isLive(first + i)) out[i >>> 5]! |= 1 << (i & 31);
  const available = Math.max(0, Math.min(CODES_PER_PAGE, codes.length / words - first));
  out.set(codes.subarray(first * words, (first + available) * words), bitmapWords);
  return new Uint8Array(out.buffer);
}

/** Copies a codes page into the resident arrays. */
export function decodeCodesPage(bytes: Uint8Array, page: number, words: number, codes: Uint32Array, live: Uint8Array, slotCount: number): void {
  const bitmapWords = CODES_PER_PAGE / 32;
  const copy = aligned(bytes, 4);
  const view = new Uint32Array(copy.buffer, copy.byteOffset, bitmapWords + CODES_PER_PAGE * words);
  const first = page * CODES_PER_PAGE;
  const count = Math.min(CODES_PER_PAGE, slotCount - first);
  for (let i = 0; i < count; i++) live[first + i] = (view[i >>> 5]! >>> (i & 31)) & 1;
  codes.set(view.subarray(bitmapWords, bitmapWords + count * words), first * words);
}

/** A vectors page as views: `scales[i]` and `vectors[i·dim…]` for slot page·perPage + i. */
export interface VectorsPage {
  readonly scales: Float32Array;
  readonly vectors: Int8Array;
}

export function vectorsPageBytes(dim: number, perPage: number): number {
  return perPage * 4 + perPage * dim;
}

export function emptyVectorsPage(dim: number, perPage: number): Uint8Array {
  return new Uint8Array(vectorsPageBytes(dim, perPage));
}

/**
 * Views of a vectors page. They share the memory of `bytes` where it is 4-byte aligned (a copy's otherwise): write a
 * page only through its views, before it is stored. (A search keeps the views of cached pages in the page cache,
 * `getManyDecoded`: making them afresh took 4% of a small index's search, in Node.)
 */
export function vectorsPageView(bytes: Uint8Array, dim: number, perPage: number): VectorsPage {
  if (bytes.byteLength !== vectorsPageBytes(dim, perPage)) throw new Error('The index is damaged: a vectors page has the wrong size.');
  const copy = aligned(bytes, 4);
  return {
    scales: new Float32Array(copy.buffer, copy.byteOffset, perPage),
    vectors: new Int8Array(copy.buffer, copy.byteOffset + perPage * 4, perPage * dim),
  };
}

/** What a vectors page's views are counted as in the page cache, besides its bytes: an object and two typed arrays. */
export const DECODED_VECTORS_PAGE_BYTES = 256;

/** What a vectors page and its views take of the page cache's budget. */
export const cachedVectorsPageBytes = (dim: number, perPage: number) => vectorsPageBytes(dim, perPage) + DECODED_VECTORS_PAGE_BYTES;

export type MetaPage = (ItemMeta | null)[];

/**
 * A meta page's items, frozen all the way down: a search hands out the objects that the page cache keeps decoded for
 * the next search (image-index.ts), so nothing a caller does to one may change them.
 */
export function decodeFrozenMetaPage(bytes: Uint8Array): MetaPage {
  return deepFreeze(decodeJson<MetaPage>(bytes));
}

/**
 * What a decoded meta page is counted as in the page cache, besides its bytes: an estimate, not a measurement of each
 * page. Measured in Node over 20 000 pages of four items (heap after GC), a decoded page took 312 B for 60 B of JSON
 * (ids alone), 597 B for 276 (photo files) and 1 140 B for 627 (shop items with titles and URLs); this counts more
 * than each.
 */
export const decodedMetaPageBytes = (bytes: Uint8Array) => 2 * bytes.byteLength + 256;

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

export function emptyMetaPage(perPage: number): MetaPage {
  return new Array<ItemMeta | null>(perPage).fill(null);
}
