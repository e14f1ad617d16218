/**
 * The index's store in a browser: IndexedDB, with the pages a query reads
 * (`vectors/<page>` for re-ranking, `meta/<page>` for the results) mirrored in
 * files of the origin private file system where this context can read them
 * synchronously (dedicated workers: the app's library worker). Elsewhere, or
 * if the files cannot be opened (held by a worker of this library that has not
 * been torn down yet), IndexedDB alone.
 */
import { ITEMS_PER_PAGE, MANIFEST_KEY, META_PREFIX, VECTORS_PREFIX } from '../../core/index/pages.ts';
import { MirroredPageStore, type MirrorOptions, type SyncFile } from '../../core/store/mirrored-page-store.ts';
import type { PageStore } from '../../core/store/page-store.ts';
import { IdbPageStore, PAGE_STORE_DB_PREFIX } from './idb-store.ts';

/** The OPFS folder holding one folder of mirror files per index store. */
const MIRRORS_DIR = 'lookalike-index-mirrors';

/** Each mirror's two files in the store's folder, and what it mirrors; each wraps the one before. */
const MIRRORS: readonly { readonly files: readonly [pages: string, state: string]; readonly options: MirrorOptions }[] = [
  { files: ['pages', 'state'], options: { prefix: VECTORS_PREFIX, stampKey: MANIFEST_KEY } },
  // Slots of 1 KiB: 256 bytes of metadata an item (an id, a title and two URLs) on pages of ITEMS_PER_PAGE. A page with
  // more (or with more items: storage format 2 kept 16) is read from IndexedDB.
  { files: ['meta-pages', 'meta-state'], options: { prefix: META_PREFIX, stampKey: MANIFEST_KEY, slotBytes: 4 + 256 * ITEMS_PER_PAGE } },
];

export async function openIndexStore(name: string): Promise<PageStore> {
  let store: PageStore = await IdbPageStore.open(name);
  for (const mirror of MIRRORS) {
    const files = await openMirrorFiles(name, mirror.files);
    if (!files) continue;
    try {
      store = await MirroredPageStore.open(store, files, mirror.options);
    } catch {
      // The mirror's files could not be read or reset: go on without them (its next open checks them again).
      try {
        files.pages.close();
      } finally {
        files.state.close();
      }
    }
  }
  return store;
}

/** Deletes an index store and its mirrors (close it first). */
export async function deleteIndexStore(name: string): Promise<void> {
  await IdbPageStore.delete(name);
  await deleteMirror(name);
}

/** Deletes the mirrors' files of the store `name`, if there are any and nothing holds them (deleteOrphanMirrors catches what this leaves). */
export async function deleteMirror(name: string): Promise<void> {
  try {
    await (await mirrorsDir()).removeEntry(encodeURIComponent(name), { recursive: true });
  } catch {
    // none, held, or no OPFS here
  }
}

/**
 * Deletes the mirrors whose IndexedDB store is gone (deleted while its mirror was held, or by hand).
 * Each is checked again under its library's Web Lock, so a library another tab is creating is left alone.
 */
export async function deleteOrphanMirrors(): Promise<void> {
  if (!('databases' in indexedDB)) return; // cannot tell which stores exist
  const storeExists = async (name: string) => (await indexedDB.databases()).some((db) => db.name === PAGE_STORE_DB_PREFIX + name);
  for (const name of await mirrorNames()) {
    if (await storeExists(name)) continue;
    await navigator.locks.request(PAGE_STORE_DB_PREFIX + name, { ifAvailable: true }, async (lock) => {
      if (lock && !(await storeExists(name))) await deleteMirror(name);
    });
  }
}

/** The stores that have a mirror folder, sorted (none where there is no OPFS). */
export async function mirrorNames(): Promise<string[]> {
  const names: string[] = [];
  try {
    // TypeScript's DOM types lack the directory's async iterators, which every browser with OPFS has.
    for await (const folder of ((await mirrorsDir()) as unknown as { keys(): AsyncIterable<string> }).keys()) {
      try {
        names.push(decodeURIComponent(folder));
      } catch {
        // not a name this code wrote
      }
    }
  } catch {
    return []; // no OPFS here
  }
  return names.sort();
}

function mirrorsDir(): Promise<FileSystemDirectoryHandle> {
  return navigator.storage.getDirectory().then((root) => root.getDirectoryHandle(MIRRORS_DIR, { create: true }));
}

async function openMirrorFiles(name: string, [pages, state]: readonly [string, string]): Promise<{ pages: SyncFile; state: SyncFile } | null> {
  if (typeof FileSystemFileHandle === 'undefined' || !('createSyncAccessHandle' in FileSystemFileHandle.prototype)) return null;
  const opened: FileSystemSyncAccessHandle[] = [];
  try {
    const dir = await (await mirrorsDir()).getDirectoryHandle(encodeURIComponent(name), { create: true });
    for (const file of [pages, state]) opened.push(await (await dir.getFileHandle(file, { create: true })).createSyncAccessHandle());
    return { pages: opened[0]!, state: opened[1]! };
  } catch {
    for (const handle of opened) handle.close();
    return null;
  }
}
