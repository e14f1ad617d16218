/**
 * The index engine on the app's browser store (IndexedDB, vectors and metadata mirrored in
 * OPFS), driven from browser tests: builds, checks and exports indexes of
 * seeded synthetic items (tests/index-data.ts), so Node can build the very same
 * ones to compare with. It runs in a worker of the harness page
 * (index-worker.ts), as the app's library does.
 */
import { startScanThread } from '../../src/browser/scan-thread.ts';
import { IdbPageStore } from '../../src/browser/store/idb-store.ts';
import { deleteOrphanMirrors, mirrorNames, openIndexStore } from '../../src/browser/store/index-store.ts';
import type { CoderKind } from '../../src/core/codes/coder.ts';
import { seededRandom } from '../../src/core/codes/random.ts';
import { ImageIndex, type IndexSettings } from '../../src/core/index/image-index.ts';
import { SketchArray, THREAD_SCAN_MIN } from '../../src/core/index/sketch-kernel.ts';
import { decodeJson, MANIFEST_KEY, META_PREFIX, metaKey, VECTORS_PREFIX, vectorsKey, type Manifest } from '../../src/core/index/pages.ts';
import { openPack } from '../../src/core/pack/read.ts';
import { blobSource, bytesSource } from '../../src/core/pack/range-source.ts';
import { encodePack } from '../../src/core/pack/write.ts';
import { MirroredPageStore } from '../../src/core/store/mirrored-page-store.ts';
import type { PageStore } from '../../src/core/store/page-store.ts';
import { syntheticItems } from '../index-data.ts';

export interface BuildPlan {
  readonly count: number;
  readonly seed: number;
  readonly batch: number;
  /** Default ITQ; LSH trains in milliseconds where a test is about storage, not codes. */
  readonly coder?: CoderKind;
  /** When a new index gets its partition (the engine's default otherwise). */
  readonly partitionFrom?: number;
}

export const INDEX_SETTINGS: IndexSettings = { modelId: 'test', method: 'gap', dim: 768, bits: 256 };

/** Commits made by the running `build`, for a test to watch before it kills the tab. */
let committedBatches = 0;

/** Opens (or creates, with `coder`) the index `name` on its store (as `wrap` returns it), runs `use`, closes it. */
async function withIndex<T>(name: string, plan: Pick<BuildPlan, 'coder' | 'partitionFrom'>, use: (index: ImageIndex, store: PageStore) => Promise<T>,
  wrap = (store: PageStore) => store): Promise<T> {
  const settings: IndexSettings = { ...INDEX_SETTINGS, coder: plan.coder ?? 'itq', ...(plan.partitionFrom ? { partitionFrom: plan.partitionFrom } : {}) };
  const store = wrap(await openIndexStore(name));
  const index = await ImageIndex.open(store, settings);
  try {
    return await use(index, store);
  } finally {
    await index.close();
  }
}

