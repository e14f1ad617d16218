import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cosine } from '../../src/core/embed/vector.ts';
import { loadPhotos } from '../photos.ts';
import { launchChromium, openHarness, SOFTWARE_GPU_ARGS } from '../harness/chromium.ts';

const baseUrl = inject('baseUrl');
// Software WebGPU is ~100× slower than WASM: a few photos are enough for agreement.
const files = loadPhotos().slice(100, 103).map((p) => `${baseUrl}photos/${p.file}`);

let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await launchChromium(SOFTWARE_GPU_ARGS);
  ({ page } = await openHarness(browser, baseUrl));
});
afterAll(() => browser?.close());

describe('backends in Chromium with software GPUs', () => {
  it('skips the software WebGPU adapter and software WebGL on its own', async () => {
    const info = await page.evaluate(() => window.harness.start({ model: 'default' }));
    expect(info.backend).toBe('wasm');
    expect(info.skippedBackends).toEqual([
      { name: 'webgpu', reason: expect.stringMatching(/^software adapter/) },
      { name: 'webgl', reason: expect.stringMatching(/^software renderer .*SwiftShader/) },
    ]);
  });

  it('WebGPU, WebGL, WASM and CPU agree when forced (cosine ≥ 0.99)', async () => {
    const embeddings: Record<string, number[][]> = {};
    for (const backend of ['wasm', 'webgpu', 'webgl', 'cpu'] as const) {
      const info = await page.evaluate((b) => window.harness.start({ model: 'default', backend: b, workers: 1 }), backend);
      expect(info.backend).toBe(backend);
      // One worker in a cross-origin isolated page: the threaded WASM build, which once crashed minified builds.
      if (backend === 'wasm') expect(info.backendDetail).toMatch(/^SIMD, threaded build, \d+ thread/);
      const { outcomes } = await page.evaluate((u) => window.harness.embedUrls(u), files);
      embeddings[backend] = outcomes.map((o) => (o.ok ? o.embedding : []));
    }
    for (const backend of ['webgpu', 'webgl', 'cpu']) {
      embeddings[backend]!.forEach((e, i) => {
        expect(cosine(e, embeddings.wasm![i]!), `${backend} photo ${i}`).toBeGreaterThanOrEqual(0.99);
      });
    }
  });
});
