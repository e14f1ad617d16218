/**
 * The search index: embeddings in, `{id, score, hamming}` out.
 *
 * What stays in memory: every item's binary code and live flag, and either the
 * multi-index hash tables over them or, in a partitioned index, every item's
 * list and sketch (32 MiB + ~140 MiB at a million items). What stays in storage, behind an LRU cache that fills the rest of the
 * memory budget: the int8 embeddings used for re-ranking and the metadata.
 *
 * A search takes the `shortlist` nearest codes by exact Hamming distance,
 * keeps the `candidates` best of them by asymmetric score (the query's real
 * projection against their bits: no storage reads), then re-ranks those by
 * cosine on the stored embeddings.
 *
 * From PARTITION_FROM items on, the index also keeps a coarse partition and a
 * 128-byte sketch of every item in memory (partition.ts, inverted-lists.ts, sketch-kernel.ts): a
 * search then scans the sketches of the lists nearest the query, instead of
 * every code (by their first components, then the best of those whole), and
 * re-ranks the best of those by cosine. (At a million items the
 * Hamming shortlist costs a 25 ms scan, and its 1000 nearest codes hold few of
 * the true neighbours: see BENCHMARKS.md.)
 *
 * Every change (add, remove, retrain) is an atomic commit to the store (an add
 * that retrains the coder is two: the retrain, then the add), so a tab or a
 * process killed at any moment reopens to the last finished change.
 */
import { DEFAULT_BITS, hamming, wordsPerCode } from '../codes/bits.ts';
import { Coder, trainCoderOn, type CoderKind, type CoderParams } from '../codes/coder.ts';
import { leadingRows, samplePca, type SamplePca, type TrainingRows } from '../codes/linalg.ts';
import { unit } from '../embed/vector.ts';
import type { ItemMeta } from '../items.ts';
import type { PackContents, PackPartition } from '../pack/contents.ts';
import { sketchBytes } from '../pack/format.ts';
import { LruPageCache, type ReadOptions } from '../store/lru-cache.ts';
import { StorageFullError, type PageStore } from '../store/page-store.ts';
import { Int8Scorer, type StoredInt8 } from '../vectors/int8-scorer.ts';
import { dequantizeInt8, quantizeInt8 } from '../vectors/quantize.ts';
import { bestByAsymmetricScore } from './asymmetric.ts';
import { Int8Rows } from './int8-rows.ts';
import { InvertedLists } from './inverted-lists.ts';
import { chooseSubstringCount, linearScan, MultiIndexHash, type CodeSet, type Neighbours } from './mih.ts';
import {
  cachedVectorsPageBytes, CODER_KEY, CODES_PER_PAGE, codesKey, DECODED_VECTORS_PAGE_BYTES, decodeCodesPage, decodeCoder, decodedMetaPageBytes, decodeFrozenMetaPage, decodeJson, decodePartition,
  decodeSketchesPage, emptyMetaPage, emptyVectorsPage, encodeCodesPage, encodeCoder, encodeJson, encodePartition, encodeSketchesPage, INDEX_FORMAT,
  ITEMS_PER_PAGE, MANIFEST_KEY, META_PREFIX, metaKey, PageKeys, PARTITION_KEY, sketchesKey, VECTORS_PREFIX, vectorsKey, vectorsPageView, type Manifest,
  type MetaPage, type SketchSource, type VectorsPage,
} from './pages.ts';
import { Partition, trainPartition, type PartitionParams } from './partition.ts';
import { sampleRow } from './sample-rows.ts';
import type { ScanThread } from './scan-thread.ts';

export interface IndexSettings {
  /** Model registry id the embeddings come from. */
  readonly modelId: string;
  /** How embeddings are computed from the model (packs and indexes of different methods never mix). */
  readonly method: string;
  readonly dim: number;
  /** Code length, 64–1024 (multiple of 32). */
  readonly bits?: number;
  readonly coder?: CoderKind;
  readonly seed?: number;
  /** Collections of at least this many items get a partition and sketches (default PARTITION_FROM; null: never). */
  readonly partitionFrom?: number | null;
  /** Slots per stored page of embeddings and of metadata (default ITEMS_PER_PAGE): re-ranking reads one page per candidate. */
  readonly itemsPerPage?: number;
}

export interface OpenOptions {
  /** Everything the index keeps in memory: codes, hash tables and the page cache. Default 256 MiB. */
  readonly memoryBudgetBytes?: number;
  /**
   * A second thread to score part of each large sketch scan (scan-thread.ts), where the sketches' memory can be
   * shared; the index closes it when it closes, and an open that fails closes it too. Default: none, every scan on
   * the calling thread.
   */
  readonly scanThread?: ScanThread | null;
}

export interface NewItem {
  readonly meta: ItemMeta;
  /** The L2-normalised embedding. */
  readonly vector: Float32Array;
}

export interface SearchOptions {
  readonly k?: number;
  /**
   * How many nearest codes by Hamming distance to score asymmetrically (default DEFAULT_SHORTLIST); in a partitioned
   * index, how many of the probed sketches, the best by their heads, to score whole (default DEFAULT_PARTITIONED_SHORTLIST).
   * At least `candidates`.
   */
  readonly shortlist?: number;
  /** How many of those, the best by asymmetric score, to re-rank by cosine on stored embeddings (default DEFAULT_CANDIDATES, at least k). */
  readonly candidates?: number;
  /**
   * Partitioned indexes: how many sketches to scan, the nearest lists' members. Default: DEFAULT_PROBE_SHARE of the collection, at
   * least DEFAULT_PROBE_MIN, widened up to DEFAULT_WIDEST_PROBE_SHARE (at least DEFAULT_WIDEST_PROBE_MIN) for a query unlike its nearest lists; a probe given here is not widened.
   */
  readonly probe?: number;
  /** Only items whose metadata passes are returned. */
  readonly filter?: (meta: ItemMeta) => boolean;
  /** Return each result's stored embedding too (as `vector`; the re-rank has read it already). */
  readonly vectors?: boolean;
  /**
   * Partitioned indexes: re-rank every candidate. By default the re-rank reads the best
   * RERANK_FIRST by sketch score first and stops there when the rest cannot reach the k-th best.
   */
  readonly exhaustive?: boolean;
}

export interface SearchResult {
  readonly id: string;
  /** Cosine similarity between the query and the item's embedding. */
  readonly score: number;
  /** Hamming distance between their codes. */
  readonly hamming: number;
  /** Frozen: the page cache keeps it decoded for later searches, which return the same object. */
  readonly meta: ItemMeta;
  /** The item's stored (dequantised int8) embedding, when the search asked for `vectors`. */
  readonly vector?: Float32Array;
}

/** A re-ranked candidate: its cosine on the stored embedding. */
interface Ranked {
  readonly slot: number;
  readonly score: number;
  readonly hamming: number;
  readonly stored: StoredInt8;
}

/** Best cosine first; ties by Hamming distance, then slot. */
const byRank = (a: Ranked, b: Ranked) => b.score - a.score || a.hamming - b.hamming || a.slot - b.slot;

export interface MemoryUsage {
  /** The codes, which slots are live, the coder, the re-rank kernel's buffer and the vectors pages' keys made. */
  readonly codes: number;
  /** The multi-index hash tables, or the partition's lists and sketches. */
  readonly tables: number;
  readonly cache: number;
  readonly total: number;
  readonly budget: number;
}

/** The store holds an index built for another model, method or embedding size. */
export class IndexMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IndexMismatchError';
  }
}

