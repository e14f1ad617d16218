import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/codes/random.ts';
import { MemoryPageStore } from '../../src/core/store/memory-store.ts';
import { MirroredPageStore, type SyncFile } from '../../src/core/store/mirrored-page-store.ts';
import { StorageFullError, type PageStore, type PageWrites } from '../../src/core/store/page-store.ts';
import { nodeSyncFile } from '../node-sync-file.ts';

const temp = await mkdtemp(join(tmpdir(), 'lookalike-mirror-'));
afterAll(() => rm(temp, { recursive: true, force: true }));

let made = 0;
/** Fresh mirror files; `files()` opens them (again, as a reopening process would). */
function mirrorFiles() {
  const dir = join(temp, `mirror-${made++}`);
  return () => ({ pages: nodeSyncFile(`${dir}-pages`), state: nodeSyncFile(`${dir}-state`) });
}

const OPTIONS = { prefix: 'vectors/', stampKey: 'manifest' };
const page = (fill: number) => new Uint8Array(8).fill(fill);
const manifest = (n: number) => new TextEncoder().encode(JSON.stringify({ n }));
/** vectors/0 … vectors/count − 1, page p filled with p. */
const numberedPages = (count: number) => Array.from({ length: count }, (_, p): [string, Uint8Array] => [`vectors/${p}`, page(p)]);

/** A mirror on real files holding copies of vectors/0 … vectors/39: enough that the spot check on reopening (8 of them, from the first) passes over vectors/1. */
async function mirrorOfFortyCopies() {
  const store = new MemoryPageStore();
  const files = mirrorFiles();
  const opened = files();
  const mirror = await MirroredPageStore.open(store, opened, OPTIONS);
  await mirror.commit(new Map([['manifest', manifest(1)], ...numberedPages(40)]));
  return { store, files, opened, mirror };
}

/**
 * A file in memory whose writes are durable only once flushed. `afterPowerCut`
 * is the file a power cut leaves: the flushed bytes, plus any subset of the
 * writes since (an OS may have saved some of them, in any order).
 */
class VolatileFile implements SyncFile {
  private bytes: Uint8Array = new Uint8Array(0);
  private durable: Uint8Array = new Uint8Array(0);
  private unflushed: ((bytes: Uint8Array) => Uint8Array)[] = [];

  read(buffer: Uint8Array, { at }: { at: number }): number {
    const part = this.bytes.subarray(at, at + buffer.byteLength);
    buffer.set(part);
    return part.byteLength;
  }
  write(buffer: Uint8Array, { at }: { at: number }): number {
    const data = buffer.slice();
    const apply = (bytes: Uint8Array) => {
      const grown = bytes.byteLength >= at + data.byteLength ? bytes.slice() : new Uint8Array(at + data.byteLength);
      if (grown.byteLength > bytes.byteLength) grown.set(bytes);
      grown.set(data, at);
      return grown;
    };
    this.bytes = apply(this.bytes);
    this.unflushed.push(apply);
    return data.byteLength;
  }
  truncate(size: number): void {
    const apply = (bytes: Uint8Array) => { const cut = new Uint8Array(size); cut.set(bytes.subarray(0, size)); return cut; };
    this.bytes = apply(this.bytes);
    this.unflushed.push(apply);
  }
  getSize(): number { return this.bytes.byteLength; }
  flush(): void {
    this.durable = this.bytes.slice();
    this.unflushed = [];
  }
  close(): void {}
  afterPowerCut(random: () => number): VolatileFile {
    const file = new VolatileFile();
    let bytes: Uint8Array = this.durable;
    for (const apply of this.unflushed) if (random() < 0.5) bytes = apply(bytes);
    file.bytes = bytes;
    file.durable = bytes.slice();
    return file;
  }
}

/** The store's reads, counted by key. */
function counting(store: PageStore): PageStore & { reads: string[] } {
  const reads: string[] = [];
  return Object.assign(Object.create(store) as PageStore, {
    reads,
    getMany: (keys: readonly string[]) => {
      reads.push(...keys);
      return store.getMany(keys);
    },
    get: (key: string) => {
      reads.push(key);
      return store.get(key);
    },
  });
}

