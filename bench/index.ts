/**
 * `npm run bench:index [-- --sizes 10000,100000,1000000] [--json [file]] [...flags below]`
 *
 * The search index in headless Chromium on the app's store (real IndexedDB, the
 * vectors pages mirrored in OPFS), in a worker as in the app: build time, memory,
 * query latency (cold, warm, hot) and recall@10 against exact float cosine, for
 * collections of N vectors, side by side with exact brute force, a linear Hamming
 * scan over the same codes and MeMemo's HNSW (in memory and in IndexedDB).
 *
 * Method
 * - Real embeddings: the 800 shared photos, embedded once in Node with the default
 *   model and cached in bench/results/real-<model>-<method>.f32.
 * - Synthetic embeddings, a Gaussian copula of the real ones: PCA (top `--rank`
 *   components + a diagonal residual) of the real vectors' per-dimension normal
 *   scores gives z with the real correlations; each z_d goes through the real
 *   marginal's quantile function (so zeros and the heavy tails come out as in the
 *   real data), and the vector is L2-normalised. A plain Gaussian fit of the raw
 *   vectors, x = ReLU(μ + Σ √λ_j g_j u_j + residual), came out too uniform (mean
 *   pairwise cosine 0.57 vs 0.42 real, 20% zeros vs 14%). The real-vs-synthetic
 *   statistics are printed. The photos are one per class, so the copula describes
 *   classes: `--class-share` s (default 0.5) of each synthetic vector's latent variance
 *   comes from one of `--classes` shared class draws, so that class-mates resemble
 *   each other as pictures of one kind do (s is an assumption; 0 turns classes off).
 *   Each collection is the 800 real vectors followed by synthetic ones, generated in
 *   the bench's worker in seeded chunks of 1024.
 * - Queries: `--queries` fresh synthetic draws (another seed; not in any
 *   collection) plus `--real-queries` of the real photos' vectors (which are in
 *   the collection, so their top-10 includes themselves).
 * - Ground truth: exact top-10 by float cosine, streamed over the same chunks as
 *   they are generated and added.
 * - Build: ImageIndex on the app's store (openIndexStore: IndexedDB, with the
 *   vectors pages mirrored in OPFS files), first `add` of 20000 items (the coder is
 *   trained once, on them), then batches of 4096. "Build" is the sum of the add
 *   calls; generating vectors and the ground truth are timed apart.
 * - Cold: the browser is closed and relaunched on the same profile (IndexedDB on
 *   disk, the OS file cache warm), `--cold-runs` times; open = openIndexStore +
 *   ImageIndex.open; first query = the first search after that.
 * - Search: the index's default (below PARTITION_FROM items a Hamming shortlist of
 *   DEFAULT_SHORTLIST codes, the DEFAULT_CANDIDATES best of them by asymmetric score,
 *   re-ranked by cosine on the stored int8 vectors; from there on a scan of the
 *   nearest lists' sketches, by their heads and then the best
 *   DEFAULT_PARTITIONED_SHORTLIST whole, the best re-ranked by cosine), and a
 *   `--sweep` of shortlist-or-probe:candidates pairs (with a third number, a partitioned index's shortlist after the heads).
 * - Warm: in the last cold page, after 20 warm-up queries, every query once
 *   (first time each; at large N most candidate and meta pages are not cached,
 *   and come from the OPFS mirrors).
 *   Hot: each query again straight after itself (its pages are cached). Warm,
 *   settled: after the sweep and the phases (minutes later: a large build
 *   leaves the storage engine compacting its files, and the first warm pass
 *   meets that), the browser is relaunched once more, the index opened, and the
 *   warm pass repeated (the cache holds only the pages of the open's first
 *   query, one of the measured ones, and of the warm-up queries). That open
 *   and its first query are reported too: a cold start once the storage
 *   engine has settled. Then, in the same browser, the index is reopened on
 *   IndexedDB alone (no mirror: every page read from IndexedDB, as before the
 *   mirror) and the warm pass repeated, side by side; and once more, still in
 *   that browser, on the app's store with a budget of `--preload-budget-mib`
 *   (default the budget), after ImageIndex.preload, where every embedding page
 *   fits it (and with the metadata too, where that fits as well: the row says);
 *   then, side by side, the index reopened with a scan thread (scan-thread.ts)
 *   wherever one can work, preloaded again and the warm pass repeated. Every
 *   other opening has one only where the app's library would start one
 *   (SCAN_THREAD_MIN_CORES; not on this 2-core host).
 * - Memory: index.memoryUsage() against the budget, the page's
 *   measureUserAgentSpecificMemory() (page and worker) after a GC, and the renderer's RSS.
 * - Phases: the steps of a search redone by hand on a second, uncached
 *   connection: coding, the Hamming shortlist (MIH with the index's work budget,
 *   then a scan; and a linear scan alone), asymmetric scoring, reading vector
 *   pages (from IndexedDB on that connection, and from the open index's OPFS
 *   mirror), scoring, reading meta pages (the same two ways).
 * - IndexedDB probe: random reads of one-item (772 B) and one-page (48 KiB) records.
 * - Baselines: brute-force float cosine over the floats in memory (N ≤ 100k;
 *   larger N extrapolated linearly from the largest measured N); linear Hamming
 *   scan = the phases' linear scan; MeMemo (defaults, cosine-normalized) built one
 *   item at a time until `--mememo-cap-s`, in memory and in IndexedDB, queried at
 *   several ef against exact top-10 over the items it holds, next to Lookalike's
 *   index on the same items, reopened and queried twice: first reading pages
 *   from storage (vectors and metadata from the OPFS mirrors), then
 *   with them cached, reading nothing, as MeMemo in memory reads nothing,
 *   also re-ranking fewer candidates (`--mememo-candidates`), each query
 *   through every MeMemo ef and every Lookalike setting in turn (side by
 *   side); each MeMemo ef is set against the fastest of these Lookalike
 *   settings whose recall is at least its own.
 *   MeMemo's full build times are extrapolated from its rate over the last
 *   quarter of the cap (a lower bound: HNSW inserts slow as N grows).
 * - Coders: ITQ vs LSH at 64/128/256 bits on an in-memory copy of the
 *   `--coders-size` collection (same engine, MemoryPageStore, `rebuild`):
 *   raw Hamming top-10, Hamming top-100 re-ranked, and the default search.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { CoderKind } from '../src/core/codes/coder.ts';
import { EMBEDDING_METHOD } from '../src/core/embed/embedder.ts';
import { embeddingLength } from '../src/core/embed/fused.ts';
import { DEFAULT_CANDIDATES, DEFAULT_PARTITIONED_CANDIDATES, DEFAULT_PARTITIONED_SHORTLIST, DEFAULT_PROBE_MIN, DEFAULT_PROBE_SHARE, DEFAULT_SHORTLIST, DEFAULT_WIDEST_PROBE_MIN, DEFAULT_WIDEST_PROBE_SHARE, defaultProbe, LIST_SAMPLE, PARTITION_FROM, PARTITION_LISTS, PROVISIONAL_LISTS, RETRAIN_UNTIL, SKETCH_DIMS } from '../src/core/index/image-index.ts';
import { modelSpec } from '../src/core/models/registry.ts';
import { NodeEngine } from '../src/node/engine.ts';
import { PROJECT_ROOT } from '../src/node/provision.ts';
import { CHROMIUM_PATH } from '../tests/harness/chromium.ts';
import type { IndexBench, InitArgs, Percentiles } from '../tests/harness/index-bench.ts';
import { startHarnessServer } from '../tests/harness/server.ts';
import { mean } from './stats.ts';
import { loadPhotos } from '../tests/photos.ts';

// `--json` takes an optional path, which parseArgs cannot express.
const argv = process.argv.slice(2);
let jsonPath: string | null = null;
const jsonAt = argv.indexOf('--json');
if (jsonAt >= 0) {
  const next = argv[jsonAt + 1];
  jsonPath = next && !next.startsWith('--') ? next : join(PROJECT_ROOT, 'bench/results', `index-${new Date().toISOString().slice(0, 10)}.json`);
  argv.splice(jsonAt, next && !next.startsWith('--') ? 2 : 1);
}
const { values } = parseArgs({
  args: argv,
  options: {
    sizes: { type: 'string', default: '10000,100000,1000000' },
    bits: { type: 'string', default: '256' },
    coder: { type: 'string', default: 'itq' },
    'budget-mib': { type: 'string', default: '256' },
    'preload-budget-mib': { type: 'string' },
    queries: { type: 'string', default: '200' },
    'real-queries': { type: 'string', default: '100' },
    sweep: { type: 'string', default: '1000:100,1000:400,10000:400,50000:40,50000:100,100000:40,100000:100,200000:100,200000:200' },
    'cold-runs': { type: 'string', default: '3' },
    'brute-max': { type: 'string', default: '100000' },
    'brute-queries': { type: 'string', default: '100' },
    'phase-queries': { type: 'string', default: '60' },
    'mememo-cap-s': { type: 'string', default: '60' },
    'mememo-query-cap-s': { type: 'string', default: '20' },
    'mememo-efs': { type: 'string', default: '10,50,100,200' },
    'mememo-candidates': { type: 'string', default: '20,30,40' },
    'coders-size': { type: 'string', default: '100000' },
    rank: { type: 'string', default: '256' },
    'class-share': { type: 'string', default: '0.5' },
    classes: { type: 'string', default: '1000' },
    'skip-probe': { type: 'boolean', default: false },
    seed: { type: 'string', default: '7' },
  },
});
const list = (s: string) => s.split(',').filter(Boolean).map(Number);
const SIZES = list(values.sizes);
const BITS = Number(values.bits);
const CODER = values.coder as CoderKind;
const BUDGET = Number(values['budget-mib']) * 2 ** 20;
/** The budget of the preloaded pass (default: BUDGET), which preloads only where every embedding page fits. */
const PRELOAD_BUDGET = Number(values['preload-budget-mib'] ?? values['budget-mib']) * 2 ** 20;
/**
 * Search settings swept, `a:b[:c]`: a = the Hamming shortlist (neighbours scored asymmetrically) or, in a
 * partitioned index, the sketches probed, every one scored whole (the shortlist is the probe: one pass);
 * b = the candidates re-ranked by cosine; c (partitioned) = the shortlist scored whole after the heads
 * instead (two passes, where the probe is at least HEAD_PASS_RATIO times it), to compare the two in one run.
 */
