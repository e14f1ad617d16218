/**
 * A PageStore that answers reads of one kind of page from a local file, beside
 * the store that stays the record of truth. The index's vectors and meta pages
 * are mirrored this way in browsers (one mirror wrapping the other): re-ranking
 * a million-item index reads about 100 random vectors pages a query, which took
 * 28.9 ms from IndexedDB and 0.65 ms from a file in the origin private file
 * system, in one run; its top 10's meta pages took 2.19 ms and 0.14 ms in
 * another (BENCHMARKS.md).
 *
 * Two files, both read and written synchronously (OPFS sync access handles, or
 * any file with positional reads and writes):
 *
 *   pages   page p's slot at p × slotBytes: u32 LE length, then the page
 *   state   header (u32 LE: magic, version, slotBytes, committed, pending), then one byte per page: 1 when its copy is good
 *
 * Pages of one size (vectors) fill their slots exactly: the first copy sets
 * the slot size. Pages of varying size (meta) get the slot size the options
 * give, and one too large for its slot is never copied, but read from the store.
 *
 * A copy is good only once it holds what the store holds. A commit that writes
 * mirrored pages first marks them bad on disk (whatever memory says) and
 * flushes that, then commits to the store, then writes the copies and flushes
 * them, records the new fingerprint (below) and flushes that, and only then
 * marks them good. A crash anywhere in between leaves a page bad (read from
 * the store) or good and current. A power cut may also lose the store's last
 * commits (IndexedDB's relaxed durability), but a copy of theirs can only be
 * marked good once their fingerprint is on disk, and a store rolled back to an
 * older one drops every copy on open. Reads fill in bad pages from the store
 * as they go.
 *
 * The copies share the origin's storage quota with the store. When the store
 * reports itself full, the mirror gives its space back (every copy is
 * dropped) so that the store can go on; when the mirror's own files cannot
 * grow, it stops copying. Either way it copies nothing more until reopened.
 *
 * Someone may write the store without this mirror (an older version, or this
 * one after the mirror's files could not be opened). The index's manifest
 * changes with its counts whenever items are added or removed, so the state
 * keeps a fingerprint of it: `committed` after each commit, and `pending`
 * while one is in flight. On open, a store whose manifest matches neither was
 * changed behind the mirror's back, and every copy is dropped. A store cleared
 * and refilled to the same counts has the same manifest but (most likely)
 * other pages, so a few copies, spread over the file, are also compared with
 * the store.
 */
import { StorageFullError, type PageStore, type PageWrites } from './page-store.ts';

/** A file with positional synchronous reads and writes: what a FileSystemSyncAccessHandle offers. */
export interface SyncFile {
  read(buffer: Uint8Array, options: { at: number }): number;
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}

export interface MirrorOptions {
  /** Pages whose key is this prefix and a page number are mirrored. */
  readonly prefix: string;
  /** A key whose value changes whenever the store's set of items does (the index's manifest). */
  readonly stampKey: string;
  /** The slot size, length included, for pages of varying size (default: the first copy's largest page fills its slot). */
  readonly slotBytes?: number;
}

const MAGIC = 0x524d4b4c; // "LKMR"
/** 2: pages in slots, after their length (1: pages of one size, back to back). */
const VERSION = 2;
const HEADER_BYTES = 20;
/** A slot's u32 length of the page in it. */
const LENGTH_BYTES = 4;
/** Larger slots are not kept (a state file saying otherwise is damaged). */
const MAX_SLOT_BYTES = 1 << 24;
const enum Field { Magic, Version, SlotBytes, Committed, Pending }
/** Copies compared with the store on open. */
const SPOT_CHECKS = 8;
const BAD = new Uint8Array([0]);
const GOOD = new Uint8Array([1]);

