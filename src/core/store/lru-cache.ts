/**
 * A PageStore wrapper that keeps recently used pages in memory under a byte
 * budget, evicting the least recently used first. Writes go through to the
 * store and are cached only after the commit succeeds.
 *
 * A page the store reads locally (`readsLocally`: an OPFS mirror's copy), or
 * any page a read asks so of (`evictNothing`: a preload's), is kept while the
 * budget has room, but evicts nothing: at a million items, where
 * each query reads ~100 pages and no budget holds the collection's, making room
 * for each one read cost a fresh buffer and a dead old one, and collecting
 * them took longer than the file reads.
 * Each page is kept in a buffer of its own (a view into a larger one is
 * copied), so that what is counted is what is kept alive.
 *
 * A read that overlaps a write of the same page (or a clear) is returned but
 * not cached: it may hold the page from before the write, and a stale copy in
 * the cache would outlive the commit.
 */
import type { PageStore, PageWrites } from './page-store.ts';

/** How a read treats the cache: `evictNothing` keeps its pages only where the budget has room for them as it is. */
export interface ReadOptions {
  readonly evictNothing?: boolean;
}

/** A cached page, linked in recency order. */
interface Entry {
  readonly key: string;
  readonly page: Uint8Array;
  /** The page decoded by `getManyDecoded` (undefined until then), and the bytes it is counted as. */
  decoded: unknown;
  decodedBytes: number;
  older: Entry | null;
  newer: Entry | null;
}

export class LruPageCache implements PageStore {
  /**
   * The pages by key, and the same entries in a list from least to most recently used (every entry in the Map is
   * in the list, and only those). Recency kept as a Map's order meant a delete and a set for every hit, 1 µs a hit
   * in a Map of 50 000 pages in Node; now a hit moves its entry to the list's end.
   */
  private readonly pages = new Map<string, Entry>();
  private oldest: Entry | null = null;
  private newest: Entry | null = null;
  private bytes = 0;
  /** Counts writes (commits and clears) as they start. */
  private generation = 0;
  /** The generation of the latest write of each key, and of the latest clear (which writes every key). */
  private readonly writtenIn = new Map<string, number>();
  private clearedIn = -1;
  /** Writes still in flight: per key, and clears. */
  private readonly writing = new Map<string, number>();
  private clearing = 0;
  hits = 0;
  misses = 0;

  /** `cacheable` leaves out pages the caller keeps elsewhere (they are still written through). */
  constructor(
    private readonly store: PageStore,
    private budgetBytes: number,
    private readonly cacheable: (key: string) => boolean = () => true,
  ) {}

  get residentBytes(): number { return this.bytes; }

  /** What the budget leaves for more pages. */
  get roomBytes(): number { return Math.max(0, this.budgetBytes - this.bytes); }

  /** Whether `key`'s page is cached (its recency unchanged). */
  has(key: string): boolean { return this.pages.has(key); }

  setBudget(bytes: number): void {
    this.budgetBytes = Math.max(0, bytes);
    this.evict();
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return (await this.getMany([key]))[0];
  }

  /** `evictNothing`: the pages read are kept only where the budget has room for them as it is. */
  async getMany(keys: readonly string[], options: ReadOptions = {}): Promise<(Uint8Array | undefined)[]> {
    const found = await this.find(keys, options);
    const out: (Uint8Array | undefined)[] = new Array(keys.length);
    for (let i = 0; i < keys.length; i++) out[i] = pageOf(found[i]);
    return out;
  }

  /**
   * Pages as `decode` makes them, decoded once while a page stays cached: the decoded form is kept with the page and
   * counted in the budget as `weight(page)` bytes. A page that is not cached is decoded for this call alone. Every
   * call for a key must decode it the same way, since the first one's result is what later calls get.
   */
  async getManyDecoded<T>(keys: readonly string[], decode: (page: Uint8Array) => T, weight: (page: Uint8Array) => number, options: ReadOptions = {}): Promise<(T | undefined)[]> {
    const found = await this.find(keys, options);
    const out: (T | undefined)[] = new Array(keys.length);
    try {
      for (let i = 0; i < keys.length; i++) {
        const entry = found[i];
        if (!entry) continue;
        // (A page read uncached, or one a later read of this call evicted.)
        if (entry instanceof Uint8Array || !this.holds(entry)) {
          out[i] = decode(pageOf(entry)!);
          continue;
        }
        if (entry.decoded === undefined) {
          const decoded = decode(entry.page);
          const bytes = weight(entry.page);
          // A locally read page's decoded form, like the page, evicts nothing; nor does one a read asks so of.
          if (this.bytes + bytes > this.budgetBytes && (options.evictNothing || this.store.readsLocally?.(entry.key))) {
            out[i] = decoded;
            continue;
          }
          entry.decoded = decoded;
          entry.decodedBytes = bytes;
          this.bytes += bytes;
        }
        out[i] = entry.decoded as T;
      }
    } finally {
      this.evict();
    }
    return out;
  }