const SWEEP = values.sweep.split(',').filter(Boolean).map((entry) => {
  const [first, candidates, shortlist] = entry.split(':').map(Number);
  return { shortlist: shortlist ?? first!, probe: first!, candidates: candidates ?? first! };
});
/** A swept setting as the tables name it. */
const swept = (x: { readonly shortlist: number; readonly probe: number; readonly candidates: number }) =>
  x.shortlist === x.probe ? `${x.shortlist} → ${x.candidates}` : `${x.probe} → ${x.shortlist} → ${x.candidates}`;
const COLD_RUNS = Number(values['cold-runs']);
const BRUTE_MAX = Number(values['brute-max']);
const MEMEMO_CAP_MS = Number(values['mememo-cap-s']) * 1000;
const RANK = Number(values.rank);
const SEED = Number(values.seed);
const log = (line: string) => process.stderr.write(`${line}\n`);
const out = (line = '') => process.stdout.write(`${line}\n`);

// ——— real embeddings ———

const spec = modelSpec('default');
const DIM = embeddingLength(spec);

async function realEmbeddings(): Promise<Float32Array> {
  const photos = loadPhotos();
  const path = join(PROJECT_ROOT, 'bench/results', `real-${spec.id}-${EMBEDDING_METHOD}.f32`);
  if (existsSync(path)) {
    const bytes = readFileSync(path);
    if (bytes.byteLength === photos.length * DIM * 4) return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
  log(`Embedding the ${photos.length} shared photos with the ${spec.id} model (cached in ${path}) …`);
  const engine = await NodeEngine.create(spec);
  const vectors = new Float32Array(photos.length * DIM);
  for (let i = 0; i < photos.length; i += 16) {
    const files = await Promise.all(photos.slice(i, i + 16).map((p) => readFile(p.path)));
    (await engine.embedFiles(files)).forEach((e, j) => vectors.set(e.embedding, (i + j) * DIM));
  }
  engine.dispose();
  mkdirSync(join(PROJECT_ROOT, 'bench/results'), { recursive: true });
  writeFileSync(path, new Uint8Array(vectors.buffer));
  return vectors;
}

// ——— the copula model ———

/** Inverse standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) => (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/** [sorted marginals (dim × n), √λ_j u_j (rank × dim), residual sd (dim)] as one Float32Array. */
function fitCopula(real: Float32Array, n: number): { model: Float32Array; explained: number } {
  const sorted = new Float32Array(DIM * n);
  const scores = new Matrix(n, DIM);
  for (let d = 0; d < DIM; d++) {
    const column = Array.from({ length: n }, (_, i) => real[i * DIM + d]!);
    const order = column.map((_, i) => i).sort((x, y) => column[x]! - column[y]!);
    order.forEach((i, rank) => { sorted[d * n + rank] = column[i]!; });
    // Normal scores, tied values (the zeros) sharing their mid-rank.
    for (let i = 0; i < n; ) {
      let j = i;
      while (j + 1 < n && column[order[j + 1]!] === column[order[i]!]) j++;
      const z = normalQuantile(((i + j) / 2 + 0.5) / n);
      for (let r = i; r <= j; r++) scores.set(order[r]!, d, z);
      i = j + 1;
    }
    let columnMean = 0;
    for (let i = 0; i < n; i++) columnMean += scores.get(i, d) / n;
    let variance = 0;
    for (let i = 0; i < n; i++) variance += (scores.get(i, d) - columnMean) ** 2 / (n - 1);
    const sd = Math.sqrt(variance) || 1;
    for (let i = 0; i < n; i++) scores.set(i, d, (scores.get(i, d) - columnMean) / sd);
  }
  const correlation = scores.transpose().mmul(scores).div(n - 1);
  const evd = new EigenvalueDecomposition(correlation, { assumeSymmetric: true });
  const eigenvalues = evd.realEigenvalues;
  const vectors = evd.eigenvectorMatrix;
  const order = eigenvalues.map((_, i) => i).sort((x, y) => eigenvalues[y]! - eigenvalues[x]!).slice(0, RANK);
  const components = new Float32Array(RANK * DIM);
  const residual = new Float32Array(DIM);
  const explainedVariance = new Float64Array(DIM);
  order.forEach((col, j) => {
    const scale = Math.sqrt(Math.max(0, eigenvalues[col]!));
    for (let d = 0; d < DIM; d++) {
      components[j * DIM + d] = scale * vectors.get(d, col);
      explainedVariance[d] = explainedVariance[d]! + components[j * DIM + d]! ** 2;
    }
  });
  for (let d = 0; d < DIM; d++) residual[d] = Math.sqrt(Math.max(0, 1 - explainedVariance[d]!));
  const model = new Float32Array(sorted.length + components.length + residual.length);
  model.set(sorted, 0);
  model.set(components, sorted.length);
  model.set(residual, sorted.length + components.length);
  return { model, explained: explainedVariance.reduce((a, b) => a + b, 0) / DIM };
}

// ——— Chromium ———

/** INDEX_BENCH_VERSION of the bench this driver expects (tests/harness/index-bench.ts; a value import would run the worker module). */
const INDEX_BENCH_VERSION = 13;

// tests/harness/chromium.ts's flags, plus memory measurement without its random delay and a callable GC.
const CHROMIUM_ARGS = [
  '--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic',
  '--enable-precise-memory-info', '--enable-blink-features=ForceEagerMeasureMemory', '--js-flags=--expose-gc',
];

type Call = <M extends keyof IndexBench>(method: M, ...args: Parameters<IndexBench[M]>) => Promise<Awaited<ReturnType<IndexBench[M]>>>;
interface Session { context: BrowserContext; page: Page; call: Call }

async function openSession(profile: string, baseUrl: string, init: InitArgs): Promise<Session> {
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  try {
    return await loadBenchPage(context, baseUrl, init);
  } catch (err) {
    await context.close();
    throw err;
  }
}

async function loadBenchPage(context: BrowserContext, baseUrl: string, init: InitArgs): Promise<Session> {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (msg) => {
    if (msg.text().startsWith('[bench]')) log(`    ${msg.text().slice(8)}`);
    else if (msg.type() === 'error' && !msg.location().url.endsWith('/favicon.ico')) log(`    page error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => log(`    page error: ${err.message}`));
  // Other runs may rebuild the shared harness build while this one serves it: retry a failed load.
  for (let attempt = 1; ; attempt++) {
    try {
      await page.goto(`${baseUrl}tests/harness/index-bench.html`);
      await page.waitForFunction(() => 'indexBench' in window, undefined, { timeout: 30_000 });
      break;
    } catch (err) {
      if (attempt === 5) throw err;
      log(`  the bench page did not load (${(err as Error).message.split('\n')[0]}); retrying in 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 30_000));
    }
  }
  const version = await page.evaluate(() => (window.indexBench as unknown as { version?: () => unknown }).version?.());
  if (version !== INDEX_BENCH_VERSION) throw new Error(`The harness build serves bench page version ${version}, not ${INDEX_BENCH_VERSION}: it is stale. Touch tests/harness/index-bench.ts and run again.`);
  await page.evaluate((args) => window.indexBench.init(args), init);
  const call: Call = (method, ...args) =>
    page.evaluate(([m, a]) => (window.indexBench[m] as (...x: unknown[]) => unknown)(...a), [method, args] as const) as never;
  return { context, page, call };
}

