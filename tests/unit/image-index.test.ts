import { describe, expect, it } from 'vitest';
import { ImageIndex, IndexMismatchError, LINEAR_SCAN_BELOW, LIST_SAMPLE, PARTITION_FROM, PARTITION_LISTS, PROVISIONAL_LISTS, RETRAIN_UNTIL, SKETCH_DIMS, TRAINING_SAMPLE, type NewItem } from '../../src/core/index/image-index.ts';
import { trainCoder } from '../../src/core/codes/coder.ts';
import { cachedVectorsPageBytes, encodeJson, encodePartition, ITEMS_PER_PAGE, MANIFEST_KEY, META_PREFIX, PARTITION_KEY, VECTORS_PREFIX } from '../../src/core/index/pages.ts';
import { Partition } from '../../src/core/index/partition.ts';
import { ScanThread } from '../../src/core/index/scan-thread.ts';
import { HEAD_PASS_RATIO } from '../../src/core/index/inverted-lists.ts';
import { SketchArray } from '../../src/core/index/sketch-kernel.ts';
import { SECTION, sketchBytes } from '../../src/core/pack/format.ts';
import { blobSource } from '../../src/core/pack/range-source.ts';
import { openPack } from '../../src/core/pack/read.ts';
import { encodePack } from '../../src/core/pack/write.ts';
import { MemoryPageStore } from '../../src/core/store/memory-store.ts';
import { StorageFullError, type PageWrites } from '../../src/core/store/page-store.ts';
import { syntheticItems } from '../index-data.ts';

const DIM = 96;
const SETTINGS = { modelId: 'test', method: 'gap', dim: DIM, bits: 64 } as const;

const makeItems = (count: number, seed: number, prefix?: string) => syntheticItems(count, seed, DIM, prefix);

function exactTop(items: readonly NewItem[], query: Float32Array, k: number): string[] {
  return items
    .map((item) => ({ id: item.meta.id, score: item.vector.reduce((s, v, d) => s + v * query[d]!, 0) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k)
    .map((r) => r.id);
}

/** A store whose commits can be made to fail, as a full disk would. */
class FailingStore extends MemoryPageStore {
  /** Fails the commit after this many more succeed (null: never). */
  failAfter: number | null = null;
  /** Commits that landed. */
  commits = 0;
  override async commit(writes: PageWrites): Promise<void> {
    if (this.failAfter !== null && this.failAfter-- === 0) {
      this.failAfter = null;
      throw new StorageFullError();
    }
    await super.commit(writes);
    this.commits++;
  }
}

/** A store that counts the pages read, and keeps their keys. */
class CountingStore extends MemoryPageStore {
  reads = 0;
  readKeys: string[] = [];
  override async getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    this.reads += keys.length;
    this.readKeys.push(...keys);
    return super.getMany(keys);
  }
}

/** A store whose reads take a while and return the pages as they were when the read began, as IndexedDB's do. */
class SlowReadStore extends MemoryPageStore {
  override async getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    const snapshot = await super.getMany(keys);
    await new Promise((resolve) => setTimeout(resolve, 5));
    return snapshot;
  }
}

