/**
 * Search: a picture from the file input, a drop, a paste, an image address, the
 * camera or a share (the PWA calls `searchWith`) is embedded and looked up in
 * the library. Results come by score, except that the largest copy of the
 * query's own picture comes first, badged "Original" when the library holds
 * the picture at two or more sizes. Each search is timed from the moment its
 * picture was taken to the results being in the page (`lookalike:search`
 * performance measure, also shown as "in N ms" with `data-ms`, and its phases
 * in `data-embed-ms`, `data-search-ms` and `data-show-ms`).
 */
import type { Match } from '../../browser/library.ts';
import { embedder, library, ready } from '../engine.ts';
import { libraryItems } from '../library/library-state.ts';
import { byId, el, revokeImages } from '../ui/dom.ts';
import { clearNotices, describeError, notify } from '../ui/notices.ts';
import { showView } from '../ui/tabs.ts';
import { showThumbnails, sizeText, thumbImage } from '../ui/thumbs.ts';

const RESULTS = 24;

const results = byId<HTMLUListElement>('results');
// The picture the results on screen belong to; a search that fails puts it back.
let queryUrl = '';
let queryAlt = '';
let latest = 0;
let shownMatches: readonly Match[] = [];

export function setUpSearchView(): void {
  const input = byId<HTMLInputElement>('search-input');
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    input.value = '';
    if (file) void searchWith(file, file.name);
  });
  byId<HTMLFormElement>('url-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void searchByUrl(byId<HTMLInputElement>('url-input').value.trim());
  });
  results.addEventListener('click', (event) => {
    const li = (event.target as Element).closest<HTMLElement>('li[data-index]');
    if (li) openDetail(li);
  });
  byId('detail-close').addEventListener('click', () => byId<HTMLDialogElement>('detail').close());
}

/**
 * Shows the search view and the library's closest matches to `image`. `source`
 * names where it came from (a file name, "camera", "shared image");
 * `startedAt` is when the picture was taken, for the latency figure.
 */
export async function searchWith(image: Blob, source: string, startedAt = performance.now()): Promise<Match[]> {
  const search = ++latest;
  showView('search');
  clearNotices();
  const imageUrl = URL.createObjectURL(image);
  showQuery(imageUrl, `Your image: ${source}`);
  byId('search-timing').textContent = 'Searching…';
  delete byId('search-timing').dataset.ms;
  try {
    const info = await ready();
    const [outcome] = await embedder.embed([image]);
    const embedded = performance.now();
    if (!outcome?.ok) throw new Error(`This picture cannot be read: ${outcome?.error ?? 'unknown error'} Try a JPEG, PNG, GIF or WebP file.`);
    const { matches, thumbs } = libraryItems().length ? await library.search(outcome.embedding, RESULTS) : { matches: [], thumbs: [] };
    const found = performance.now();
    if (search !== latest) { // a newer search has replaced this one
      URL.revokeObjectURL(imageUrl);
      return matches;
    }
    URL.revokeObjectURL(queryUrl);
    [queryUrl, queryAlt] = [imageUrl, `Your image: ${source}`];
    byId('query-labels').replaceChildren(...outcome.labels.slice(0, 3).map((l) => el('li', {}, `${l.name} — ${Math.round(l.score * 100)}%`)));
    renderResults(matches, thumbs);
    const ms = performance.measure('lookalike:search', { start: startedAt }).duration;
    const timing = byId('search-timing');
    // The phases, for bench figures: picture to embedding, library search, thumbnails and rendering.
    Object.assign(timing.dataset, { embedMs: Math.round(embedded - startedAt), searchMs: Math.round(found - embedded), showMs: Math.round(startedAt + ms - found) });
    timing.dataset.ms = String(Math.round(ms));
    timing.textContent = matches.length
      ? `${matches.length} closest in your library, in ${Math.round(ms)} ms (${info.backend}).`
      : 'Your library is empty, so there is nothing to compare with. Add images in the Library view, then search again.';
    return matches;
  } catch (err) {
    URL.revokeObjectURL(imageUrl);
    // A search already replaced by a newer one fails silently: its error would sit over the newer one's results.
    if (search === latest) {
      showQuery(queryUrl, queryAlt);
      byId('search-timing').textContent = '';
      notify(describeError(err), 'error');
    }
    return [];
  }
}

/** Shows `url` as the picture searched with (none: the empty state). */
function showQuery(url: string, alt: string): void {
  const image = byId<HTMLImageElement>('query-image');
  image.src = url;
  image.alt = alt;
  byId('query').hidden = !url;
  byId('search-empty').hidden = !!url;
}

function renderResults(matches: readonly Match[], thumbs: readonly (Blob | null)[]): void {
  const images = matches.map(() => thumbImage());
  const items = matches.map((m, i) => {
    const percent = `${Math.round(m.score * 100)}%`;
    return el('li', { class: 'tile result', 'data-index': i, 'data-id': m.id },
      el('button', { type: 'button', 'aria-label': `${m.file}, ${percent} similar${m.original ? ', the original' : ''}` },
        images[i]!, el('span', { class: 'tile-name' }, m.file), el('span', { class: 'score' }, percent),
        ...(m.original ? [el('span', { class: 'badge' }, 'Original')] : [])));
  });
  showThumbnails(thumbs, images);
  revokeImages(results);
  results.replaceChildren(...items);
  shownMatches = matches;
}

function openDetail(li: HTMLElement): void {
  const match = shownMatches[Number(li.dataset.index)]!;
  byId<HTMLImageElement>('detail-query').src = queryUrl;
  const matchImage = byId<HTMLImageElement>('detail-match');
  matchImage.src = li.querySelector('img')!.src;
  matchImage.alt = match.file;
  byId('detail-title').textContent = `${Math.round(match.score * 100)}% similar`;
  byId('detail-caption').textContent = `${match.file} · ${sizeText(match)}`;
  byId<HTMLDialogElement>('detail').showModal();
}

async function searchByUrl(address: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(address, { mode: 'cors', credentials: 'omit' });
  } catch {
    notify('That site does not let other apps read its pictures (or the address is wrong, or you are offline). Save the picture to your device and drop it here instead.', 'error');
    return;
  }
  if (!response.ok) {
    notify(`The address answered “${response.status} ${response.statusText}” instead of a picture. Check the address, or save the picture and drop it here.`, 'error');
    return;
  }
  let image: Blob;
  try {
    image = await response.blob();
  } catch {
    notify('The picture stopped downloading before it was complete. Check your connection, then search again.', 'error');
    return;
  }
  await searchWith(image, address);
}
