/**
 * `npm run bench:app [-- --captures N] [--sizes 50,200] [--warmup W] [--json [file]]`
 *
 * The app's capture-to-results latency, measured by the app itself: the
 * production harness build served on 127.0.0.1, headless Chromium with a fake
 * camera filming one of the library's photos, real IndexedDB and the default
 * model. For each library size (photos added through *Add images*, spread over
 * the 800), W unrecorded warm-up searches, then N captures from the camera
 * (*Capture and search*) and N searches through *Search by image* with another
 * library photo. Each search's figures are the app's own: `#search-timing`'s
 * `data-ms` (total, from the click or the file's arrival to the results in the
 * page) and its phases `data-embed-ms`, `data-search-ms`, `data-show-ms`
 * (src/app/search/search-view.ts). Prints medians and p90s; every search must
 * find its photo first, or the run fails. `--json` writes every figure
 * (default bench/results/app-<date>.json).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { PROJECT_ROOT } from '../src/node/provision.ts';
import { parseWholeNumber } from '../src/node/whole-number.ts';
import { addImages, fakeCameraArgs, openApp, results, searchFile, searchTiming, y4mFrame } from '../tests/harness/app.ts';
import { launchChromium } from '../tests/harness/chromium.ts';
import { startHarnessServer } from '../tests/harness/server.ts';
import { loadPhotos } from '../tests/photos.ts';

// `--json [file]`: the optional path arrives as a positional.
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    captures: { type: 'string', default: '30' },
    sizes: { type: 'string', default: '50,200' },
    warmup: { type: 'string', default: '3' },
    json: { type: 'boolean', default: false },
  },
});
const jsonPath = values.json ? positionals[0] ?? join(PROJECT_ROOT, 'bench/results', `app-${new Date().toISOString().slice(0, 10)}.json`) : null;
const CAPTURES = wholeNumber('captures', values.captures, 1);
const WARMUP = wholeNumber('warmup', values.warmup, 0);
const SIZES = values.sizes.split(',').map((size) => wholeNumber('sizes', size, 1)).sort((a, b) => a - b);
const log = (line: string) => process.stderr.write(`${line}\n`);
const out = (line = '') => process.stdout.write(`${line}\n`);

// The largest library, spread over the 800 photos; smaller ones are its first photos.
const all = loadPhotos();
const photos = all.filter((_, i) => i % Math.max(1, Math.floor(all.length / SIZES.at(-1)!)) === 0).slice(0, SIZES.at(-1));
if (photos.length < SIZES.at(-1)!) throw new Error(`Only ${all.length} photos: a library of ${SIZES.at(-1)} needs more.`);
// Both searched photos are in the smallest library.
const filmed = photos[Math.floor(SIZES[0]! / 4)]!;
const picked = photos[Math.floor(SIZES[0]! / 7)]!;

const PHASES = ['ms', 'embedMs', 'searchMs', 'showMs'] as const;
type Timing = Record<(typeof PHASES)[number], number>;
interface Run { size: number; source: 'camera' | 'file'; searches: Timing[]; median: Timing; p90: Timing }

/** `text` as a whole number of at least `min`; anything else (empty, NaN, a fraction) ends the run, naming the option. */
function wholeNumber(option: string, text: string, min: number): number {
  const n = parseWholeNumber(text, min);
  if (n === undefined) {
    process.stderr.write(`--${option} takes whole numbers of at least ${min}${option === 'sizes' ? ', separated by commas' : ''}; got "${text}".\n`);
    process.exit(2);
  }
  return n;
}

function quantile(xs: readonly number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

function summarise(size: number, source: Run['source'], searches: Timing[]): Run {
  const at = (q: number) => Object.fromEntries(PHASES.map((p) => [p, quantile(searches.map((s) => s[p]), q)])) as Timing;
  return { size, source, searches, median: at(0.5), p90: at(0.9) };
}

/** Runs `search` W + N times; keeps the last N timings, each checked to have found `expected` first. */
async function measure(page: Page, expected: string, search: () => Promise<void>): Promise<Timing[]> {
  const timings: Timing[] = [];
  for (let i = 0; i < WARMUP + CAPTURES; i++) {
    await search();
    const first = await results(page).first().textContent();
    if (!first?.includes(expected)) throw new Error(`Search ${i + 1} found ${first} first, not ${expected}.`);
    if (i >= WARMUP) timings.push(await searchTiming(page) as Timing);
  }
  return timings;
}

async function captures(page: Page): Promise<Timing[]> {
  await page.getByRole('tab', { name: 'Search' }).click();
  await page.getByRole('button', { name: 'Use camera' }).click();
  await page.waitForFunction(() => (document.querySelector('#camera-video') as HTMLVideoElement).videoWidth > 0);
  const timings = await measure(page, filmed.file, async () => {
    await page.locator('#search-timing').evaluate((el) => el.removeAttribute('data-ms'));
    await page.getByRole('button', { name: 'Capture and search' }).click();
    await page.locator('#search-timing[data-ms]').waitFor();
  });
  await page.getByRole('button', { name: 'Close camera' }).click();
  return timings;
}

const work = mkdtempSync(join(tmpdir(), 'lookalike-bench-app-'));
const videoPath = join(work, 'camera.y4m');
writeFileSync(videoPath, await y4mFrame(filmed.path, 640, 480));
const loadBefore = loadavg();
const server = await startHarnessServer();
const browser = await launchChromium(fakeCameraArgs(videoPath));
const runs: Run[] = [];
let backend = '';
try {
  const page = await openApp(await browser.newContext(), server.baseUrl);
  backend = (await page.locator('#engine-status').textContent())!.replace(/^Ready · /, '');
  log(`${backend}; Chromium ${browser.version()}; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);
  let held = 0;
  for (const size of SIZES) {
    log(`adding ${size - held} photos (library of ${size})…`);
    await addImages(page, photos.slice(held, size).map((p) => p.path), size);
    held = size;
    log(`${WARMUP} + ${CAPTURES} camera captures…`);
    runs.push(summarise(size, 'camera', await captures(page)));
    log(`${WARMUP} + ${CAPTURES} searches by file…`);
    runs.push(summarise(size, 'file', await measure(page, picked.file, () => searchFile(page, picked.path))));
  }
} finally {
  await browser.close();
  server.process.kill();
  rmSync(work, { recursive: true, force: true });
}
const loadAfter = loadavg();

out(`Capture to results (ms), ${CAPTURES} searches each after ${WARMUP} warm-up; ${backend}; ${cpus().length}× ${cpus()[0]?.model}`);
out(`load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
out();
out('library  source   total p50  p90 | embed p50  p90 | search p50  p90 | show p50  p90');
for (const r of runs) {
  const cell = (p: (typeof PHASES)[number], width: number) => `${String(r.median[p]).padStart(width)} ${String(r.p90[p]).padStart(4)}`;
  out(`${String(r.size).padStart(7)}  ${r.source.padEnd(6)}  ${cell('ms', 9)} | ${cell('embedMs', 9)} | ${cell('searchMs', 10)} | ${cell('showMs', 8)}`);
}
if (jsonPath) {
  mkdirSync(join(jsonPath, '..'), { recursive: true });
  writeFileSync(jsonPath, `${JSON.stringify({
    date: new Date().toISOString(), cpus: cpus().length, cpu: cpus()[0]?.model, backend, captures: CAPTURES, warmup: WARMUP,
    loadAverage: { before: loadBefore, after: loadAfter }, runs,
  }, null, 2)}\n`);
  log(`JSON: ${jsonPath}`);
}
