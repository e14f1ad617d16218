import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PHOTOS_DIR } from '../photos.ts';
import { launchChromium } from '../harness/chromium.ts';

const baseUrl = inject('baseUrl');
let browser: Browser;

beforeAll(async () => { browser = await launchChromium(); });
afterAll(() => browser?.close());

describe('the app page', () => {
  it('loads the model in a worker and labels a chosen image', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(baseUrl);
    await expect.poll(() => page.locator('#engine-status').textContent(), { timeout: 60_000 }).toMatch(/Model ready: default \(768-d\) on wasm/);
    await page.getByLabel('Search by image').setInputFiles(join(PHOTOS_DIR, 'n01443537_goldfish.JPEG'));
    await expect.poll(() => page.getByRole('list', { name: 'Labels' }).locator('li').first().textContent()).toMatch(/^goldfish — \d/);
    expect(errors).toEqual([]);
  });
});
