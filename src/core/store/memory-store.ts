/** A PageStore in memory: for a pack opened read-only (CLI search) and for unit tests. */
import type { PageStore, PageWrites } from './page-store.ts';

export class MemoryPageStore implements PageStore {
  private readonly pages = new Map<string, Uint8Array>();

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.pages.get(key);
  }

  async getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    return keys.map((key) => this.pages.get(key));
  }

  async commit(writes: PageWrites): Promise<void> {
    for (const [key, value] of writes) {
      if (value === null) this.pages.delete(key);
      else this.pages.set(key, value.slice());
    }
  }

  async clear(): Promise<void> {
    this.pages.clear();
  }

  async close(): Promise<void> {}
}
