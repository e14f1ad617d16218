/**
 * The service worker: serves the app shell, the default model and the WASM
 * binaries from the precache (so the app starts and searches offline), and
 * receives images shared to Lookalike. A new version waits until the page
 * asks it to take over (the "new version — reload" prompt).
 */
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { parkSharedImage, SHARE_ACTION, SHARE_FIELD, SHARED_PARAM } from './share-target.ts';

declare const self: ServiceWorkerGlobalScope;

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
// Any app URL (with a query, say) opens the cached shell; test and benchmark pages are left to the network.
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html'), { denylist: [/^\/tests\//] }));

registerRoute(
  ({ url, request }) => request.method === 'POST' && url.pathname === SHARE_ACTION,
  async ({ request }) => {
    const shared = (await request.formData()).getAll(SHARE_FIELD).find((entry): entry is File => entry instanceof File);
    if (shared) await parkSharedImage(shared);
    // 303: the browser follows with a GET, so a reload does not post the share again.
    return Response.redirect(shared ? `/?${SHARED_PARAM}` : '/', 303);
  },
  'POST',
);

// Take over open pages at once: on a first visit, so the model is cached as the page uses it,
// and after "Reload" on the update prompt, which waits for the new worker to take control.
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('message', (event) => {
  if ((event.data as { type?: string } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});