describe('ImageIndex', () => {
  it('finds each item first when searched with its own embedding, with cosine scores', async () => {
    const items = makeItems(300, 1);
    const index = await ImageIndex.open(new MemoryPageStore(), SETTINGS);
    await index.add(items.slice(0, 100));
    await index.add(items.slice(100));
    expect(index.count).toBe(300);
    for (const item of items.slice(0, 40)) {
      const [best] = await index.search(item.vector, { k: 5 });
      expect(best!.id).toBe(item.meta.id);
      expect(best!.score).toBeCloseTo(1, 2);
      expect(best!.hamming).toBeLessThanOrEqual(2); // stored codes come from the int8 copy after a retrain
      expect(best!.meta).toEqual(item.meta);
    }
  });

  it('hands out metadata frozen, so that what a caller does to it cannot change the next search', async () => {
    const items = makeItems(40, 4).map((item, i) => ({ ...item, meta: { ...item.meta, tags: ['a', String(i)], sizes: { w: i } } }));
    const index = await ImageIndex.open(new MemoryPageStore(), SETTINGS);
    await index.add(items);
    const [first] = await index.search(items[3]!.vector, { k: 1 });
    expect(first!.meta).toEqual(items[3]!.meta);
    expect(() => { (first!.meta as { title?: string }).title = 'changed'; }).toThrow(TypeError);
    expect(() => { (first!.meta.tags as string[]).push('b'); }).toThrow(TypeError);
    expect(() => { (first!.meta.sizes as { w: number }).w = 99; }).toThrow(TypeError);
    const [again] = await index.search(items[3]!.vector, { k: 1 });
    expect(again!.meta).toBe(first!.meta); // decoded once, while its page stays cached
    expect(again!.meta).toEqual(items[3]!.meta);
  });

  it('returns the stored embeddings of the results when asked for vectors', async () => {
    const items = makeItems(50, 9);
    const index = await ImageIndex.open(new MemoryPageStore(), SETTINGS);
    await index.add(items);
    expect((await index.search(items[0]!.vector, { k: 3 }))[0]!.vector).toBeUndefined();
    for (const result of await index.search(items[0]!.vector, { k: 3, vectors: true })) {
      const added = items.find((item) => item.meta.id === result.id)!.vector;
      const norm = Math.hypot(...added);
      expect(result.vector!.length).toBe(DIM);
      expect(result.vector!.reduce((s, v, d) => s + (v * added[d]!) / norm, 0)).toBeGreaterThan(0.999);
      expect(Math.max(...result.vector!.map((v, d) => Math.abs(v - added[d]! / norm)))).toBeLessThan(0.01);
    }
  });

  it('re-ranks by cosine: recall@10 against exact float cosine grows with the candidates and is near 1 with all', async () => {
    const items = makeItems(2000, 2);
    const index = await ImageIndex.open(new MemoryPageStore(), { ...SETTINGS, bits: 128, partitionFrom: null }); // the Hamming path
    await index.add(items);
    const queries = makeItems(30, 99, 'query');
    const recall = async (candidates: number) => {
      let overlap = 0;
      for (const q of queries) {
        const got = (await index.search(q.vector, { k: 10, candidates })).map((r) => r.id);
        const want = exactTop(items, q.vector, 10);
        overlap += got.filter((id) => want.includes(id)).length;
      }
      return overlap / (queries.length * 10);
    };
    const [few, many, all] = [await recall(20), await recall(400), await recall(2000)];
    expect(few).toBeLessThan(many);
    expect(many).toBeLessThan(all);
    expect(all).toBeGreaterThan(0.95); // only int8 rounding separates it from exact cosine
  });

  it('replaces an item added again under the same id, and removes items', async () => {
    const items = makeItems(50, 3);
    const index = await ImageIndex.open(new MemoryPageStore(), SETTINGS);
    await index.add(items);
    const moved = { meta: { id: 'item-0', title: 'moved' }, vector: items[40]!.vector };
    await index.add([moved]);
    expect(index.count).toBe(50);
    const hits = await index.search(items[40]!.vector, { k: 2 });
    expect(hits.map((h) => h.id).sort()).toEqual(['item-0', 'item-40']);
    expect(hits.find((h) => h.id === 'item-0')!.meta.title).toBe('moved');

    expect(await index.remove(['item-40', 'item-0', 'missing'])).toBe(2);
    expect(index.count).toBe(48);
    const after = await index.search(items[40]!.vector, { k: 48 });
    expect(after.map((h) => h.id)).not.toContain('item-40');
    expect(after.map((h) => h.id)).not.toContain('item-0');
    expect(after).toHaveLength(48);
    expect(await index.has('item-1')).toBe(true);
    expect(await index.has('item-0')).toBe(false);
  });

  it('applies a metadata filter, widening the candidates until k pass', async () => {
    const items = makeItems(400, 4);
    const index = await ImageIndex.open(new MemoryPageStore(), SETTINGS);
    await index.add(items);
    const results = await index.search(items[0]!.vector, { k: 20, candidates: 20, filter: (meta) => meta.shelf === 2 });
    expect(results).toHaveLength(20);
    expect(results.every((r) => r.meta.shelf === 2)).toBe(true);
  });

  it('reopens from its store with the same items, coder and answers', async () => {
    const store = new MemoryPageStore();
    const items = makeItems(500, 5);
    const index = await ImageIndex.open(store, SETTINGS);
    await index.add(items);
    await index.remove(['item-7']);
    const before = await index.search(items[3]!.vector, { k: 10 });
    const reopened = await ImageIndex.open(store, SETTINGS);
    expect(reopened.count).toBe(499);
    expect(reopened.coderParams).toEqual(index.coderParams);
    expect(await reopened.search(items[3]!.vector, { k: 10 })).toEqual(before);
    const ids = [];
    for await (const { meta } of reopened.items()) ids.push(meta.id);
    expect(ids).toHaveLength(499);
    expect(ids).not.toContain('item-7');
  });

  it('preloads the stored embeddings and then the metadata of every live item where they fit in its budget, after which searches read nothing', async () => {
    const store = new CountingStore();
    const items = makeItems(600, 12);
    const writer = await ImageIndex.open(store, SETTINGS);
    await writer.add(items);
    await writer.remove(['item-0', 'item-1', 'item-2', 'item-3']); // slots 0 … 3: page 0 holds no live item
    const queries = items.slice(10, 30).map((item) => item.vector);
    const expected = [];
    for (const query of queries) expected.push(await writer.search(query, { k: 10 }));
    const livePages = Math.ceil(600 / ITEMS_PER_PAGE) - 1;
    const isVectors = (key: string) => key.startsWith(VECTORS_PREFIX);

    // Room for exactly the live embedding pages, and one byte less: all are read, or none; and then no metadata page
    // fits (the one batch of them is read, and none kept: nothing is evicted for them).
    // (Sized after a preload, so that the codes count the page keys a preload makes.)
    const sizing = await ImageIndex.open(store, SETTINGS);
    await sizing.preload();
    const { codes, tables } = sizing.memoryUsage();
    const needed = livePages * cachedVectorsPageBytes(DIM, ITEMS_PER_PAGE);
    const cramped = await ImageIndex.open(store, SETTINGS, { memoryBudgetBytes: codes + tables + needed - 1 });
    store.readKeys = [];
    expect(await cramped.preload()).toEqual({ pages: 0, embeddings: false, metadata: false });
    expect(store.readKeys).toEqual([]);
    const exact = await ImageIndex.open(store, SETTINGS, { memoryBudgetBytes: codes + tables + needed });
    expect(await exact.preload()).toEqual({ pages: 2 * livePages, embeddings: true, metadata: false });
    expect(exact.memoryUsage().cache).toBe(needed); // what the cache counts is what preload planned for
    // Room for some of the metadata: it keeps what fits, and every embedding stays.
    const partly = await ImageIndex.open(store, SETTINGS, { memoryBudgetBytes: codes + tables + needed + 20_000 });
    expect(await partly.preload()).toMatchObject({ embeddings: true, metadata: false });
    expect(partly.memoryUsage().cache).toBeGreaterThan(needed);
    expect(partly.memoryUsage().cache).toBeLessThanOrEqual(needed + 20_000);
    store.readKeys = [];
    expect(await partly.preload()).toMatchObject({ embeddings: true, metadata: false }); // again: the same metadata does not fit
    expect(store.readKeys.length).toBeGreaterThan(0);
    expect(store.readKeys.filter(isVectors)).toEqual([]); // the first preload evicted none of the embeddings for it

    const roomy = await ImageIndex.open(store, SETTINGS);
    await expect(roomy.preload({ signal: AbortSignal.abort() })).rejects.toThrow(/abort/i);
    store.readKeys = [];
    await roomy.search(queries[0]!, { k: 10, candidates: 10 }); // caches its candidates' pages and its results', which a preload then leaves
    const cachedBefore = new Set(store.readKeys).size;
    expect(store.readKeys.filter(isVectors).length).toBeGreaterThan(0);
    store.readKeys = [];
    expect(await roomy.preload()).toEqual({ pages: 2 * livePages - cachedBefore, embeddings: true, metadata: true });
    expect(new Set(store.readKeys).size).toBe(2 * livePages - cachedBefore);
    store.readKeys = [];
    for (const [i, query] of queries.entries()) expect(await roomy.search(query, { k: 10 })).toEqual(expected[i]);
    expect(store.readKeys).toEqual([]);
    expect(await roomy.preload()).toEqual({ pages: 0, embeddings: true, metadata: true }); // every page is cached already
  });

  it('refuses a store built for another model or embedding size', async () => {
    const store = new MemoryPageStore();
    await (await ImageIndex.open(store, SETTINGS)).add(makeItems(5, 6));
    await expect(ImageIndex.open(store, { ...SETTINGS, modelId: 'other' })).rejects.toThrow(IndexMismatchError);
    await expect(ImageIndex.open(store, { ...SETTINGS, method: 'rmac' })).rejects.toThrow(/method "gap"/);
    // A scan thread handed to an open that fails is closed (no index owns it), as one handed to an index closes with it.
    const closed: string[] = [];
    const thread = (name: string) => new ScanThread({ postMessage() {}, terminate: () => closed.push(name) });
    await expect(ImageIndex.open(store, { ...SETTINGS, modelId: 'other' }, { scanThread: thread('refused') })).rejects.toThrow(IndexMismatchError);
    const index = await ImageIndex.open(store, SETTINGS, { scanThread: thread('opened') });
    expect(closed).toEqual(['refused']);
    await index.close();
    expect(closed).toEqual(['refused', 'opened']);
  });

  it('keeps everything already stored when storage is full', async () => {
    const store = new FailingStore();
    const items = makeItems(200, 7);
    const index = await ImageIndex.open(store, SETTINGS);
    await index.add(items.slice(0, 100));
    const before = await index.search(items[5]!.vector, { k: 10 });
    store.failAfter = 0; // 200 items double the collection: this is the retrain's commit
    await expect(index.add(items.slice(100))).rejects.toThrow(StorageFullError);
    expect(index.count).toBe(100);
    expect(await index.search(items[5]!.vector, { k: 10 })).toEqual(before);
    store.failAfter = 1; // the retrain commits, the add itself fails
    await expect(index.add(items.slice(100))).rejects.toThrow(StorageFullError);
    expect(index.count).toBe(100);
    // Retrained codes, so Hamming distances moved; the items and their cosine ranking did not.
    const ranking = (results: { id: string; score: number }[]) => results.map((r) => [r.id, r.score]);
    expect(ranking(await index.search(items[5]!.vector, { k: 10 }))).toEqual(ranking(before));
    store.failAfter = 0;
    await expect(index.remove(['item-5'])).rejects.toThrow(/Storage is full/);
    expect(await index.has('item-5')).toBe(true);
    const reopened = await ImageIndex.open(store, SETTINGS);
    expect(reopened.count).toBe(100);
    expect(ranking(await reopened.search(items[5]!.vector, { k: 10 }))).toEqual(ranking(before));
    await reopened.add(items.slice(100));
    expect(reopened.count).toBe(200);
  });

  it('trains on the items as stored: a first add and a rebuild() of the same items train the same coder and partition', async () => {
    const index = await ImageIndex.open(new MemoryPageStore(), { ...SETTINGS, partitionFrom: 100 });
    const items = makeItems(300, 21);
    await index.add(items); // trained on the incoming items, quantised as they are about to be stored
    const [coder, partition] = [index.coderParams, index.partitionParams];
    expect(partition).not.toBeNull();
    await index.rebuild(); // trained on the stored items
    expect(index.coderParams).toEqual(coder);
    expect(index.partitionParams).toEqual(partition);
    // Not trivially: the same items as floats train another coder.
    const floats = new Float32Array(300 * DIM);
    items.forEach((item, i) => floats.set(item.vector, i * DIM));
    expect(trainCoder('itq', floats, DIM, { bits: 64, seed: 1 }).mean).not.toEqual(coder!.mean);
  });

  it('retrains the coder as the collection doubles, switching to ITQ once there are more items than bits', async () => {
    const index = await ImageIndex.open(new MemoryPageStore(), { ...SETTINGS, coder: 'itq' });
    const items = makeItems(600, 8);
    await index.add(items.slice(0, 10));
    expect(index.coderParams).toMatchObject({ kind: 'lsh', trainedOn: 10 });
    await index.add(items.slice(10, 300));
    expect(index.coderParams).toMatchObject({ kind: 'itq', trainedOn: 300 });
    await index.add(items.slice(300, 400));
    expect(index.coderParams!.trainedOn).toBe(300);
    const [best] = await index.search(items[350]!.vector, { k: 1 });
    expect(best!.id).toBe('item-350');
  });

  it('retrains as the collection doubles, with PROVISIONAL_LISTS lists until it has trained at RETRAIN_UNTIL items', async () => {
    const store = new FailingStore();
    const index = await ImageIndex.open(store, SETTINGS);
    const items = makeItems(33_000, 12);
    const trainedAt = new Map<number, number | undefined>();
    const add = async (from: number, to: number) => {
      await index.add(items.slice(from, to));
      trainedAt.set(index.settings.coder!.trainedAtCount, index.settings.partition?.lists);
    };
    for (let i = 0; i < 16_000; i += 1000) await add(i, i + 1000);
    const commits = store.commits;
    await add(16_000, 33_000);
    // Partitioned from PARTITION_FROM (2048) items on; full lists once trained at 33 000, past LIST_SAMPLE: on LIST_SAMPLE
    // rows, and the coder on TRAINING_SAMPLE of them, in one retrain (its commit, then the add's).
    const few = PROVISIONAL_LISTS;
    expect([...trainedAt]).toEqual([[1000, undefined], [2000, undefined], [4000, few], [8000, few], [16000, few], [33000, PARTITION_LISTS]]);
    expect(index.coderParams!.trainedOn).toBe(TRAINING_SAMPLE); // the sample is capped; the count it was trained at is not
    expect(index.settings.partition!.trainedOn).toBe(LIST_SAMPLE);
    expect(store.commits - commits).toBe(2);
    for (const i of [0, 16_500, 32_999]) expect((await index.search(items[i]!.vector, { k: 1 }))[0]!.id).toBe(`item-${i}`);
  }, 120_000);

  it('stops retraining once it has trained at RETRAIN_UNTIL items', async () => {
    const index = await ImageIndex.open(new MemoryPageStore(), SETTINGS);
    const items = makeItems(2 * RETRAIN_UNTIL + 2, 14);
    await index.add(items.slice(0, RETRAIN_UNTIL + 1));
    expect(index.settings.partition?.lists).toBe(PARTITION_LISTS);
    await index.add(items.slice(RETRAIN_UNTIL + 1)); // doubles the collection, past LIST_SAMPLE
    expect(index.settings.coder!.trainedAtCount).toBe(RETRAIN_UNTIL + 1);
    expect(index.settings.partition!.trainedOn).toBe(LIST_SAMPLE); // the partition alone
  }, 120_000);

  it('rebuilds an emptied index with new settings, and the next add trains a coder for them', async () => {
    const store = new MemoryPageStore();
    const items = makeItems(200, 13);
    const index = await ImageIndex.open(store, SETTINGS);
    await index.add(items.slice(0, 20));
    await index.remove(items.slice(0, 20).map((item) => item.meta.id));
    await index.rebuild({ bits: 128 });
    expect(index.coderParams).toBeNull();
    await index.add(items.slice(20));
    expect(index.coderParams).toMatchObject({ bits: 128 });
    const reopened = await ImageIndex.open(store, SETTINGS);
    expect(reopened.count).toBe(180);
    expect((await reopened.search(items[150]!.vector, { k: 1 }))[0]!.id).toBe('item-150');
  });

  it('searches and lookups running during an add never leave stale pages behind', async () => {
    const store = new SlowReadStore();
    const items = makeItems(40, 14);
    const index = await ImageIndex.open(store, SETTINGS);
    await index.add(items.slice(0, 10));
    const reopened = await ImageIndex.open(store, SETTINGS); // its id map is not loaded yet
    await Promise.all([
      reopened.search(items[0]!.vector, { k: 5 }),
      reopened.add(items.slice(10, 15)),
      reopened.has('item-12'),
      reopened.search(items[1]!.vector, { k: 5 }),
    ]);
    await reopened.add(items.slice(15, 18));
    await reopened.add([{ ...items[12]!, meta: { ...items[12]!.meta, title: 'again' } }]); // replaces, must not duplicate
    const final = await ImageIndex.open(store, SETTINGS);
    expect(final.count).toBe(18);
    const ids = [];
    for await (const { meta } of final.items()) ids.push(meta.id);
    expect(new Set(ids).size).toBe(18);
    expect((await final.search(items[12]!.vector, { k: 1 }))[0]!.meta.title).toBe('again');
  });

  it('rebuilds with another code length and coder', async () => {
    const items = makeItems(400, 9);
    const index = await ImageIndex.open(new MemoryPageStore(), SETTINGS);
    await index.add(items);
    await index.rebuild({ bits: 128, coder: 'lsh' });
    expect(index.coderParams).toMatchObject({ kind: 'lsh', bits: 128 });
    expect(index.encode(items[0]!.vector)).toHaveLength(4);
    const [best] = await index.search(items[123]!.vector, { k: 1 });
    expect(best!.id).toBe("item-123");
  });

  it('uses multi-index hashing beyond the linear-scan size and finds the same items', async () => {
    const items = makeItems(LINEAR_SCAN_BELOW + 500, 10);
    const index = await ImageIndex.open(new MemoryPageStore(), { ...SETTINGS, partitionFrom: null });
    for (let i = 0; i < items.length; i += 5000) await index.add(items.slice(i, i + 5000));
    await index.search(items[0]!.vector); // answered by a scan; the tables are built right after
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(index.memoryUsage().tables).toBeGreaterThan(0);
    for (const i of [0, 777, LINEAR_SCAN_BELOW + 499]) {
      const [best] = await index.search(items[i]!.vector, { k: 1 });
      expect(best!.id).toBe(`item-${i}`);
    }
  }, 60_000);

  describe('partitioned (from partitionFrom items on)', () => {
    const PARTITIONED = { ...SETTINGS, dim: DIM, partitionFrom: 3000 } as const;
    const items = makeItems(4000, 21);
    const queries = makeItems(40, 77, 'query');

    async function recallOf(index: ImageIndex, pool: readonly NewItem[], options = {}): Promise<number> {
      let overlap = 0;
      for (const q of queries) {
        const got = new Set((await index.search(q.vector, { k: 10, ...options })).map((r) => r.id));
        overlap += exactTop(pool, q.vector, 10).filter((id) => got.has(id)).length;
      }
      return overlap / (queries.length * 10);
    }

    it('projects queries from the coder\'s W·q where the coder shares the partition\'s PCA, and finds what projecting them alone finds', async () => {
      // ITQ of as many bits as the sketches have dimensions (96) shares the partition's PCA; of 64 bits it has its own.
      // The partition is the same in both (one sample, one seed), so each query finds the same items with the same cosines.
      const built = async (bits: number) => {
        const index = await ImageIndex.open(new MemoryPageStore(), { ...PARTITIONED, bits });
        await index.add(items);
        return index;
      };
      const [shared, own] = [await built(96), await built(64)];
      expect(shared.partitionParams).toEqual(own.partitionParams);
      expect(shared.memoryUsage().tables - own.memoryUsage().tables).toBeGreaterThan(96 * 96 * 4); // the kept R (96 × 96)
      for (const q of queries) {
        const [viaCoder, alone] = [await shared.search(q.vector, { k: 10 }), await own.search(q.vector, { k: 10 })];
        expect(viaCoder.map((r) => [r.id, r.score])).toEqual(alone.map((r) => [r.id, r.score]));
      }
    });

    it('trains a partition with its coder, scans sketches of the nearest lists and re-ranks them by cosine', async () => {
      const store = new CountingStore();
      const index = await ImageIndex.open(store, PARTITIONED, { memoryBudgetBytes: 0 }); // no cache: every re-rank reads
      await index.add(items.slice(0, 2000));
      expect(index.settings.partition).toBeNull();
      await index.add(items.slice(2000));
      expect(index.settings.partition).toEqual({ lists: PROVISIONAL_LISTS, dims: Math.min(SKETCH_DIMS, DIM), sketch: 'int4', trainedOn: 4000 });
      // Probing every sketch and re-ranking enough candidates finds the exact top 10; fewer lists find fewer.
      expect(await recallOf(index, items, { probe: 4000, candidates: 200 })).toBeGreaterThan(0.97);
      const few = await recallOf(index, items, { probe: 200, candidates: 50 });
      expect(few).toBeLessThan(await recallOf(index, items, { probe: 1500, candidates: 50 }));
      for (const item of items.slice(0, 20)) expect((await index.search(item.vector, { k: 1 }))[0]!.id).toBe(item.meta.id);
      // Re-ranking the best 40 first, and the rest only when they could still make the top 10, finds what re-ranking all does.
      let same = 0;
      let [allReads, settledReads] = [0, 0];
      for (const q of queries) {
        store.reads = 0;
        const all = new Set((await index.search(q.vector, { candidates: 200, exhaustive: true })).map((r) => r.id));
        allReads += store.reads;
        store.reads = 0;
        same += (await index.search(q.vector, { candidates: 200 })).filter((r) => all.has(r.id)).length;
        settledReads += store.reads;
      }
      expect(same / (queries.length * 10)).toBeGreaterThan(0.98);
      // (It read 0.31 of what re-ranking all did here; with twice the largest error as its bound, 0.83.)
      expect(settledReads).toBeLessThan(allReads * 0.5);
      expect(index.memoryUsage().tables).toBeGreaterThan(4000 * sketchBytes(Math.min(SKETCH_DIMS, DIM), 'int4'));
    }, 60_000);

    it('scores sketches by their heads first, then the best `shortlist` whole: as good as scoring all whole', async () => {
      const index = await ImageIndex.open(new MemoryPageStore(), PARTITIONED);
      await index.add(items);
      const wholeOnly = { probe: 4000, shortlist: 4000, candidates: 100 }; // the shortlist covers the probe: one pass
      // 64 head components of 96 rank well enough that the best 200 of 4000 (few enough for two passes) hold what the whole scores find.
      expect(HEAD_PASS_RATIO * 200).toBeLessThanOrEqual(4000);
      const whole = await recallOf(index, items, wholeOnly);
      expect(await recallOf(index, items, { ...wholeOnly, shortlist: 200 })).toBeGreaterThan(whole - 0.05);
      // (tests/unit/inverted-lists.test.ts checks what the two passes keep exactly.)
    }, 60_000);

    it('files added items, drops removed ones, and reopens with the same answers', async () => {
      const store = new MemoryPageStore();
      const index = await ImageIndex.open(store, PARTITIONED);
      await index.add(items.slice(0, 3500));
      await index.add(items.slice(3500));
      await index.remove(['item-5', 'item-3600']);
      // Adding an id again replaces the item: a search finds it where its new embedding is, not where the old one was.
      const moved = { meta: items[42]!.meta, vector: items[43]!.vector };
      await index.add([moved]);
      expect((await index.search(items[42]!.vector, { k: 3, probe: 4000 })).map((r) => r.id)).not.toContain('item-42');
      expect((await index.search(items[43]!.vector, { k: 2 })).map((r) => r.id).sort()).toEqual(['item-42', 'item-43']);
      const pool = items.filter((item) => item.meta.id !== 'item-5' && item.meta.id !== 'item-3600');
      for (const i of [3700, 3999]) expect((await index.search(items[i]!.vector, { k: 1 }))[0]!.id).toBe(`item-${i}`);
      for (const i of [5, 3600]) expect((await index.search(items[i]!.vector, { k: 5, probe: 4000 })).map((r) => r.id)).not.toContain(`item-${i}`);
      // Reopening lays the sketches out by list; the answers stay the same.
      const reopened = await ImageIndex.open(store, PARTITIONED);
      expect(reopened.settings.partition).toEqual(index.settings.partition);
      for (const q of queries.slice(0, 10)) expect(await reopened.search(q.vector)).toEqual(await index.search(q.vector));
      expect(await recallOf(reopened, pool, { probe: 4000, candidates: 200 })).toBeGreaterThan(0.97);
      // So does adding enough to re-lay them in place.
      const more = makeItems(1200, 22, 'more');
      await reopened.add(more);
      for (const item of [more[0]!, more[1199]!, items[3999]!]) expect((await reopened.search(item.vector, { k: 1 }))[0]!.id).toBe(item.meta.id);
      expect((await reopened.search(items[5]!.vector, { k: 5, probe: 6000 })).map((r) => r.id)).not.toContain('item-5');
    }, 60_000);

    it('is trained, with full lists, when a pack of RETRAIN_UNTIL or more items without one is imported, keeping the pack\'s coder; a smaller one waits', async () => {
      const large = makeItems(RETRAIN_UNTIL, 23);
      const source = await ImageIndex.open(new MemoryPageStore(), { ...SETTINGS, partitionFrom: null });
      for (let i = 0; i < large.length; i += 8192) await source.add(large.slice(i, i + 8192));
      expect(source.settings.partition).toBeNull();
      const copy = await ImageIndex.fromPack(new MemoryPageStore(), await source.toPack());
      expect(copy.coderParams).toEqual(source.coderParams);
      expect(copy.settings.partition?.lists).toBe(PARTITION_LISTS);
      for (const i of [0, 9999, RETRAIN_UNTIL - 1]) expect((await copy.search(large[i]!.vector, { k: 1 }))[0]!.id).toBe(`item-${i}`);
      // Below RETRAIN_UNTIL (opening an old pack to search it, as the CLI does, stays quick): trained when it grows.
      await source.remove(large.slice(PARTITION_FROM).map((item) => item.meta.id));
      expect((await ImageIndex.fromPack(new MemoryPageStore(), await source.toPack())).settings.partition).toBeNull();
    }, 120_000);

    it('trains its partition again on LIST_SAMPLE items once there are that many; a full disk leaves the old one, and the add goes on', async () => {
      const store = new FailingStore();
      const index = await ImageIndex.open(store, SETTINGS);
      const items = makeItems(LIST_SAMPLE + 100, 27);
      await index.add(items.slice(0, RETRAIN_UNTIL)); // coder and full lists, trained on TRAINING_SAMPLE items
      const first = index.settings.partition!;
      expect(first).toMatchObject({ lists: PARTITION_LISTS, trainedOn: TRAINING_SAMPLE });
      const coder = index.coderParams;
      await index.add(items.slice(RETRAIN_UNTIL, LIST_SAMPLE - 1));
      expect(index.settings.partition).toEqual(first); // one item short
      const firstParams = index.partitionParams;
      const queries = items.slice(0, 3000).filter((_, i) => i % 300 === 0);

      // The retrain's commit fails: the add goes on with the lists it had.
      const late = items.slice(LIST_SAMPLE - 1, LIST_SAMPLE + 50);
      store.failAfter = 0;
      await index.add(late);
      expect(index.settings.partition).toEqual(first);
      expect(index.partitionParams).toEqual(firstParams);
      expect(index.count).toBe(LIST_SAMPLE + 50);
      for (const item of [late[0]!, late[50]!]) expect((await index.search(item.vector, { k: 1 }))[0]!.id).toBe(item.meta.id);
      expect((await ImageIndex.open(store, SETTINGS)).partitionParams).toEqual(firstParams);

      // The next add trains it.
      await index.add(items.slice(LIST_SAMPLE + 50));
      expect(index.settings.partition).toEqual({ ...first, trainedOn: LIST_SAMPLE });
      expect(index.partitionParams!.centroids).not.toEqual(firstParams!.centroids);
      expect(index.coderParams).toEqual(coder);
      for (const i of [0, 20_000, items.length - 1]) expect((await index.search(items[i]!.vector, { k: 1 }))[0]!.id).toBe(`item-${i}`);
      // Stored: a reopened index has the new partition and answers the same; it is not trained again.
      const reopened = await ImageIndex.open(store, SETTINGS);
      expect(reopened.partitionParams).toEqual(index.partitionParams);
      for (const q of queries) expect(await reopened.search(q.vector)).toEqual(await index.search(q.vector));
      await reopened.add(makeItems(10, 28, 'more'));
      expect(reopened.partitionParams).toEqual(index.partitionParams);
      // A rebuild (as the CLI's last step) trains the coder and the partition on LIST_SAMPLE items again, in one commit.
      const commits = store.commits;
      await reopened.rebuild();
      expect(store.commits - commits).toBe(1);
      expect(reopened.settings.partition!.trainedOn).toBe(LIST_SAMPLE);
      expect(reopened.coderParams!.trainedOn).toBe(TRAINING_SAMPLE);
      expect(reopened.partitionParams!.centroids).not.toEqual(index.partitionParams!.centroids);
      for (const i of [0, 20_000, items.length - 1]) expect((await reopened.search(items[i]!.vector, { k: 1 }))[0]!.id).toBe(`item-${i}`);
    }, 180_000);

    it('gives a provisional partition that came with a pack its full lists on the next add', async () => {
      const items = makeItems(16_400, 24);
      const source = await ImageIndex.open(new MemoryPageStore(), SETTINGS);
      for (let i = 0; i < 16_000; i += 4000) await source.add(items.slice(i, i + 4000)); // last trained at 16 000: provisional
      await source.add(items.slice(16_000));
      expect(source.settings.partition?.lists).toBe(PROVISIONAL_LISTS);
      const pack = await source.toPack();
      // Shrunk below RETRAIN_UNTIL, it keeps the partition it came with (a new one would be provisional too).
      const shrunk = await ImageIndex.fromPack(new MemoryPageStore(), pack);
      await shrunk.remove(items.slice(0, 10_000).map((item) => item.meta.id));
      await shrunk.add(makeItems(1, 26, 'more'));
      expect(shrunk.settings.partition).toEqual(source.settings.partition);
      const copy = await ImageIndex.fromPack(new MemoryPageStore(), pack); // its coder counts as trained at 16 400
      expect(copy.settings.partition?.lists).toBe(PROVISIONAL_LISTS);
      await copy.add(makeItems(1, 25, 'more'));
      expect(copy.settings.partition?.lists).toBe(PARTITION_LISTS);
      expect(copy.coderParams).toEqual(source.coderParams);
      expect((await copy.search(items[123]!.vector, { k: 1 }))[0]!.id).toBe('item-123');
    }, 120_000);

    it('travels in packs: the copy keeps the partition and sketches, and answers the same', async () => {
      const index = await ImageIndex.open(new MemoryPageStore(), PARTITIONED);
      await index.add(items);
      await index.remove(['item-10']);
      const pack = await index.toPack();
      expect(pack.header.partition).toEqual(index.settings.partition);
      expect(pack.partition!.lists).toHaveLength(3999);
      const copy = await ImageIndex.fromPack(new MemoryPageStore(), pack);
      expect(copy.settings.partition).toEqual(index.settings.partition);
      for (const q of queries.slice(0, 10)) expect((await copy.search(q.vector)).map((r) => r.id)).toEqual((await index.search(q.vector)).map((r) => r.id));
      expect(await copy.toPack()).toEqual(pack);
    }, 60_000);

    it('keeps codes, sketches and cache within the memory budget, wide scans and compactions included', async () => {
      const late = makeItems(1500, 31, 'late'); // enough to re-lay the sketches
      const sizing = await ImageIndex.open(new MemoryPageStore(), PARTITIONED);
      await sizing.add(items);
      await sizing.add(late);
      const { codes, tables } = sizing.memoryUsage();
      const budget = codes + tables + 200_000; // room for some of the items' pages, not all
      const index = await ImageIndex.open(new MemoryPageStore(), PARTITIONED, { memoryBudgetBytes: budget });
      await index.add(items);
      await index.add(late);
      for (const q of queries) {
        await index.search(q.vector, { probe: 6000, candidates: 200 });
        expect(index.memoryUsage().total).toBeLessThanOrEqual(budget);
      }
      expect(index.memoryUsage().cache).toBeGreaterThan(100_000);
    }, 60_000);

    it('is dropped by clear', async () => {
      const index = await ImageIndex.open(new MemoryPageStore(), PARTITIONED);
      await index.add(items);
      await index.clear();
      expect(index.settings.partition).toBeNull();
      expect(await index.search(items[0]!.vector)).toEqual([]);
    }, 60_000);

    it('imports a 1.1 pack and opens a format-3 store, whose sketches are int8, as they are', async () => {
      const index = await ImageIndex.open(new MemoryPageStore(), PARTITIONED);
      await index.add(items);
      const pack = await index.toPack();
      // The same partition with int8 sketches and no spread, as format 1.1 and storage format 3 had them.
      const params = { ...index.partitionParams!, sketch: 'int8' as const, spread: new Float32Array(index.partitionParams!.dims).fill(1) };
      const partition = new Partition(params);
      const int8 = new SketchArray(params.dims, 'int8', items.length);
      const projected = new Float32Array(params.dims);
      const scales = Float32Array.from(pack.metas, (meta, i) => {
        partition.projectCentred(items.find((item) => item.meta.id === meta.id)!.vector, projected);
        return int8.encode(projected, i);
      });
      const oldPack = {
        ...pack,
        header: { ...pack.header, partition: { ...pack.header.partition!, sketch: 'int8' as const } },
        partition: { ...pack.partition!, spread: params.spread, scales, sketches: Int8Array.from(pack.metas.flatMap((_, i) => Array.from(int8.sketch(i)))) },
      };
      // Written and read as bytes: still format 1.1, int8 sketches under "sketches", no spread section.
      const reader = await openPack(blobSource(new Blob(encodePack(oldPack))));
      expect(reader.version).toEqual({ major: 1, minor: 1 });
      expect(reader.sections.map((s) => s.name)).not.toContain(SECTION.partitionSpread);
      const store = new MemoryPageStore();
      const imported = await ImageIndex.fromPack(store, await reader.readContents());
      expect(imported.settings.partition?.sketch).toBe('int8');
      expect(await recallOf(imported, items, { probe: 4000, candidates: 200 })).toBeGreaterThan(0.97);
      // Storage format 3: no "sketch" in the manifest's partition, no spread in the partition record.
      const { sketch: _s, ...format3Partition } = imported.settings.partition!;
      const record = encodePartition(params);
      await store.commit(new Map([
        [MANIFEST_KEY, encodeJson({ ...imported.settings, format: 3, partition: format3Partition })],
        [PARTITION_KEY, record.subarray(0, record.byteLength - 4 * params.dims)],
      ]));
      const reopened = await ImageIndex.open(store, PARTITIONED);
      expect(reopened.settings.partition).toEqual(imported.settings.partition);
      for (const q of queries.slice(0, 10)) expect(await reopened.search(q.vector)).toEqual(await imported.search(q.vector));
      // Its next commit writes the current format, which opens again.
      await reopened.remove(['item-3']);
      const again = await ImageIndex.open(store, PARTITIONED);
      expect((await again.search(items[4]!.vector, { k: 1 }))[0]!.id).toBe('item-4');
    }, 60_000);

    it('opens an index of storage format 2 (no partition) as it is', async () => {
      const store = new MemoryPageStore();
      const index = await ImageIndex.open(store, { ...SETTINGS, itemsPerPage: 16 }); // format 2's page size
      await index.add(items.slice(0, 300));
      const { partition: _p, partitionFrom: _f, itemsPerPage: _i, ...format2 } = index.settings;
      await store.commit(new Map([[MANIFEST_KEY, encodeJson({ ...format2, format: 2 })]]));
      const reopened = await ImageIndex.open(store, SETTINGS);
      expect(reopened.settings.partition).toBeNull();
      expect((await reopened.search(items[7]!.vector, { k: 1 }))[0]!.id).toBe('item-7');
    });
  });

  it('round-trips through pack contents', async () => {
    const items = makeItems(300, 11);
    const index = await ImageIndex.open(new MemoryPageStore(), SETTINGS);
    await index.add(items);
    await index.remove(['item-2']);
    const pack = await index.toPack();
    expect(pack.header.count).toBe(299);
    const copy = await ImageIndex.fromPack(new MemoryPageStore(), pack);
    expect(copy.coderParams).toEqual(index.coderParams);
    expect(await copy.search(items[9]!.vector, { k: 10 })).toEqual(await index.search(items[9]!.vector, { k: 10 }));
    expect(await copy.toPack()).toEqual(pack);
  });

  it('rejects malformed items and queries with clear errors', async () => {
    const store = new MemoryPageStore();
    const index = await ImageIndex.open(store, SETTINGS);
    await expect(index.add([{ meta: { id: '' }, vector: new Float32Array(DIM).fill(1) }])).rejects.toThrow(/non-empty string id/);
    await expect(index.add([{ meta: { id: 'a' }, vector: new Float32Array(3) }])).rejects.toThrow(/96 dimensions/);
    await expect(index.add([{ meta: { id: 'a' }, vector: new Float32Array(DIM).fill(NaN) }])).rejects.toThrow(/non-finite/);
    expect(await index.search(new Float32Array(DIM).fill(1))).toEqual([]);
    expect(index.count).toBe(0);
    await expect(index.search(new Float32Array(DIM))).rejects.toThrow(/zero embedding/);
    // A zero vector in an add that would retrain: refused before the retrain commits anything.
    const items = makeItems(40, 3);
    await index.add(items.slice(0, 20));
    const coder = index.coderParams;
    await expect(index.add([...items.slice(20), { meta: { id: 'zero' }, vector: new Float32Array(DIM) }])).rejects.toThrow(/"zero" has a zero embedding/);
    expect(index.count).toBe(20);
    expect(index.coderParams).toEqual(coder);
    expect((await ImageIndex.open(store, SETTINGS)).coderParams).toEqual(coder);
  });
});
