import 'fake-indexeddb/auto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IdbPageStore } from '../../src/browser/store/idb-store.ts';
import { seededRandom } from '../../src/core/codes/random.ts';
import { LruPageCache } from '../../src/core/store/lru-cache.ts';
import { MemoryPageStore } from '../../src/core/store/memory-store.ts';
import { MirroredPageStore } from '../../src/core/store/mirrored-page-store.ts';
import { StorageFullError, type PageStore } from '../../src/core/store/page-store.ts';
import { FilePageStore } from '../../src/node/file-store.ts';
import { nodeSyncFile } from '../node-sync-file.ts';

const temp = await mkdtemp(join(tmpdir(), 'lookalike-stores-'));
afterAll(() => rm(temp, { recursive: true, force: true }));

let opened = 0;
const stores: [string, () => Promise<PageStore>][] = [
  ['memory', async () => new MemoryPageStore()],
  ['IndexedDB (fake-indexeddb)', () => IdbPageStore.open(`test-${opened++}`)],
  ['file', () => FilePageStore.open(join(temp, `store-${opened++}`))],
  ['mirrored (memory, with its b/ pages in files)', () => {
    const files = { pages: nodeSyncFile(join(temp, `mirror-${opened}-pages`)), state: nodeSyncFile(join(temp, `mirror-${opened++}-state`)) };
    return MirroredPageStore.open(new MemoryPageStore(), files, { prefix: 'b/', stampKey: 'a' });
  }],
];

const bytes = (...values: number[]) => Uint8Array.from(values);

describe.each(stores)('%s page store', (_, open) => {
  it('commits puts and deletes together and reads them back', async () => {
    const store = await open();
    expect(await store.get('missing')).toBeUndefined();
    await store.commit(new Map([['a', bytes(1, 2)], ['b/1', bytes(3)]]));
    await store.commit(new Map([['a', null], ['c', bytes(4, 5, 6)]]));
    expect(await store.getMany(['a', 'b/1', 'c'])).toEqual([undefined, bytes(3), bytes(4, 5, 6)]);
    await store.clear();
    expect(await store.getMany(['b/1', 'c'])).toEqual([undefined, undefined]);
    await store.close();
  });

  it('stores a view of a larger buffer as just its bytes', async () => {
    const store = await open();
    const buffer = Uint8Array.from({ length: 100 }, (_, i) => i);
    await store.commit(new Map([['view', buffer.subarray(10, 13)]]));
    buffer.fill(0);
    expect(await store.get('view')).toEqual(bytes(10, 11, 12));
  });
});

describe('file page store', () => {
  it('ignores a half-written journal that never reached its commit point', async () => {
    const dir = join(temp, 'torn');
    const store = await FilePageStore.open(dir);
    await store.commit(new Map([['page', bytes(7)]]));
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'journal.tmp'), bytes(1, 2, 3));
    const reopened = await FilePageStore.open(dir);
    expect(await reopened.get('page')).toEqual(bytes(7));
    expect(await readdir(dir)).not.toContain('journal.tmp');
  });

  it('refuses to open over a damaged journal rather than guess', async () => {
    const dir = join(temp, 'damaged');
    await FilePageStore.open(dir);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'journal'), bytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13));
    await expect(FilePageStore.open(dir)).rejects.toThrow(/journal is damaged/);
  });
});

describe('IndexedDB page store', () => {
  it('turns a quota error into StorageFullError and keeps nothing of that commit', async () => {
    const store = await IdbPageStore.open('quota');
    await store.commit(new Map([['kept', bytes(1)]]));
    const put = IDBObjectStore.prototype.put;
    let puts = 0;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      if (++puts === 2) throw new DOMException('The current transaction exceeded its quota limitations.', 'QuotaExceededError');
      return put.apply(this, args);
    };
    try {
      await expect(store.commit(new Map([['first', bytes(2)], ['second', bytes(3)], ['kept', null]]))).rejects.toThrow(StorageFullError);
    } finally {
      IDBObjectStore.prototype.put = put;
    }
    expect(await store.getMany(['kept', 'first', 'second'])).toEqual([bytes(1), undefined, undefined]);
  });
});

