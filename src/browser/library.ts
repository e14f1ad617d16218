/**
 * The app's library, run in a worker (workers/library.worker.ts): the image
 * index on IndexedDB plus a thumbnail per item. Thumbnails are written before
 * the index commit that adds their items, and thumbnails without an item are
 * dropped on open, so a tab killed at any point reopens consistent.
 */
import { deleteDB, openDB, type DBSchema, type IDBPDatabase } from 'idb';
// The worker, not the page, names the method: embedder.ts brings TF.js with it, which the page must not load.
import { EMBEDDING_METHOD } from '../core/embed/embedder.ts';
import { sniffImage } from '../core/image/sniff.ts';
import { ImageIndex, type IndexSettings } from '../core/index/image-index.ts';
import type { ItemMeta } from '../core/items.ts';
import { PackError, type PackErrorCode } from '../core/pack/format.ts';
import { openPack } from '../core/pack/read.ts';
import { blobSource } from '../core/pack/range-source.ts';
import { encodePack } from '../core/pack/write.ts';
import { searchOriginalFirst } from '../core/search/original-first.ts';
import { StorageFullError } from '../core/store/page-store.ts';
import { commitAtomically } from './idb.ts';
import { PAGE_STORE_DB_PREFIX } from './store/idb-store.ts';
import { startScanThread } from './scan-thread.ts';
import { deleteMirror, deleteOrphanMirrors, openIndexStore } from './store/index-store.ts';

/** The thumbnails' database name prefix (the index's is IdbPageStore's PAGE_STORE_DB_PREFIX). */
const THUMBS_DB = 'lookalike-thumbs:';

/** Longest side of a stored thumbnail, in pixels. */
export const THUMB_SIZE = 320;
/** Thumbnails kept in memory (about 15 KB each, so some 30 MB at most). */
const THUMB_CACHE_ITEMS = 2000;

/** A type, not an interface, so that it is also index metadata (`ItemMeta`). */
export type LibraryItem = {
  readonly id: string;
  readonly file: string;
  /** Upright pixel size of the original; 0 when unknown (an imported pack may leave it out: `ItemMeta` makes it optional). */
  readonly width: number;
  readonly height: number;
};

export interface Match extends LibraryItem {
  /** Cosine similarity to the query. */
  readonly score: number;
  /** The largest of two or more copies of the query's picture (it comes first). */
  readonly original: boolean;
}

/** What adding a file would do: add it, skip it as already present, or reject it. */
export type Triage =
  | { readonly status: 'new'; readonly id: string }
  | { readonly status: 'present'; readonly id: string }
  | { readonly status: 'invalid'; readonly error: string };

export interface NewImage {
  readonly id: string;
  readonly file: string;
  readonly image: Blob;
  readonly embedding: Float32Array;
}

export interface AddOutcome {
  readonly added: LibraryItem[];
  readonly failed: { readonly file: string; readonly error: string }[];
}

export type ImportOutcome =
  | { readonly ok: true; readonly added: number; readonly present: number }
  | { readonly ok: false; readonly reason: PackErrorCode | 'model' | 'storage-full'; readonly detail: string };

/** A pair of items at least as similar as the threshold asked for: indexes into `items`, and their cosine. */
export type SimilarPair = readonly [number, number, number];

interface ThumbRow { readonly bytes: ArrayBuffer; readonly type: string }

interface ThumbSchema extends DBSchema {
  thumbs: { key: string; value: ThumbRow };
}

export class Library {
  private index: ImageIndex | null = null;
  private thumbs: IDBPDatabase<ThumbSchema> | null = null;
  /** Recently shown thumbnails, so a search does not wait on an IndexedDB read for each result. */
  private readonly thumbCache = new Map<string, Blob>();
  private settings: IndexSettings | null = null;

