import { createHash } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ImageIndex } from '../../src/core/index/image-index.ts';
import { ITEMS_PER_PAGE } from '../../src/core/index/pages.ts';
import { openPack } from '../../src/core/pack/read.ts';
import { bytesSource } from '../../src/core/pack/range-source.ts';
import { encodePack } from '../../src/core/pack/write.ts';
import { MemoryPageStore } from '../../src/core/store/memory-store.ts';
import { INDEX_SETTINGS, type BuildPlan } from '../harness/index-harness.ts';
import { harnessPage, launchChromium, withContext } from '../harness/chromium.ts';
import { syntheticItems } from '../index-data.ts';

const baseUrl = inject('baseUrl');
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('index engine on IndexedDB (vectors and metadata mirrored in OPFS) in Chromium', () => {
  it('a tab killed mid-build reopens to a consistent index, and the build resumes where it stopped', async () => {
    await withContext(browser, async (context) => {
      // The build crosses partitionFrom, so the finished index also searches through its partition and sketches.
      const plan: BuildPlan = { count: 3000, seed: 21, batch: 50, coder: 'lsh', partitionFrom: 1000 };
      const builder = await harnessPage(context, baseUrl);
      void builder.evaluate((p) => window.harness.index.build('killed', p), plan).catch(() => {});
      // The index runs in the page's worker, so the count is asked for, not waited on in the page.
      while ((await builder.evaluate(() => window.harness.index.committedBatches())) < 8) await new Promise((resolve) => setTimeout(resolve, 50));
      const cdp = await context.newCDPSession(builder);
      const crashed = new Promise((resolve) => builder.on('crash', resolve));
      void cdp.send('Page.crash').catch(() => {}); // the renderer dies mid-transaction; this call never answers
      await crashed;

      const page = await harnessPage(context, baseUrl);
      const after = await page.evaluate((p) => window.harness.index.inspect('killed', p), plan);
      expect(after.count).toBeGreaterThanOrEqual(8 * plan.batch);
      expect(after.count).toBeLessThan(plan.count);
      expect(after.count % plan.batch).toBe(0); // whole batches only
      expect(after.ids).toEqual(Array.from({ length: after.count }, (_, i) => `item-${i}`));
      expect(after.selfFound).toBe(Math.ceil(after.count / 25));

      expect(await page.evaluate((p) => window.harness.index.build('killed', p), plan)).toBe(plan.count);
      const done = await page.evaluate((p) => window.harness.index.inspect('killed', p), plan);
      expect(new Set(done.ids).size).toBe(plan.count);
      expect(done.selfFound).toBe(plan.count / 25);
      expect(done.partitioned).toBe(true);
      // Searches read embedding and metadata pages from the OPFS mirrors' copies, and every copy equals its IndexedDB page.
      expect(done.readsFromCopies.vectors).toBeGreaterThan(0);
      expect(done.readsFromCopies.meta).toBeGreaterThan(0);
      expect(after.staleCopies).toBe(0);
      expect(done.staleCopies).toBe(0);
      // Preloaded (every item is live, and the embedding and metadata pages of 3000 fit the default budget), it finds the
      // same and reads nothing from storage.
      const preloaded = await page.evaluate((p) => window.harness.index.preloaded('killed', p), plan);
      expect(preloaded).toEqual({ pages: 2 * (plan.count / ITEMS_PER_PAGE), embeddings: true, metadata: true, selfFound: plan.count / 25, reads: 0 });
    });
  }, 240_000);

  it('deletes OPFS mirrors whose database is gone, and keeps the others', async () => {
    await withContext(browser, async (context) => {
      const page = await harnessPage(context, baseUrl);
      const { before, after } = await page.evaluate(() => window.harness.index.sweepOrphanMirror('orphan', 'kept'));
      expect(before).toEqual(['kept', 'orphan']);
      expect(after).toEqual(['kept']);
    });
  });

  it("scores int4 sketches with Chromium's relaxed SIMD, and split with the app's scan thread, exactly as the plain kernels do", async () => {
    await withContext(browser, async (context) => {
      const page = await harnessPage(context, baseUrl);
      const { relaxed, sameScores, threadChunks } = await page.evaluate(() => window.harness.index.sketchKernels());
      expect({ relaxed, sameScores }).toEqual({ relaxed: true, sameScores: true });
      expect(threadChunks).toBeGreaterThan(0);
    });
  });

  it('packs written in the browser and in Node are byte-identical and read on the other side', async () => {
    const plan: BuildPlan = { count: 600, seed: 24, batch: 150 };
    await withContext(browser, async (context) => {
      const page = await harnessPage(context, baseUrl);
      await page.evaluate((p) => window.harness.index.build('pack', p), plan);
      const browserPack = Buffer.from(await page.evaluate(() => window.harness.index.exportPack('pack')), 'base64');

      const node = await ImageIndex.open(new MemoryPageStore(), INDEX_SETTINGS);
      const items = syntheticItems(plan.count, plan.seed, INDEX_SETTINGS.dim);
      for (let i = 0; i < items.length; i += plan.batch) await node.add(items.slice(i, i + plan.batch));
      const nodePack = Buffer.concat(encodePack(await node.toPack()));
      expect(browserPack.length).toBe(nodePack.length);
      expect(sha256(browserPack)).toBe(sha256(nodePack));

      // Node reads the browser's pack; the browser imports Node's.
      const contents = await (await openPack(bytesSource(browserPack))).readContents();
      expect(contents.header).toMatchObject({ count: 600, dim: 768, coder: { kind: 'itq', bits: 256 } });
      const imported = await page.evaluate(([pack, p]) => window.harness.index.importPack('imported', pack, p, 123), [nodePack.toString('base64'), plan] as const);
      expect(imported.count).toBe(600);
      expect(imported.top[0]).toBe('item-123');

      const damaged = Buffer.from(nodePack);
      damaged[damaged.length - 10]! ^= 0xff;
      expect(await page.evaluate((b64) => window.harness.index.readPackError(b64), damaged.toString('base64'))).toMatch(/PackError: .*corrupt/i);
    });
  }, 240_000);
});
