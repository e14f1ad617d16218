/**
 * The app's other ways in and its plain-words errors, in headless Chromium on
 * the production build: search by paste, drag-and-drop and image address,
 * drop to add, and what the person is told when the address is cross-origin,
 * the file is not a picture, the camera is blocked or missing, or the model
 * or the library does not load, and the offer to remove an older version’s library.
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { addImages, hasCount, hasText, libraryTiles, notice, openApp, reloadApp, results, searchFile } from '../harness/app.ts';
import { launchChromium, routePhotos, withContext } from '../harness/chromium.ts';
import { loadPhotos } from '../photos.ts';

const baseUrl = inject('baseUrl');
const photos = loadPhotos().filter((_, i) => i % 61 === 0).slice(0, 14);
const library = photos.slice(0, 12);
const [pasted, dropped, addressed, reference] = [library[2]!, library[5]!, library[9]!, library[11]!];
const droppedIn = photos.slice(12);
const work = mkdtempSync(join(tmpdir(), 'lookalike-inputs-'));
const notPicture = join(work, 'holiday.jpg');

// A fake camera device, but no automatic "Allow": the permission prompt is refused in headless Chromium.
let browser: Browser;

beforeAll(async () => {
  writeFileSync(notPicture, 'Dear diary, today I renamed a text file.');
  browser = await launchChromium(['--use-fake-device-for-media-stream']);
});

afterAll(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

const alert = (page: Page) => page.getByRole('alert');

/** Puts the shared photos `files` on a DataTransfer in the page (fetched from the routed /photos/), as a paste or a drop would carry them. */
async function dataTransfer(page: Page, files: readonly string[]) {
  return page.evaluateHandle(async (names) => {
    const data = new DataTransfer();
    for (const name of names) {
      const blob = await (await fetch(`/photos/${name}`)).blob();
      data.items.add(new File([blob], name, { type: blob.type }));
    }
    return data;
  }, files);
}

/** Drags `files` over the page and drops them, as the browser does for files dragged in from the desktop. Returns the overlay's text during the drag. */
async function drop(page: Page, files: readonly string[]): Promise<string> {
  const data = await dataTransfer(page, files);
  await page.dispatchEvent('main', 'dragenter', { dataTransfer: data });
  await page.dispatchEvent('main', 'dragover', { dataTransfer: data });
  const overlay = await page.locator('#drop-overlay').textContent();
  expect(await page.locator('#drop-overlay').isVisible()).toBe(true);
  await page.dispatchEvent('main', 'drop', { dataTransfer: data });
  await page.locator('#drop-overlay').waitFor({ state: 'hidden' });
  return overlay ?? '';
}