export const DEFAULT_MEMORY_BUDGET = 256 * 1024 * 1024;
/** 400: at 10k items the fastest setting measured with recall@10 ≥ 0.95 (0.964, 1.6 ms; 100 gave 0.861). */
export const DEFAULT_CANDIDATES = 400;
export const DEFAULT_SHORTLIST = 1000;
/** Below this many codes a linear popcount scan beats building and probing hash tables. */
export const LINEAR_SCAN_BELOW = 20_000;
/** The coder is retrained each time the collection doubles until it has been trained on this many items. */
export const RETRAIN_UNTIL = 16_384;
/** Items sampled (evenly) to train a coder. */
export const TRAINING_SAMPLE = 10_000;
/**
 * Collections trained at this size or larger get a partition and sketches: the sketch path
 * is faster and finds more than the Hamming one well below 10 000 items (BENCHMARKS.md,
 * "Small collections"). Below it a pack stays small (a partition adds ~1.3 MB).
 */
export const PARTITION_FROM = 2048;
/** Lists in a partition: at most this many, and at least 8 sample rows to place each centroid. */
export const PARTITION_LISTS = 1024;
/**
 * At most this many lists while the collection is smaller than RETRAIN_UNTIL: the partition
 * is trained again when it doubles, and until DEFAULT_PROBE_MIN items the default probe
 * scans every list anyway (k-means of 1024 lists on 10 000 items takes ~4 s in Node).
 */
export const PROVISIONAL_LISTS = 64;
const partitionLists = (sampleRows: number, collection: number) =>
  Math.max(1, Math.min(collection >= RETRAIN_UNTIL ? PARTITION_LISTS : PROVISIONAL_LISTS, Math.floor(sampleRows / 8)));
/** Whether a partition has fewer lists than its sample allows: one trained while its collection was small. */
const isProvisional = (partition: Manifest['partition']) => partition !== null && partition.lists < partitionLists(partition.trainedOn, RETRAIN_UNTIL);
/**
 * A partition trained along with the coder has ~10 sample rows a list: too few to place 1024 centroids well.
 * Once the collection reaches LIST_SAMPLE items, the partition is trained once more, on that many (a full
 * partition trained on fewer is due then, one from an older version or a pack included); a retrain of the coder
 * at that size or more (an add that doubles the collection past it, or `rebuild()`) trains both at once. Over 200 000
 * synthetic items (scratch experiment), lists trained on 8192, 40 000 and 65 536 items held 0.946, 0.990 and
 * 1.000 of the true top 10 within the lists that make up 1/32 of the collection, 0.968, 0.998 and 1.000
 * within 1/16. The cost, once as the collection grows and in every rebuild() from then on: the sample in memory
 * meanwhile, as stored (int8-rows.ts: 32 MiB at the default embedding's 1023 dimensions, where floats took 128 MiB),
 * and ~20 s of PCA and k-means in Node. (A PCA of only the coder's 10 000 rows cost recall@10 at a million items: 0.939 against 0.958.)
 */
export const LIST_SAMPLE = 32_768;
const needsListSample = (partition: Manifest['partition'], liveCount: number) =>
  partition !== null && !isProvisional(partition) && partition.trainedOn < LIST_SAMPLE && liveCount >= LIST_SAMPLE;
/** Principal components in a new partition's sketches, stored as int4: 128 bytes an item (sketch-kernel.ts says why int4). */
export const SKETCH_DIMS = 256;
/**
 * Sketches probed by default: this share of the collection, and at least
 * DEFAULT_PROBE_MIN. The lists decide recall here. Over 200 000 synthetic items
 * (scratch experiment; 100 queries, 100 candidates re-ranked), with lists trained
 * on LIST_SAMPLE items, recall@10 was 0.967 probing 1/32 of them, 0.985 probing
 * 1/16 and 0.987 probing 1/4; with lists trained on 8192 (the coder's sample, as
 * before LIST_SAMPLE), 0.842, 0.869 and 0.952. Since lists rank by their reach too (LIST_REACH), a million-item
 * search (scratch, 200 synthetic queries) found 0.999 of the top 10 that a search of every list finds probing 1/20,
 * 1/25 and 1/32 alike, and 1/32 scanned 35 000 sketches on average against 53 000.
 */
export const DEFAULT_PROBE_SHARE = 1 / 32;
export const DEFAULT_PROBE_MIN = 20_000;
/**
 * How far the default probe widens for a query unlike its nearest lists (InvertedLists.search): to this share of the
 * collection at most. In the same experiment, with 800 real photos among the items and 100 of them among the queries
 * (outliers here), probing 1/20 found 0.968 of the synthetic queries' top 10 and 0.771 of the real ones'; widening to
 * 1/4 at most, 0.986 and 0.955, while the synthetic queries probed 1/20 at the median (1/16 on average). Ranked by
 * centroid score alone, the real photos needed 1/5 at a million items (0.906 of what a search of every list finds,
 * scratch); ranked by reach too (LIST_REACH), 1/5 found 0.980, 3/20 0.960, 1/10 0.927 and 3/40 0.899. With the
 * probe at 1/32 and this at 1/10, bench:index at a million items kept recall@10 at 0.957 (0.958 before).
 */
export const DEFAULT_WIDEST_PROBE_SHARE = 1 / 10;
/**
 * And to at least this many: at 100 000 items (bench:index), widening to no more than the 20 000 probed found 0.924
 * of the real queries' top 10; probing 50 000 of every query found 0.988 of all.
 */
export const DEFAULT_WIDEST_PROBE_MIN = 50_000;

/** The default probe of a collection of `liveCount` items, and the widest it may grow to. */
export function defaultProbe(liveCount: number): { probe: number; widest: number } {
  const probe = Math.max(DEFAULT_PROBE_MIN, Math.ceil(liveCount * DEFAULT_PROBE_SHARE));
  return { probe, widest: Math.max(probe, DEFAULT_WIDEST_PROBE_MIN, Math.ceil(liveCount * DEFAULT_WIDEST_PROBE_SHARE)) };
}
/**
 * Sketches scored whole in a partitioned index, the best of those probed by their heads (sketch-kernel.ts). Over
 * 200 000 synthetic items, every one probed, recall@10 was 0.987 with 4000 (and with 2000) against 0.988 scoring all
 * whole; heads of 32 components instead of 64 lost 0.02 at 4000.
 */
export const DEFAULT_PARTITIONED_SHORTLIST = 4000;
/** Candidates re-ranked by cosine in a partitioned index, whose sketches rank better than asymmetric scores do. */
export const DEFAULT_PARTITIONED_CANDIDATES = 100;
/** Pages `preload` reads at a time: one IndexedDB request or one mirror buffer each (~1 MiB at the default embedding). */
const PRELOAD_BATCH = 256;
/** A partitioned search re-ranks this many candidates first, and the rest only if they could still make the top k. */
export const RERANK_FIRST = 40;

export class ImageIndex {
  private manifest: Manifest;
  private coder: Coder | null;
  private words: number;
  /** Codes of slots 0 … slotCount − 1 (capacity may be larger). */
  private codes: Uint32Array;
  private live: Uint8Array;
  private mih: MultiIndexHash | null = null;
  /** Sketches and lists, for a partitioned index. */
  private lists: InvertedLists | null;
  private tableBuild: ReturnType<typeof setTimeout> | null = null;
  /** id → slot, loaded once, on the first change or `has` (open needs only codes). */
  private slotsById: Promise<Map<string, number>> | null;
  /** Mutations run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly pages: LruPageCache;
  /** The keys of the vectors pages, which every search reads ~100 of at a million items, each made once (PageKeys says why). */
  private readonly vectorsKeys = new PageKeys(vectorsKey);
  private readonly scorer: Int8Scorer;

