/**
 * Where an index keeps its pages: a key → bytes map with atomic multi-page
 * commits. IndexedDB (browser) and a journalled folder (Node) implement it; the
 * index never knows which.
 */

/** Pages to write in one commit; `null` deletes the page. */
export type PageWrites = ReadonlyMap<string, Uint8Array | null>;

export interface PageStore {
  /** `undefined` for a page that does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
  getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]>;
  /** All writes become visible together or, after a failure or a crash, none do. */
  commit(writes: PageWrites): Promise<void>;
  /** Deletes every page. */
  clear(): Promise<void>;
  close(): Promise<void>;
  /**
   * Whether `key` is read from a local file here (an OPFS mirror's copy: microseconds where IndexedDB takes a
   * fraction of a millisecond), so that a full cache gains little by making room for it. Absent: no page is.
   */
  readsLocally?(key: string): boolean;
}

/** The device refused to store more; nothing from the failed commit was kept. */
export class StorageFullError extends Error {
  constructor(cause?: unknown) {
    super('Storage is full: the device refused to store more. Nothing already stored was lost; free some space or remove items, then try again.', { cause });
    this.name = 'StorageFullError';
  }
}
