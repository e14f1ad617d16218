/** Thumbnail tiles shared by the library, results and duplicates views. */
import type { LibraryItem } from '../../browser/library.ts';
import { library } from '../engine.ts';
import { el } from './dom.ts';

export function thumbImage(): HTMLImageElement {
  return el('img', { alt: '', decoding: 'async' });
}

export function showThumbnails(blobs: readonly (Blob | null)[], images: readonly HTMLImageElement[]): void {
  blobs.forEach((blob, i) => { if (blob) images[i]!.src = URL.createObjectURL(blob); });
}

/**
 * Loads the stored thumbnails of `items` into their `img` elements, one worker round trip for all.
 * Images taken off the page meanwhile (a newer render, a removed tile) get none: nothing would revoke their URLs.
 */
export async function fillThumbnails(items: readonly LibraryItem[], images: readonly HTMLImageElement[]): Promise<void> {
  const blobs = await library.thumbnails(items.map((item) => item.id));
  showThumbnails(blobs.map((blob, i) => (images[i]!.isConnected ? blob : null)), images);
}

export function sizeText(item: LibraryItem): string {
  return item.width ? `${item.width}×${item.height}` : 'size unknown';
}