  private constructor(store: PageStore, manifest: Manifest, coder: CoderParams | null, partition: PartitionParams | null, private readonly budget: number, private readonly scanThread: ScanThread | null) {
    // Codes and the coder live in memory already; only item pages are worth caching.
    this.pages = new LruPageCache(store, budget, (key) => key.startsWith(VECTORS_PREFIX) || key.startsWith(META_PREFIX));
    this.manifest = manifest;
    this.scorer = new Int8Scorer(manifest.dim);
    this.coder = coder ? new Coder(coder) : null;
    this.words = wordsPerCode(manifest.bits);
    this.codes = new Uint32Array(Math.max(manifest.slotCount, 1024) * this.words);
    this.live = new Uint8Array(this.codes.length / this.words);
    this.lists = partition ? new InvertedLists(new Partition(partition), this.live.length, coder, scanThread) : null;
    this.slotsById = manifest.slotCount === 0 ? Promise.resolve(new Map()) : null;
  }

  /**
   * Opens the index in `store`, creating it with `settings` if the store is
   * empty. An existing index must match the settings' model, method and size;
   * its coder settings win (change them with `rebuild`).
   */
  static async open(store: PageStore, settings: IndexSettings, options: OpenOptions = {}): Promise<ImageIndex> {
    const scanThread = options.scanThread ?? null;
    try {
      return await ImageIndex.load(store, settings, options.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET, scanThread);
    } catch (err) {
      scanThread?.close(); // (no index to close it)
      throw err;
    }
  }

  private static async load(store: PageStore, settings: IndexSettings, budget: number, scanThread: ScanThread | null): Promise<ImageIndex> {
    const stored = await store.get(MANIFEST_KEY);
    if (!stored) {
      // Pages without a manifest are leftovers of an import that never finished.
      await store.clear();
      const manifest = newManifest(settings);
      await store.commit(new Map([[MANIFEST_KEY, encodeJson(manifest)]]));
      return new ImageIndex(store, manifest, null, null, budget, scanThread);
    }
    const storedManifest = decodeJson<Manifest>(stored);
    const manifest = upgradedManifest(storedManifest);
    if (manifest.format !== INDEX_FORMAT) throw new IndexMismatchError(`This index uses storage format ${manifest.format}; this version of Lookalike reads format ${INDEX_FORMAT}.`);
    for (const key of ['modelId', 'method', 'dim'] as const) {
      if (manifest[key] !== settings[key]) {
        throw new IndexMismatchError(`This index was built with ${key} "${manifest[key]}", not "${settings[key]}". Rebuild it with the current model, or open it with the one it was built with.`);
      }
    }
    const coderBytes = manifest.coder ? await store.get(CODER_KEY) : undefined;
    const partitionBytes = manifest.partition ? await store.get(PARTITION_KEY) : undefined;
    if (manifest.partition && !partitionBytes) throw new Error('The index is damaged: its partition is missing.');
    const partition = partitionBytes ? decodePartition(partitionBytes, manifest) : null;
    const index = new ImageIndex(store, manifest, coderBytes ? decodeCoder(coderBytes, manifest) : null, partition, budget, scanThread);
    await index.loadCodes(store);
    return index;
  }

  /** Writes a pack's items into an empty store, keeping the pack's coder and codes. */
  static async fromPack(store: PageStore, pack: PackContents, options: OpenOptions = {}): Promise<ImageIndex> {
    if (await store.get(MANIFEST_KEY)) throw new Error('Import a pack into an empty index, or add its items to this one.');
    await store.clear();
    const { header } = pack;
    const manifest: Manifest = {
      ...newManifest({ modelId: header.modelId, method: header.method, dim: header.dim, bits: header.coder.bits, coder: header.coder.kind, seed: header.coder.seed }),
      slotCount: header.count,
      liveCount: header.count,
      coder: { kind: header.coder.kind, trainedOn: header.coder.trainedOn, trainedAtCount: header.count },
      partition: header.partition ?? null,
    };
    const coder: CoderParams = { ...header.coder, dim: header.dim, mean: pack.coder.mean, projection: pack.coder.projection };
    const words = wordsPerCode(header.coder.bits);
    const perPage = manifest.itemsPerPage;
    const pageCount = Math.ceil(header.count / perPage);
    // Many commits keep each one small; the manifest goes last, so an interrupted import opens as empty.
    const batch = new Map<string, Uint8Array | null>();
    const flush = async () => {
      await store.commit(batch);
      batch.clear();
    };
    for (let page = 0; page < pageCount; page++) {
      const first = page * perPage;
      const count = Math.min(perPage, header.count - first);
      const bytes = emptyVectorsPage(header.dim, perPage);
      const view = vectorsPageView(bytes, header.dim, perPage);
      view.scales.set(pack.scales.subarray(first, first + count));
      view.vectors.set(pack.vectors.subarray(first * header.dim, (first + count) * header.dim));
      const metas = emptyMetaPage(perPage);
      for (let i = 0; i < count; i++) metas[i] = pack.metas[first + i]!;
      batch.set(vectorsKey(page), bytes);
      batch.set(metaKey(page), encodeJson(metas));
      if (batch.size >= 512) await flush();
    }
    const { partition } = pack;
    const bytesPerSketch = header.partition ? sketchBytes(header.partition.dims, header.partition.sketch) : 0;
    const sketches: SketchSource | undefined = partition && {
      sketchBytes: bytesPerSketch,
      stored: (slot) => ({ list: partition.lists[slot]!, scale: partition.scales[slot]!, sketch: partition.sketches.subarray(slot * bytesPerSketch, (slot + 1) * bytesPerSketch) }),
    };
    for (let page = 0; page * CODES_PER_PAGE < header.count; page++) {
      batch.set(codesKey(page), encodeCodesPage(page, pack.codes, words, (slot) => slot < header.count));
      if (sketches) batch.set(sketchesKey(page), encodeSketchesPage(page, sketches, header.count));
      if (batch.size >= 64) await flush();
    }
    if (partition && header.partition) {
      const { lists, dims, sketch } = header.partition;
      batch.set(PARTITION_KEY, encodePartition({ dim: header.dim, dims, lists, sketch, mean: partition.mean, projection: partition.projection, spread: partition.spread, centroids: partition.centroids }));
    }
    batch.set(CODER_KEY, encodeCoder(coder));
    await flush();
    await store.commit(new Map([[MANIFEST_KEY, encodeJson(manifest)]]));
    const index = await ImageIndex.open(store, { modelId: header.modelId, method: header.method, dim: header.dim }, options);
    // The pack's codes stay. A collection past RETRAIN_UNTIL without a partition in its pack gets one here; a
    // smaller one when it grows (its coder retrains as it doubles), so that opening an old pack stays quick.
    const partitionFrom = manifest.partitionFrom === null ? null : Math.max(manifest.partitionFrom, RETRAIN_UNTIL);
    if (!header.partition && partitionFrom !== null && header.count >= partitionFrom) await index.serialised(() => index.retrain({}, [], { coder: false }));
    return index;
  }

  get count(): number { return this.manifest.liveCount; }
  get settings(): Manifest { return this.manifest; }
  get coderParams(): CoderParams | null { return this.coder?.params ?? null; }
  get partitionParams(): PartitionParams | null { return this.lists?.partition.params ?? null; }

