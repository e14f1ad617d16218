/**
 * PageStore on the file system: one file per page in `<dir>/pages/`, and a
 * redo journal that makes each commit atomic. A commit is first written whole
 * to `journal.tmp`, synced and renamed to `journal` (the commit point), then
 * applied to the page files, then the journal is deleted. Opening a folder
 * that still has a journal (the process died while applying) applies it again.
 * Journal and pages are fsynced, so this holds across a power cut too.
 */
import { mkdir, open, readFile, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from '../core/pack/crc32.ts';
import { StorageFullError, type PageStore, type PageWrites } from '../core/store/page-store.ts';

const JOURNAL_MAGIC = 0x314a4b4c; // "LKJ1"
const DELETED = 0xffffffff;

export class FilePageStore implements PageStore {
  /** Set when applying a committed journal failed: only reopening (which replays it) can go on safely. */
  private broken: Error | null = null;

  private constructor(private readonly dir: string) {}

  static async open(dir: string): Promise<FilePageStore> {
    await mkdir(join(dir, 'pages'), { recursive: true });
    const store = new FilePageStore(dir);
    await rm(join(dir, 'journal.tmp'), { force: true }); // never reached its commit point
    const journal = await readFile(join(dir, 'journal')).catch(ignoreMissing);
    if (journal) await store.apply(decodeJournal(journal));
    return store;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    this.checkUsable();
    const bytes = await readFile(this.pagePath(key)).catch(ignoreMissing);
    return bytes && new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    return Promise.all(keys.map((key) => this.get(key)));
  }

  async commit(writes: PageWrites): Promise<void> {
    this.checkUsable();
    if (writes.size === 0) return;
    const temporary = join(this.dir, 'journal.tmp');
    try {
      await writeSynced(temporary, encodeJournal(writes));
      await rename(temporary, join(this.dir, 'journal'));
      await syncDirectory(this.dir);
    } catch (err) {
      await rm(temporary, { force: true });
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC' || (err as NodeJS.ErrnoException).code === 'EDQUOT') throw new StorageFullError(err);
      throw err;
    }
    try {
      await this.apply(writes);
    } catch (err) {
      this.broken = new Error(`Writing ${this.dir} failed after its commit point (${(err as Error).message}); reopen it to finish the commit.`, { cause: err });
      throw this.broken;
    }
  }

  async clear(): Promise<void> {
    this.checkUsable();
    // The manifest goes first, so a clear cut short opens as an empty index.
    await rm(this.pagePath('manifest'), { force: true });
    await rm(join(this.dir, 'pages'), { recursive: true, force: true });
    await mkdir(join(this.dir, 'pages'), { recursive: true });
  }

  async close(): Promise<void> {}


  private checkUsable(): void {
    if (this.broken) throw this.broken;
  }

  private pagePath(key: string): string {
    return join(this.dir, 'pages', encodeURIComponent(key));
  }

  /**
   * Writes the pages, each to a temporary file renamed into place (so a
   * concurrent read sees the old page or the new one, never half of one), and
   * synced, so they are on disk before the journal that could redo them is gone.
   */
  private async apply(writes: PageWrites): Promise<void> {
    for (const [key, value] of writes) {
      const path = this.pagePath(key);
      if (value === null) await unlink(path).catch(ignoreMissing);
      else {
        await writeSynced(`${path}.tmp`, value);
        await rename(`${path}.tmp`, path);
      }
    }
    await syncDirectory(join(this.dir, 'pages'));
    await unlink(join(this.dir, 'journal'));
  }
}

/** magic, count, then per page: key length, key, value length (DELETED for a delete), value; CRC-32 of all that last. */
function encodeJournal(writes: PageWrites): Uint8Array {
  const keys = [...writes.keys()].map((key) => Buffer.from(key, 'utf8'));
  let size = 8 + 4;
  let i = 0;
  for (const value of writes.values()) size += 2 + keys[i++]!.length + 4 + (value?.byteLength ?? 0);
  const out = Buffer.alloc(size);
  let at = out.writeUInt32LE(JOURNAL_MAGIC, 0);
  at = out.writeUInt32LE(writes.size, at);
  i = 0;
  for (const value of writes.values()) {
    const key = keys[i++]!;
    at = out.writeUInt16LE(key.length, at);
    at += key.copy(out, at);
    at = out.writeUInt32LE(value ? value.byteLength : DELETED, at);
    if (value) {
      out.set(value, at);
      at += value.byteLength;
    }
  }
  out.writeUInt32LE(crc32(out.subarray(0, at)), at);
  return out;
}

function decodeJournal(bytes: Buffer): PageWrites {
  const damaged = () => new Error('The index journal is damaged; the index cannot be opened safely. Rebuild it.');
  if (bytes.length < 12 || bytes.readUInt32LE(0) !== JOURNAL_MAGIC) throw damaged();
  if (crc32(bytes.subarray(0, bytes.length - 4)) !== bytes.readUInt32LE(bytes.length - 4)) throw damaged();
  const writes = new Map<string, Uint8Array | null>();
  let at = 8;
  for (let n = bytes.readUInt32LE(4); n > 0; n--) {
    const keyLength = bytes.readUInt16LE(at);
    const key = bytes.toString('utf8', at + 2, at + 2 + keyLength);
    at += 2 + keyLength;
    const length = bytes.readUInt32LE(at);
    at += 4;
    if (length === DELETED) writes.set(key, null);
    else {
      writes.set(key, bytes.subarray(at, at + length));
      at += length;
    }
  }
  return writes;
}

async function writeSynced(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes renames in `dir` durable; platforms that cannot sync a directory (Windows) skip it. */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    if (!['EISDIR', 'EPERM', 'EACCES', 'EINVAL'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    await handle?.close();
  }
}

function ignoreMissing(err: NodeJS.ErrnoException): undefined {
  if (err.code === 'ENOENT') return undefined;
  throw err;
}
