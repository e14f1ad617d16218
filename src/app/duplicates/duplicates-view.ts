/**
 * The duplicates view: near-duplicate groups of the library with the largest
 * copy first ("Original"). Similar pairs are fetched once per library state at
 * the slider's minimum; moving the slider only regroups them.
 */
import type { LibraryItem, SimilarPair } from '../../browser/library.ts';
import { library, ready } from '../engine.ts';
import { onLibraryChange } from '../library/library-state.ts';
import { byId, el, plural, revokeImages } from '../ui/dom.ts';
import { describeError, notify } from '../ui/notices.ts';
import { currentView, onViewChange } from '../ui/tabs.ts';
import { fillThumbnails, sizeText, thumbImage } from '../ui/thumbs.ts';
import { duplicateGroups } from './groups.ts';

const slider = byId<HTMLInputElement>('dup-threshold');
const list = byId<HTMLOListElement>('dup-groups');
let pairs: Promise<{ items: LibraryItem[]; pairs: SimilarPair[] }> | null = null;
let renders = 0;

export function setUpDuplicatesView(): void {
  slider.addEventListener('input', () => void render());
  onViewChange((view) => { if (view === 'duplicates') void render(); });
  onLibraryChange(() => {
    pairs = null;
    if (currentView() === 'duplicates') void render();
  });
}

async function render(): Promise<void> {
  const threshold = Number(slider.value) / 100;
  byId('dup-threshold-value').textContent = `${slider.value}%`;
  const request = ++renders;
  try {
    await ready();
    if (!pairs) {
      // One neighbour search per picture: a few seconds for thousands of them.
      byId('dup-summary').textContent = 'Comparing every picture with its closest neighbours…';
      pairs = library.similarPairs(Number(slider.min) / 100);
    }
    const found = await pairs;
    if (request !== renders) return;
    const groups = duplicateGroups(found.items, found.pairs, threshold);
    const images = groups.map((g) => g.map(() => thumbImage()));
    revokeImages(list);
    list.replaceChildren(...groups.map((group, g) => el('li', { class: 'dup-group' },
      el('ul', { class: 'grid', 'aria-label': `Group ${g + 1}` }, ...group.map((i, n) => {
        const item = found.items[i]!;
        return el('li', { class: 'tile', 'data-id': item.id },
          images[g]![n]!,
          el('span', { class: 'tile-name' }, item.file),
          el('span', { class: 'tile-size' }, sizeText(item)),
          ...(n === 0 ? [el('span', { class: 'badge' }, 'Original')] : []));
      })))));
    const copies = groups.reduce((sum, g) => sum + g.length - 1, 0);
    byId('dup-summary').textContent = groups.length
      ? `${plural(groups.length, 'group')} of near-duplicates; ${plural(copies, 'copy', 'copies')} besides the largest of each.`
      : found.items.length ? 'No near-duplicates at this similarity. Move the slider left to find looser matches.' : 'Your library is empty. Add images to find their duplicates.';
    await Promise.all(groups.map((group, g) => fillThumbnails(group.map((i) => found.items[i]!), images[g]!)));
  } catch (err) {
    pairs = null;
    notify(describeError(err), 'error');
  }
}