  /**
   * Opens the library of one model, with the current embedding method and
   * `dim`-long embeddings (libraries of different ones cannot be compared, so
   * each gets its own databases), and drops thumbnails left without an item by
   * a tab that died mid-add.
   *
   * First it takes the library's lock for the worker's lifetime: each worker
   * keeps the index state in memory, so two tabs writing one library would
   * overwrite each other's items. While another tab or window holds it,
   * `onWaiting` is called and this waits, touching nothing, until that one closes.
   */
  async open(modelId: string, dim: number, onWaiting: () => void): Promise<number> {
    const settings: IndexSettings = { modelId, method: EMBEDDING_METHOD, dim };
    const name = libraryName(settings);
    const lock = PAGE_STORE_DB_PREFIX + name; // named after the index's database
    if (!(await holdLock(lock, { ifAvailable: true }))) {
      onWaiting();
      await holdLock(lock, {});
    }
    this.settings = settings;
    this.index = await ImageIndex.open(await openIndexStore(name), settings, { scanThread: startScanThread() });
    // Leftovers of deleted libraries: nothing waits for their removal, and a failure leaves them for the next open.
    deleteOrphanMirrors().catch(() => {});
    this.thumbs = await openDB<ThumbSchema>(THUMBS_DB + name, 1, {
      upgrade: (db) => { db.createObjectStore('thumbs'); },
    });
    const live = new Set((await this.list()).map((item) => item.id));
    const orphans = (await this.thumbs.getAllKeys('thumbs')).filter((id) => !live.has(id));
    if (orphans.length) await this.deleteThumbs(orphans);
    // Where the library's embeddings and metadata fit the memory budget, searches then read nothing from storage.
    // Nothing waits for this; a read that fails here fails again in the search that needs it, which reports it.
    this.index.preload().catch(() => {});
    return this.index.count;
  }

  get count(): number { return this.db().count; }

  /**
   * This model's library databases made with another embedding method or
   * embedding size, by an older version: nothing here can read them, but they
   * still take space.
   */
  async outdatedDatabases(): Promise<string[]> {
    if (!('databases' in indexedDB)) return []; // Firefox before 126 cannot list them
    const settings = this.settings!;
    const current = libraryName(settings);
    return (await indexedDB.databases()).flatMap(({ name = '' }) =>
      [PAGE_STORE_DB_PREFIX, THUMBS_DB].some((prefix) => name.startsWith(prefix + libraryPrefix(settings.modelId)) && name !== prefix + current) ? [name] : []);
  }

  async deleteOutdatedDatabases(): Promise<void> {
    for (const name of await this.outdatedDatabases()) {
      await deleteDB(name);
      if (name.startsWith(PAGE_STORE_DB_PREFIX)) await deleteMirror(name.slice(PAGE_STORE_DB_PREFIX.length));
    }
  }

  async list(): Promise<LibraryItem[]> {
    const items: LibraryItem[] = [];
    for await (const { meta } of this.db().items()) items.push(itemOf(meta));
    return items;
  }

  /** Content ids (SHA-256) of the files, and whether each is new, already present, or not an image. */
  async triage(files: readonly Blob[]): Promise<Triage[]> {
    const seen = new Set<string>();
    const out: Triage[] = [];
    for (const file of files) {
      const bytes = new Uint8Array(await file.arrayBuffer());
      try {
        sniffImage(bytes);
      } catch (err) {
        out.push({ status: 'invalid', error: (err as Error).message });
        continue;
      }
      const id = hex(await crypto.subtle.digest('SHA-256', bytes));
      const present = seen.has(id) || (await this.db().has(id));
      seen.add(id);
      out.push({ status: present ? 'present' : 'new', id });
    }
    return out;
  }

  /** Makes the thumbnails, stores them, then adds every item in one index commit. */
  async add(images: readonly NewImage[]): Promise<AddOutcome> {
    const failed: AddOutcome['failed'] = [];
    const ready: { image: NewImage; thumb: Blob; width: number; height: number }[] = [];
    for (const image of images) {
      try {
        ready.push({ image, ...(await makeThumb(image.image)) });
      } catch (err) {
        failed.push({ file: image.file, error: (err as Error).message });
      }
    }
    await this.storeThumbs(await Promise.all(ready.map(async (r) => [r.image.id, { bytes: await r.thumb.arrayBuffer(), type: r.thumb.type }] as const)));
    const metas = ready.map((r): LibraryItem => ({ id: r.image.id, file: r.image.file, width: r.width, height: r.height }));
    try {
      await this.db().add(ready.map((r, i) => ({ meta: metas[i]!, vector: r.image.embedding })));
    } catch (err) {
      await this.dropThumbsWithoutItems(metas.map((m) => m.id));
      throw err;
    }
    return { added: metas, failed };
  }