describe('LRU page cache', () => {
  it('keeps the most recently used pages under its byte budget and writes through', async () => {
    const store = new MemoryPageStore();
    await store.commit(new Map(['a', 'b', 'c', 'd'].map((k) => [k, new Uint8Array(100)])));
    const cache = new LruPageCache(store, 250);
    await cache.getMany(['a', 'b']);
    await cache.get('a'); // a is now more recent than b
    await cache.get('c'); // over budget: b goes
    expect(cache.residentBytes).toBe(200);
    const misses = cache.misses;
    await cache.getMany(['a', 'c']);
    expect(cache.misses).toBe(misses);
    await cache.get('b');
    expect(cache.misses).toBe(misses + 1);

    await cache.commit(new Map([['a', bytes(9)], ['c', null]]));
    expect(await store.get('a')).toEqual(bytes(9));
    expect(await cache.get('c')).toBeUndefined();
    cache.setBudget(0);
    expect(cache.residentBytes).toBe(0);
  });

  it('keeps and evicts exactly what a least-recently-used list does, through random reads, writes, deletes, clears and budgets', async () => {
    // k0 … k3 are read locally: kept only when there is room, evicting nothing.
    const local = (key: string) => ['k0', 'k1', 'k2', 'k3'].includes(key);
    const store = Object.assign(new MemoryPageStore(), { readsLocally: local });
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
    // The reference: the store's page sizes, and the cached keys from least to most recently used.
    const stored = new Map(keys.map((key, i) => [key, 10 + 7 * i]));
    await store.commit(new Map([...stored].map(([key, size]) => [key, new Uint8Array(size)])));
    let budget = 200;
    const cache = new LruPageCache(store, budget);
    let cached: string[] = [];
    const resident = () => cached.reduce((sum, key) => sum + stored.get(key)!, 0);
    const forget = (key: string) => (cached = cached.filter((k) => k !== key));
    const evict = () => { while (resident() > budget) cached.shift(); };
    const remember = (key: string) => {
      forget(key);
      const size = stored.get(key);
      if (size === undefined || size > budget || (local(key) && resident() + size > budget)) return;
      cached.push(key);
      evict();
    };
    const random = seededRandom(5);
    const pick = () => keys[Math.floor(random() * keys.length)]!;
    for (let step = 0; step < 3000; step++) {
      const r = random();
      if (r < 0.7) {
        // (A key may come twice: each time a hit, or each time a miss, then cached.)
        const batch = [pick(), pick(), pick()];
        const hit = batch.map((key) => cached.includes(key));
        const misses = cache.misses;
        await cache.getMany(batch);
        expect(cache.misses - misses).toBe(hit.filter((h) => !h).length);
        batch.forEach((key, i) => { if (hit[i]) { forget(key); cached.push(key); } });
        batch.forEach((key, i) => { if (!hit[i]) remember(key); });
      } else if (r < 0.71) {
        await cache.clear();
        cached = [];
        stored.clear();
        keys.forEach((key, i) => stored.set(key, 10 + 7 * i));
        await cache.commit(new Map([...stored].map(([key, size]) => [key, new Uint8Array(size)])));
        keys.forEach(remember);
      } else if (r < 0.85) {
        const key = pick();
        stored.set(key, 5 + Math.floor(random() * 60));
        await cache.commit(new Map([[key, new Uint8Array(stored.get(key)!)]]));
        remember(key);
      } else if (r < 0.9) {
        const key = pick();
        stored.delete(key);
        await cache.commit(new Map([[key, null]]));
        forget(key);
      } else {
        budget = Math.floor(random() * 300);
        cache.setBudget(budget);
        evict();
      }
      expect(cache.residentBytes).toBe(resident());
    }
    // What is cached is what the reference holds: reading it all misses nothing.
    const misses = cache.misses;
    await cache.getMany([...cached]);
    expect(cache.misses).toBe(misses);
  });

  it('decodes a page that a later read of the same call evicted for that call alone, counting it nowhere', async () => {
    const store = new MemoryPageStore();
    await store.commit(new Map([['a', new Uint8Array(6).fill(1)], ['x', new Uint8Array(6).fill(2)]]));
    const cache = new LruPageCache(store, 10);
    await cache.get('a');
    // a is found cached, then x is read and kept, and a (now the least recently used) goes to make room.
    const decoded = await cache.getManyDecoded(['a', 'x'], (page) => page[0], () => 1);
    expect(decoded).toEqual([1, 2]);
    expect([cache.has('a'), cache.has('x'), cache.residentBytes]).toEqual([false, true, 6 + 1]); // x and its decoded form

  });

  it('decodes a cached page once, counts the decoded form in its budget, and decodes a rewritten page afresh', async () => {
    const store = new MemoryPageStore();
    await store.commit(new Map([['a', bytes(1, 2)], ['b', bytes(3)], ['c', new Uint8Array(50)]]));
    const cache = new LruPageCache(store, 100, (key) => key !== 'c');
    let decodes = 0;
    const decode = (page: Uint8Array) => {
      decodes++;
      return { sum: page.reduce((sum, v) => sum + v, 0) };
    };
    const weight = (page: Uint8Array) => 10 * page.byteLength;
    const [a, b, missing] = await cache.getManyDecoded(['a', 'b', 'x'], decode, weight);
    expect([a, b, missing]).toEqual([{ sum: 3 }, { sum: 3 }, undefined]);
    expect(decodes).toBe(2);
    expect(cache.residentBytes).toBe(2 + 20 + 1 + 10);
    expect((await cache.getManyDecoded(['a'], decode, weight))[0]).toBe(a);
    expect(decodes).toBe(2);
    // A page that is not cached is decoded on every read, and counted nowhere.
    await cache.getManyDecoded(['c'], decode, weight);
    await cache.getManyDecoded(['c'], decode, weight);
    expect(decodes).toBe(4);
    expect(cache.residentBytes).toBe(33);
    // A rewritten page leaves its decoded form behind.
    await cache.commit(new Map([['a', bytes(5)]]));
    expect(cache.residentBytes).toBe(11 + 1);
    expect((await cache.getManyDecoded(['a'], decode, weight))[0]).toEqual({ sum: 5 });
    expect(cache.residentBytes).toBe(11 + 11);
    // The decoded forms count toward the budget: b, the least recently used, goes.
    cache.setBudget(12);
    expect(cache.residentBytes).toBe(11);
    expect((await cache.getManyDecoded(['a'], decode, weight))[0]).toEqual({ sum: 5 });
    expect(decodes).toBe(5);
    await cache.clear();
    expect(cache.residentBytes).toBe(0);
  });

  it('counts nothing for a page a clear dropped while a decoded read that had found it waited for another', async () => {
    const store = new MemoryPageStore();
    await store.commit(new Map([['a', bytes(1)], ['b', bytes(2)], ['x', bytes(3)]]));
    const cache = new LruPageCache(store, 100);
    await cache.getMany(['b', 'a']); // a is cached, and not the oldest
    // The read finds a cached, then waits for x; a clear runs meanwhile.
    let answer!: () => void;
    const gate = new Promise<void>((resolve) => (answer = resolve));
    const read = store.getMany.bind(store);
    store.getMany = async (keys) => {
      await gate;
      return read(keys);
    };
    const reading = cache.getManyDecoded(['a', 'x'], (page) => page[0], () => 10);
    const clearing = cache.clear();
    answer();
    expect(await reading).toEqual([1, undefined]); // (x was cleared from the store before the read reached it)
    await clearing;
    expect([cache.has('a'), cache.residentBytes]).toEqual([false, 0]);
  });

  it('decodes a page read while it was being rewritten for that read alone', async () => {
    const store = new MemoryPageStore();
    await store.commit(new Map([['a', bytes(1)]]));
    const cache = new LruPageCache(store, 100);
    // The store answers the read only after the rewrite of the same page has begun.
    let answer!: () => void;
    const gate = new Promise<void>((resolve) => (answer = resolve));
    const read = store.getMany.bind(store);
    store.getMany = async (keys) => {
      const pages = await read(keys);
      await gate;
      return pages;
    };
    const decode = (page: Uint8Array) => ({ first: page[0] });
    const reading = cache.getManyDecoded(['a'], decode, () => 10);
    const writing = cache.commit(new Map([['a', bytes(2)]]));
    answer();
    expect(await reading).toEqual([{ first: 1 }]);
    await writing;
    expect(cache.residentBytes).toBe(1); // the new page, and no decoded form of the old one
    expect(await cache.getManyDecoded(['a'], decode, () => 10)).toEqual([{ first: 2 }]);
    expect(cache.residentBytes).toBe(11);
  });

  it('keeps pages the store reads locally while it has room, and evicts nothing for them', async () => {
    const store = Object.assign(new MemoryPageStore(), { readsLocally: (key: string) => key.startsWith('local/') });
    await store.commit(new Map(['a', 'b', 'local/1', 'local/2', 'local/3'].map((key) => [key, new Uint8Array(100)])));
    const cache = new LruPageCache(store, 250);
    await cache.getMany(['local/1', 'a']); // room for both
    await cache.get('local/2'); // none left: read, not kept, and nothing evicted
    await cache.commit(new Map([['local/3', new Uint8Array(100)]])); // written through, not kept
    expect(cache.residentBytes).toBe(200);
    const misses = cache.misses;
    await cache.getMany(['local/1', 'a']);
    expect(cache.misses).toBe(misses);
    await cache.get('local/2');
    await cache.get('local/3');
    expect(cache.misses).toBe(misses + 2);
    // A page from afar still makes room: local/1, now the least recently used, goes.
    await cache.get('b');
    expect(cache.residentBytes).toBe(200);
    await cache.getMany(['a', 'b']);
    expect(cache.misses).toBe(misses + 3);
    await cache.get('local/1');
    expect(cache.misses).toBe(misses + 4);
  });

  it('keeps the pages, and their decoded forms, of a read that asks to evict nothing only while there is room for them', async () => {
    const store = new MemoryPageStore();
    await store.commit(new Map(['a', 'b', 'c', 'd'].map((key) => [key, new Uint8Array(100)])));
    const cache = new LruPageCache(store, 250);
    await cache.get('a');
    await cache.getMany(['b', 'c'], { evictNothing: true }); // room for b, not c: c is read, not kept, and a stays
    expect([cache.has('a'), cache.has('b'), cache.has('c'), cache.residentBytes]).toEqual([true, true, false, 200]);
    let decodes = 0;
    const decode = () => ++decodes;
    await cache.getManyDecoded(['b'], decode, () => 60, { evictNothing: true }); // no room for its decoded form
    await cache.getManyDecoded(['b'], decode, () => 40, { evictNothing: true }); // room: kept
    await cache.getManyDecoded(['b'], decode, () => 40);
    expect([decodes, cache.residentBytes, cache.has('a')]).toEqual([2, 240, true]);
    await cache.get('d'); // a read that may evict makes room as before: a, the least recently used, goes
    expect([cache.has('a'), cache.has('d'), cache.residentBytes]).toEqual([false, true, 240]);
  });

  it('keeps the decoded form of a page the store reads locally only while there is room for it, evicting nothing', async () => {
    const store = Object.assign(new MemoryPageStore(), { readsLocally: (key: string) => key.startsWith('local/') });
    await store.commit(new Map(['a', 'b', 'local/1'].map((key) => [key, new Uint8Array(100)])));
    const cache = new LruPageCache(store, 250);
    await cache.getMany(['a', 'local/1']);
    let decodes = 0;
    const decode = () => ++decodes;
    await cache.getManyDecoded(['local/1'], decode, () => 60);
    await cache.getManyDecoded(['local/1'], decode, () => 60);
    expect(decodes).toBe(2); // made for each call alone: keeping it would have pushed a out
    expect(cache.residentBytes).toBe(200);
    await cache.getManyDecoded(['local/1'], decode, () => 40);
    await cache.getManyDecoded(['local/1'], decode, () => 40);
    expect(decodes).toBe(3); // room for it: kept
    expect(cache.residentBytes).toBe(240);
    // A page from afar still makes room, for itself (a goes) and for its decoded form (then local/1 goes).
    await cache.getMany(['b']);
    expect(cache.residentBytes).toBe(240);
    await cache.getManyDecoded(['b'], decode, () => 60);
    expect(cache.residentBytes).toBe(160);
  });

  it('keeps a page that is a view into a larger buffer as a copy of its own, and hands the copy out', async () => {
    const store = new MemoryPageStore();
    const backing = Uint8Array.from({ length: 64 }, (_, i) => i);
    store.getMany = async (keys) => keys.map(() => backing.subarray(8, 11));
    const cache = new LruPageCache(store, 100);
    const [page] = await cache.getMany(['a']);
    expect(page).toEqual(bytes(8, 9, 10));
    expect(page!.buffer.byteLength).toBe(3);
    expect(cache.residentBytes).toBe(3);
    expect(await cache.get('a')).toBe(page);
  });

  it('caches nothing from a commit that failed', async () => {
    const store = new MemoryPageStore();
    store.commit = async () => { throw new Error('disk on fire'); };
    const cache = new LruPageCache(store, 1000);
    await expect(cache.commit(new Map([['a', bytes(1)]]))).rejects.toThrow('disk on fire');
    expect(await cache.get('a')).toBeUndefined();
  });
});
