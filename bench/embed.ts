/**
 * `npm run bench:embed [-- --json] [--images N] [--reps R]`
 * Images per second, decode included, for both models at batch 1 and 16:
 * Node (WASM, sharp decoding) and the Chromium worker path (WASM: one worker
 * single-threaded, one worker with WASM threads, one single-threaded worker per core).
 * Every figure is the median of R runs over the same N photos, measured in one process.
 */
import { readFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { MODEL_IDS, MODELS, type ModelId } from '../src/core/models/registry.ts';
import { NodeEngine } from '../src/node/engine.ts';
import type { EmbedClientOptions } from '../src/browser/embed-client.ts';
import { launchChromium, openHarness } from '../tests/harness/chromium.ts';
import { startHarnessServer } from '../tests/harness/server.ts';
import { loadPhotos } from '../tests/photos.ts';
import { median } from './stats.ts';

const { values } = parseArgs({
  options: { json: { type: 'boolean', default: false }, images: { type: 'string', default: '96' }, reps: { type: 'string', default: '3' } },
});
const IMAGES = Number(values.images);
const REPS = Number(values.reps);
const BATCHES = [1, 16];
const photos = loadPhotos().slice(0, IMAGES);

interface Row { platform: string; mode: string; model: ModelId; batch: number; imagesPerSecond: number | null; runs: number[]; error?: string }
const rows: Row[] = [];
const log = (line: string) => (values.json ? process.stderr : process.stdout).write(`${line}\n`);

function record(row: Omit<Row, 'imagesPerSecond'>): void {
  const imagesPerSecond = row.runs.length ? IMAGES / (median(row.runs) / 1000) : null;
  rows.push({ ...row, imagesPerSecond });
  log(`${row.platform.padEnd(9)} ${row.mode.padEnd(26)} ${row.model.padEnd(8)} batch ${String(row.batch).padStart(2)}: ${imagesPerSecond ? `${imagesPerSecond.toFixed(1)} images/s` : `failed: ${row.error}`}`);
}

async function benchNode(): Promise<void> {
  const files = await Promise.all(photos.map((p) => readFile(p.path)));
  for (const model of MODEL_IDS) {
    const engine = await NodeEngine.create(MODELS[model]);
    for (const batch of BATCHES) {
      const runs: number[] = [];
      for (let r = 0; r < REPS; r++) {
        const started = performance.now();
        for (let i = 0; i < files.length; i += batch) await engine.embedFiles(files.slice(i, i + batch));
        runs.push(performance.now() - started);
      }
      record({ platform: 'node', mode: 'wasm, 1 thread', model, batch, runs });
    }
    engine.dispose();
  }
}

const BROWSER_MODES: [string, Omit<EmbedClientOptions, 'model'>][] = [
  ['1 worker, 1 thread', { workers: 1, threads: 1 }],
  ['1 worker, WASM threads', { workers: 1 }],
  [`${cpus().length} workers, 1 thread each`, { workers: cpus().length, threads: 1 }],
];

async function benchChromium(): Promise<void> {
  const server = await startHarnessServer();
  const browser = await launchChromium();
  try {
    const { page } = await openHarness(browser, server.baseUrl);
    const urls = photos.map((p) => `${server.baseUrl}photos/${p.file}`);
    for (const model of MODEL_IDS) {
      for (const [mode, options] of BROWSER_MODES) {
        for (const batch of BATCHES) {
          const runs: number[] = [];
          let error: string | undefined;
          try {
            const info = await page.evaluate((o) => window.harness.start(o), { ...options, model });
            if (batch === BATCHES[0]) log(`  (${info.backend}: ${info.backendDetail})`);
            for (let r = 0; r < REPS; r++) runs.push((await page.evaluate(([u, b]) => window.harness.embedUrls(u, b), [urls, batch] as const)).ms);
          } catch (err) {
            error = (err as Error).message.split('\n')[0];
          }
          record({ platform: 'chromium', mode, model, batch, runs, ...(error ? { error } : {}) });
        }
      }
    }
  } finally {
    await browser.close();
    server.process.kill();
  }
}

await benchNode();
await benchChromium();
if (values.json) {
  process.stdout.write(`${JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, cpu: cpus()[0]?.model, images: IMAGES, reps: REPS, rows }, null, 2)}\n`);
}
