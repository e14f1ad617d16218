/** Driving the app's page from Node (the app tests and `bench:app`): opening it, finding its parts, waiting on them, a fake camera. */
import sharp from 'sharp';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';

/** Opens the app and waits for the model; the page's uncaught errors are pushed to `errors`. */
export async function openApp(context: BrowserContext, baseUrl: string, errors: string[] = []): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(baseUrl);
  await appReady(page);
  return page;
}

/** Waits until the app says its model has loaded and its library is open. */
export async function appReady(page: Page): Promise<void> {
  await page.locator('#engine-status[data-ready]').waitFor({ timeout: 90_000 });
}

/** Reloads the app and waits until it is ready again. */
export async function reloadApp(page: Page): Promise<void> {
  await page.reload();
  await appReady(page);
}

/** Waits until the first element of `locator` contains `expected` (vitest's expect has no Playwright matchers). */
export async function hasText(locator: Locator, expected: string | RegExp, timeout = 60_000): Promise<void> {
  const text = () => locator.first().textContent({ timeout: 1000 }).catch(() => '');
  if (typeof expected === 'string') await expect.poll(text, { timeout }).toContain(expected);
  else await expect.poll(text, { timeout }).toMatch(expected);
}

export async function hasCount(locator: Locator, expected: number, timeout = 60_000): Promise<void> {
  await expect.poll(() => locator.count(), { timeout }).toBe(expected);
}

export const libraryTiles = (page: Page) => page.locator('#library-grid > li');
export const results = (page: Page) => page.getByRole('list', { name: 'Results', exact: true }).getByRole('listitem');
export const notice = (page: Page) => page.locator('#notices .notice');

/**
 * Adds files through *Add images* and waits until the library says it holds `total` pictures
 * (Playwright's waits, not expect.poll, which only works inside a test, not in hooks or benchmarks).
 */
export async function addImages(page: Page, paths: readonly string[], total: number): Promise<void> {
  await page.getByRole('tab', { name: 'Library' }).click();
  await page.getByLabel('Add images', { exact: true }).setInputFiles([...paths]);
  await page.waitForFunction((n) => document.querySelector('#library-stats')?.textContent?.startsWith(`${n} images`), total, { timeout: 120_000 + paths.length * 2000 });
  await page.getByRole('progressbar').waitFor({ state: 'hidden' });
}

/** Searches with a file through *Search by image* and waits for the timing figure. */
export async function searchFile(page: Page, path: string): Promise<void> {
  await page.getByRole('tab', { name: 'Search' }).click();
  await page.getByLabel('Search by image', { exact: true }).setInputFiles(path);
  await page.locator('#search-timing[data-ms]').waitFor();
}

/** The timing figures of the last search: `ms`, `embedMs`, `searchMs`, `showMs` (search-view.ts). */
export async function searchTiming(page: Page): Promise<Record<string, number>> {
  return page.locator('#search-timing').evaluate((el) => Object.fromEntries(Object.entries((el as HTMLElement).dataset).map(([k, v]) => [k, Number(v)])));
}

/** Chromium's fake camera filming `videoPath` (a Y4M file), with camera permission granted. */
export function fakeCameraArgs(videoPath: string): string[] {
  return ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${videoPath}`];
}

/** One still frame as a Y4M video (I420), the format Chromium's fake camera plays from a file. */
export async function y4mFrame(path: string, width: number, height: number): Promise<Buffer> {
  const rgb = await sharp(path).resize(width, height, { fit: 'cover' }).removeAlpha().raw().toBuffer();
  const y = Buffer.alloc(width * height);
  const u = Buffer.alloc((width / 2) * (height / 2));
  const v = Buffer.alloc(u.length);
  for (let row = 0; row < height; row++) {
    for (let col = 0; col < width; col++) {
      const i = (row * width + col) * 3;
      const [r, g, b] = [rgb[i]!, rgb[i + 1]!, rgb[i + 2]!];
      y[row * width + col] = Math.round(0.299 * r + 0.587 * g + 0.114 * b);
      if (row % 2 === 0 && col % 2 === 0) {
        const c = (row / 2) * (width / 2) + col / 2;
        u[c] = Math.round(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
        v[c] = Math.round(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
      }
    }
  }
  return Buffer.concat([Buffer.from(`YUV4MPEG2 W${width} H${height} F30:1 Ip A1:1 C420jpeg\nFRAME\n`), y, u, v]);
}