describe('mirrored page store', () => {
  it('answers mirrored pages from its file after a commit, and other pages from the store', async () => {
    const store = counting(new MemoryPageStore());
    const mirror = await MirroredPageStore.open(store, mirrorFiles()(), OPTIONS);
    await mirror.commit(new Map([['manifest', manifest(1)], ['vectors/0', page(1)], ['vectors/3', page(3)], ['meta/0', page(9)]]));
    store.reads.length = 0;
    expect(await mirror.getMany(['vectors/3', 'vectors/0', 'meta/0', 'vectors/1'])).toEqual([page(3), page(1), page(9), undefined]);
    expect(store.reads).toEqual(['meta/0', 'vectors/1']);
    expect(mirror.goodCopies).toBe(2);
    expect(['vectors/0', 'vectors/3', 'vectors/1', 'meta/0', 'manifest'].map((key) => mirror.readsLocally(key))).toEqual([true, true, false, false, false]);
  });

  it('copies pages it had to read from the store, so the next read is local', async () => {
    const store = counting(new MemoryPageStore());
    await store.commit(new Map([['manifest', manifest(1)], ['vectors/0', page(1)], ['vectors/1', page(2)]]));
    const mirror = await MirroredPageStore.open(store, mirrorFiles()(), OPTIONS);
    expect(await mirror.getMany(['vectors/0', 'vectors/1'])).toEqual([page(1), page(2)]);
    store.reads.length = 0;
    expect(await mirror.getMany(['vectors/0', 'vectors/1'])).toEqual([page(1), page(2)]);
    expect(store.reads).toEqual([]);
  });

  it('replaces and deletes copies with the pages they mirror, and reopens with them', async () => {
    const store = new MemoryPageStore();
    const files = mirrorFiles();
    const mirror = await MirroredPageStore.open(store, files(), OPTIONS);
    await mirror.commit(new Map([['manifest', manifest(1)], ['vectors/0', page(1)], ['vectors/1', page(2)]]));
    await mirror.commit(new Map([['manifest', manifest(2)], ['vectors/0', page(5)], ['vectors/1', null]]));
    expect(await mirror.getMany(['vectors/0', 'vectors/1'])).toEqual([page(5), undefined]);
    await mirror.close();
    const reopened = await MirroredPageStore.open(counting(store), files(), OPTIONS);
    expect(reopened.goodCopies).toBe(1);
    expect(await reopened.getMany(['vectors/0', 'vectors/1'])).toEqual([page(5), undefined]);
  });

  it('drops every copy when the store was changed without the mirror', async () => {
    const store = new MemoryPageStore();
    const files = mirrorFiles();
    const mirror = await MirroredPageStore.open(store, files(), OPTIONS);
    await mirror.commit(new Map([['manifest', manifest(1)], ['vectors/0', page(1)]]));
    await mirror.close();
    await store.commit(new Map([['manifest', manifest(2)], ['vectors/0', page(7)]])); // say, an older version of the app
    const reopened = await MirroredPageStore.open(store, files(), OPTIONS);
    expect(reopened.goodCopies).toBe(0);
    expect(await reopened.get('vectors/0')).toEqual(page(7));
  });

  it.each([
    ['after the store committed', true, page(2)],
    ['before the store committed', false, page(1)],
  ])('reopens consistent after a crash %s', async (_, storeCommitted, expected) => {
    const store = new MemoryPageStore();
    const files = mirrorFiles();
    const dying = Object.assign(Object.create(store) as PageStore, {
      commit: async (writes: PageWrites) => {
        if (dying.crash) {
          if (storeCommitted) await store.commit(writes);
          return new Promise<void>(() => {}); // the process is gone: nothing after this point runs
        }
        return store.commit(writes);
      },
      crash: false,
    });
    const mirror = await MirroredPageStore.open(dying, files(), OPTIONS);
    await mirror.commit(new Map([['manifest', manifest(1)], ['vectors/0', page(1)], ['vectors/1', page(9)]]));
    dying.crash = true;
    void mirror.commit(new Map([['manifest', manifest(2)], ['vectors/0', page(2)]]));
    await new Promise((resolve) => setTimeout(resolve, 10));
    const reopened = await MirroredPageStore.open(store, files(), OPTIONS);
    // The page the cut-short commit wrote is read from the store; the other keeps its copy.
    expect(reopened.goodCopies).toBe(1);
    expect(await reopened.getMany(['vectors/0', 'vectors/1'])).toEqual([expected, page(9)]);
    expect(await reopened.get('vectors/0')).toEqual(expected);
  });

  it('after a power cut that also lost the store\'s last commit, serves no copy of it', async () => {
    // IndexedDB's relaxed durability may lose a commit that had resolved; the mirror's writes after it may or may not survive.
    for (let seed = 1; seed <= 60; seed++) {
      const store = new MemoryPageStore();
      const files = { pages: new VolatileFile(), state: new VolatileFile() };
      const mirror = await MirroredPageStore.open(store, files, OPTIONS);
      // 40 copies, so that the spot check on reopening (8 of them, from the first) passes over vectors/1.
      await mirror.commit(new Map([['manifest', manifest(1)], ...numberedPages(40)]));
      const before = new Map((await store.getMany(['manifest', 'vectors/1'])).map((bytes, i) => [['manifest', 'vectors/1'][i]!, bytes!]));
      await mirror.commit(new Map([['manifest', manifest(2)], ['vectors/1', page(99)]]));
      await store.commit(before); // the power cut: the store is back where it was before the last commit
      const random = seededRandom(seed);
      const reopened = await MirroredPageStore.open(store, { pages: files.pages.afterPowerCut(random), state: files.state.afterPowerCut(random) }, OPTIONS);
      expect(await reopened.get('vectors/1')).toEqual(page(1));
    }
  });

  it('drops every copy when the store was cleared and refilled without it to the same counts', async () => {
    const store = new MemoryPageStore();
    const files = mirrorFiles();
    const mirror = await MirroredPageStore.open(store, files(), OPTIONS);
    const pages = numberedPages(20);
    await mirror.commit(new Map([['manifest', manifest(1)], ...pages]));
    await mirror.close();
    // The same manifest, other pages: only comparing copies with the store can tell.
    await store.commit(new Map([['manifest', manifest(1)], ...pages.map(([key], p): [string, Uint8Array] => [key, page(100 + p)])]));
    const reopened = await MirroredPageStore.open(store, files(), OPTIONS);
    expect(reopened.goodCopies).toBe(0);
    expect(await reopened.get('vectors/7')).toEqual(page(107));
  });

  it('keeps committing to the store when its file cannot grow (a full disk), and stops copying', async () => {
    const store = new MemoryPageStore();
    const files = mirrorFiles()();
    let full = true;
    const write = files.pages.write;
    const pages: SyncFile = { ...files.pages, write: (...args) => { if (full) throw new DOMException('No space', 'QuotaExceededError'); return write(...args); } };
    const mirror = await MirroredPageStore.open(store, { ...files, pages }, OPTIONS);
    await mirror.commit(new Map([['manifest', manifest(1)], ['vectors/0', page(1)]]));
    expect(await store.get('vectors/0')).toEqual(page(1));
    full = false; // space again, but this session's mirror has given up
    expect(await mirror.get('vectors/0')).toEqual(page(1));
    await mirror.commit(new Map([['manifest', manifest(2)], ['vectors/1', page(2)]]));
    expect(mirror.goodCopies).toBe(0);
  });

  it('gives its space back when the store is full, so that the store can go on', async () => {
    const store = new MemoryPageStore();
    const files = mirrorFiles()();
    const mirror = await MirroredPageStore.open(store, files, OPTIONS);
    await mirror.commit(new Map([['manifest', manifest(1)], ['vectors/0', page(1)], ['vectors/1', page(2)]]));
    expect(files.pages.getSize()).toBeGreaterThan(0);
    const commit = store.commit.bind(store);
    store.commit = async () => { throw new StorageFullError(); };
    await expect(mirror.commit(new Map([['manifest', manifest(2)], ['vectors/2', page(3)]]))).rejects.toThrow(StorageFullError);
    expect(files.pages.getSize()).toBe(0);
    expect(mirror.goodCopies).toBe(0);
    store.commit = commit;
    await mirror.commit(new Map([['manifest', manifest(3)], ['vectors/2', page(3)]]));
    expect(await mirror.getMany(['vectors/0', 'vectors/1', 'vectors/2'])).toEqual([page(1), page(2), page(3)]);
    expect(mirror.goodCopies).toBe(0);
  });

  it('empties its state when it cannot mark a commit\'s copies bad, and then no copy outlives the commit', async () => {
    // The manifest stays the same throughout.
    const { store, files, opened, mirror } = await mirrorOfFortyCopies();
    const { write: writeState } = opened.state;
    const { write: writePages } = opened.pages;
    opened.state.write = () => { throw new Error('I/O error'); };
    opened.pages.write = () => { throw new Error('I/O error'); };
    await mirror.commit(new Map([['manifest', manifest(1)], ['vectors/1', page(50)]]));
    opened.state.write = writeState;
    opened.pages.write = writePages;
    expect(await mirror.get('vectors/1')).toEqual(page(50));
    await mirror.close();
    const reopened = await MirroredPageStore.open(store, files(), OPTIONS);
    expect(await reopened.get('vectors/1')).toEqual(page(50));
  });

  it('marks a commit\'s pages bad on disk even where memory already thought them bad', async () => {
    const { store, files, opened, mirror } = await mirrorOfFortyCopies();
    // A short read makes memory give up on vectors/1's copy; writing that down fails, so the state file still says good.
    const read = opened.pages.read;
    const write = opened.state.write;
    opened.pages.read = () => 0;
    opened.state.write = () => { throw new Error('I/O error'); };
    expect(await mirror.get('vectors/1')).toEqual(page(1));
    opened.pages.read = read;
    opened.state.write = write;
    // A commit whose copy cannot be written: after it, the state file must not call the old copy good.
    opened.pages.write = () => { throw new DOMException('No space', 'QuotaExceededError'); };
    await mirror.commit(new Map([['manifest', manifest(2)], ['vectors/1', page(50)]]));
    await mirror.close();
    const reopened = await MirroredPageStore.open(store, files(), OPTIONS);
    expect(reopened.goodCopies).toBe(39);
    expect(await reopened.get('vectors/1')).toEqual(page(50));
  });

  it('reads the store when its file is shorter than its state says', async () => {
    const store = counting(new MemoryPageStore());
    const opened = mirrorFiles()();
    const mirror = await MirroredPageStore.open(store, opened, OPTIONS);
    await mirror.commit(new Map([['manifest', manifest(1)], ['vectors/0', page(1)], ['vectors/1', page(2)]]));
    opened.pages.truncate(4 + 8); // vectors/1's slot (a length and its 8 bytes) is gone
    store.reads.length = 0;
    expect(await mirror.getMany(['vectors/0', 'vectors/1'])).toEqual([page(1), page(2)]);
    expect(store.reads).toEqual(['vectors/1']);
  });

  it('refuses a commit whose old copies it cannot mark bad, so none outlives the commit', async () => {
    const store = new MemoryPageStore();
    const files = mirrorFiles()();
    const mirror = await MirroredPageStore.open(store, files, OPTIONS);
    await mirror.commit(new Map([['manifest', manifest(1)], ['vectors/0', page(1)]]));
    files.state.write = () => { throw new Error('I/O error'); };
    files.state.truncate = () => { throw new Error('I/O error'); };
    await expect(mirror.commit(new Map([['manifest', manifest(2)], ['vectors/0', page(2)]]))).rejects.toThrow('I/O error');
    expect(await store.get('vectors/0')).toEqual(page(1));
  });

  it('does not copy a page read while a commit was writing it', async () => {
    const memory = new MemoryPageStore();
    await memory.commit(new Map([['manifest', manifest(1)], ['vectors/0', page(1)]]));
    let release = () => {};
    const slow = Object.assign(Object.create(memory) as PageStore, {
      getMany: async (keys: readonly string[]) => {
        const old = await memory.getMany(keys);
        await new Promise<void>((resolve) => { release = resolve; });
        return old;
      },
    });
    const mirror = await MirroredPageStore.open(slow, mirrorFiles()(), OPTIONS);
    const staleRead = mirror.get('vectors/0');
    await new Promise((resolve) => setTimeout(resolve, 0));
    await mirror.commit(new Map([['manifest', manifest(2)], ['vectors/0', page(2)]]));
    release();
    expect(await staleRead).toEqual(page(1));
    expect(await mirror.get('vectors/0')).toEqual(page(2));
  });

  it('does not copy a page read while a commit was in flight, even if the read ends after it', async () => {
    const memory = new MemoryPageStore();
    await memory.commit(new Map([['manifest', manifest(1)], ['vectors/0', page(1)]]));
    let releaseCommit = () => {};
    let releaseRead = () => {};
    const gated = Object.assign(Object.create(memory) as PageStore, {
      commit: async (writes: PageWrites) => {
        await new Promise<void>((resolve) => { releaseCommit = resolve; });
        return memory.commit(writes);
      },
      getMany: async (keys: readonly string[]) => {
        const old = await memory.getMany(keys);
        await new Promise<void>((resolve) => { releaseRead = resolve; });
        return old;
      },
    });
    const mirror = await MirroredPageStore.open(gated, mirrorFiles()(), OPTIONS);
    const committed = mirror.commit(new Map([['manifest', manifest(2)], ['vectors/0', page(2)]]));
    await new Promise((resolve) => setTimeout(resolve, 0));
    const staleRead = mirror.get('vectors/0'); // the commit is in flight: the page is bad, so this reads the store
    await new Promise((resolve) => setTimeout(resolve, 0));
    releaseCommit();
    await committed;
    releaseRead();
    expect(await staleRead).toEqual(page(1));
    expect(await mirror.get('vectors/0')).toEqual(page(2));
  });

  it('mirrors only keys the index writes: the prefix and a page number in plain form', async () => {
    const store = counting(new MemoryPageStore());
    const mirror = await MirroredPageStore.open(store, mirrorFiles()(), OPTIONS);
    await mirror.commit(new Map([['manifest', manifest(1)], ['vectors/1', page(1)]]));
    store.reads.length = 0;
    expect(await mirror.getMany(['vectors/01', 'vectors/1e0', 'vectors/ 1', 'vectors/'])).toEqual([undefined, undefined, undefined, undefined]);
    expect(store.reads).toEqual(['vectors/01', 'vectors/1e0', 'vectors/ 1', 'vectors/']);
  });

  it('mirrors only pages that fit the slots its first copy set: that copy\'s largest page', async () => {
    const store = counting(new MemoryPageStore());
    const mirror = await MirroredPageStore.open(store, mirrorFiles()(), OPTIONS);
    await mirror.commit(new Map([['manifest', manifest(1)], ['vectors/0', page(1)], ['vectors/1', new Uint8Array(3).fill(7)]]));
    await mirror.commit(new Map([['manifest', manifest(2)], ['vectors/2', new Uint8Array(9)]]));
    store.reads.length = 0;
    const read = await mirror.getMany(['vectors/0', 'vectors/1', 'vectors/2']);
    expect(read).toEqual([page(1), new Uint8Array(3).fill(7), new Uint8Array(9)]);
    // The copies read come in one buffer of a slot a key, each a view of its own slot: one allocation a call.
    expect(read.map((bytes) => [bytes!.buffer.byteLength, bytes!.byteOffset])).toEqual([[3 * 12, 4], [3 * 12, 12 + 4], [9, 0]]);
    expect(store.reads).toEqual(['vectors/2']);
  });

  it('keeps pages of varying size in slots of slotBytes, and reads larger ones from the store', async () => {
    const store = counting(new MemoryPageStore());
    const files = mirrorFiles();
    const options = { prefix: 'meta/', stampKey: 'manifest', slotBytes: 64 };
    const text = (chars: number) => new TextEncoder().encode('x'.repeat(chars));
    const mirror = await MirroredPageStore.open(store, files(), options);
    await mirror.commit(new Map([['manifest', manifest(1)], ['meta/0', text(5)]]));
    await mirror.commit(new Map([['manifest', manifest(2)], ['meta/1', text(60)], ['meta/2', text(61)], ['meta/0', text(0)]]));
    await mirror.close();
    const reopened = await MirroredPageStore.open(store, files(), options);
    store.reads.length = 0;
    expect(await reopened.getMany(['meta/0', 'meta/1', 'meta/2'])).toEqual([text(0), text(60), text(61)]);
    expect(store.reads).toEqual(['meta/2']);
    expect(reopened.goodCopies).toBe(2);
  });

  it('wraps another mirror: each copies its own pages, and a full store empties both', async () => {
    const store = counting(new MemoryPageStore());
    const [vectorsFiles, metaFiles] = [mirrorFiles()(), mirrorFiles()()];
    const vectors = await MirroredPageStore.open(store, vectorsFiles, OPTIONS);
    const both = await MirroredPageStore.open(vectors, metaFiles, { prefix: 'meta/', stampKey: 'manifest', slotBytes: 64 });
    expect([both.mirrorOf('vectors/'), both.mirrorOf('meta/'), both.mirrorOf('codes/')]).toEqual([vectors, both, null]);
    await both.commit(new Map([['manifest', manifest(1)], ['vectors/0', page(1)], ['meta/0', page(2)], ['codes/0', page(3)]]));
    store.reads.length = 0;
    expect(await both.getMany(['meta/0', 'vectors/0', 'codes/0'])).toEqual([page(2), page(1), page(3)]);
    expect(store.reads).toEqual(['codes/0']);
    expect([vectors.goodCopies, both.goodCopies]).toEqual([1, 1]);
    // Each says which of its pages it reads from its copies, and asks the one it wraps about the others.
    expect(['meta/0', 'vectors/0', 'meta/1', 'vectors/1', 'codes/0'].map((key) => both.readsLocally(key))).toEqual([true, true, false, false, false]);
    store.commit = async () => { throw new StorageFullError(); };
    await expect(both.commit(new Map([['manifest', manifest(2)], ['meta/1', page(4)]]))).rejects.toThrow(StorageFullError);
    expect([vectorsFiles.pages.getSize(), metaFiles.pages.getSize()]).toEqual([0, 0]);
  });

  it.each([
    ['an older version\'s (format 1)', 1, 8],
    ['a damaged slot size', 2, 0xffffffff],
  ])('drops its copies, and their space, when the state file holds %s', async (_, version, slotBytes) => {
    const { store, files, mirror } = await mirrorOfFortyCopies();
    await mirror.close();
    const header = new Uint32Array(5);
    const state = files().state;
    state.read(new Uint8Array(header.buffer), { at: 0 });
    header.set([version, slotBytes], 1);
    state.write(new Uint8Array(header.buffer), { at: 0 });
    state.close();
    const reopened = await MirroredPageStore.open(store, files(), OPTIONS);
    expect(reopened.goodCopies).toBe(0);
    expect(await reopened.get('vectors/3')).toEqual(page(3));
    await reopened.close();
    expect(files().pages.getSize()).toBe(4 * (4 + 8)); // up to vectors/3's slot, which that read filled in again (40 slots before)
  });

  it('clears its copies with the store', async () => {
    const store = new MemoryPageStore();
    const files = mirrorFiles();
    const mirror = await MirroredPageStore.open(store, files(), OPTIONS);
    await mirror.commit(new Map([['manifest', manifest(1)], ['vectors/0', page(1)]]));
    await mirror.clear();
    expect(await mirror.get('vectors/0')).toBeUndefined();
    await mirror.close();
    expect((await MirroredPageStore.open(store, files(), OPTIONS)).goodCopies).toBe(0);
  });
});