describe('searching and adding by paste, drop and address', () => {
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    context = await browser.newContext();
    await routePhotos(context, baseUrl);
    page = await openApp(context, baseUrl, errors);
    await addImages(page, library.map((p) => p.path), library.length);
  });
  afterAll(() => context?.close());

  it('searches with a pasted picture', async () => {
    await page.getByRole('tab', { name: 'Search' }).click();
    const data = await dataTransfer(page, [pasted.file]);
    await page.evaluate((clipboardData) => document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData, bubbles: true, cancelable: true })), data);
    await hasText(results(page).first(), pasted.file);
    expect(await page.locator('#query-image').getAttribute('alt')).toBe(`Your image: ${pasted.file}`);
  });

  it('searches with a picture dropped on the search view', async () => {
    expect(await drop(page, [dropped.file])).toBe('Drop to search');
    await hasText(results(page).first(), dropped.file);
  });

  it('adds pictures dropped on the library view', async () => {
    await page.getByRole('tab', { name: 'Library' }).click();
    expect(await drop(page, droppedIn.map((p) => p.file))).toBe('Drop to add to your library');
    await hasText(notice(page), `Added ${droppedIn.length} images.`);
    await hasCount(libraryTiles(page), library.length + droppedIn.length);
    for (const p of droppedIn) await page.getByLabel(`Select ${p.file}`).waitFor();
  });

  it('searches with the address of a picture on the same site', async () => {
    await page.getByRole('tab', { name: 'Search' }).click();
    await page.getByLabel('Image address').fill(`${baseUrl}photos/${addressed.file}`);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await hasText(results(page).first(), addressed.file);
  });

  it('explains that another site does not allow reading its picture, and keeps the results', async () => {
    // A real server on another origin (another port) answering with a JPEG but no Access-Control-Allow-Origin.
    // (A Playwright route would not do: route.fulfill adds that header to cross-origin answers by itself.)
    let served = 0;
    const site = createServer((_, response) => {
      served++;
      response.writeHead(200, { 'Content-Type': 'image/jpeg' });
      createReadStream(reference.path).pipe(response);
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    try {
      await page.getByLabel('Image address').fill(`http://127.0.0.1:${(site.address() as AddressInfo).port}/${reference.file}`);
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await hasText(alert(page), 'does not let other apps read its pictures');
      await hasText(alert(page), 'Save the picture to your device');
      expect(served, 'the request reached the other site').toBe(1);
    } finally {
      site.close();
    }
    await hasText(results(page).first(), addressed.file);
    expect(errors).toEqual([]);
  });

  it('says a renamed text file is not a picture, and the previous search still works', async () => {
    await searchFile(page, reference.path);
    await hasText(results(page).first(), reference.file);
    await page.getByLabel('Search by image', { exact: true }).setInputFiles(notPicture);
    await hasText(alert(page), 'This picture cannot be read');
    await hasText(alert(page), 'Try a JPEG, PNG, GIF or WebP file');
    // The results on screen are still the last good search's, shown with its picture.
    await hasText(results(page).first(), reference.file);
    expect(await page.locator('#query-image').getAttribute('alt')).toBe(`Your image: ${reference.file}`);
    await results(page).first().getByRole('button').click();
    const detailQuery = page.getByRole('dialog').locator('#detail-query');
    await expect.poll(() => detailQuery.evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
    await page.keyboard.press('Escape');
    expect(errors).toEqual([]);
  });

  it('says how to allow the camera when it is blocked', async () => {
    await page.getByRole('button', { name: 'Use camera' }).click();
    await hasText(alert(page), 'The camera is blocked for this page');
    await hasText(alert(page), 'Allow camera access in your browser’s site settings');
    expect(await page.locator('#camera').isHidden()).toBe(true);
  });
});

it('says when there is no camera at all', async () => {
  // Chromium's fake capture devices, none of them (so a real webcam on the test machine is not seen either); permission granted.
  const cameraless = await launchChromium(['--use-fake-device-for-media-stream=device-count=0', '--use-fake-ui-for-media-stream']);
  try {
    const page = await openApp(await cameraless.newContext(), baseUrl);
    await page.getByRole('tab', { name: 'Search' }).click();
    await page.getByRole('button', { name: 'Use camera' }).click();
    await hasText(alert(page), 'No camera was found. Connect a camera, or search with a picture instead.');
  } finally {
    await cameraless.close();
  }
});

/**
 * Runs `test` in a fresh context without a service worker (it could answer the
 * app's scripts and the model from its precache instead of the routes `test` sets up).
 */
function withoutServiceWorker(test: (context: BrowserContext) => Promise<void>): Promise<void> {
  return withContext(browser, test, { serviceWorkers: 'block' });
}

/** Serves the library worker with `prelude` run before it: a stand-in for how a browser's storage misbehaves. */
async function patchLibraryWorker(context: BrowserContext, prelude: string): Promise<void> {
  await context.route('**/library.worker-*.js', async (route) => {
    const response = await route.fetch();
    // The original's headers: the page is cross-origin isolated, so a worker script without them does not load.
    await route.fulfill({ response, body: `${prelude}\n${await response.text()}` });
  });
}

it('says the model did not load and what to do', async () => {
  await withoutServiceWorker(async (context) => {
    let refused = 0;
    await context.route('**/model.json', (route) => { refused++; return route.fulfill({ status: 404, body: 'Not found' }); });
    const page = await context.newPage();
    await page.goto(baseUrl);
    await hasText(page.locator('#engine-status'), 'The image model did not load.');
    await hasText(alert(page), 'The image model could not be loaded, so images cannot be added or searched.');
    await hasText(alert(page), 'Check your connection and reload the page');
    expect(refused).toBeGreaterThan(0);
    await page.getByLabel('Search by image', { exact: true }).setInputFiles(reference.path);
    await hasText(alert(page), 'The image model could not be loaded');
  });
});

it('says the library could not be opened, not that the model did not load, when storage is blocked', async () => {
  await withoutServiceWorker(async (context) => {
    // As a browser that refuses this site storage would run it: IndexedDB throws.
    await patchLibraryWorker(context, "IDBFactory.prototype.open = () => { throw new DOMException('Access to IndexedDB is blocked.', 'UnknownError'); };");
    const page = await context.newPage();
    await page.goto(baseUrl);
    await hasText(page.locator('#engine-status'), 'Your library could not be opened.', 90_000);
    await hasText(alert(page), 'this browser is not letting Lookalike store data on this device');
    expect(await alert(page).textContent()).not.toContain('image model');
  });
});

it('searches with a shared image even when it cannot look for a library from an older version', async () => {
  await withoutServiceWorker(async (context) => {
    await patchLibraryWorker(context, "IDBFactory.prototype.databases = () => Promise.reject(new DOMException('Listing databases failed.', 'UnknownError'));");
    await routePhotos(context, baseUrl);
    const page = await openApp(context, baseUrl);
    await addImages(page, [library[0]!.path, reference.path], 2);
    // What the service worker does with a share (src/app/pwa/share-target.ts): parks the image in its cache and opens the app with ?shared.
    await page.evaluate(async (name) => {
      const image = await (await fetch(`/photos/${name}`)).blob();
      await (await caches.open('lookalike-shared-image')).put('/shared-image', new Response(image, { headers: { 'Content-Type': image.type } }));
    }, reference.file);
    await page.goto(`${baseUrl}?shared`);
    await hasText(results(page).first(), reference.file);
    expect(await page.locator('#old-library').isHidden()).toBe(true);
  });
});

// Both writes of an add can meet a full disk: the thumbnails (object store `thumbs`) and the index commit after them (`pages`).
it.each(['thumbs', 'pages'])('says the device is out of storage when adding (%s full), and keeps what was already stored', async (storeName) => {
  await withoutServiceWorker(async (context) => {
    // Storage fills up when the page says so: from then on every write to that object store fails as on a full disk.
    await patchLibraryWorker(context, `let full = false;
new BroadcastChannel('lookalike-test-storage').onmessage = () => { full = true; };
const put = IDBObjectStore.prototype.put;
IDBObjectStore.prototype.put = function (...args) {
  if (full && this.name === ${JSON.stringify(storeName)}) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
  return put.apply(this, args);
};`);
    const page = await openApp(context, baseUrl);
    const stored = library.slice(0, 2);
    await addImages(page, stored.map((p) => p.path), 2);
    await page.evaluate(() => new BroadcastChannel('lookalike-test-storage').postMessage('full'));

    await page.getByLabel('Add images', { exact: true }).setInputFiles(library.slice(2, 4).map((p) => p.path));
    await hasText(alert(page), 'Your device is out of storage for this app, so the last images were not added (nothing already in your library was lost).');
    await hasCount(libraryTiles(page), 2);

    await reloadApp(page);
    await hasText(page.locator('#library-stats'), /^2 images/);
    await searchFile(page, stored[1]!.path);
    await hasText(results(page), stored[1]!.file);
  });
});

it('offers to remove a library made by an older version, and removes it only when asked', async () => {
  await withContext(browser, async (context) => {
    const page = await openApp(context, baseUrl);
    const databases = () => page.evaluate(async () => (await indexedDB.databases()).map((db) => db.name!).sort());
    const current = await databases();
    // What an older version left: this model's library with another method and size, and another model's library.
    const older = ['lookalike-index:library-default-gap-64', 'lookalike-thumbs:library-default-gap-64'];
    const otherModel = 'lookalike-index:library-lite-gap-64';
    await page.evaluate((names) => Promise.all(names.map((name) => new Promise((resolve, reject) => {
      Object.assign(indexedDB.open(name), { onsuccess(this: IDBOpenDBRequest) { this.result.close(); resolve(null); }, onerror: reject });
    }))), [...older, otherModel]);
    await reloadApp(page);
    const offer = page.getByRole('region', { name: /library made by an older version/ });
    await hasText(offer, 'add them again');
    await hasText(offer, 'keeps only thumbnails, not your original pictures');
    expect(await databases()).toEqual([...current, ...older, otherModel].sort());

    await offer.getByRole('button', { name: 'Remove the old library' }).click();
    await hasText(notice(page), 'The old library was removed');
    await offer.waitFor({ state: 'hidden' });
    expect(await databases()).toEqual([...current, otherModel].sort());
    await reloadApp(page);
    expect(await offer.isVisible()).toBe(false);
  });
});