  /**
   * Per key, its entry where the page is cached (a hit, or read and kept), else the page as read (undefined: none):
   * the entries, so that a decoded read finds each key once (a Map lookup of a fresh string key took ~1 µs at half a
   * million pages in Chromium, scratch).
   */
  private async find(keys: readonly string[], options: ReadOptions): Promise<(Entry | Uint8Array | undefined)[]> {
    const out: (Entry | Uint8Array | undefined)[] = new Array(keys.length);
    const missing: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      const entry = this.pages.get(keys[i]!);
      if (entry) {
        this.unlink(entry);
        this.linkNewest(entry);
        out[i] = entry;
        this.hits++;
      } else {
        missing.push(i);
        this.misses++;
      }
    }
    if (missing.length === 0) return out;
    const startedIn = this.generation;
    const quiet = missing.map((i) => this.clearing === 0 && !this.writing.has(keys[i]!));
    const loaded = await this.store.getMany(missing.map((i) => keys[i]!));
    missing.forEach((i, j) => {
      const key = keys[i]!;
      const page = loaded[j];
      const untouched = quiet[j] && Math.max(this.clearedIn, this.writtenIn.get(key) ?? -1) <= startedIn;
      out[i] = page && untouched ? this.remember(key, page, options.evictNothing ?? false) : page;
    });
    return out;
  }

  async commit(writes: PageWrites): Promise<void> {
    const generation = ++this.generation;
    for (const key of writes.keys()) {
      this.writtenIn.set(key, generation);
      this.writing.set(key, (this.writing.get(key) ?? 0) + 1);
      this.forget(key);
    }
    try {
      await this.store.commit(writes);
      for (const [key, value] of writes) if (value !== null) this.remember(key, value);
    } finally {
      for (const key of writes.keys()) {
        const left = this.writing.get(key)! - 1;
        if (left === 0) this.writing.delete(key);
        else this.writing.set(key, left);
      }
    }
  }

  async clear(): Promise<void> {
    this.clearedIn = ++this.generation;
    this.clearing++;
    this.forgetAll();
    try {
      await this.store.clear();
    } finally {
      this.clearing--;
    }
  }

  close(): Promise<void> {
    this.forgetAll();
    return this.store.close();
  }

  /** Caches `page` where the rules above allow; returns its entry, else `page`. */
  private remember(key: string, page: Uint8Array, evictNothing = false): Entry | Uint8Array {
    this.forget(key);
    if (page.byteLength > this.budgetBytes || !this.cacheable(key)) return page;
    if (this.bytes + page.byteLength > this.budgetBytes && (evictNothing || this.store.readsLocally?.(key))) return page;
    const own = page.byteLength === page.buffer.byteLength ? page : page.slice();
    const entry: Entry = { key, page: own, decoded: undefined, decodedBytes: 0, older: null, newer: null };
    this.pages.set(key, entry);
    this.linkNewest(entry);
    this.bytes += own.byteLength;
    this.evict();
    return entry;
  }

  /** Whether `entry` is still in the cache: linked (its own list's only entry is the oldest). */
  private holds(entry: Entry): boolean {
    return entry.older !== null || this.oldest === entry;
  }

  private forget(key: string): void {
    const entry = this.pages.get(key);
    if (entry) this.drop(entry);
  }

  private drop(entry: Entry): void {
    this.pages.delete(entry.key);
    this.unlink(entry);
    this.bytes -= entry.page.byteLength + entry.decodedBytes;
  }

  private forgetAll(): void {
    // Unlinked too, so that `holds` tells an entry a read found before the clear is gone.
    for (let entry = this.oldest; entry; ) {
      const newer: Entry | null = entry.newer;
      entry.older = entry.newer = null;
      entry = newer;
    }
    this.pages.clear();
    this.oldest = this.newest = null;
    this.bytes = 0;
  }

  private evict(): void {
    while (this.bytes > this.budgetBytes && this.oldest) this.drop(this.oldest);
  }

  private linkNewest(entry: Entry): void {
    entry.older = this.newest;
    entry.newer = null;
    if (this.newest) this.newest.newer = entry;
    else this.oldest = entry;
    this.newest = entry;
  }

  private unlink(entry: Entry): void {
    if (entry.older) entry.older.newer = entry.newer;
    else this.oldest = entry.newer;
    if (entry.newer) entry.newer.older = entry.older;
    else this.newest = entry.older;
    entry.older = entry.newer = null;
  }
}

/** The page of what `find` gave. */
function pageOf(found: Entry | Uint8Array | undefined): Uint8Array | undefined {
  return found instanceof Uint8Array || found === undefined ? found : found.page;
}