/** Resident memory of the Chromium processes launched on `profile` (Linux /proc): the largest renderer, and all of them. */
function chromiumRss(profile: string): { rendererBytes: number | null; allBytes: number | null } {
  try {
    const procs = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).flatMap((pid) => {
      try {
        // Zygote children rewrite their title, so their arguments may arrive joined by spaces.
        const cmdline = `${readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')} `;
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
        return [{ pid: Number(pid), ppid, cmdline, rss }];
      } catch {
        return [];
      }
    });
    const root = procs.find((p) => p.cmdline.includes(`--user-data-dir=${profile} `) && !p.cmdline.includes('--type='));
    if (!root) return { rendererBytes: null, allBytes: null };
    const byPid = new Map(procs.map((p) => [p.pid, p]));
    const descends = (p: { ppid: number }): boolean => {
      for (let at = byPid.get(p.ppid); at; at = byPid.get(at.ppid)) if (at.pid === root.pid) return true;
      return false;
    };
    const tree = procs.filter((p) => p.pid === root.pid || descends(p));
    const renderers = tree.filter((p) => p.cmdline.includes('--type=renderer'));
    return { rendererBytes: Math.max(0, ...renderers.map((p) => p.rss)) || null, allBytes: tree.reduce((s, p) => s + p.rss, 0) };
  } catch {
    return { rendererBytes: null, allBytes: null };
  }
}

