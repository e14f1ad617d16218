/**
 * A library made by an older version (another embedding method or size) cannot
 * be searched by this one and is not migrated: Lookalike keeps no originals to
 * embed again. Its databases are offered for removal, and removed only when
 * the person says so.
 */
import { library } from '../engine.ts';
import { byId } from '../ui/dom.ts';
import { describeError, notify } from '../ui/notices.ts';

const offer = byId('old-library');

export function setUpOldLibrary(): void {
  byId('old-library-dismiss').addEventListener('click', () => { offer.hidden = true; });
  byId('old-library-remove').addEventListener('click', () => void removeOldLibrary());
}

/**
 * Shows the offer if the open library has older siblings. Never rejects: when
 * they cannot be listed (indexedDB.databases() failing), there is nothing to
 * offer and nothing the person asked for went wrong, so it is only logged.
 */
export async function offerToRemoveOldLibrary(): Promise<void> {
  try {
    offer.hidden = (await library.outdatedDatabases()).length === 0;
  } catch (err) {
    console.warn('Could not look for a library from an older version.', err);
  }
}

async function removeOldLibrary(): Promise<void> {
  try {
    await library.deleteOutdatedDatabases();
    offer.hidden = true;
    notify('The old library was removed, and the space it took is free again.');
  } catch (err) {
    notify(`The old library could not be removed. ${describeError(err)}`, 'error');
  }
}