  /**
   * The `k` closest items with their thumbnails (one round trip: a search is
   * timed from capture to results), the largest copy of the query's picture first.
   */
  async search(vector: Float32Array, k: number): Promise<{ matches: Match[]; thumbs: (Blob | null)[] }> {
    const { results, original } = await searchOriginalFirst(this.db(), vector, k);
    const matches = results.map((r) => ({ ...itemOf(r.meta), score: r.score, original: r === original }));
    return { matches, thumbs: await this.thumbnails(matches.map((m) => m.id)) };
  }

  async thumbnails(ids: readonly string[]): Promise<(Blob | null)[]> {
    const missing = ids.filter((id) => !this.thumbCache.has(id));
    if (missing.length) {
      const tx = this.thumbDb().transaction('thumbs');
      const rows = await Promise.all(missing.map((id) => tx.store.get(id)));
      rows.forEach((row, i) => { if (row) this.thumbCache.set(missing[i]!, new Blob([row.bytes], { type: row.type })); });
    }
    const found = ids.map((id) => {
      const thumb = this.thumbCache.get(id);
      if (!thumb) return null;
      // Map order is the recency order: move a hit to the end, and evict from the front.
      this.thumbCache.delete(id);
      this.thumbCache.set(id, thumb);
      return thumb;
    });
    for (const id of this.thumbCache.keys()) {
      if (this.thumbCache.size <= THUMB_CACHE_ITEMS) break;
      this.thumbCache.delete(id);
    }
    return found;
  }

  /** Removes items (index first: a thumbnail left behind by a kill is dropped on the next open). */
  async remove(ids: readonly string[]): Promise<number> {
    const removed = await this.db().remove(ids);
    await this.deleteThumbs(ids);
    return removed;
  }

  async clear(): Promise<void> {
    await this.db().clear();
    this.thumbCache.clear();
    await this.thumbDb().clear('thumbs');
  }

  /**
   * Pairs of items whose cosine is at least `minScore`, from a neighbour search
   * per item (each item's `neighbours` nearest), for grouping near-duplicates. A
   * pair is kept when either item finds the other: being near is not mutual.
   */
  async similarPairs(minScore: number, neighbours = 8): Promise<{ items: LibraryItem[]; pairs: SimilarPair[] }> {
    const items: LibraryItem[] = [];
    const vectors: Float32Array[] = [];
    for await (const { meta, vector } of this.db().items({ vectors: true })) {
      items.push(itemOf(meta));
      vectors.push(vector!);
    }
    const position = new Map(items.map((item, i) => [item.id, i]));
    const pairs = new Map<string, SimilarPair>();
    for (const [i, vector] of vectors.entries()) {
      for (const hit of await this.db().search(vector, { k: neighbours + 1 })) {
        const j = position.get(hit.id); // undefined: added since the items were read
        if (j === undefined || j === i || hit.score < minScore) continue;
        const [a, b] = i < j ? [i, j] : [j, i];
        if (!pairs.has(`${a} ${b}`)) pairs.set(`${a} ${b}`, [a, b, hit.score]);
      }
    }
    return { items, pairs: [...pairs.values()] };
  }

  /** The library as a pack file with its thumbnails. */
  async exportPack(): Promise<Blob> {
    const pack = await this.db().toPack(async (id) => {
      const row = await this.thumbDb().get('thumbs', id);
      return row ? new Uint8Array(row.bytes) : null;
    });
    return new Blob(encodePack(pack), { type: 'application/octet-stream' });
  }

  /**
   * Adds a pack's items (ids already present are skipped) in one index commit:
   * a bad pack or a full disk leaves the library as it was.
   */
  async importPack(file: Blob): Promise<ImportOutcome> {
    const settings = this.settings!;
    let pack;
    try {
      pack = await (await openPack(blobSource(file))).readContents();
    } catch (err) {
      if (err instanceof PackError) return { ok: false, reason: err.code, detail: err.message };
      throw err;
    }
    const { header } = pack;
    if (header.modelId !== settings.modelId || header.method !== settings.method || header.dim !== settings.dim) {
      return { ok: false, reason: 'model', detail: `The pack was made with model "${header.modelId}" (${header.method}, ${header.dim}-d); this app uses "${settings.modelId}" (${settings.method}, ${settings.dim}-d).` };
    }
    const fresh: number[] = [];
    for (const [i, meta] of pack.metas.entries()) if (!(await this.db().has(meta.id))) fresh.push(i);
    try {
      await this.storeThumbs(fresh.flatMap((i) => {
        const thumb = pack.thumbs?.[i];
        return thumb?.length ? [[pack.metas[i]!.id, { bytes: thumb.slice().buffer, type: thumbType(thumb) }] as const] : [];
      }));
      const { dim } = header;
      await this.db().add(fresh.map((i) => {
        const vector = new Float32Array(dim);
        const scale = pack.scales[i]!;
        for (let d = 0; d < dim; d++) vector[d] = pack.vectors[i * dim + d]! * scale;
        return { meta: pack.metas[i]!, vector };
      })).catch(async (err: unknown) => {
        await this.dropThumbsWithoutItems(fresh.map((i) => pack.metas[i]!.id));
        throw err;
      });
    } catch (err) {
      if (err instanceof StorageFullError) return { ok: false, reason: 'storage-full', detail: err.message };
      throw err;
    }
    return { ok: true, added: fresh.length, present: pack.metas.length - fresh.length };
  }