  memoryUsage(): MemoryUsage {
    const codes = this.codes.byteLength + this.live.byteLength + (this.coder?.byteLength ?? 0) + this.scorer.byteLength + this.vectorsKeys.byteLength;
    const tables = (this.mih?.byteLength ?? 0) + (this.lists?.byteLength ?? 0);
    const cache = this.pages.residentBytes;
    return { codes, tables, cache, total: codes + tables + cache, budget: this.budget };
  }

  /** The binary code of an embedding under this index's coder (null before the first item trains one). */
  encode(vector: Float32Array): Uint32Array | null {
    if (!this.coder) return null;
    const code = new Uint32Array(this.words);
    this.coder.encode(this.checkVector(vector), 0, code, 0);
    return code;
  }

  async has(id: string): Promise<boolean> {
    return (await this.loadSlotsById()).has(id);
  }

  /**
   * Adds items in one atomic commit; an item whose id is already present
   * replaces it. The first items train the coder, and it is retrained as the
   * collection doubles, up to RETRAIN_UNTIL items.
   */
  add(items: readonly NewItem[]): Promise<void> {
    return this.serialised(async () => {
      if (items.length === 0) return;
      const ids = new Set<string>();
      for (const item of items) {
        if (typeof item.meta?.id !== 'string' || item.meta.id === '') throw new TypeError('Every item needs a non-empty string id.');
        if (ids.has(item.meta.id)) throw new TypeError(`Item id "${item.meta.id}" appears twice in one add.`);
        ids.add(item.meta.id);
        // Checked before anything is trained or written (a zero vector has no direction, and cannot be stored).
        if (this.checkVector(item.vector).every((v) => v === 0)) throw new TypeError(`Item "${item.meta.id}" has a zero embedding.`);
      }
      const slotsById = await this.loadSlotsById();
      const first = this.manifest.slotCount;
      const end = first + items.length;
      const replaced = items.flatMap((item) => (slotsById.has(item.meta.id) ? [slotsById.get(item.meta.id)!] : []));

      // Train the coder on the first items, and retrain it (old and new items together) as the collection doubles.
      const trainedAt = this.manifest.coder?.trainedAtCount ?? 0;
      if (!this.coder || (this.manifest.liveCount + items.length >= 2 * trainedAt && trainedAt < RETRAIN_UNTIL)) await this.retrain({}, items);
      // A coder that is done retraining beside a provisional partition (imported with a pack): the partition gets its full
      // lists, once the collection is that large (smaller, another provisional one would be retrained on every add).
      else if (trainedAt >= RETRAIN_UNTIL && this.manifest.liveCount + items.length >= RETRAIN_UNTIL && isProvisional(this.manifest.partition)) {
        await this.retrain({}, items, { coder: false });
      }
      // And a full one trained on fewer than LIST_SAMPLE items (with the coder, before the collection had that many) on that many.
      await this.trainListsOnLargerSample(items);
      const coder = this.coder!;
      this.reserve(end);
      this.fitCache();
      items.forEach((item, i) => coder.encode(item.vector, 0, this.codes, (first + i) * this.words));
      // Sketched now, filed under their lists once committed.
      items.forEach((item, i) => this.lists?.sketch(first + i, item.vector));

      const writes = new Map<string, Uint8Array | null>();
      const removed = new Set(replaced);
      const isLive = (slot: number) => (slot >= first ? slot < end : slot < first && this.live[slot] === 1 && !removed.has(slot));
      for (const page of pagesOf([...replaced, ...range(first, end)], CODES_PER_PAGE)) {
        writes.set(codesKey(page), encodeCodesPage(page, this.codes, this.words, isLive));
      }
      if (this.lists) for (const page of pagesOf(range(first, end), CODES_PER_PAGE)) writes.set(sketchesKey(page), encodeSketchesPage(page, this.lists, end));
      await this.writeItemPages(writes, first, items, replaced);
      const manifest: Manifest = { ...this.manifest, slotCount: end, liveCount: this.manifest.liveCount + items.length - replaced.length };
      writes.set(MANIFEST_KEY, encodeJson(manifest));
      await this.pages.commit(writes);

      // Committed: now the memory state follows.
      this.manifest = manifest;
      for (const slot of replaced) this.live[slot] = 0;
      this.live.fill(1, first, end);
      for (let slot = first; slot < end; slot++) this.lists?.file(slot);
      this.lists?.forget(replaced.length);
      this.compactLists();
      items.forEach((item, i) => slotsById.set(item.meta.id, first + i));
    });
  }

  /** Removes items by id in one atomic commit; returns how many were present. */
  remove(ids: readonly string[]): Promise<number> {
    return this.serialised(async () => {
      const slotsById = await this.loadSlotsById();
      const slots = [...new Set(ids)].flatMap((id) => (slotsById.has(id) ? [slotsById.get(id)!] : []));
      if (slots.length === 0) return 0;
      const removed = new Set(slots);
      const isLive = (slot: number) => this.live[slot] === 1 && !removed.has(slot);
      const writes = new Map<string, Uint8Array | null>();
      for (const page of pagesOf(slots, CODES_PER_PAGE)) writes.set(codesKey(page), encodeCodesPage(page, this.codes, this.words, isLive));
      await this.writeItemPages(writes, this.manifest.slotCount, [], slots);
      const manifest: Manifest = { ...this.manifest, liveCount: this.manifest.liveCount - slots.length };
      writes.set(MANIFEST_KEY, encodeJson(manifest));
      await this.pages.commit(writes);
      this.manifest = manifest;
      for (const slot of slots) this.live[slot] = 0;
      for (const id of ids) slotsById.delete(id);
      this.lists?.forget(slots.length);
      this.compactLists();
      return slots.length;
    });
  }

  /** Deletes every item (the settings stay). */
  clear(): Promise<void> {
    return this.serialised(async () => {
      // The empty manifest commits first; the page sweep after it only removes unreachable pages
      // (if it is cut short, a store without a manifest opens as a new, empty index).
      const manifest: Manifest = { ...this.manifest, slotCount: 0, liveCount: 0, coder: null, partition: null };
      await this.pages.commit(new Map([[MANIFEST_KEY, encodeJson(manifest)]]));
      this.manifest = manifest;
      this.coder = null;
      this.mih = null;
      this.lists = null;
      this.live.fill(0);
      this.slotsById = Promise.resolve(new Map());
      await this.pages.clear();
      await this.pages.commit(new Map([[MANIFEST_KEY, encodeJson(manifest)]]));
    });
  }

  /** Retrains the coder on the collection (optionally with another kind or length), and the partition, and re-codes every item. */
  rebuild(options: { readonly coder?: CoderKind; readonly bits?: number } = {}): Promise<void> {
    return this.serialised(() => this.retrain(options));
  }

