/**
 * Web Share Target: how the service worker and the page hand over an image a
 * person shared to Lookalike from another app. The manifest points the share
 * at SHARE_ACTION; the service worker parks the file in the cache and
 * redirects to the app with SHARED_PARAM, and the page takes it from there.
 */

/** Where the OS posts a share (multipart/form-data). */
export const SHARE_ACTION = '/share-target';
/** The form field that carries the shared image. */
export const SHARE_FIELD = 'image';
/** The app URL parameter that says a shared image is waiting. */
export const SHARED_PARAM = 'shared';

const SHARE_CACHE = 'lookalike-shared-image';
/** Cache key of the one shared image waiting to be searched; a newer share replaces it. */
const SHARED_IMAGE_KEY = '/shared-image';
/** Keeps the file name through the cache (it stores a Response, not a File). */
const NAME_HEADER = 'X-Lookalike-File-Name';

export async function parkSharedImage(file: File): Promise<void> {
  const cache = await caches.open(SHARE_CACHE);
  await cache.put(SHARED_IMAGE_KEY, new Response(file, {
    headers: { 'Content-Type': file.type || 'application/octet-stream', [NAME_HEADER]: encodeURIComponent(file.name) },
  }));
}

/** The waiting shared image, removed from the cache so it is searched once; null when there is none. */
export async function takeSharedImage(): Promise<File | null> {
  if (!('caches' in self)) return null;
  const cache = await caches.open(SHARE_CACHE);
  const response = await cache.match(SHARED_IMAGE_KEY);
  if (!response) return null;
  await cache.delete(SHARED_IMAGE_KEY);
  const name = decodeURIComponent(response.headers.get(NAME_HEADER) ?? 'shared-image');
  const blob = await response.blob();
  return new File([blob], name, { type: blob.type });
}
