/**
 * A PageStore wrapper that keeps recently used pages in memory under a byte
 * budget, evicting the least recently used first. Writes go through to the
 * store and are cached only after the commit succeeds.
 *
 * A read that overlaps a write of the same page (or a clear) is returned but
 * not cached: it may hold the page from before the write, and a stale copy in
 * the cache would outlive the commit.
 */
import type { PageStore, PageWrites } from './page-store.ts';

export class LruPageCache implements PageStore {
  /** Map order is recency order: the first entry is the least recently used. */
  private readonly pages = new Map<string, Uint8Array>();
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

  setBudget(bytes: number): void {
    this.budgetBytes = Math.max(0, bytes);
    this.evict();
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return (await this.getMany([key]))[0];
  }

  async getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    const out: (Uint8Array | undefined)[] = new Array(keys.length);
    const missing: number[] = [];
    keys.forEach((key, i) => {
      const page = this.pages.get(key);
      if (page) {
        this.touch(key, page);
        out[i] = page;
        this.hits++;
      } else {
        missing.push(i);
        this.misses++;
      }
    });
    if (missing.length === 0) return out;
    const startedIn = this.generation;
    const quiet = missing.map((i) => this.clearing === 0 && !this.writing.has(keys[i]!));
    const loaded = await this.store.getMany(missing.map((i) => keys[i]!));
    missing.forEach((i, j) => {
      const key = keys[i]!;
      const page = loaded[j];
      out[i] = page;
      const untouched = quiet[j] && Math.max(this.clearedIn, this.writtenIn.get(key) ?? -1) <= startedIn;
      if (page && untouched) this.remember(key, page);
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
    this.pages.clear();
    this.bytes = 0;
    try {
      await this.store.clear();
    } finally {
      this.clearing--;
    }
  }

  close(): Promise<void> {
    this.pages.clear();
    this.bytes = 0;
    return this.store.close();
  }

  private touch(key: string, page: Uint8Array): void {
    this.pages.delete(key);
    this.pages.set(key, page);
  }

  private remember(key: string, page: Uint8Array): void {
    this.forget(key);
    if (page.byteLength > this.budgetBytes || !this.cacheable(key)) return;
    this.pages.set(key, page);
    this.bytes += page.byteLength;
    this.evict();
  }

  private forget(key: string): void {
    const old = this.pages.get(key);
    if (!old) return;
    this.pages.delete(key);
    this.bytes -= old.byteLength;
  }

  private evict(): void {
    for (const [key, page] of this.pages) {
      if (this.bytes <= this.budgetBytes) break;
      this.pages.delete(key);
      this.bytes -= page.byteLength;
    }
  }
}