export const indexHarness = {
  /** Adds the plan's items not yet present, one atomic batch at a time; resolves with the final count. */
  build(name: string, plan: BuildPlan): Promise<number> {
    return withIndex(name, plan, async (index) => {
      const items = syntheticItems(plan.count, plan.seed, INDEX_SETTINGS.dim);
      const missing = [];
      for (const item of items) if (!(await index.has(item.meta.id))) missing.push(item);
      for (let i = 0; i < missing.length; i += plan.batch) {
        await index.add(missing.slice(i, i + plan.batch));
        committedBatches++;
      }
      return index.count;
    });
  },

  committedBatches: () => committedBatches,

  /**
   * What a reopened index holds: its count, its ids in order, how many of them find themselves
   * first, how many vectors and meta pages its store answered from the OPFS mirrors' copies (-1: no
   * mirror), and how many of the mirrored pages differ from IndexedDB's.
   */
  inspect(name: string, plan: BuildPlan): Promise<{ count: number; ids: string[]; selfFound: number; partitioned: boolean; readsFromCopies: { vectors: number; meta: number }; staleCopies: number }> {
    return withIndex(name, plan, async (index, store) => {
      const ids: string[] = [];
      for await (const { meta } of index.items()) ids.push(meta.id);
      const items = syntheticItems(plan.count, plan.seed, INDEX_SETTINGS.dim);
      let selfFound = 0;
      for (const id of ids.filter((_, i) => i % 25 === 0)) {
        const item = items.find((it) => it.meta.id === id)!;
        if ((await index.search(item.vector, { k: 1 }))[0]?.id === id) selfFound++;
      }
      const readsFrom = (prefix: string) => (store instanceof MirroredPageStore ? store.mirrorOf(prefix)?.readsFromCopies : undefined) ?? -1;
      const readsFromCopies = { vectors: readsFrom(VECTORS_PREFIX), meta: readsFrom(META_PREFIX) };
      return { count: index.count, ids, selfFound, partitioned: index.settings.partition !== null, readsFromCopies, staleCopies: await staleCopies(name, store) };
    });
  },

  /**
   * Reopens the index, preloads it, and searches with every 25th item: the pages preloaded and whether that was all
   * the embeddings and metadata, how many of those items find themselves first, and how many pages the searches read
   * from storage.
   */
  preloaded(name: string, plan: BuildPlan): Promise<{ pages: number; embeddings: boolean; metadata: boolean; selfFound: number; reads: number }> {
    let reads = 0;
    const counting = (store: PageStore): PageStore => ({
      get: (key) => {
        reads++;
        return store.get(key);
      },
      getMany: (keys) => {
        reads += keys.length;
        return store.getMany(keys);
      },
      commit: (writes) => store.commit(writes),
      clear: () => store.clear(),
      close: () => store.close(),
      readsLocally: (key) => store.readsLocally?.(key) ?? false,
    });
    return withIndex(name, plan, async (index) => {
      const { pages, embeddings, metadata } = await index.preload();
      reads = 0;
      const items = syntheticItems(plan.count, plan.seed, INDEX_SETTINGS.dim);
      let selfFound = 0;
      for (const item of items.filter((_, i) => i % 25 === 0)) if ((await index.search(item.vector, { k: 1 }))[0]?.id === item.meta.id) selfFound++;
      return { pages, embeddings, metadata, selfFound, reads };
    }, counting);
  },

  /** The index as a pack file, base64-encoded for the trip to Node. */
  exportPack(name: string): Promise<string> {
    return withIndex(name, {}, async (index) => {
      const bytes = new Uint8Array(await new Blob(encodePack(await index.toPack())).arrayBuffer());
      let binary = '';
      for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(binary);
    });
  },

  /** Imports a base64 pack into an empty index and answers a search with item `queryIndex`'s vector. */
  async importPack(name: string, base64: string, plan: BuildPlan, queryIndex: number): Promise<{ count: number; top: string[] }> {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const contents = await (await openPack(blobSource(new Blob([bytes])))).readContents();
    const index = await ImageIndex.fromPack(await openIndexStore(name), contents);
    try {
      const query = syntheticItems(plan.count, plan.seed, INDEX_SETTINGS.dim)[queryIndex]!.vector;
      return { count: index.count, top: (await index.search(query, { k: 3 })).map((r) => r.id) };
    } finally {
      await index.close();
    }
  },

  /**
   * Leaves `orphan`'s mirror behind its deleted database (as a mirror held while its library
   * was deleted would be), sweeps, and lists the mirror folders before and after.
   */
  async sweepOrphanMirror(orphan: string, kept: string): Promise<{ before: string[]; after: string[] }> {
    for (const name of [orphan, kept]) await (await openIndexStore(name)).close();
    await IdbPageStore.delete(orphan);
    const before = await mirrorNames();
    await deleteOrphanMirrors();
    return { before, after: await mirrorNames() };
  },

  /**
   * Which kernel scores int4 sketches here, and whether its scores over random sketches equal those of the plain
   * SIMD kernel and of plain JavaScript (heads alone and whole, after the arrays grew).
   */
  async sketchKernels(): Promise<{ relaxed: boolean; sameScores: boolean; threadChunks: number }> {
    const random = seededRandom(5);
    const [dims, count] = [256, THREAD_SCAN_MIN + 1000];
    // The app's scan thread (a worker of its own, the sketches in shared memory), then the relaxed kernel alone, the plain one, plain JavaScript.
    const thread = startScanThread(2); // (the app's default asks for more cores than this host has)
    if (!thread) throw new Error('No scan thread here: the harness is cross-origin isolated, in a worker, on more than one core.');
    const options = [{ thread }, {}, { relaxed: false }, { simd: false }];
    // Made small and grown, so that the thread's shared memory grows after it is attached.
    const arrays = options.map((option) => new SketchArray(dims, 'int4', 8, option));
    for (const sketches of arrays) sketches.reserve(count);
    for (let i = 0; i < count; i++) {
      const row = Float32Array.from({ length: dims }, () => random() * 2 - 1);
      for (const sketches of arrays) sketches.encode(row, i);
    }
    const query = Float32Array.from({ length: dims }, () => random() * 2 - 1);
    const slots = Uint32Array.from({ length: THREAD_SCAN_MIN + 1 }, () => Math.floor(random() * count));
    for (const sketches of arrays) sketches.setQuery(query);
    try {
      // The thread takes chunks once its worker has started and has the array.
      for (let tries = 0; thread.chunks === 0 && tries < 500; tries++) {
        for (let i = 0; i < 10; i++) arrays[0]!.scan(true, slots, slots.length);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      let sameScores = true;
      for (const whole of [true, false]) {
        const scores = arrays.map((sketches) => sketches.scan(whole, slots, slots.length).slice());
        sameScores &&= scores.every((s) => s.every((score, i) => score === scores[3]![i]));
      }
      return { relaxed: arrays[1]!.relaxed, sameScores, threadChunks: thread.chunks };
    } finally {
      thread.close();
    }
  },

  /** Rejects a damaged pack with the pack reader's error. */
  async readPackError(base64: string): Promise<string> {
    try {
      await (await openPack(bytesSource(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))))).readContents();
      return 'read without error';
    } catch (err) {
      return `${(err as Error).name}: ${(err as Error).message}`;
    }
  },
};

export type IndexHarness = typeof indexHarness;

/** Vectors and meta pages that `store` (through its mirrors) and a plain IndexedDB connection read differently. */
async function staleCopies(name: string, store: PageStore): Promise<number> {
  const manifest = decodeJson<Manifest>((await store.get(MANIFEST_KEY))!);
  const keys = Array.from({ length: Math.ceil(manifest.slotCount / manifest.itemsPerPage) }, (_, page) => [vectorsKey(page), metaKey(page)]).flat();
  const raw = await IdbPageStore.open(name);
  try {
    const [mirrored, stored] = await Promise.all([store.getMany(keys), raw.getMany(keys)]);
    return keys.filter((_, i) => mirrored[i]?.join() !== stored[i]?.join()).length;
  } finally {
    await raw.close();
  }
}