  async search(query: Float32Array, options: SearchOptions = {}): Promise<SearchResult[]> {
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, not ${k}.`);
    const checked = this.checkVector(query);
    if (checked.every((v) => v === 0)) throw new RangeError('Cannot search with a zero embedding.');
    const vector = unit(checked);
    if (!this.coder || this.manifest.liveCount === 0) return [];
    const lists = this.lists;
    const code = new Uint32Array(this.words);
    // W·q as well, where a partitioned search takes the query's projection from it (query-projection.ts).
    const coderSums = lists?.projectsViaCoder ? new Float32Array(this.coder.params.bits) : undefined;
    this.coder.encode(vector, 0, code, 0, coderSums);
    const projected = lists?.project(vector, coderSums);
    let candidates = Math.max(k, options.candidates ?? (lists ? DEFAULT_PARTITIONED_CANDIDATES : DEFAULT_CANDIDATES));
    let shortlist = Math.max(candidates, options.shortlist ?? (lists ? DEFAULT_PARTITIONED_SHORTLIST : DEFAULT_SHORTLIST));
    const defaults = defaultProbe(this.manifest.liveCount);
    let probe = Math.max(candidates, options.probe ?? defaults.probe);
    // A probe that is asked for is kept to; the default one widens for a query unlike its lists.
    let widest = options.probe === undefined ? Math.max(probe, defaults.widest) : probe;
    const projection = lists ? null : this.coder!.project(vector);
    const accept = (slot: number) => this.live[slot] === 1;
    for (;;) {
      // Partitioned: the nearest lists' sketch heads → the best `shortlist` by whole sketch → the best `candidates` → cosine on stored embeddings.
      // Otherwise: Hamming shortlist → the best `candidates` by asymmetric score → cosine on stored embeddings.
      let neighbours: Neighbours;
      let ranked: Ranked[];
      if (lists) {
        const tablesBefore = lists.byteLength;
        const { slots, scores } = lists.search(projected!, probe, shortlist, candidates, accept, widest);
        if (lists.byteLength !== tablesBefore) this.fitCache(); // a wider scan than any before grew its scratch space
        const distances = new Uint16Array(slots.length);
        for (let i = 0; i < slots.length; i++) distances[i] = hamming(code, 0, this.codes, slots[i]! * this.words, this.words);
        neighbours = { slots, distances };
        // With a filter the k-th best that passes is unknown until the metadata is read: re-rank them all.
        ranked = options.filter || options.exhaustive ? await this.rerank(vector, neighbours) : await this.rerankUntilSettled(vector, neighbours, scores, k);
      } else {
        const nearest = this.nearestCodes(code, shortlist);
        const set: CodeSet = { codes: this.codes, count: this.manifest.slotCount, words: this.words };
        neighbours = nearest.slots.length > candidates ? bestByAsymmetricScore(projection!, set, nearest, candidates) : nearest;
        ranked = await this.rerank(vector, neighbours);
      }
      const results: SearchResult[] = [];
      const metas = await this.metasOf(options.filter ? ranked.map((r) => r.slot) : ranked.slice(0, k).map((r) => r.slot));
      for (const [i, r] of ranked.entries()) {
        const meta = metas[i];
        if (!meta || (options.filter && !options.filter(meta))) continue;
        results.push({ id: meta.id, score: r.score, hamming: r.hamming, meta, ...(options.vectors ? { vector: this.dequantize(r.stored) } : {}) });
        if (results.length === k) break;
      }
      // With a filter, widen the net until k pass or every item has been looked at.
      if (results.length === k || neighbours.slots.length < candidates || candidates >= this.manifest.liveCount) return results;
      candidates *= 4;
      shortlist *= 4;
      probe *= 4;
      widest *= 4;
    }
  }

  /**
   * Reads every live item's stored embedding into the page cache, and then its metadata, so that searches read
   * nothing from storage. It evicts nothing. The embeddings (which every search's candidates need) are read only
   * while all of those not cached yet fit in the room the budget leaves, checked before each batch; the metadata
   * (which only the results need, and whose size is known only once read) a batch at a time, each page kept only
   * where it fits. Returns the pages it read, and whether every live item's embedding and metadata are now cached
   * (false: they did not fit, or the room ran out meanwhile). Searches and changes may run meanwhile: the cache
   * keeps no page a write overlaps.
   */
  async preload(options: { readonly signal?: AbortSignal } = {}): Promise<{ pages: number; embeddings: boolean; metadata: boolean }> {
    const { dim, slotCount, itemsPerPage: perPage } = this.manifest;
    const livePages: number[] = [];
    for (let page = 0; page * perPage < slotCount; page++) {
      if (this.live.subarray(page * perPage, Math.min(slotCount, (page + 1) * perPage)).includes(1)) livePages.push(page);
    }
    const vectorsKeys = this.vectorsKeysOf(livePages); // (made, and counted, before the room is checked)
    const vectors = livePages.filter((_, i) => !this.pages.has(vectorsKeys[i]!));
    const pageBytes = cachedVectorsPageBytes(dim, perPage);
    if (vectors.length * pageBytes > this.pages.roomBytes) return { pages: 0, embeddings: false, metadata: false };
    for (let i = 0; i < vectors.length; i += PRELOAD_BATCH) {
      options.signal?.throwIfAborted();
      const batch = vectors.slice(i, i + PRELOAD_BATCH);
      // Adds, searches' metadata and a wider scan's scratch space take room too.
      if (batch.length * pageBytes > this.pages.roomBytes) return { pages: i, embeddings: false, metadata: false };
      await this.vectorsPages(batch);
    }
    const metas = livePages.filter((page) => !this.pages.has(metaKey(page)));
    for (let i = 0; i < metas.length; i += PRELOAD_BATCH) {
      options.signal?.throwIfAborted();
      const batch = metas.slice(i, i + PRELOAD_BATCH);
      await this.metaPages(batch, { evictNothing: true });
      if (!batch.every((page) => this.pages.has(metaKey(page)))) return { pages: vectors.length + i + batch.length, embeddings: true, metadata: false };
    }
    return { pages: vectors.length + metas.length, embeddings: true, metadata: true };
  }

  /** Every live item in slot order, with its stored embedding when asked. */
  async *items(options: { readonly vectors?: boolean } = {}): AsyncGenerator<{ meta: ItemMeta; vector?: Float32Array }> {
    for await (const { meta, stored } of this.scan({ metas: true, vectors: options.vectors ?? false })) {
      yield stored ? { meta: meta!, vector: this.dequantize(stored) } : { meta: meta! };
    }
  }

  /** The whole index as pack contents: live items only, in slot order, embeddings exactly as stored. */
  toPack(thumbs?: (id: string) => Promise<Uint8Array | null>): Promise<PackContents> {
    return this.serialised(() => this.packContents(thumbs));
  }

  private async packContents(thumbs?: (id: string) => Promise<Uint8Array | null>): Promise<PackContents> {
    const { dim, liveCount, modelId, method } = this.manifest;
    const coder = this.coder?.params ?? null;
    const words = this.words;
    const codes = new Uint32Array(liveCount * words);
    const vectors = new Int8Array(liveCount * dim);
    const scales = new Float32Array(liveCount);
    const metas: ItemMeta[] = [];
    const thumbList: (Uint8Array | null)[] = [];
    const lists = this.lists;
    const bytesPerSketch = lists?.sketchBytes ?? 0;
    const partition: PackPartition | null = lists && {
      mean: lists.partition.params.mean,
      projection: lists.partition.params.projection,
      centroids: lists.partition.params.centroids,
      spread: lists.partition.params.spread,
      lists: new Uint16Array(liveCount),
      scales: new Float32Array(liveCount),
      sketches: new Int8Array(liveCount * bytesPerSketch),
    };
    for await (const { slot, meta, stored } of this.scan({ metas: true, vectors: true })) {
      const n = metas.length;
      codes.set(this.codes.subarray(slot * words, (slot + 1) * words), n * words);
      vectors.set(stored!.vectors.subarray(stored!.offset, stored!.offset + dim), n * dim);
      scales[n] = stored!.scale;
      if (partition) {
        const sketch = lists!.stored(slot);
        partition.lists[n] = sketch.list;
        partition.scales[n] = sketch.scale;
        partition.sketches.set(sketch.sketch!, n * bytesPerSketch);
      }
      metas.push(meta!);
      if (thumbs) thumbList.push(await thumbs(meta!.id));
    }
    const bits = this.manifest.bits;
    return {
      header: {
        modelId, method, dim, count: liveCount,
        coder: { kind: coder?.kind ?? this.manifest.coderKind, bits, seed: this.manifest.seed, trainedOn: coder?.trainedOn ?? 0 },
        vectors: 'int8',
        ...(this.manifest.partition ? { partition: this.manifest.partition } : {}),
      },
      coder: { mean: coder?.mean ?? new Float32Array(dim), projection: coder?.projection ?? new Float32Array(bits * dim) },
      codes, vectors, scales, metas,
      ...(thumbs && thumbList.some((t) => t) ? { thumbs: thumbList } : {}),
      ...(partition ? { partition } : {}),
    };
  }

  close(): Promise<void> {
    return this.serialised(() => {
      if (this.tableBuild) clearTimeout(this.tableBuild);
      this.tableBuild = null;
      this.scanThread?.close();
      return this.pages.close();
    });
  }

  // ——— internals ———

  private serialised<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => {});
    return run;
  }

  private checkVector(vector: Float32Array): Float32Array {
    if (!(vector instanceof Float32Array) || vector.length !== this.manifest.dim) {
      throw new TypeError(`Expected a Float32Array embedding of ${this.manifest.dim} dimensions.`);
    }
    for (let d = 0; d < vector.length; d++) if (!Number.isFinite(vector[d]!)) throw new TypeError('The embedding has a non-finite component.');
    return vector;
  }

  private train(rows: TrainingRows, kind = this.manifest.coderKind, bits = this.manifest.bits, pca: SamplePca | null = null): CoderParams {
    // PCA-ITQ needs more items than bits; until then the collection is LSH-coded (and retrained later).
    const usable: CoderKind = kind === 'itq' && (rows.n <= bits || bits > this.manifest.dim) ? 'lsh' : kind;
    return trainCoderOn(usable, rows, { bits, seed: this.manifest.seed, ...(pca ? { pca } : {}) });
  }

  private reserve(slots: number): void {
    if (slots * this.words <= this.codes.length) return;
    const capacity = Math.max(slots, Math.ceil((this.codes.length / this.words) * 1.5));
    const codes = new Uint32Array(capacity * this.words);
    codes.set(this.codes);
    const live = new Uint8Array(capacity);
    live.set(this.live);
    this.codes = codes;
    this.live = live;
    this.lists?.reserve(capacity);
  }

  private async loadCodes(store: PageStore): Promise<void> {
    const { slotCount } = this.manifest;
    const pageCount = Math.ceil(slotCount / CODES_PER_PAGE);
    const lists = this.lists;
    for (let page = 0; page < pageCount; page += 32) {
      const pages = range(page, Math.min(pageCount, page + 32));
      const keys = [...pages.map(codesKey), ...(lists ? pages.map(sketchesKey) : [])];
      const loaded = await store.getMany(keys);
      loaded.forEach((bytes, i) => {
        if (!bytes) throw new Error(`The index is damaged: page ${keys[i]} is missing.`);
        // Codes first: a sketches page files only the live slots.
        if (i < pages.length) decodeCodesPage(bytes, pages[i]!, this.words, this.codes, this.live, slotCount);
        else decodeSketchesPage(bytes, pages[i - pages.length]!, lists!, this.live, slotCount);
      });
    }
    lists?.compact((slot) => this.live[slot] === 1);
    this.fitCache();
  }

  private loadSlotsById(): Promise<Map<string, number>> {
    this.slotsById ??= this.readSlotsById().catch((err: unknown) => {
      this.slotsById = null;
      throw err;
    });
    return this.slotsById;
  }

  private async readSlotsById(): Promise<Map<string, number>> {
    const slotsById = new Map<string, number>();
    for await (const { slot, meta } of this.scan({ metas: true })) slotsById.set(meta!.id, slot);
    return slotsById;
  }

  /**
   * Vector and meta pages for slots first … first + items.length − 1 (new
   * items) and for `cleared` slots (their data is wiped: removed means gone).
   */
  private async writeItemPages(writes: Map<string, Uint8Array | null>, first: number, items: readonly NewItem[], cleared: readonly number[]): Promise<void> {
    const { dim } = this.manifest;
    const perPage = this.manifest.itemsPerPage;
    const touched = pagesOf([...cleared, ...range(first, first + items.length)], perPage);
    const vectorsKeys = this.vectorsKeysOf(touched);
    const existing = await this.pages.getMany(touched.flatMap((page, p) => [vectorsKeys[p]!, metaKey(page)]));
    touched.forEach((page, p) => {
      const vectorBytes = existing[2 * p]?.slice() ?? emptyVectorsPage(dim, perPage);
      const metas = existing[2 * p + 1] ? decodeJson<MetaPage>(existing[2 * p + 1]!) : emptyMetaPage(perPage);
      const view = vectorsPageView(vectorBytes, dim, perPage);
      const base = page * perPage;
      for (const slot of cleared) {
        if (Math.floor(slot / perPage) !== page) continue;
        view.vectors.fill(0, (slot - base) * dim, (slot - base + 1) * dim);
        view.scales[slot - base] = 0;
        metas[slot - base] = null;
      }
      for (let slot = Math.max(first, base); slot < Math.min(first + items.length, base + perPage); slot++) {
        const item = items[slot - first]!;
        view.scales[slot - base] = quantizeInt8(item.vector, 0, dim, view.vectors, (slot - base) * dim);
        metas[slot - base] = item.meta;
      }
      writes.set(vectorsKeys[p]!, vectorBytes);
      writes.set(metaKey(page), encodeJson(metas));
    });
  }

  /**
   * Trains a coder (unless told to keep it) and, for a large collection, a
   * partition, on the live items plus `incoming` (items about to be added):
   * the partition on LIST_SAMPLE of them when it is trained alone or the
   * collection has that many, else on TRAINING_SAMPLE; the coder on
   * TRAINING_SAMPLE of those. Then re-codes and re-sketches the live items, in
   * one commit.
   */
  private async retrain(options: { readonly coder?: CoderKind; readonly bits?: number }, incoming: readonly NewItem[] = [], train = { coder: true }): Promise<void> {
    const kind = options.coder ?? this.manifest.coderKind;
    const bits = options.bits ?? this.manifest.bits;
    const words = wordsPerCode(bits);
    const { dim, slotCount, liveCount, seed } = this.manifest;
    const total = liveCount + incoming.length;
    if (total === 0) {
      // Nothing to train on: drop the coder; the next add trains one with the new settings.
      const manifest: Manifest = { ...this.manifest, coderKind: kind, bits, coder: null, partition: null };
      await this.pages.commit(new Map([[MANIFEST_KEY, encodeJson(manifest)], [CODER_KEY, null], [PARTITION_KEY, null]]));
      this.manifest = manifest;
      this.coder = null;
      this.mih = null;
      this.lists = null;
      this.words = words;
      this.codes = new Uint32Array(this.live.length * words);
      return;
    }
    // Train on `n` items evenly spread (sample-rows.ts), then re-code them all.
    const { partitionFrom } = this.manifest;
    const partitioned = partitionFrom !== null && total >= partitionFrom;
    const n = Math.min(total, !train.coder || (partitioned && total >= LIST_SAMPLE) ? LIST_SAMPLE : TRAINING_SAMPLE);
    // Of those, `m` evenly spread train the coder; they come first, as one block of the sample.
    const m = Math.min(n, TRAINING_SAMPLE);
    // The sample waits as int8, as stored (incoming items quantised as they will be), and is widened a row at a time.
    const sample = new Int8Rows(n, dim);
    let [taken, seen] = [0, 0];
    const take = (put: (row: number) => void) => {
      const row = sampleRow(seen++, total, n, m);
      if (row < 0) return;
      put(row);
      taken++;
    };
    for await (const { stored } of this.scan({ vectors: true })) take((row) => sample.setStored(row, stored!));
    for (const item of incoming) take((row) => sample.setVector(row, item.vector));
    if (taken !== n) throw new Error(`The index is damaged: it holds ${seen - incoming.length} live items, not ${this.manifest.liveCount}.`);
    const dims = Math.min(SKETCH_DIMS, dim);
    // One PCA of the sample for the partition and, when it has as many bits as the sketches have dims (the defaults), an ITQ coder.
    const pca = partitioned ? samplePca(sample, dims) : null;
    const params = train.coder ? this.train(leadingRows(sample, m), kind, bits, pca) : this.coder!.params;
    const coder = train.coder ? new Coder(params) : this.coder!;
    const partition = pca ? trainPartition(sample, { dims, lists: partitionLists(n, total), sketch: 'int4', seed, pca }) : null;
    const codes = train.coder ? new Uint32Array(this.live.length * words) : this.codes;
    const lists = partition ? new InvertedLists(new Partition(partition), this.live.length, params, this.scanThread) : null;
    if (train.coder || lists) {
      for await (const { slot, stored } of this.scan({ vectors: true })) {
        const vector = this.dequantize(stored!);
        if (train.coder) coder.encode(vector, 0, codes, slot * words);
        lists?.sketch(slot, vector);
      }
    }
    const coderState = train.coder ? { kind: params.kind, trainedOn: params.trainedOn, trainedAtCount: total } : this.manifest.coder;
    const partitionState = partition ? { lists: partition.lists, dims: partition.dims, sketch: partition.sketch, trainedOn: n } : null;
    const manifest: Manifest = { ...this.manifest, bits, coderKind: kind, coder: coderState, partition: partitionState };
    const writes = new Map<string, Uint8Array | null>([[MANIFEST_KEY, encodeJson(manifest)], [PARTITION_KEY, partition ? encodePartition(partition) : null]]);
    if (train.coder) writes.set(CODER_KEY, encodeCoder(params));
    const isLive = (slot: number) => this.live[slot] === 1;
    for (let page = 0; page * CODES_PER_PAGE < slotCount; page++) {
      if (train.coder) writes.set(codesKey(page), encodeCodesPage(page, codes.subarray(0, slotCount * words), words, isLive));
      writes.set(sketchesKey(page), lists ? encodeSketchesPage(page, lists, slotCount) : null);
    }
    await this.pages.commit(writes);
    for (let slot = 0; slot < slotCount; slot++) if (this.live[slot]) lists?.file(slot);
    lists?.compact((slot) => this.live[slot] === 1);
    this.manifest = manifest;
    this.coder = coder;
    this.words = words;
    this.codes = codes;
    this.lists = lists;
    this.mih = null;
    this.fitCache();
  }

  /**
   * Trains the partition alone on LIST_SAMPLE items once the collection (with `incoming`) has that many and its
   * partition was trained on fewer. The lists work as they are, so where storage cannot take the new ones (a
   * commit of every sketch page) this gives up quietly, and the next add tries again.
   */
  private async trainListsOnLargerSample(incoming: readonly NewItem[]): Promise<void> {
    if (!needsListSample(this.manifest.partition, this.manifest.liveCount + incoming.length)) return;
    try {
      await this.retrain({}, incoming, { coder: false });
    } catch (err) {
      if (!(err instanceof StorageFullError)) throw err;
    }
  }

  /** Live slots in order, with their metadata and/or stored embedding. */
  private async *scan(want: { readonly metas?: boolean; readonly vectors?: boolean }): AsyncGenerator<{ slot: number; meta?: ItemMeta; stored?: StoredInt8 }> {
    const { dim, slotCount, itemsPerPage: perPage } = this.manifest;
    for (let page = 0; page * perPage < slotCount; page++) {
      const metas = want.metas ? decodeJson<MetaPage>((await this.pages.get(metaKey(page)))!) : null;
      const view = want.vectors ? vectorsPageView((await this.pages.get(vectorsKey(page)))!, dim, perPage) : null;
      for (let i = 0; i < perPage; i++) {
        const slot = page * perPage + i;
        if (slot >= slotCount || !this.live[slot]) continue;
        yield {
          slot,
          ...(metas ? { meta: metas[i]! } : {}),
          ...(view ? { stored: { vectors: view.vectors, offset: i * dim, scale: view.scales[i]! } } : {}),
        };
      }
    }
  }

  private dequantize(stored: StoredInt8): Float32Array {
    const vector = new Float32Array(this.manifest.dim);
    dequantizeInt8(stored.vectors, stored.offset, vector.length, stored.scale, vector, 0);
    return vector;
  }

  /** Exact Hamming k-NN among live slots: a linear scan for small collections, MIH beyond. */
  private nearestCodes(query: Uint32Array, k: number): Neighbours {
    const { slotCount } = this.manifest;
    const set: CodeSet = { codes: this.codes, count: slotCount, words: this.words };
    const accept = (slot: number) => this.live[slot] === 1;
    if (slotCount < LINEAR_SCAN_BELOW) return linearScan(set, query, k, accept);
    // Codes added since the tables were built are checked directly, until they are a quarter of the whole.
    if (!this.mih || slotCount - this.mih.indexedCount > this.mih.indexedCount / 4) this.scheduleTableBuild();
    // The tables answer in a fraction of a scan when the k-th neighbour is near. When it is far (the
    // 1000th is ~96 of 256 bits away for a typical query at 1M) they give up and the scan answers.
    // A unit of MIH work (a probe or a check) measured ~6× a scanned code, so N/64 caps the waste near 10%.
    return this.mih?.search(set, query, k, accept, slotCount / 64) ?? linearScan(set, query, k, accept);
  }

  /** Re-lays the sketches by list once enough has been added or removed since the last time (a serialised task runs this). */
  private compactLists(): void {
    if (!this.lists?.needsCompaction) return;
    this.lists.compact((slot) => this.live[slot] === 1);
    this.fitCache(); // the new arena's size is what the budget must allow for now
  }

  /** Builds the hash tables after the current task, so that no query waits for them (~0.3 s at a million codes). */
  private scheduleTableBuild(): void {
    this.tableBuild ??= setTimeout(() => {
      this.tableBuild = null;
      const { slotCount, bits } = this.manifest;
      if (slotCount < LINEAR_SCAN_BELOW) return;
      this.mih = null; // let the old tables go before the new ones are built
      this.mih = new MultiIndexHash({ codes: this.codes, count: slotCount, words: this.words }, chooseSubstringCount(bits, slotCount));
      this.fitCache();
    }, 0);
  }

  /**
   * Re-ranks candidates that come best sketch score first in two reads: the first
   * RERANK_FIRST, then the rest only if any of them could still reach the k-th best
   * cosine. A sketch score is the cosine less q·mean and an error; the reads show
   * both, so the rest are skipped when their sketch scores, plus the median
   * offset and the largest error seen, stay below the k-th best: one of them
   * would have to miss by more than any of the first did. (Twice that bound
   * stopped after the first 40 for 6% of the queries at 100 000 items and 29%
   * at 10 000, this one for 63% and 40%, at the same recall@10: 0.986 and 0.996,
   * scratch experiment over bench:index's data.)
   */
  private async rerankUntilSettled(query: Float32Array, candidates: Neighbours, approximate: Float32Array, k: number): Promise<Ranked[]> {
    const first = Math.max(RERANK_FIRST, 2 * k);
    const part = (from: number, to?: number): Neighbours => ({ slots: candidates.slots.subarray(from, to), distances: candidates.distances.subarray(from, to) });
    const ranked = await this.rerank(query, part(0, first));
    if (candidates.slots.length <= first) return ranked;
    const approximateOf = new Map(Array.from(candidates.slots.subarray(0, first), (slot, i) => [slot, approximate[i]!]));
    const errors = ranked.map((r) => r.score - approximateOf.get(r.slot)!).sort((a, b) => a - b);
    const offset = errors[errors.length >> 1]!;
    const spread = Math.max(offset - errors[0]!, errors.at(-1)! - offset);
    if (approximate[first]! + offset + spread < ranked[k - 1]!.score) return ranked;
    return [...ranked, ...(await this.rerank(query, part(first)))].sort(byRank);
  }

  private async rerank(query: Float32Array, neighbours: Neighbours): Promise<Ranked[]> {
    const { dim, itemsPerPage: perPage } = this.manifest;
    const { slots, distances } = neighbours;
    const pageNumbers = pagesOf(slots, perPage);
    const loaded = await this.vectorsPages(pageNumbers);
    // (Loops, not Array.from and map with callbacks: a partitioned search re-ranks 100 items, each on a page of its own.)
    const views = new Map<number, VectorsPage>();
    for (let i = 0; i < pageNumbers.length; i++) views.set(pageNumbers[i]!, loaded[i]!);
    const stored = new Array<StoredInt8>(slots.length);
    for (let i = 0; i < slots.length; i++) {
      const view = views.get(Math.floor(slots[i]! / perPage))!;
      const offset = slots[i]! % perPage;
      stored[i] = { vectors: view.vectors, offset: offset * dim, scale: view.scales[offset]! };
    }
    const scores = this.scorer.score(query, stored);
    const ranked = new Array<Ranked>(slots.length);
    for (let i = 0; i < slots.length; i++) ranked[i] = { slot: slots[i]!, hamming: distances[i]!, stored: stored[i]!, score: scores[i]! };
    return ranked.sort(byRank);
  }

  /**
   * Metadata pages, decoded and frozen, kept with the pages in the cache (every read of them goes through here, so each
   * is decoded one way). (Decoded once while cached: parsing each result's page afresh took 7–10% of a small index's
   * search, in Node.)
   */
  private metaPages(pageNumbers: readonly number[], options: ReadOptions = {}): Promise<(MetaPage | undefined)[]> {
    return this.pages.getManyDecoded(pageNumbers.map(metaKey), decodeFrozenMetaPage, decodedMetaPageBytes, options);
  }

  /** Vectors pages as views, kept with the pages in the cache (every read of them goes through here, so each is decoded one way). */
  private vectorsPages(pageNumbers: readonly number[]): Promise<(VectorsPage | undefined)[]> {
    const { dim, itemsPerPage: perPage } = this.manifest;
    return this.pages.getManyDecoded(this.vectorsKeysOf(pageNumbers), (bytes) => vectorsPageView(bytes, dim, perPage), () => DECODED_VECTORS_PAGE_BYTES);
  }

  private async metasOf(slots: readonly number[]): Promise<(ItemMeta | null)[]> {
    const perPage = this.manifest.itemsPerPage;
    const pageNumbers = pagesOf(slots, perPage);
    const loaded = await this.metaPages(pageNumbers);
    const pages = new Map(pageNumbers.map((page, i) => [page, loaded[i]!]));
    return slots.map((slot) => pages.get(Math.floor(slot / perPage))![slot % perPage] ?? null);
  }

  /** The keys of vectors pages `pageNumbers`; the budget counts the strings made, and the cache's room shrinks by them. */
  private vectorsKeysOf(pageNumbers: readonly number[]): string[] {
    const keys = this.vectorsKeys;
    const before = keys.byteLength;
    const out = new Array<string>(pageNumbers.length);
    for (let i = 0; i < out.length; i++) out[i] = keys.of(pageNumbers[i]!);
    if (keys.byteLength !== before) this.fitCache();
    return out;
  }

  /** The page cache gets whatever the resident codes and tables leave of the budget. */
  private fitCache(): void {
    const { codes, tables } = this.memoryUsage();
    this.pages.setBudget(this.budget - codes - tables);
  }
}

/**
 * Older formats open as they are, and their next commit writes the current one:
 * format 2 is format 3 without a partition, and format 3's partitions are int8
 * (their stored record lacks the spread, which decodePartition fills in).
 */
function upgradedManifest(stored: Manifest): Manifest {
  if (stored.format === 2) return { ...stored, format: INDEX_FORMAT, partition: null, partitionFrom: PARTITION_FROM, itemsPerPage: 16 };
  if (stored.format === 3) return { ...stored, format: INDEX_FORMAT, partition: stored.partition && { ...stored.partition, sketch: 'int8' } };
  return stored;
}

function newManifest(settings: IndexSettings): Manifest {
  const bits = settings.bits ?? DEFAULT_BITS;
  wordsPerCode(bits);
  if (!Number.isInteger(settings.dim) || settings.dim < 1) throw new RangeError(`Embedding size must be a positive integer, not ${settings.dim}.`);
  const { partitionFrom } = settings;
  if (partitionFrom !== undefined && partitionFrom !== null && !(Number.isInteger(partitionFrom) && partitionFrom >= 2)) {
    throw new RangeError(`partitionFrom must be an integer ≥ 2 or null, not ${partitionFrom}.`);
  }
  if (settings.itemsPerPage !== undefined && !(Number.isInteger(settings.itemsPerPage) && settings.itemsPerPage >= 1 && settings.itemsPerPage <= 4096)) {
    throw new RangeError(`itemsPerPage must be an integer from 1 to 4096, not ${settings.itemsPerPage}.`);
  }
  return {
    format: INDEX_FORMAT,
    modelId: settings.modelId,
    method: settings.method,
    dim: settings.dim,
    bits,
    coderKind: settings.coder ?? 'itq',
    seed: settings.seed ?? 1,
    slotCount: 0,
    liveCount: 0,
    coder: null,
    partition: null,
    partitionFrom: settings.partitionFrom === undefined ? PARTITION_FROM : settings.partitionFrom,
    itemsPerPage: settings.itemsPerPage ?? ITEMS_PER_PAGE,
  };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

/** Distinct page numbers of `slots`, ascending. */
function pagesOf(slots: ArrayLike<number>, perPage: number): number[] {
  // (A typed array's sort, without a comparator, and one pass: a Set and a sorted Array took 4% of a small index's search.)
  const pages = new Uint32Array(slots.length);
  for (let i = 0; i < slots.length; i++) pages[i] = Math.floor(slots[i]! / perPage);
  pages.sort();
  const distinct: number[] = [];
  for (const page of pages) if (page !== distinct.at(-1)) distinct.push(page);
  return distinct;
}