// ——— the run ———

const spread = (total: number, want: number) => Array.from({ length: Math.min(total, want) }, (_, i) => Math.floor((i * total) / Math.min(total, want)));

async function main() {
  const real = await realEmbeddings();
  const realCount = real.length / DIM;
  let t = performance.now();
  const { model, explained } = fitCopula(real, realCount);
  log(`Copula fitted in ${((performance.now() - t) / 1000).toFixed(1)} s: ${RANK} components carry ${(explained * 100).toFixed(1)}% of the normal scores' variance.`);
  const init: InitArgs = {
    model: Buffer.from(model.buffer).toString('base64'),
    real: Buffer.from(real.buffer).toString('base64'),
    dim: DIM, rank: RANK, realCount, seed: SEED,
    syntheticQueries: Number(values.queries),
    realQueries: Number(values['real-queries']),
    classShare: Number(values['class-share']),
    classes: Number(values.classes),
  };
  const queryCount = init.syntheticQueries + init.realQueries;

  const server = await startHarnessServer();
  const profileRoot = join(tmpdir(), `lookalike-bench-index-${process.pid}`);
  const results: Record<string, unknown> = {};
  try {
    // Statistics and MeMemo, in a profile of their own.
    const mememoProfile = join(profileRoot, 'mememo');
    let session = await openSession(mememoProfile, server.baseUrl, init);
    const userAgent = await session.page.evaluate(() => navigator.userAgent);
    const isolated = await session.call('crossOriginIsolated');
    log(`${userAgent}; cross-origin isolated: ${isolated}`);
    const synthStats = await session.call('synthStats');
    results.environment = {
      date: new Date().toISOString(), loadAverageAtStart: loadavg(), source: gitState(), cpus: cpus().length, cpu: cpus()[0]?.model, memoryBytes: totalmem(), node: process.version, userAgent,
      crossOriginIsolated: isolated,
      settings: { sizes: SIZES, bits: BITS, coder: CODER, budgetBytes: BUDGET, sweep: SWEEP, defaultShortlist: DEFAULT_SHORTLIST, defaultCandidates: DEFAULT_CANDIDATES, partitionFrom: PARTITION_FROM, lists: PARTITION_LISTS, listSample: LIST_SAMPLE, sketchDims: SKETCH_DIMS, defaultProbe: { share: DEFAULT_PROBE_SHARE, min: DEFAULT_PROBE_MIN, widestShare: DEFAULT_WIDEST_PROBE_SHARE, widestMin: DEFAULT_WIDEST_PROBE_MIN }, defaultPartitionedShortlist: DEFAULT_PARTITIONED_SHORTLIST, defaultPartitionedCandidates: DEFAULT_PARTITIONED_CANDIDATES, coldRuns: COLD_RUNS, rank: RANK, seed: SEED, queries: init.syntheticQueries, realQueries: init.realQueries, classShare: init.classShare, classes: init.classes },
    };
    results.synthStats = { ...synthStats, copulaExplained: explained };
    if (MEMEMO_CAP_MS > 0) {
      const mememo = [];
      for (const mode of ['memory', 'indexeddb'] as const) {
        log(`MeMemo (${mode}): building for up to ${MEMEMO_CAP_MS / 1000} s …`);
        const args = { mode, capMs: MEMEMO_CAP_MS, maxItems: 20_000, efs: list(values['mememo-efs']), queryCapMs: Number(values['mememo-query-cap-s']) * 1000, bits: BITS, coder: CODER,
          candidates: list(values['mememo-candidates']) };
        mememo.push(await session.call('mememo', args));
      }
      results.mememo = mememo;
    }
    if (!values['skip-probe']) {
      log('IndexedDB read costs …');
      results.storageProbe = await session.call('storageProbe', { records: 4000, sizes: [1, 4, 16, 64].map((items) => items * (4 + DIM)), reads: [1, 10, 100], reps: 30 });
    }
    await session.context.close();
    rmSync(mememoProfile, { recursive: true, force: true });

    const sizes: unknown[] = [];
    results.sizes = sizes;
    for (const n of SIZES) {
      const profile = join(profileRoot, `n${n}`);
      const db = `bench-${n}`;
      log(`N = ${n}: building …`);
      session = await openSession(profile, server.baseUrl, init);
      const buildArgs = { db, n, bits: BITS, coder: CODER, budgetBytes: BUDGET, keepFloats: n <= BRUTE_MAX };
      const build = await session.call('build', buildArgs);
      log(`  built in ${(build.addMs / 1000).toFixed(1)} s (${(build.addMs * 1000 / n).toFixed(0)} µs/item)`);
      const rssAfterBuild = chromiumRss(profile);
      let brute = null;
      let coders = null;
      if (n <= BRUTE_MAX) {
        brute = await session.call('bruteForce', Number(values['brute-queries']));
        log(`  brute force p50 ${brute.latency.p50.toFixed(1)} ms`);
        if (n === Number(values['coders-size']) || (n === Math.max(...SIZES.filter((s) => s <= Math.min(BRUTE_MAX, Number(values['coders-size'])))) && !SIZES.includes(Number(values['coders-size'])))) {
          log('  ITQ vs LSH …');
          coders = await session.call('coders', { bits: [64, 128, 256], kinds: ['itq', 'lsh'], candidates: 100 });
        }
      }
      const { truth, ...buildSummary } = build;
      await session.call('closeIndex');
      await session.context.close();

      const cold = [];
      let warm = null;
      let phases = null;
      let rss = null;
      const firstQueries = spread(init.syntheticQueries, COLD_RUNS);
      const open = async (firstQuery: number, label: string, mirror = true, budgetBytes = BUDGET, scanThread = false) => {
        const opened = await session.call('open', { db, mirror, bits: BITS, coder: CODER, budgetBytes, truth, firstQuery, scanThread });
        log(`  ${label}: open ${(opened.storeOpenMs + opened.indexOpenMs).toFixed(0)} ms, first query ${opened.firstQueryMs.toFixed(1)} ms`);
        return opened;
      };
      for (let r = 0; r < COLD_RUNS; r++) {
        session = await openSession(profile, server.baseUrl, init);
        const opened = await open(firstQueries[r]!, `cold ${r + 1}`);
        cold.push({ ...opened, rss: chromiumRss(profile) });
        if (r === COLD_RUNS - 1) {
          warm = await session.call('queries', { hot: true, sweep: SWEEP });
          rss = chromiumRss(profile);
          const { probe, widest: widestProbe } = defaultProbe(n);
          phases = await session.call('phases', { db, shortlist: DEFAULT_SHORTLIST, candidates: DEFAULT_CANDIDATES, probe, widestProbe, partitionedShortlist: DEFAULT_PARTITIONED_SHORTLIST, partitionedCandidates: DEFAULT_PARTITIONED_CANDIDATES, queries: Number(values['phase-queries']) });
        }
        await session.context.close();
      }
      session = await openSession(profile, server.baseUrl, init);
      const settledOpen = await open(firstQueries[0]!, 'cold, settled');
      const settled = (await session.call('queries', { hot: false, sweep: [] })).warm;
      log(`  warm, settled: p50 ${settled.latency.p50.toFixed(2)} ms p99 ${settled.latency.p99.toFixed(2)} ms recall ${settled.recall.all.toFixed(3)}`);
      // The same, with IndexedDB alone (as before the OPFS mirror), reopened in the same session.
      await session.call('closeIndex');
      await open(firstQueries[0]!, 'IndexedDB alone', false);
      const settledIdbOnly = (await session.call('queries', { hot: false, sweep: [] })).warm;
      log(`  warm, settled, IndexedDB alone: p50 ${settledIdbOnly.latency.p50.toFixed(2)} ms p99 ${settledIdbOnly.latency.p99.toFixed(2)} ms`);
      // And with the embeddings (and the metadata, where it fits too) preloaded into memory, where they fit the preload budget (the app's store again).
      await session.call('closeIndex');
      await open(firstQueries[0]!, 'preload budget', true, PRELOAD_BUDGET);
      const preload = { ...(await session.call('preload')), budgetBytes: PRELOAD_BUDGET };
      log(`  preload (budget ${mib(PRELOAD_BUDGET)} MiB): ${preload.pages} pages in ${ms(preload.ms)} ms, ${preload.metadata ? 'embeddings and metadata' : preload.embeddings ? 'embeddings (not all the metadata)' : 'not all the embeddings'}`);
      let settledPreloaded = null;
      let settledPreloadedThread = null;
      if (preload.embeddings) {
        settledPreloaded = { ...(await session.call('queries', { hot: false, sweep: [] })), rss: chromiumRss(profile) };
        log(`  warm, settled, preloaded: p50 ${settledPreloaded.warm.latency.p50.toFixed(2)} ms p99 ${settledPreloaded.warm.latency.p99.toFixed(2)} ms`);
        // The same with a scan thread wherever one can work (on fewer cores than the app asks for, too), side by side.
        await session.call('closeIndex');
        await open(firstQueries[0]!, 'preload budget, scan thread', true, PRELOAD_BUDGET, true);
        if ((await session.call('preload')).embeddings) {
          settledPreloadedThread = (await session.call('queries', { hot: false, sweep: [] })).warm;
          log(`  warm, settled, preloaded, scan thread: p50 ${settledPreloadedThread.latency.p50.toFixed(2)} ms p99 ${settledPreloadedThread.latency.p99.toFixed(2)} ms`);
        }
      }
      await session.context.close();
      rmSync(profile, { recursive: true, force: true });
      sizes.push({ n, loadAverage: loadavg(), build: buildSummary, rssAfterBuild, brute, coders, cold, warm, settledOpen, settled, settledIdbOnly, preload, settledPreloaded, settledPreloadedThread, rssAfterQueries: rss, phases });
      if (jsonPath) writeJson(results);
    }
  } finally {
    server.process.kill();
    rmSync(profileRoot, { recursive: true, force: true });
  }
  report(results as unknown as Results, queryCount);
  if (jsonPath) writeJson(results);
}

