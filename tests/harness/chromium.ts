/** Launches Debian's Chromium through playwright-core, headless, with a fresh profile. */
import { basename, join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { PHOTOS_DIR } from '../photos.ts';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const BASE_ARGS = [
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

/** Chromium's software GPUs: a WebGPU adapter (SwiftShader) and WebGL through SwiftShader. */
export const SOFTWARE_GPU_ARGS = ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-angle=swiftshader'];

export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...BASE_ARGS, ...extraArgs] });
}

/** Serves the shared photos (and any other local folder) under `/photos/` of the app's origin. */
export async function routePhotos(context: BrowserContext, baseUrl: string, dirs: readonly string[] = [PHOTOS_DIR]): Promise<void> {
  await context.route(`${baseUrl}photos/**`, async (route) => {
    const name = decodeURIComponent(basename(new URL(route.request().url()).pathname));
    for (const dir of dirs) {
      try {
        return await route.fulfill({ path: join(dir, name), headers: { 'Cross-Origin-Resource-Policy': 'same-origin' } });
      } catch { /* try the next folder */ }
    }
    await route.fulfill({ status: 404 });
  });
}

/** Runs `run` in a fresh context of `browser` (a profile of its own: storage, service workers), closed afterwards whatever happens. */
export async function withContext<T>(browser: Browser, run: (context: BrowserContext) => Promise<T>, options: BrowserContextOptions = {}): Promise<T> {
  const context = await browser.newContext(options);
  try {
    return await run(context);
  } finally {
    await context.close();
  }
}

/** Opens the engine harness page in a fresh context with the photos routed, and collects the page's errors for assertions. */
export async function openHarness(browser: Browser, baseUrl: string, photoDirs?: readonly string[]): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext();
  await routePhotos(context, baseUrl, photoDirs);
  const errors: string[] = [];
  return { page: await harnessPage(context, baseUrl, errors), errors };
}

/** Opens the engine harness page in `context` (pages of one context share IndexedDB, as tabs of one profile do); its errors are pushed to `errors`. */
export async function harnessPage(context: BrowserContext, baseUrl: string, errors: string[] = []): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()); });
  await page.goto(`${baseUrl}tests/harness/index.html`);
  await page.waitForFunction(() => 'harness' in window);
  return page;
}
