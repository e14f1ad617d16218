/**
 * Messages to the person using the app, in plain words with what to do: one
 * banner at a time at the top of the page (role="alert" for errors, "status"
 * otherwise), dismissible, replacing the previous one. (The offer to remove a
 * library from an older version, library/old-library.ts, is a second banner of
 * its own that stays until answered.)
 */
import { byId, el } from './dom.ts';

export type NoticeKind = 'error' | 'info';

const INFO_SECONDS = 10;

export function notify(message: string, kind: NoticeKind = 'info', details: readonly string[] = []): void {
  const area = byId('notices');
  const close = el('button', { type: 'button', class: 'icon-button', 'aria-label': 'Dismiss' }, '×');
  const body = el('div', { class: 'notice-body' }, el('p', {}, message));
  if (details.length) body.append(el('details', {}, el('summary', {}, 'Details'), el('ul', {}, ...details.map((d) => el('li', {}, d)))));
  const notice = el('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, body, close);
  close.addEventListener('click', () => notice.remove());
  area.replaceChildren(notice);
  // Errors wait to be read and dismissed; news goes away by itself, unless it has details to read.
  if (kind === 'info' && details.length === 0) setTimeout(() => notice.remove(), INFO_SECONDS * 1000);
}

export function clearNotices(kind?: NoticeKind): void {
  for (const notice of byId('notices').querySelectorAll(kind ? `.notice.${kind}` : '.notice')) notice.remove();
}

/** What went wrong, for people: known failures get their own words; anything else keeps its message. */
export function describeError(err: unknown): string {
  const error = err as Error;
  switch (error?.name) {
    case 'StorageFullError':
      return 'Your device is out of storage for this app, so the last images were not added (nothing already in your library was lost). Remove some images or free space on the device, then try again.';
    case 'AbortError':
      return 'Cancelled.';
    default:
      return reason(err);
  }
}

/** The model failing to load blocks everything that embeds, so it gets its own explanation. */
export function modelFailed(err: unknown): string {
  return `The image model could not be loaded, so images cannot be added or searched. Check your connection and reload the page; once it has loaded, the app also works offline. (${reason(err)})`;
}

export const LIBRARY_ELSEWHERE = 'Lookalike is open in another tab or window. Close it to use your library here; this one takes over as soon as that one closes.';

/** Browser storage (IndexedDB) refused or broken: not the model's fault, and not fixed by going online. */
export function libraryFailed(err: unknown): string {
  return `Your library could not be opened, because this browser is not letting Lookalike store data on this device, so images cannot be added or searched. Allow this site to store data (site settings, next to the address), or use a normal rather than a private window, then reload the page. (${reason(err)})`;
}

function reason(err: unknown): string {
  return (err as Error)?.message ?? String(err);
}
