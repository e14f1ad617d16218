/** The library view: the grid (a page at a time), count and storage used, selection, remove, clear, export and import. */
import type { ImportOutcome, LibraryItem } from '../../browser/library.ts';
import { library, ready } from '../engine.ts';
import { confirmAction } from '../ui/confirm.ts';
import { byId, el, formatBytes, plural, revokeImages } from '../ui/dom.ts';
import { describeError, notify } from '../ui/notices.ts';
import { fillThumbnails, sizeText, thumbImage } from '../ui/thumbs.ts';
import { dropItems, exclusively, libraryItems, onLibraryChange, reloadLibrary } from './library-state.ts';

const PAGE = 120;

const grid = byId<HTMLUListElement>('library-grid');
const selected = new Set<string>();
let shown = 0;

export function setUpLibraryView(): void {
  onLibraryChange(render);
  byId('library-more').addEventListener('click', () => showMore());
  byId('select-all').addEventListener('click', toggleSelectAll);
  byId('remove-selected').addEventListener('click', () => void exclusively('removing', removeSelected));
  byId('clear-all').addEventListener('click', () => void exclusively('clearing', clearAll));
  byId('export-button').addEventListener('click', () => void exportPack());
  const importInput = byId<HTMLInputElement>('import-input');
  importInput.addEventListener('change', () => {
    const file = importInput.files?.[0];
    importInput.value = '';
    if (file) void exclusively('importing', () => importPack(file));
  });
  grid.addEventListener('change', (event) => {
    const box = event.target as HTMLInputElement;
    const id = box.closest<HTMLElement>('li')?.dataset.id;
    if (!id) return;
    if (box.checked) selected.add(id);
    else selected.delete(id);
    box.closest('li')!.classList.toggle('selected', box.checked);
    updateBar();
  });
}

/** Re-renders after a change: tiles already shown stay, new ones are appended, removed ones go. */
function render(): void {
  const items = libraryItems();
  const ids = new Set(items.map((item) => item.id));
  for (const tile of [...grid.children] as HTMLElement[]) {
    if (!ids.has(tile.dataset.id!)) {
      revokeImages(tile);
      tile.remove();
    }
  }
  for (const id of selected) if (!ids.has(id)) selected.delete(id);
  shown = grid.children.length;
  // Keep a growing library's new items visible while it is being added to, up to a page.
  if (shown < PAGE) showMore(PAGE - shown);
  updateBar();
}

function showMore(count = PAGE): void {
  const next = libraryItems().slice(shown, shown + count);
  if (next.length === 0) return updateBar();
  const images = next.map(() => thumbImage());
  grid.append(...next.map((item, i) => tile(item, images[i]!)));
  shown += next.length;
  fillThumbnails(next, images).catch((err: unknown) => notify(`The thumbnails could not be shown. ${describeError(err)}`, 'error'));
  updateBar();
}

function tile(item: LibraryItem, image: HTMLImageElement): HTMLLIElement {
  const box = el('input', { type: 'checkbox', class: 'tile-check', 'aria-label': `Select ${item.file}` });
  return el('li', { 'data-id': item.id, class: 'tile' },
    el('label', { title: `${item.file} · ${sizeText(item)}` }, box, image, el('span', { class: 'tile-name' }, item.file)));
}

function updateBar(): void {
  const count = libraryItems().length;
  byId('library-empty').hidden = count > 0;
  byId('library-stats').hidden = count === 0;
  byId('export-button').hidden = count === 0;
  byId('library-more').hidden = shown >= count;
  byId('library-count-badge').textContent = count ? String(count) : '';
  byId('select-all').hidden = count === 0;
  byId('select-all').textContent = selected.size === count && count > 0 ? 'Select none' : 'Select all';
  byId('clear-all').hidden = count === 0;
  const remove = byId('remove-selected');
  remove.hidden = selected.size === 0;
  remove.textContent = `Remove ${plural(selected.size, 'image')}`;
  void updateStats(count);
}

let statsRequest = 0;
async function updateStats(count: number): Promise<void> {
  const request = ++statsRequest;
  const estimate = await navigator.storage?.estimate?.().catch(() => null);
  if (request !== statsRequest) return;
  const used = estimate?.usage ? ` · ${formatBytes(estimate.usage)} used on this device` : '';
  byId('library-stats').textContent = `${plural(count, 'image')}${used}`;
}

function toggleSelectAll(): void {
  const all = selected.size < libraryItems().length;
  selected.clear();
  if (all) for (const item of libraryItems()) selected.add(item.id);
  for (const li of grid.children as HTMLCollectionOf<HTMLElement>) {
    li.classList.toggle('selected', all);
    li.querySelector<HTMLInputElement>('input')!.checked = all;
  }
  updateBar();
}

async function removeSelected(): Promise<void> {
  const ids = [...selected];
  if (!(await confirmAction(`Remove ${plural(ids.length, 'image')} from your library?`, 'Remove'))) return;
  try {
    await library.remove(ids);
    dropItems(new Set(ids));
    notify(`Removed ${plural(ids.length, 'image')}.`);
  } catch (err) {
    notify(describeError(err), 'error');
  }
}

async function clearAll(): Promise<void> {
  const count = libraryItems().length;
  if (!(await confirmAction(`Remove all ${plural(count, 'image')} from your library? This cannot be undone; export a pack first to keep a copy.`, 'Remove all'))) return;
  try {
    await library.clear();
    await reloadLibrary();
    notify('Your library is empty now.');
  } catch (err) {
    notify(describeError(err), 'error');
  }
}

async function exportPack(): Promise<void> {
  try {
    await ready();
    const blob = await library.exportPack();
    const link = el('a', { href: URL.createObjectURL(blob), download: `lookalike-${new Date().toISOString().slice(0, 10)}.pack` });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
    notify(`Exported ${plural(libraryItems().length, 'image')} to a pack file (${formatBytes(blob.size)}). Import it in Lookalike on any device.`);
  } catch (err) {
    notify(describeError(err), 'error');
  }
}

const PACK_PROBLEMS: Record<Exclude<ImportOutcome, { ok: true }>['reason'], string> = {
  foreign: 'This file is not a Lookalike pack. Choose a .pack file exported from Lookalike.',
  version: 'This pack was made by a newer version of Lookalike. Update the app (reload the page), then import it again.',
  truncated: 'This pack is incomplete, probably cut short while downloading or copying. Copy or download it again.',
  corrupt: 'This pack is damaged. Copy or download it again, or export a new one.',
  invalid: 'This pack is damaged. Copy or download it again, or export a new one.',
  model: 'This pack was made with a different image model, so its pictures cannot be compared with your library. Make the pack again with this version of Lookalike.',
  'storage-full': 'Your device is out of storage for this app, so the pack was not imported. Free some space or remove images, then try again.',
};

async function importPack(file: File): Promise<void> {
  try {
    await ready();
    const outcome = await library.importPack(file);
    if (!outcome.ok) {
      notify(`${PACK_PROBLEMS[outcome.reason]} Your library was not changed.`, 'error', [`${file.name}: ${outcome.detail}`]);
      return;
    }
    await reloadLibrary();
    const present = outcome.present ? `, ${outcome.present} already in the library` : '';
    notify(`Imported ${plural(outcome.added, 'image')} from ${file.name}${present}.`);
  } catch (err) {
    notify(`${describeError(err)} Your library was not changed.`, 'error');
  }
}
