/** PageStore on IndexedDB (through `idb`): one object store of pages, one transaction per commit. */
import { deleteDB, openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { PageStore, PageWrites } from '../../core/store/page-store.ts';
import { commitAtomically } from '../idb.ts';

interface PagesSchema extends DBSchema {
  pages: { key: string; value: ArrayBuffer };
}

export class IdbPageStore implements PageStore {
  private constructor(private readonly db: IDBPDatabase<PagesSchema>) {}

  /** Opens (creating if needed) the database `lookalike-index:<name>`. */
  static async open(name: string): Promise<IdbPageStore> {
    const db = await openDB<PagesSchema>(databaseName(name), 1, {
      upgrade(database) {
        database.createObjectStore('pages');
      },
    });
    return new IdbPageStore(db);
  }

  /** Deletes the whole database (close every store on it first). */
  static async delete(name: string): Promise<void> {
    await deleteDB(databaseName(name));
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const value = await this.db.get('pages', key);
    return value && new Uint8Array(value);
  }

  async getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    if (keys.length === 0) return [];
    // One transaction, all requests in flight at once.
    const store = this.db.transaction('pages').store;
    const values = await Promise.all(keys.map((key) => store.get(key)));
    return values.map((value) => value && new Uint8Array(value));
  }

  async commit(writes: PageWrites): Promise<void> {
    if (writes.size === 0) return;
    const tx = this.db.transaction('pages', 'readwrite');
    await commitAtomically(tx, () => {
      for (const [key, value] of writes) {
        if (value === null) void tx.store.delete(key).catch(() => {});
        else void tx.store.put(ownBuffer(value), key).catch(() => {});
      }
    });
  }

  async clear(): Promise<void> {
    await this.db.clear('pages');
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/** Every IdbPageStore's database name starts with this. */
export const PAGE_STORE_DB_PREFIX = 'lookalike-index:';

function databaseName(name: string): string {
  return PAGE_STORE_DB_PREFIX + name;
}

/** The bytes of `view` as a buffer of their own (IndexedDB would otherwise clone the whole underlying buffer). */
function ownBuffer(view: Uint8Array): ArrayBuffer {
  if (view.byteOffset === 0 && view.byteLength === view.buffer.byteLength && view.buffer instanceof ArrayBuffer) return view.buffer;
  return view.slice().buffer as ArrayBuffer;
}