/** The commit, and the files that differ from it (the page bundles the working tree). */
function gitState(): { commit: string; modified: string[] } | null {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();
    const modified = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).split('\n').filter(Boolean).map((l) => l.slice(3));
    return { commit, modified };
  } catch {
    return null;
  }
}

function writeJson(results: Record<string, unknown>): void {
  mkdirSync(join(jsonPath!, '..'), { recursive: true });
  writeFileSync(jsonPath!, `${JSON.stringify(results, null, 2)}\n`);
  log(`JSON: ${jsonPath}`);
}

// ——— the report ———

type Await<T> = T extends Promise<infer U> ? U : T;
type R<K extends keyof IndexBench> = Await<ReturnType<IndexBench[K]>>;
interface SizeResult {
  n: number; build: Omit<R<'build'>, 'truth'>; rssAfterBuild: ReturnType<typeof chromiumRss>; brute: R<'bruteForce'> | null; coders: R<'coders'> | null;
  cold: (R<'open'> & { rss: ReturnType<typeof chromiumRss> })[]; warm: R<'queries'> | null; settledOpen?: R<'open'>; settled?: R<'queries'>['warm']; settledIdbOnly?: R<'queries'>['warm']; preload?: R<'preload'> & { budgetBytes: number }; settledPreloaded?: (R<'queries'> & { rss: ReturnType<typeof chromiumRss> }) | null; settledPreloadedThread?: R<'queries'>['warm'] | null; rssAfterQueries: ReturnType<typeof chromiumRss> | null; phases: R<'phases'> | null;
}
interface Results { synthStats: R<'synthStats'> & { copulaExplained: number }; mememo?: R<'mememo'>[]; storageProbe?: R<'storageProbe'>; sizes: SizeResult[] }