export class MirroredPageStore implements PageStore {
  /** One byte per page, as in the state file (which grows with it). */
  private good = new Uint8Array(0);
  private readonly header = new Uint32Array(HEADER_BYTES / 4);
  /** Counts commits and clears as they start; a read that overlapped one does not fill. */
  private writesStarted = 0;
  private writesInFlight = 0;
  /** Commits and clears run one after another. */
  private queue: Promise<unknown> = Promise.resolve();
  /** False once storage ran out (see the top of this file). */
  private copying = true;
  /** Pages answered from the file. */
  readsFromCopies = 0;

  private constructor(
    private readonly store: PageStore,
    private readonly pages: SyncFile,
    private readonly state: SyncFile,
    private readonly options: MirrorOptions,
  ) {}

  /** Mirrors `store` in `pages` and `state`, checking first that the store was not changed without them. */
  static async open(store: PageStore, files: { readonly pages: SyncFile; readonly state: SyncFile }, options: MirrorOptions): Promise<MirroredPageStore> {
    const mirror = new MirroredPageStore(store, files.pages, files.state, options);
    const stamp = fingerprint(await store.get(options.stampKey));
    const header = mirror.header;
    const read = files.state.read(new Uint8Array(header.buffer), { at: 0 });
    const known = read === HEADER_BYTES && header[Field.Magic] === MAGIC && header[Field.Version] === VERSION;
    if (!known || (stamp !== header[Field.Committed] && stamp !== header[Field.Pending])) {
      mirror.reset(stamp);
      return mirror;
    }
    // A commit cut short (pending) or one that finished without its last header write: its pages are already marked bad.
    header[Field.Committed] = header[Field.Pending] = stamp;
    mirror.writeHeader();
    // Without a slot size no copy was ever written: whatever marks the state holds name nothing. (One out of range is damage.)
    const slotBytes = header[Field.SlotBytes]!;
    if (slotBytes <= LENGTH_BYTES || slotBytes > MAX_SLOT_BYTES) {
      mirror.reset(stamp);
      return mirror;
    }
    const good = new Uint8Array(Math.max(0, files.state.getSize() - HEADER_BYTES));
    files.state.read(good, { at: HEADER_BYTES });
    mirror.good = good;
    if (!(await mirror.spotCheck())) mirror.reset(stamp);
    return mirror;
  }

  /** The mirror of the pages under `prefix`: this one, or one it wraps. */
  mirrorOf(prefix: string): MirroredPageStore | null {
    if (this.options.prefix === prefix) return this;
    return this.store instanceof MirroredPageStore ? this.store.mirrorOf(prefix) : null;
  }

  /** Pages whose copy reads take from the file. */
  get goodCopies(): number {
    return this.good.reduce((sum, g) => sum + g, 0);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return (await this.getMany([key]))[0];
  }