  private db(): ImageIndex {
    if (!this.index) throw new Error('The library is not open yet.');
    return this.index;
  }

  /** Writes thumbnails in one transaction: all or none (a full disk becomes StorageFullError). */
  private async storeThumbs(rows: readonly (readonly [id: string, row: ThumbRow])[]): Promise<void> {
    const tx = this.thumbDb().transaction('thumbs', 'readwrite');
    await commitAtomically(tx, () => {
      for (const [id, row] of rows) void tx.store.put(row, id).catch(() => {});
    });
  }

  private thumbDb(): IDBPDatabase<ThumbSchema> {
    if (!this.thumbs) throw new Error('The library is not open yet.');
    return this.thumbs;
  }

  /**
   * After a failed index commit: deletes the thumbnails just stored for `ids`.
   * None of them has an item: each id was new when checked, and no other add or
   * import can have stored it since (the page runs one change at a time,
   * `exclusively`, and one tab at a time holds the library). Best effort: the
   * next open drops any left over.
   */
  private async dropThumbsWithoutItems(ids: readonly string[]): Promise<void> {
    await this.deleteThumbs(ids).catch(() => {});
  }

  private async deleteThumbs(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.thumbCache.delete(id);
    const tx = this.thumbDb().transaction('thumbs', 'readwrite');
    await Promise.all([...ids.map((id) => tx.store.delete(id)), tx.done]);
  }
}

/** Every library of a model starts so, whatever its method and size. */
function libraryPrefix(modelId: string): string {
  return `library-${modelId}-`;
}

/** The name a library's databases share after their prefixes: one per model, embedding method and embedding size. */
function libraryName({ modelId, method, dim }: IndexSettings): string {
  return `${libraryPrefix(modelId)}${method}-${dim}`;
}

/** Requests the exclusive Web Lock `name` and keeps it until the worker ends; false if `ifAvailable` found it taken. */
function holdLock(name: string, options: LockOptions): Promise<boolean> {
  return new Promise((granted) => {
    void navigator.locks.request(name, options, (lock) => {
      granted(lock !== null);
      return lock ? new Promise<never>(() => {}) : undefined;
    });
  });
}

function itemOf(meta: ItemMeta): LibraryItem {
  return { id: meta.id, file: meta.file ?? meta.title ?? meta.id, width: meta.width ?? 0, height: meta.height ?? 0 };
}

/** A WebP thumbnail (JPEG where the browser cannot encode WebP) and the upright size of the original. */
async function makeThumb(image: Blob): Promise<{ thumb: Blob; width: number; height: number }> {
  const full = await createImageBitmap(image, { imageOrientation: 'from-image' }).catch(() => {
    throw new Error('The image data is damaged and could not be decoded.');
  });
  const { width, height } = full;
  const scale = Math.min(1, THUMB_SIZE / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  try {
    const small = await createImageBitmap(full, { resizeWidth: w, resizeHeight: h, resizeQuality: 'high' });
    const canvas = new OffscreenCanvas(w, h);
    canvas.getContext('2d')!.drawImage(small, 0, 0);
    small.close();
    return { thumb: await canvas.convertToBlob({ type: 'image/webp', quality: 0.8 }), width, height };
  } finally {
    full.close();
  }
}

function thumbType(bytes: Uint8Array): string {
  return bytes[0] === 0xff && bytes[1] === 0xd8 ? 'image/jpeg' : 'image/webp';
}

function hex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
}
