import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { embeddingLength } from '../../src/core/embed/fused.ts';
import { cosine } from '../../src/core/embed/vector.ts';
import { MODELS } from '../../src/core/models/registry.ts';
import { NodeEngine } from '../../src/node/engine.ts';
import { BAD_FIXTURES, CORRUPT_FIXTURE, GOOD_FIXTURES, makeFixtures, SOURCE_PHOTO } from '../fixtures.ts';
import { loadPhotos, PHOTOS_DIR } from '../photos.ts';
import { launchChromium, openHarness } from '../harness/chromium.ts';

const baseUrl = inject('baseUrl');
const photos = loadPhotos();
const url = (file: string) => `${baseUrl}photos/${encodeURIComponent(file)}`;

let browser: Browser;
let page: Page;
let errors: string[];
let fixtures: string;

beforeAll(async () => {
  fixtures = await makeFixtures();
  browser = await launchChromium();
  ({ page, errors } = await openHarness(browser, baseUrl, [PHOTOS_DIR, fixtures]));
});
afterAll(() => browser?.close());

async function embed(files: readonly string[]) {
  return page.evaluate(([urls]) => window.harness.embedUrls(urls), [files.map(url)] as const);
}

describe('browser worker engine (production build, default options)', () => {
  it('is cross-origin isolated and reports the backend it chose', async () => {
    expect(await page.evaluate(() => window.harness.crossOriginIsolated())).toBe(true);
    const info = await page.evaluate(() => window.harness.start({ model: 'default' }));
    expect(info).toMatchObject({ model: 'default', dims: embeddingLength(MODELS.default), backend: 'wasm', backendDetail: 'SIMD, single-threaded build' });
    expect(info.skippedBackends.map((s) => s.name)).toEqual(['webgpu', 'webgl']);
  });

  it.each([
    ['default', 0.85],
    ['lite', 0.55],
  ] as const)('%s model top-1 on the 800 shared photos ≥ %s', async (model, threshold) => {
    await page.evaluate((m) => window.harness.start({ model: m }), model);
    const { outcomes } = await embed(photos.map((p) => p.file));
    const correct = outcomes.filter((o, i) => o.ok && o.labels[0]!.index === photos[i]!.classIndex).length;
    console.log(`browser ${model}: top-1 ${(correct / photos.length).toFixed(3)}`);
    expect(correct / photos.length).toBeGreaterThanOrEqual(threshold);
    expect(errors).toEqual([]);
  });

  it('agrees with the Node engine for the same files (cosine ≥ 0.99), formats and EXIF rotation included', async () => {
    await page.evaluate(() => window.harness.start({ model: 'default' }));
    const node = await NodeEngine.create(MODELS.default);
    const files = [...photos.slice(0, 40).map((p) => p.file), ...GOOD_FIXTURES];
    const paths = files.map((f, i) => (i < 40 ? join(PHOTOS_DIR, f) : join(fixtures, f)));
    const { outcomes } = await embed(files);
    const similarities: Record<string, number> = {};
    for (let i = 0; i < files.length; i++) {
      const [reference] = await node.embedFiles([readFileSync(paths[i]!)]);
      const outcome = outcomes[i]!;
      similarities[files[i]!] = outcome.ok ? cosine(outcome.embedding, reference!.embedding) : -1;
    }
    node.dispose();
    const worst = Math.min(...Object.values(similarities));
    console.log(`node vs browser: worst cosine ${worst.toFixed(5)}`);
    for (const [file, similarity] of Object.entries(similarities)) expect(similarity, file).toBeGreaterThanOrEqual(0.99);
  });

  it('answers bad inputs with the same clear errors as Node, leaks no tensors, and keeps working', async () => {
    await page.evaluate(() => window.harness.start({ model: 'default' }));
    await embed([photos[0]!.file]);
    const before = await page.evaluate(() => window.harness.tensorCounts());
    const { outcomes } = await embed([...BAD_FIXTURES, CORRUPT_FIXTURE, 'goldfish-50mp.jpg']);
    const errorsByFile = Object.fromEntries(BAD_FIXTURES.map((f, i) => [f, outcomes[i]!.ok ? 'accepted' : outcomes[i]!.error]));
    expect(errorsByFile).toEqual({
      'empty.jpg': 'The file is empty (0 bytes).',
      'notes.png': 'Not a supported image: expected JPEG, PNG, GIF or WebP.',
      'truncated.jpg': 'The JPEG file is truncated or corrupt.',
      'truncated.png': 'The PNG file is truncated or corrupt.',
      'bomb.png': 'The image is 40000×40000 (1600 megapixels); the limit is 100 megapixels.',
    });
    const huge = outcomes.at(-1)!;
    expect(huge.ok && huge.labels[0]!.name).toBe('goldfish');
    const after = await embed([SOURCE_PHOTO.split('/').pop()!, photos[1]!.file, photos[2]!.file]);
    expect(after.outcomes.every((o) => o.ok)).toBe(true);
    // A worker that had not loaded the model yet (0 tensors) may have loaded it since; nothing else may grow.
    const modelTensors = Math.max(...before);
    expect(await page.evaluate(() => window.harness.tensorCounts())).toEqual(before.map((count) => count || modelTensors));
  });

  it('cancels a running batch and serves the next request', async () => {
    await page.evaluate(() => window.harness.start({ model: 'default' }));
    const outcome = await page.evaluate(([urls]) => window.harness.abortAfter(urls, 500), [photos.slice(0, 200).map((p) => url(p.file))] as const);
    expect(outcome).toBe('AbortError');
    const { outcomes } = await embed([photos[3]!.file]);
    expect(outcomes[0]).toMatchObject({ ok: true, labels: [{ index: photos[3]!.classIndex }, {}, {}, {}, {}] });
  });
});
