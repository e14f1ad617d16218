/** The main thread's copy of the library's item list, and who to tell when it changes. */
import type { LibraryItem } from '../../browser/library.ts';
import { library } from '../engine.ts';

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
