/**
 * The main thread's copy of the library's item list, who to tell when it
 * changes, and the one change (add, import, clear, remove) allowed at a time.
 */
import type { LibraryItem } from '../../browser/library.ts';
import { library } from '../engine.ts';
import { notify } from '../ui/notices.ts';

let items: LibraryItem[] = [];
const listeners: (() => void)[] = [];

export function libraryItems(): readonly LibraryItem[] { return items; }

export function onLibraryChange(listener: () => void): void { listeners.push(listener); }

function changed(next: LibraryItem[]): void {
  items = next;
  for (const listener of listeners) listener();
}

/** Reads the whole list again from the worker. */
export async function reloadLibrary(): Promise<void> {
  changed(await library.list());
}

export function appendItems(added: readonly LibraryItem[]): void {
  if (added.length) changed([...items, ...added]);
}

export function dropItems(ids: ReadonlySet<string>): void {
  changed(items.filter((item) => !ids.has(item.id)));
}

export type LibraryChange = 'adding' | 'importing' | 'clearing' | 'removing';

const UNDER_WAY: Record<LibraryChange, string> = {
  adding: 'Images are still being added. Wait for that to finish, or cancel it, then try again.',
  importing: 'A pack is still being imported. Wait for that to finish, then try again.',
  clearing: 'Your library is being cleared. Wait for that to finish, then try again.',
  removing: 'Images are being removed from your library. Wait for that to finish, then try again.',
};

let underWay: LibraryChange | null = null;

/**
 * Runs `run` unless another change to the library is under way, which is then
 * named in a notice instead. One at a time: an import or a clear ends by
 * reading the whole list again, which would cross an add's chunks arriving one
 * by one, and a clear would empty the library under them.
 */
export async function exclusively(change: LibraryChange, run: () => Promise<void>): Promise<void> {
  if (underWay) return notify(UNDER_WAY[underWay]);
  underWay = change;
  try {
    await run();
  } finally {
    underWay = null;
  }
}
