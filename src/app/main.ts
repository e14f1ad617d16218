/** App entry: wires the views together and reports the model's state. */
import { setUpCamera } from './camera/camera.ts';
import { setUpDuplicatesView } from './duplicates/duplicates-view.ts';
import { onOtherTab, started, StartError } from './engine.ts';
import { addImages, setUpAdding } from './library/add.ts';
import { reloadLibrary } from './library/library-state.ts';
import { offerToRemoveOldLibrary, setUpOldLibrary } from './library/old-library.ts';
import { setUpLibraryView } from './library/library-view.ts';
import { registerServiceWorker } from './pwa/register.ts';
import { sharedImageFromLaunch } from './pwa/shared-image.ts';
import { searchWith, setUpSearchView } from './search/search-view.ts';
import { byId } from './ui/dom.ts';
import { setUpDropAndPaste } from './ui/drop.ts';
import { clearNotices, describeError, LIBRARY_ELSEWHERE, notify } from './ui/notices.ts';
import { currentView, onViewChange, setUpTabs, showView } from './ui/tabs.ts';

registerServiceWorker();
setUpTabs();
// News about one view is stale in another; errors stay until dismissed.
onViewChange(() => clearNotices('info'));
setUpLibraryView();
setUpAdding();
setUpOldLibrary();
setUpSearchView();
setUpCamera();
setUpDuplicatesView();
setUpDropAndPaste({
  label: () => (currentView() === 'library' ? 'Drop to add to your library' : 'Drop to search'),
  accept: (files) => {
    if (currentView() === 'library') void addImages(files);
    else void searchWith(files[0]!, files[0]!.name);
  },
});

const status = byId('engine-status');
onOtherTab((state) => {
  if (state === 'holding') {
    status.textContent = 'Waiting for Lookalike in the other tab or window to close.';
    notify(LIBRARY_ELSEWHERE, 'error');
  } else {
    notify('The other tab or window has closed, so your library is open here now.');
  }
});
started.then(
  async (info) => {
    status.textContent = `Ready · ${info.model} model on ${info.backend}`;
    status.dataset.ready = 'true';
    // Not awaited: a shared image is searched whatever becomes of the offer.
    void offerToRemoveOldLibrary();
    await reloadLibrary();
    // Opened by "share → Lookalike" on a phone: search with what was shared.
    const shared = await sharedImageFromLaunch();
    if (shared) {
      await searchWith(shared, shared.name);
      return;
    }
    // A first visit starts where the first step is: adding pictures.
    if (byId('library-grid').children.length === 0 && currentView() === 'search') showView('library');
  },
  (err: unknown) => {
    status.textContent = err instanceof StartError && err.part === 'library' ? 'Your library could not be opened.' : 'The image model did not load.';
    notify(describeError(err), 'error');
  },
).catch((err: unknown) => notify(describeError(err), 'error'));
