/**
 * The index's store in a browser: IndexedDB, with the pages that re-ranking
 * reads (`vectors/<page>`) mirrored in files of the origin private file system
 * where this context can read them synchronously (dedicated workers: the app's
 * library worker). Elsewhere, or if the files cannot be opened (another tab
 * holds them), IndexedDB alone.
 */
import { MANIFEST_KEY, VECTORS_PREFIX } from '../../core/index/pages.ts';
import { MirroredPageStore, type SyncFile } from '../../core/store/mirrored-page-store.ts';
import type { PageStore } from '../../core/store/page-store.ts';
import { IdbPageStore } from './idb-store.ts';

/** The OPFS folder holding one folder of mirror files per index store. */
const MIRRORS_DIR = 'lookalike-index-mirrors';

export async function openIndexStore(name: string): Promise<PageStore> {
  const store = await IdbPageStore.open(name);
  const files = await openMirrorFiles(name);
  return files ? MirroredPageStore.open(store, files, { prefix: VECTORS_PREFIX, stampKey: MANIFEST_KEY }) : store;
}

/** Deletes an index store and its mirror (close it first). */
export async function deleteIndexStore(name: string): Promise<void> {
  await IdbPageStore.delete(name);
  await deleteMirror(name);
}

/** Deletes the mirror files of the store `name`, if there are any. */
export async function deleteMirror(name: string): Promise<void> {
  try {
    const mirrors = await navigator.storage.getDirectory().then((root) => root.getDirectoryHandle(MIRRORS_DIR));
    await mirrors.removeEntry(encodeURIComponent(name), { recursive: true });
  } catch {
    // none (or no OPFS here)
  }
}

async function openMirrorFiles(name: string): Promise<{ pages: SyncFile; state: SyncFile } | null> {
  if (typeof FileSystemFileHandle === 'undefined' || !('createSyncAccessHandle' in FileSystemFileHandle.prototype)) return null;
  const opened: FileSystemSyncAccessHandle[] = [];
  try {
    const root = await navigator.storage.getDirectory();
    const dir = await (await root.getDirectoryHandle(MIRRORS_DIR, { create: true })).getDirectoryHandle(encodeURIComponent(name), { create: true });
    for (const file of ['pages', 'state']) opened.push(await (await dir.getFileHandle(file, { create: true })).createSyncAccessHandle());
    return { pages: opened[0]!, state: opened[1]! };
  } catch {
    for (const handle of opened) handle.close();
    return null;
  }
}