const ms = (x: number | null | undefined, digits = 1) => (x === null || x === undefined || Number.isNaN(x) ? '–' : x >= 100 ? x.toFixed(0) : x.toFixed(digits));
const mib = (x: number | null | undefined) => (x === null || x === undefined ? '–' : (x / 2 ** 20).toFixed(0));
const r3 = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(3));
const nfmt = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const lat = (p: Percentiles | undefined) => (p ? `${ms(p.p50, 2)} / ${ms(p.p99, 2)}` : '–');
const table = (header: string[], rows: string[][]) => {
  out(`| ${header.join(' | ')} |`);
  out(`|${header.map(() => '---').join('|')}|`);
  for (const row of rows) out(`| ${row.join(' | ')} |`);
  out();
};

function report(results: Results, queryCount: number): void {
  const { synthStats: s } = results;
  out(`\nReal vs synthetic embeddings (${s.real.count} of each)`);
  table(['', 'mean pairwise cosine', 'mean nearest-neighbour cosine', 'zero components', 'ITQ-256 Hamming top-10 recall', 'ITQ-256 top-40 re-ranked recall'],
    (['real', 'synthetic'] as const).map((kind) => {
      const x = s[kind];
      return [kind, r3(x.meanPairwiseCosine), r3(x.meanNearestNeighbourCosine), r3(x.zeroFraction), r3(x.itq256HammingTop10Recall), r3(x.itq256Rerank40Recall)];
    }));

  out(`Lookalike index (${BITS}-bit ${CODER}, budget ${mib(BUDGET)} MiB, k = 10; class share ${values["class-share"]} of ${values.classes} classes; default search below ${PARTITION_FROM} items: Hamming shortlist ${DEFAULT_SHORTLIST} → asymmetric → cosine on ${DEFAULT_CANDIDATES}; from ${PARTITION_FROM}: ${PARTITION_LISTS} lists (${PROVISIONAL_LISTS} if trained below ${RETRAIN_UNTIL} items; trained on ${LIST_SAMPLE} items once there are that many), ${SKETCH_DIMS}-d sketches, probe 1/${1 / DEFAULT_PROBE_SHARE} of the items (≥ ${DEFAULT_PROBE_MIN}; widened up to 1/${1 / DEFAULT_WIDEST_PROBE_SHARE}, ≥ ${DEFAULT_WIDEST_PROBE_MIN}, for queries unlike their lists) by sketch head → ${DEFAULT_PARTITIONED_SHORTLIST} by whole sketch → cosine on ${DEFAULT_PARTITIONED_CANDIDATES}; ${queryCount} queries; latencies p50 / p99 in ms)`);
  table(['N', 'build s', 'µs/item', 'index MiB (codes+tables+cache)', 'page MiB', 'renderer RSS MiB', 'open ms', 'cold 1st query ms', 'warm', 'warm, settled', 'warm, settled, IndexedDB alone', 'hot', 'recall@10 (synth / real)'],
    results.sizes.map((z) => {
      const opens = z.cold.map((c) => c.storeOpenMs + c.indexOpenMs);
      const firsts = z.cold.map((c) => c.firstQueryMs);
      const memory = z.warm?.memory;
      return [nfmt(z.n), ms(z.build.addMs / 1000), ms(z.build.addMs * 1000 / z.n, 0),
        memory?.index ? `${mib(memory.index.total)} (${mib(memory.index.codes)}+${mib(memory.index.tables)}+${mib(memory.index.cache)})` : '–',
        mib(memory?.userAgentBytes), mib(z.rssAfterQueries?.rendererBytes),
        `${ms(median(opens))} (max ${ms(Math.max(...opens))})`, `${ms(median(firsts))} (max ${ms(Math.max(...firsts))})`,
        lat(z.warm?.warm.latency), lat(z.settled?.latency), lat(z.settledIdbOnly?.latency), lat(z.warm?.hot?.latency),
        z.warm ? `${r3(z.warm.warm.recall.synthetic)} / ${r3(z.warm.warm.recall.real)}` : '–'];
    }));

  out('Shortlist → candidates (warm; latency p50 / p99 ms, recall@10 all queries)');
  table(['N', ...SWEEP.map(swept)], results.sizes.map((z) => [nfmt(z.n), ...(z.warm?.sweep ?? []).map((c) => `${lat(c.latency)}, ${r3(c.recall.all)}`)]));

  out(`Where a warm query goes (median ms, on an uncached connection; Hamming path: shortlist ${DEFAULT_SHORTLIST} → ${DEFAULT_CANDIDATES} candidates; a partitioned index reads the pages of its sketch scan's ${DEFAULT_PARTITIONED_CANDIDATES} candidates instead)`);
  table(['N', 'MIH m', 'code + project', 'shortlist (MIH → scan)', 'MIH gave up', 'linear scan alone', 'radius', 'asymmetric', 'sketch scan (probe)', 'one pass, all whole (picks shared)', 'vector pages', 'read pages (IndexedDB)', 'read pages (OPFS mirror)', 'score', 'read meta (IndexedDB)', 'read meta (OPFS mirror)', 'MIH build (cold)', 'load codes', 'load sketches'],
    results.sizes.filter((z) => z.phases).map((z) => {
      const p = z.phases!;
      return [nfmt(z.n), String(p.m), ms(p.steps.encode.p50 + p.steps.project.p50, 2), ms(p.steps.shortlist.p50, 2), p.mihGaveUpFraction === null ? 'scan only' : `${(p.mihGaveUpFraction * 100).toFixed(0)}%`, ms(p.steps.linear.p50, 2), String(p.steps.radius.p50),
        ms(p.steps.asymmetric.p50, 2), p.probe === null ? '–' : `${ms(p.steps.sketchScan.p50, 2)} (${nfmt(p.probe)})`,
        p.probe === null || !p.steps.sketchScanOnePass ? '–' : `${ms(p.steps.sketchScanOnePass.p50, 2)} (${r3(p.steps.onePassOverlap.p50)})`, String(p.steps.pages.p50), ms(p.steps.fetchVectors.p50, 2), ms(p.steps.fetchVectorsMirror?.p50, 2), ms(p.steps.score.p50, 2), ms(p.steps.fetchMeta.p50, 2), ms(p.steps.fetchMetaMirror?.p50, 2), ms(p.mihBuildMs),
        ms(p.loadCodesMs), p.loadSketchesMs === null ? '–' : ms(p.loadSketchesMs)];
    }));

  out('Side by side (query p50 / p99 ms, recall@10)');
  const rows: string[][] = [];
  const measuredBrute = results.sizes.filter((z) => z.brute);
  const largestBrute = measuredBrute.at(-1);
  for (const z of results.sizes) {
    if (z.warm) {
      rows.push([nfmt(z.n), 'Lookalike, default search (IndexedDB, vectors and metadata from the OPFS mirrors)', lat(z.warm.warm.latency), r3(z.warm.warm.recall.all)]);
      if (z.settledOpen) rows.push([nfmt(z.n), `Lookalike, settled cold: open ${ms(z.settledOpen.storeOpenMs + z.settledOpen.indexOpenMs)} ms, then the first query`, ms(z.settledOpen.firstQueryMs), r3(z.settledOpen.firstQueryRecall)]);
      if (z.settled) rows.push([nfmt(z.n), 'Lookalike, default search, settled (relaunched after the sweep)', lat(z.settled.latency), r3(z.settled.recall.all)]);
      if (z.settledIdbOnly) rows.push([nfmt(z.n), 'Lookalike, default search, settled, IndexedDB alone (no mirror)', lat(z.settledIdbOnly.latency), r3(z.settledIdbOnly.recall.all)]);
      if (z.preload) {
        const memory = z.settledPreloaded?.memory.index;
        rows.push([nfmt(z.n), z.settledPreloaded
          ? `Lookalike, default search, settled, preloaded (budget ${mib(z.preload.budgetBytes)} MiB: ${nfmt(z.preload.pages)} pages of embeddings${z.preload.metadata ? ' and metadata' : ' (not all the metadata)'} in ${ms(z.preload.ms)} ms, besides those the open's first query read; index ${mib(memory?.total)} MiB, renderer RSS ${mib(z.settledPreloaded.rss?.rendererBytes)} MiB)`
          : `Lookalike, preloaded: the embeddings do not fit a ${mib(z.preload.budgetBytes)} MiB budget`,
        lat(z.settledPreloaded?.warm.latency), z.settledPreloaded ? r3(z.settledPreloaded.warm.recall.all) : '–']);
        if (z.settledPreloadedThread) rows.push([nfmt(z.n), 'Lookalike, the same with a scan thread (reopened and preloaded again, next)', lat(z.settledPreloadedThread.latency), r3(z.settledPreloadedThread.recall.all)]);
      }
      const reaching = z.warm.sweep.filter((c) => c.recall.all >= 0.95).sort((a, b) => a.latency.p50 - b.latency.p50)[0];
      const best = reaching ?? [...z.warm.sweep].sort((a, b) => b.recall.all - a.recall.all)[0];
      if (best) rows.push([nfmt(z.n), `Lookalike, shortlist ${swept(best)} (${reaching ? 'fastest with recall ≥ 0.95' : 'best recall swept'})`, lat(best.latency), r3(best.recall.all)]);
    }
    if (z.phases) rows.push([nfmt(z.n), `linear Hamming scan for the ${DEFAULT_SHORTLIST}-shortlist (that step alone)`, lat(z.phases.steps.linear), 'same shortlist']);
    if (z.brute) rows.push([nfmt(z.n), 'brute-force float cosine (in memory)', lat(z.brute.latency), r3(z.brute.recall)]);
    else if (largestBrute) rows.push([nfmt(z.n), `brute-force float cosine (extrapolated ×${z.n / largestBrute.n} from ${nfmt(largestBrute.n)})`, `~${ms(largestBrute.brute!.latency.p50 * z.n / largestBrute.n)}`, '1']);
  }
  for (const m of results.mememo ?? []) {
    for (const e of m.sweep) rows.push([`${nfmt(m.items)} (reached)`, `MeMemo HNSW ${m.mode}, ef ${e.ef} (${e.queries} queries)`, lat(e.latency), r3(e.recall.all)]);
    rows.push([`${nfmt(m.items)}`, `Lookalike on the same ${m.items} items, reopened (vectors and metadata from the OPFS mirrors)`, lat(m.lookalike.latency), r3(m.lookalike.recall.all)]);
    rows.push([`${nfmt(m.items)}`, `Lookalike on the same ${m.items} items, the same queries again (pages cached)`, lat(m.lookalike.cached), 'the same answers']);
    for (const c of m.lookalike.candidateSweep) rows.push([`${nfmt(m.items)}`, `Lookalike, pages cached, ${c.candidates} candidates re-ranked`, lat(c.latency), r3(c.recall.all)]);
  }
  table(['N', 'method', 'p50 / p99', 'recall@10'], rows);

  for (const m of results.mememo ?? []) {
    // Each MeMemo setting against the fastest Lookalike setting (pages cached) whose recall is at least its own, over
    // the same queries (a MeMemo setting that reached its time cap answered only the first ones).
    const lookalike = [{ label: 'default', latency: m.lookalike.cached, perQuery: m.lookalike.cachedPerQuery },
      ...m.lookalike.candidateSweep.map((c) => ({ label: `${c.candidates} candidates`, latency: c.latency, perQuery: c.perQuery }))];
    out(`MeMemo ${m.mode} against Lookalike at equal or better recall (${m.items} items; Lookalike with pages cached; p50; recall over the queries MeMemo answered)`);
    table(['MeMemo', 'queries', 'recall', 'p50 ms', 'Lookalike', 'recall', 'p50 ms', 'MeMemo / Lookalike'], m.sweep.map((e) => {
      const recall = mean(e.perQuery);
      const match = lookalike.map((l) => ({ ...l, recall: mean(l.perQuery.slice(0, e.perQuery.length)) }))
        .filter((l) => l.recall >= recall).sort((a, b) => a.latency.p50 - b.latency.p50)[0];
      return [`ef ${e.ef}`, String(e.queries), r3(recall), ms(e.latency.p50, 2), match?.label ?? 'none as good', match ? r3(match.recall) : '–',
        match ? ms(match.latency.p50, 2) : '–', match ? `${(e.latency.p50 / match.latency.p50).toFixed(1)}×` : '–'];
    }));
  }

  if (results.mememo?.length) {
    out('MeMemo builds (capped; full builds extrapolated at the rate of the last quarter, a lower bound)');
    table(['mode', 'items reached', 'build s', 'items/s (last quarter)', ...SIZES.map((n) => `${nfmt(n)} build (extrapolated)`), 'Lookalike build of the same items s'],
      results.mememo.map((m) => {
        const rate = lastQuarterRate(m.checkpoints);
        return [m.mode, String(m.items), ms(m.buildMs / 1000), ms(rate), ...SIZES.map((n) => (n <= m.items ? `${ms(m.buildMs / 1000)} s` : `~${hours(n / rate)}`)), ms(m.lookalike.buildMs / 1000)];
      }));
  }

  if (results.storageProbe) {
    const probe = results.storageProbe;
    const sizes = [...new Set(probe.rows.map((r) => r.size))];
    const reads = [...new Set(probe.rows.map((r) => r.reads))];
    out(`IndexedDB: random reads in one getMany, fresh connection, ${probe.records} records (p50 / p99 ms)`);
    table(['record', ...reads.map((n) => `${n} read${n > 1 ? 's' : ''}`)], sizes.map((size) => [`${size} B`, ...reads.map((n) => lat(probe.rows.find((r) => r.size === size && r.reads === n)?.latency))]));
  }

  const coders = results.sizes.find((z) => z.coders)?.coders;
  if (coders) {
    out(`ITQ vs LSH at N = ${nfmt(coders.n)} (recall@10: raw Hamming top-10 / Hamming top-${coders.candidates} re-ranked by cosine / default search ${coders.shortlist} → ${coders.defaultCandidates}; all queries)`);
    table(['coder', '64 bits', '128 bits', '256 bits'], ['itq', 'lsh'].map((kind) => [kind, ...[64, 128, 256].map((bits) => {
      const row = coders.rows.find((r) => r.kind === kind && r.bits === bits);
      return row ? `${r3(row.hammingTop10.all)} / ${r3(row.reranked.all)} / ${r3(row.pipeline.all)}` : '–';
    })]));
  }
}

function lastQuarterRate(points: { items: number; ms: number }[]): number {
  const end = points.at(-1)!;
  const start = points.filter((p) => p.ms <= end.ms * 0.75).at(-1) ?? { items: 0, ms: 0 };
  return (end.items - start.items) / ((end.ms - start.ms) / 1000);
}

function hours(seconds: number): string {
  return seconds >= 3600 ? `${(seconds / 3600).toFixed(1)} h` : seconds >= 60 ? `${(seconds / 60).toFixed(0)} min` : `${seconds.toFixed(0)} s`;
}

await main();
