/**
 * Install and offline: the manifest, the service worker's precache (the app
 * starts and searches with the server gone and the browser offline), Share
 * Target, and the "new version" prompt. Each test serves the harness build from
 * its own server, so stopping one never disturbs the other test files.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/node/provision.ts';
import { addImages, hasText, reloadApp, results } from '../harness/app.ts';
import { launchChromium, withContext } from '../harness/chromium.ts';
import { freePort, startHarnessServer } from '../harness/server.ts';
import { loadPhotos } from '../photos.ts';

const photos = loadPhotos().slice(0, 6);
let browser: Browser;

beforeAll(async () => { browser = await launchChromium(); });
afterAll(() => browser?.close());

/** Opens the app and waits until its service worker is active, i.e. everything is precached. */
async function openInstalled(context: BrowserContext, baseUrl: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(baseUrl);
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  return page;
}

/**
 * Runs `test` on an app that was visited once with its own server and now holds
 * the photos in its library; the server process is `test`'s to stop.
 */
async function withInstalledLibrary(test: (page: Page, context: BrowserContext, server: ChildProcess) => Promise<void>): Promise<void> {
  const server = await startHarnessServer();
  try {
    await withContext(browser, async (context) => {
      const page = await openInstalled(context, server.baseUrl);
      await addImages(page, photos.map((p) => p.path), photos.length);
      await test(page, context, server.process);
    });
  } finally {
    server.process.kill();
  }
}

describe('install and offline', () => {
  it('has a manifest with icons and a share target, all served', async () => {
    const server = await startHarnessServer();
    try {
      const page = await browser.newPage();
      await page.goto(server.baseUrl);
      const href = await page.locator('link[rel="manifest"]').getAttribute('href');
      const manifest = await (await page.request.get(new URL(href!, server.baseUrl).href)).json() as {
        name: string; start_url: string; display: string;
        icons: { src: string; sizes: string; purpose?: string }[];
        share_target: { action: string; method: string; params: { files: { name: string; accept: string[] }[] } };
      };
      expect(manifest).toMatchObject({ start_url: '/', display: 'standalone', share_target: { method: 'POST' } });
      expect(manifest.icons.map((i) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
      expect(manifest.icons.some((i) => i.purpose === 'maskable')).toBe(true);
      for (const icon of manifest.icons) {
        const response = await page.request.get(new URL(icon.src, server.baseUrl).href);
        expect(response.ok(), icon.src).toBe(true);
      }
      expect(manifest.share_target.params.files[0]!.accept).toContain('image/*');
      await page.close();
    } finally {
      server.process.kill();
    }
  });

  it('after one visit, loads and answers a search with the server stopped and the browser offline', async () => {
    await withInstalledLibrary(async (page, context, server) => {
      server.kill();
      await new Promise((resolve) => server.once('exit', resolve));
      await context.setOffline(true);
      await reloadApp(page);

      await hasText(page.locator('#library-stats'), new RegExp(`^${photos.length} images`));
      await page.getByLabel('Search by image', { exact: true }).setInputFiles(photos[3]!.path);
      await hasText(results(page), photos[3]!.file);
    });
  });

  it('searches with an image shared to it (Share Target), offline too', async () => {
    await withInstalledLibrary(async (page, context) => {
      await context.setOffline(true);
      await page.reload(); // now the service worker controls the page

      // What the OS does on "share → Lookalike": a multipart POST to the manifest's share_target action.
      await page.evaluate(() => {
        const form = Object.assign(document.createElement('form'), { method: 'post', action: '/share-target', enctype: 'multipart/form-data' });
        form.append(Object.assign(document.createElement('input'), { type: 'file', name: 'image', id: 'share-test-input' }));
        document.body.append(form);
      });
      await page.locator('#share-test-input').setInputFiles(photos[2]!.path);
      await Promise.all([page.waitForURL((url) => url.pathname === '/'), page.locator('#share-test-input').evaluate((input) => (input as HTMLInputElement).form!.submit())]);

      await hasText(results(page), photos[2]!.file);
      expect(new URL(page.url()).search, 'the share marker is cleared, so a reload does not search again').toBe('');
    });
  });

  it('offers a new version with a prompt, and reloads into it only when asked', async () => {
    // A copy of the build, so this test can ship a "new version" without touching the shared one.
    const root = mkdtempSync(join(tmpdir(), 'lookalike-update-'));
    cpSync(join(PROJECT_ROOT, 'dist-harness'), root, { recursive: true });
    const server = await preview({ root: PROJECT_ROOT, mode: 'harness', logLevel: 'silent', build: { outDir: root }, preview: { port: await freePort(), strictPort: true } });
    try {
      await withContext(browser, async (context) => {
        const page = await openInstalled(context, server.resolvedUrls!.local[0]!);
        await page.evaluate(() => { (window as { notReloaded?: boolean }).notReloaded = true; });
        await appendFile(join(root, 'sw.js'), '\n// the next version\n');
        await page.evaluate(async () => { await (await navigator.serviceWorker.getRegistration())!.update(); });

        const prompt = page.getByRole('status').filter({ hasText: 'A new version of Lookalike is ready.' });
        await expect.poll(() => prompt.isVisible(), { timeout: 30_000 }).toBe(true);
        expect(await page.evaluate(() => (window as { notReloaded?: boolean }).notReloaded), 'no reload before the person asks').toBe(true);
        await Promise.all([page.waitForEvent('load'), prompt.getByRole('button', { name: 'Reload' }).click()]);

        expect(await page.evaluate(() => (window as { notReloaded?: boolean }).notReloaded)).toBeUndefined();
        expect(await prompt.count()).toBe(0);
        const after = await page.evaluate(async () => {
          const registration = await navigator.serviceWorker.getRegistration();
          return { waiting: registration?.waiting !== null, controlled: navigator.serviceWorker.controller !== null };
        });
        expect(after).toEqual({ waiting: false, controlled: true });
      });
    } finally {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
