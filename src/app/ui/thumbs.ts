/** Thumbnail tiles shared by the library, results and duplicates views. */
import type { LibraryItem } from '../../browser/library.ts';
import { library } from '../engine.ts';
import { el } from './dom.ts';

/** Loads the stored thumbnails of `items` into their `img` elements, one worker round trip for all. */
export async function fillThumbnails(items: readonly LibraryItem[], images: readonly HTMLImageElement[]): Promise<void> {
  const blobs = await library.thumbnails(items.map((item) => item.id));
  blobs.forEach((blob, i) => { if (blob) images[i]!.src = URL.createObjectURL(blob); });
}

export function thumbImage(item: LibraryItem): HTMLImageElement {
  const ratio = item.width && item.height ? `${item.width} / ${item.height}` : undefined;
  return el('img', { alt: '', loading: 'lazy', decoding: 'async', ...(ratio ? { style: `--ratio: ${ratio}` } : {}) });
}

export function sizeText(item: LibraryItem): string {
  return item.width ? `${item.width}×${item.height}` : 'size unknown';
}