  /**
   * The copies one call reads share one buffer, each page a view of its part: with a buffer for each page, a query
   * at a million items spent more time allocating and collecting them than reading. (LruPageCache copies what it keeps.)
   */
  async getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    const out: (Uint8Array | undefined)[] = new Array(keys.length);
    const missing: number[] = [];
    const slotBytes = this.header[Field.SlotBytes]!;
    let batch: Uint8Array<ArrayBuffer> | null = null;
    let used = 0;
    for (let i = 0; i < keys.length; i++) {
      const page = this.pageOf(keys[i]!);
      if (page !== null && this.good[page] === 1 && slotBytes > 0) {
        batch ??= new Uint8Array(slotBytes * (keys.length - i)); // room for this key's copy and every later one's
        out[i] = this.readFile(page, batch.subarray(used, used + slotBytes));
        if (out[i]) {
          used += slotBytes;
          this.readsFromCopies++;
          continue;
        }
      }
      missing.push(i);
    }
    if (missing.length === 0) return out;
    const startedAt = this.writesStarted;
    const quietAtStart = this.writesInFlight === 0;
    const loaded = await this.store.getMany(missing.map((i) => keys[i]!));
    const fills = new Map<number, Uint8Array>();
    missing.forEach((i, j) => {
      out[i] = loaded[j];
      const page = this.pageOf(keys[i]!);
      if (page !== null && loaded[j]) fills.set(page, loaded[j]!);
    });
    // A write that overlapped the read may have changed these pages: what was read is returned but not copied.
    if (fills.size > 0 && quietAtStart && this.writesStarted === startedAt && this.writesInFlight === 0) this.copy(fills);
    return out;
  }

  commit(writes: PageWrites): Promise<void> {
    return this.serialised(async () => {
      const pages = new Map<number, Uint8Array | null>();
      for (const [key, value] of writes) {
        const page = this.pageOf(key);
        if (page !== null) pages.set(page, value);
      }
      const stamp = writes.has(this.options.stampKey) ? fingerprint(writes.get(this.options.stampKey) ?? undefined) : this.header[Field.Committed]!;
      this.markBad([...pages.keys()], stamp);
      try {
        await this.store.commit(writes);
      } catch (err) {
        if (err instanceof StorageFullError) this.giveSpaceBack();
        throw err;
      }
      this.header[Field.Committed] = stamp;
      const copies = new Map([...pages].filter((entry): entry is [number, Uint8Array] => entry[1] !== null));
      this.copy(copies);
    });
  }

  clear(): Promise<void> {
    return this.serialised(async () => {
      this.reset(0);
      await this.store.clear();
    });
  }

  async close(): Promise<void> {
    await this.queue.catch(() => {});
    try {
      this.pages.close();
    } finally {
      try {
        this.state.close();
      } finally {
        await this.store.close();
      }
    }
  }

  private serialised(write: () => Promise<void>): Promise<void> {
    const run = async () => {
      this.writesStarted++;
      this.writesInFlight++;
      try {
        await write();
      } finally {
        this.writesInFlight--;
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => {});
    return result;
  }

  /** The page number of a mirrored key, else null. */
  private pageOf(key: string): number | null {
    if (!key.startsWith(this.options.prefix)) return null;
    const suffix = key.slice(this.options.prefix.length);
    const page = Number(suffix);
    return Number.isSafeInteger(page) && page >= 0 && String(page) === suffix ? page : null;
  }

  /** Whether `key`'s page has a good copy here (or, for another prefix, in the mirror this one wraps). */
  readsLocally(key: string): boolean {
    const page = this.pageOf(key);
    if (page === null) return this.store.readsLocally?.(key) ?? false;
    return this.good[page] === 1 && this.header[Field.SlotBytes] !== 0;
  }

  /** Page `page`'s good copy, read into `slot` (slotBytes long) and returned as a view of it; undefined where there is none. */
  private readFile(page: number, slot = new Uint8Array(this.header[Field.SlotBytes]!)): Uint8Array | undefined {
    const slotBytes = this.header[Field.SlotBytes]!;
    if (this.good[page] !== 1 || slotBytes === 0) return undefined;
    const read = this.pages.read(slot, { at: page * slotBytes });
    const length = read >= LENGTH_BYTES ? new DataView(slot.buffer, slot.byteOffset, LENGTH_BYTES).getUint32(0, true) : Infinity;
    if (LENGTH_BYTES + length <= read) return slot.subarray(LENGTH_BYTES, LENGTH_BYTES + length);
    // The file is shorter than the state says: read the store instead (and the next commit of this page marks it bad on disk).
    this.good[page] = 0;
    try {
      this.state.write(BAD, { at: HEADER_BYTES + page });
    } catch { /* memory says bad, which is what reads go by */ }
    return undefined;
  }

  /** Whether up to SPOT_CHECKS good copies, spread over the file, equal the store's pages. */
  private async spotCheck(): Promise<boolean> {
    const good = Array.from(this.good.keys()).filter((page) => this.good[page] === 1);
    const picked = [...new Set(Array.from({ length: Math.min(SPOT_CHECKS, good.length) }, (_, i) => good[Math.floor((i * good.length) / SPOT_CHECKS)]!))];
    const stored = await this.store.getMany(picked.map((page) => this.options.prefix + page));
    return picked.every((page, i) => {
      const copy = this.readFile(page);
      return copy !== undefined && stored[i] !== undefined && copy.every((byte, j) => byte === stored[i]![j]) && copy.byteLength === stored[i]!.byteLength;
    });
  }

  /**
   * Marks `pages` bad on disk (every one the state file has a byte for: memory
   * may be wrong after an earlier failure) and records `stamp` as pending,
   * durably, before the store commit. If the state cannot be written, no copy
   * may outlive the commit: the state is emptied, and if even that fails the
   * commit does not happen.
   */
  private markBad(pages: readonly number[], stamp: number): void {
    try {
      const marked = this.state.getSize() - HEADER_BYTES;
      for (const page of pages) if (page < marked) this.state.write(BAD, { at: HEADER_BYTES + page });
      this.header[Field.Pending] = stamp;
      this.writeHeader();
      this.state.flush();
    } catch {
      this.state.truncate(0);
      this.state.flush();
      this.good = new Uint8Array(0);
    }
    for (const page of pages) if (page < this.good.length) this.good[page] = 0;
  }

  /**
   * Writes copies of the `pages` that fit a slot and flushes them, records the
   * slot size and the committed fingerprint and flushes that, then marks them
   * good. A failure (a full disk) leaves them bad: the store still has them.
   */
  private copy(pages: ReadonlyMap<number, Uint8Array>): void {
    if (!this.copying || pages.size === 0) return;
    try {
      const largest = () => [...pages.values()].reduce((most, bytes) => Math.max(most, bytes.byteLength), 0);
      const slotBytes = this.header[Field.SlotBytes] || this.options.slotBytes || LENGTH_BYTES + largest();
      const copied = [...pages].filter(([, bytes]) => LENGTH_BYTES + bytes.byteLength <= slotBytes);
      if (copied.length === 0 || slotBytes > MAX_SLOT_BYTES) return;
      const slot = new Uint8Array(slotBytes);
      const length = new DataView(slot.buffer);
      for (const [page, bytes] of copied) {
        length.setUint32(0, bytes.byteLength, true);
        slot.set(bytes, LENGTH_BYTES);
        this.pages.write(slot.subarray(0, LENGTH_BYTES + bytes.byteLength), { at: page * slotBytes });
      }
      this.pages.flush();
      this.header[Field.SlotBytes] = slotBytes;
      this.writeHeader();
      this.state.flush();
      for (const [page] of copied) this.markGood(page);
    } catch {
      this.copying = false; // left bad, and read from the store
    }
  }

  /** Drops every copy and the space they took, and copies nothing more. */
  private giveSpaceBack(): void {
    this.copying = false;
    try {
      this.reset(this.header[Field.Committed]!);
    } catch {
      // Left as it was: the failed commit rewrote nothing, and the next commit marks its pages bad on disk.
    }
  }

  private markGood(page: number): void {
    this.state.write(GOOD, { at: HEADER_BYTES + page });
    if (page >= this.good.length) {
      const grown = new Uint8Array(Math.max(page + 1, 2 * this.good.length));
      grown.set(this.good);
      this.good = grown;
    }
    this.good[page] = 1;
  }

  /** An empty state, for a store whose value of the stamp key is `stamp`, and no copies (their space given back). */
  private reset(stamp: number): void {
    this.state.truncate(0);
    this.good = new Uint8Array(0);
    this.header.set([MAGIC, VERSION, 0, stamp, stamp]);
    this.writeHeader();
    this.state.flush();
    this.pages.truncate(0);
  }

  private writeHeader(): void {
    this.state.write(new Uint8Array(this.header.buffer), { at: 0 });
  }
}

/** FNV-1a of the stamp key's value (0 when the store has none, which no value hashes to). */
function fingerprint(bytes: Uint8Array | undefined): number {
  if (!bytes) return 0;
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193);
  return (hash >>> 0) || 1;
}
