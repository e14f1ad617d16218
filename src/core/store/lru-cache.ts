/**
 * A PageStore wrapper that keeps recently used pages in memory under a byte
 * budget, evicting the least recently used first. Writes go through to the
 * store and are cached only after the commit succeeds.
 */
import type { PageStore, PageWrites } from './page-store.ts';

export class LruPageCache implements PageStore {
  /** Map order is recency order: the first entry is the least recently used. */
  private readonly pages = new Map<string, Uint8Array>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly store: PageStore, private budgetBytes: number) {}

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
    if (missing.length > 0) {
      const loaded = await this.store.getMany(missing.map((i) => keys[i]!));
      missing.forEach((i, j) => {
        const page = loaded[j];
        out[i] = page;
        if (page) this.remember(keys[i]!, page);
      });
    }
    return out;
  }

  async commit(writes: PageWrites): Promise<void> {
    await this.store.commit(writes);
    for (const [key, value] of writes) {
      if (value === null) this.forget(key);
      else this.remember(key, value);
    }
  }

  async clear(): Promise<void> {
    await this.store.clear();
    this.pages.clear();
    this.bytes = 0;
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
    if (page.byteLength > this.budgetBytes) return;
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
