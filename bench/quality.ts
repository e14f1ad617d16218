/**
 * `npm run bench:quality [-- --quick] [--queries N] [--distractors N] [--seed S] [--experiments [--only TEXT]] [--json [file]]`
 *
 * Retrieval quality on edited copies, Copydays-style. From the 800 shared
 * photos, `--queries` originals (seeded choice) are each edited every way in
 * `tests/edited-copies.ts`; the index holds all 800 photos plus `--distractors`
 * images that are no query's original (random quarters of the other photos,
 * colour-shifted, and 2×2 mosaics of them). Each copy is a query; its original
 * is the one relevant item, so AP = 1/rank and mAP is the mean reciprocal rank.
 * Reported per transform family and overall: recall@1, recall@10, mAP, for
 * pHash and dHash (64 bits, Hamming), the embedding methods by exact cosine,
 * codes alone (LSH / ITQ at 64/128/256 bits, Hamming), and the default method
 * through `ImageIndex` with its default search. Hamming ties are broken at random (seeded).
 * `--experiments` adds every variant in `quality-methods.ts` (those whose id contains `--only`).
 *
 * "Find the original": for up to 100 of the originals, a 1/2 and a 1/4 copy are
 * indexed too, and the 1/4 copy is the query; the original must come first
 * among the exact-content matches once `originalFirst` orders them. The same
 * order is also scored on every edited copy (a different picture taken for a
 * copy would push the original down there).
 *
 * Per-image work (decode, hashes, model features) is cached by the image
 * bytes' SHA-1 under bench/results/quality-cache/, so reruns and method
 * changes do not recompute it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { hamming } from '../src/core/codes/bits.ts';
import { Coder, trainCoder, type CoderKind } from '../src/core/codes/coder.ts';
import { seededRandom } from '../src/core/codes/random.ts';
import { DCT_GRID, dctCosine, inputGrey } from '../src/core/embed/fused.ts';
import { dot } from '../src/core/embed/vector.ts';
import { toModelInput } from '../src/core/image/preprocess.ts';
import { ImageIndex } from '../src/core/index/image-index.ts';
import { MODELS } from '../src/core/models/registry.ts';
import { COPY_SEARCH_DEPTH, originalFirst, SAME_PICTURE_DCT, samePicture } from '../src/core/search/original-first.ts';
import { MemoryPageStore } from '../src/core/store/memory-store.ts';
import { decodeImage } from '../src/node/decode.ts';
import { orientedSize } from '../src/node/image-source.ts';
import { NodeEngine } from '../src/node/engine.ts';
import { PROJECT_ROOT } from '../src/node/provision.ts';
import { applyTransform, cropDistractor, FAMILIES, lowRes, mosaicDistractor, TRANSFORMS, type Family } from '../tests/edited-copies.ts';
import { loadPhotos } from '../tests/photos.ts';
import { dHash, pHash } from './perceptual.ts';
import { inputSharpness, METHODS, type Method, type MethodInput } from './quality-methods.ts';

// `--json` takes an optional file; parseArgs cannot express that, so it is taken out first.
const argv = process.argv.slice(2);
const jsonAt = argv.indexOf('--json');
const jsonFile = jsonAt >= 0 && argv[jsonAt + 1] && !argv[jsonAt + 1]!.startsWith('--') ? argv.splice(jsonAt + 1, 1)[0] : undefined;
const { values } = parseArgs({
  args: argv,
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    queries: { type: 'string' },
    distractors: { type: 'string' },
    seed: { type: 'string', default: '1' },
    experiments: { type: 'boolean', default: false },
    only: { type: 'string' },
  },
});
const QUERIES = Number(values.queries ?? (values.quick ? 40 : 150));
const DISTRACTORS = Number(values.distractors ?? (values.quick ? 200 : 1200));
const SEED = Number(values.seed);
const FIND_ORIGINAL = Math.min(100, QUERIES);
const spec = MODELS.default;
const log = (line: string) => process.stderr.write(`${line}\n`);

/** What one image gives, computed once and cached. */
interface CachedFeatures extends MethodInput {
  readonly pHash: Uint32Array;
  readonly dHash: Uint32Array;
}

interface Features extends CachedFeatures {
  /**
   * Upright pixel size of the image file, as `lookalike index` records it. Read
   * from the header on every run, not taken from the decoded image, which
   * `decodeImage` caps (a 2400×1600 photo and its 1/2 copy both decode to 768×512).
   */
  readonly width: number;
  readonly height: number;
}

const CACHE_DIR = join(PROJECT_ROOT, 'bench/results/quality-cache', `${spec.id}-v4`);
mkdirSync(CACHE_DIR, { recursive: true });
const D = spec.featureDims;
const CACHE_FLOATS = D + DCT_GRID * DCT_GRID + 4 + 1;
const G = D + DCT_GRID * DCT_GRID;

function fromCache(hash: string): CachedFeatures | undefined {
  const path = join(CACHE_DIR, `${hash}.bin`);
  if (!existsSync(path)) return undefined;
  const buffer = readFileSync(path);
  const f = new Float32Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.length));
  const u = new Uint32Array(f.buffer);
  if (f.length !== CACHE_FLOATS) return undefined;
  return { cnn: f.slice(0, D), grey: f.slice(D, G), pHash: u.slice(G, G + 2), dHash: u.slice(G + 2, G + 4), sharpness: f[G + 4]! };
}

function toCache(hash: string, x: CachedFeatures): void {
  const f = new Float32Array(CACHE_FLOATS);
  const u = new Uint32Array(f.buffer);
  f.set(x.cnn, 0);
  f.set(x.grey, D);
  u.set(x.pHash, G);
  u.set(x.dHash, G + 2);
  f[G + 4] = x.sharpness;
  writeFileSync(join(CACHE_DIR, `${hash}.bin`), f);
}

let engine: NodeEngine | undefined;
let computed = 0;
let modelSeconds = 0;

/** Features of every image, from the cache where possible; batches of 16 through the model. */
async function featuresOf(images: readonly Uint8Array[]): Promise<Features[]> {
  const hashes = images.map((bytes) => createHash('sha1').update(bytes).digest('hex'));
  const sizes = await Promise.all(images.map(orientedSize));
  const out: (CachedFeatures | undefined)[] = hashes.map(fromCache);
  const missing = out.flatMap((f, i) => (f ? [] : [i]));
  for (let b = 0; b < missing.length; b += 16) {
    engine ??= await NodeEngine.create(spec);
    const batch = missing.slice(b, b + 16);
    const decoded = await Promise.all(batch.map((i) => decodeImage(images[i]!, spec.inputSize)));
    const inputs = decoded.map((image) => toModelInput(image, spec));
    const started = performance.now();
    const cnn = await engine.embedder.cnnFeatures(inputs);
    modelSeconds += (performance.now() - started) / 1000;
    batch.forEach((i, j) => {
      const image = decoded[j]!;
      const features: CachedFeatures = {
        cnn: cnn[j]!.embedding,
        grey: inputGrey(inputs[j]!, spec.inputSize),
        sharpness: inputSharpness(inputs[j]!, spec.inputSize),
        pHash: pHash(image),
        dHash: dHash(image),
      };
      toCache(hashes[i]!, features);
      out[i] = features;
    });
    computed += batch.length;
    if (computed % 320 < 16) log(`  ${computed} images through the model…`);
  }
  return out.map((f, i) => ({ ...f!, ...sizes[i]! }));
}

// ---- The data set --------------------------------------------------------------------------------

const photos = loadPhotos();
const random = seededRandom(SEED);
const order = photos.map((_, i) => ({ i, r: random() })).sort((a, b) => a.r - b.r).map((x) => x.i);
const queryOriginals = order.slice(0, QUERIES).sort((a, b) => a - b);
const others = order.slice(QUERIES);
const photoBytes = photos.map((p) => readFileSync(p.path));

log(`Features of the ${photos.length} photos…`);
const photoFeatures = await featuresOf(photoBytes);

log(`Making ${DISTRACTORS} distractors…`);
const distractorBytes: Buffer[] = [];
for (let d = 0; d < DISTRACTORS; d++) {
  const pick = () => photoBytes[others[Math.floor(random() * others.length)]!]!;
  distractorBytes.push(d % 2 === 0 ? await cropDistractor(pick(), seededRandom(SEED * 100_003 + d)) : await mosaicDistractor([pick(), pick(), pick(), pick()]));
}
const distractorFeatures = await featuresOf(distractorBytes);

log(`Editing ${queryOriginals.length} originals ${TRANSFORMS.length} ways…`);
interface Query { readonly family: Family; readonly transform: string; readonly original: number; readonly features: Features }
const queries: Query[] = [];
for (const original of queryOriginals) {
  const copies = await Promise.all(TRANSFORMS.map((t, k) => applyTransform(photoBytes[original]!, t, seededRandom(SEED * 1_000_003 + original * 97 + k))));
  const features = await featuresOf(copies);
  TRANSFORMS.forEach((t, k) => queries.push({ family: t.family, transform: t.name, original, features: features[k]! }));
}

log(`Low-res copies of ${FIND_ORIGINAL} originals for "find the original"…`);
const findOriginals = queryOriginals.slice(0, FIND_ORIGINAL);
const half = await featuresOf(await Promise.all(findOriginals.map((o) => lowRes(photoBytes[o]!, 2))));
const quarter = await featuresOf(await Promise.all(findOriginals.map((o) => lowRes(photoBytes[o]!, 4))));
engine?.dispose();

const items = [...photoFeatures, ...distractorFeatures];
log(`${items.length} items indexed, ${queries.length} queries; ${computed} images computed (${modelSeconds.toFixed(0)} s in the model), the rest cached.`);

// ---- Ranking --------------------------------------------------------------------------------------

/** Rank (1 = first) of the original among all items for each query, per ranker. */
type Ranker = (queryIndex: number) => number;

const tieBreak = seededRandom(SEED + 7);

/** Rank by ascending distance with random tie-breaking. */
function rankByDistance(distances: (item: number) => number, target: number): number {
  const own = distances(target);
  let better = 0, ties = 0;
  for (let i = 0; i < items.length; i++) {
    if (i === target) continue;
    const d = distances(i);
    if (d < own) better++;
    else if (d === own) ties++;
  }
  return 1 + better + Math.floor(tieBreak() * (ties + 1));
}

function hashRanker(pick: (f: Features) => Uint32Array): Ranker {
  return (q) => {
    const code = pick(queries[q]!.features);
    return rankByDistance((i) => hamming(code, 0, pick(items[i]!), 0, 2), queries[q]!.original);
  };
}

/** Item vectors of a method as one row-major matrix. */
function matrix(method: Method, of: readonly Features[]): { rows: Float32Array; dim: number } {
  const first = method.vector(of[0]!);
  const rows = new Float32Array(of.length * first.length);
  of.forEach((f, i) => rows.set(method.vector(f), i * first.length));
  return { rows, dim: first.length };
}

function cosineRanker(method: Method): Ranker {
  const { rows, dim } = matrix(method, items);
  return (q) => {
    const v = method.vector(queries[q]!.features);
    const scores = new Float32Array(items.length);
    for (let i = 0; i < items.length; i++) {
      let s = 0;
      for (let k = 0, o = i * dim; k < dim; k++) s += v[k]! * rows[o + k]!;
      scores[i] = s;
    }
    return rankByDistance((i) => -scores[i]!, queries[q]!.original);
  };
}

function codeRanker(method: Method, kind: CoderKind, bits: number): Ranker {
  const { rows, dim } = matrix(method, items);
  const coder = new Coder(trainCoder(kind, rows, dim, { bits, seed: 1 }));
  const words = bits / 32;
  const codes = new Uint32Array(items.length * words);
  for (let i = 0; i < items.length; i++) coder.encode(rows, i * dim, codes, i * words);
  return (q) => {
    const code = new Uint32Array(words);
    coder.encode(method.vector(queries[q]!.features), 0, code, 0);
    return rankByDistance((i) => hamming(code, 0, codes, i * words, words), queries[q]!.original);
  };
}

const INDEX_K = 100;

/** An ImageIndex with its default settings holding the items (ids are their positions) and `extra`. */
async function buildIndex(method: Method, extra: readonly { id: string; features: Features }[] = []): Promise<ImageIndex> {
  const index = await ImageIndex.open(new MemoryPageStore(), { modelId: spec.id, method: method.id, dim: method.vector(items[0]!).length });
  const entries = [...items.map((features, i) => ({ id: String(i), features })), ...extra];
  for (let i = 0; i < entries.length; i += 1000) {
    await index.add(entries.slice(i, i + 1000).map((e) => ({ meta: { id: e.id, width: e.features.width, height: e.features.height }, vector: method.vector(e.features) })));
  }
  return index;
}

/**
 * Ranks through ImageIndex with its default codes and search, by score and in
 * `originalFirst` order (the CLI's and the app's); beyond the top INDEX_K counts as not found.
 */
async function indexRankers(method: Method): Promise<{ byScore: Ranker; ordered: Ranker }> {
  const index = await buildIndex(method);
  const byScore: number[] = [], ordered: number[] = [];
  const rankIn = (results: readonly { id: string }[], original: number) => {
    const at = results.findIndex((r) => r.id === String(original));
    return at < 0 ? Infinity : at + 1;
  };
  for (const query of queries) {
    const vector = method.vector(query.features);
    const results = await index.search(vector, { k: INDEX_K, vectors: true });
    byScore.push(rankIn(results, query.original));
    ordered.push(rankIn(originalFirst(vector, results).results, query.original));
  }
  return { byScore: (q) => byScore[q]!, ordered: (q) => ordered[q]! };
}

interface Scores { readonly queries: number; readonly recallAt1: number; readonly recallAt10: number; readonly mAP: number }

function score(ranks: readonly number[]): Scores {
  return {
    queries: ranks.length,
    recallAt1: ranks.filter((r) => r === 1).length / ranks.length,
    recallAt10: ranks.filter((r) => r <= 10).length / ranks.length,
    mAP: ranks.reduce((s, r) => s + 1 / r, 0) / ranks.length,
  };
}

interface MethodResult {
  readonly name: string;
  readonly overall: Scores;
  readonly families: Record<string, Scores>;
  readonly transforms: Record<string, Scores>;
}

function evaluate(name: string, ranker: Ranker): MethodResult {
  const ranks = queries.map((_, q) => ranker(q));
  const group = (key: (q: Query) => string) => {
    const out: Record<string, Scores> = {};
    for (const k of new Set(queries.map(key))) out[k] = score(ranks.filter((_, q) => key(queries[q]!) === k));
    return out;
  };
  log(`  ${name}: recall@1 ${score(ranks).recallAt1.toFixed(3)}`);
  return { name, overall: score(ranks), families: group((q) => q.family), transforms: group((q) => q.transform) };
}

log('Ranking…');
const [baseline, ...rest] = METHODS;
const defaultMethod = METHODS.find((m) => m.isDefault)!;
const results: MethodResult[] = [
  evaluate('pHash 64', hashRanker((f) => f.pHash)),
  evaluate('dHash 64', hashRanker((f) => f.dHash)),
  evaluate(`cosine, ${baseline!.id} (float)`, cosineRanker(baseline!)),
];
for (const kind of ['lsh', 'itq'] as const) {
  for (const bits of [64, 128, 256]) results.push(evaluate(`${kind.toUpperCase()} ${bits}, ${baseline!.id} (Hamming)`, codeRanker(baseline!, kind, bits)));
}
const experiments = values.only ? rest.filter((m) => m.id.includes(values.only!)) : rest;
for (const method of values.experiments ? experiments : rest.filter((m) => m.isDefault)) results.push(evaluate(`cosine, ${method.id} (float)`, cosineRanker(method)));
const lowResEntries = findOriginals.flatMap((o, j) => [
  { id: `half:${o}`, features: half[j]! },
  { id: `quarter:${o}`, features: quarter[j]! },
]);
const throughIndex = await indexRankers(defaultMethod);
results.push(evaluate(`${defaultMethod.id} through ImageIndex (default codes + re-rank)`, throughIndex.byScore));
results.push(evaluate(`${defaultMethod.id} through ImageIndex, originalFirst order`, throughIndex.ordered));

// ---- Find the original ------------------------------------------------------------------------------

log('Find the original…');
const index = await buildIndex(defaultMethod, lowResEntries);
const sameContent = (id: string, o: number) => id === String(o) || id === `half:${o}` || id === `quarter:${o}`;
const indexed = [...items.map((features, i) => ({ id: String(i), features })), ...lowResEntries].map((e) => ({ id: e.id, vector: defaultMethod.vector(e.features) }));
let firstRaw = 0, firstOrdered = 0, othersTakenForCopies = 0;
const originalScore: number[] = [], bestOtherScore: number[] = [], originalDct: number[] = [], bestOtherDct: number[] = [], originalRank: number[] = [];
for (const [j, o] of findOriginals.entries()) {
  const query = defaultMethod.vector(quarter[j]!);
  const found = await index.search(query, { k: COPY_SEARCH_DEPTH, vectors: true });
  if (found[0]?.id === String(o)) firstRaw++;
  // The order searchOriginalFirst gives, from the same search (it asks for COPY_SEARCH_DEPTH with vectors too).
  if (originalFirst(query, found).results[0]?.id === String(o)) firstOrdered++;
  othersTakenForCopies += found.filter((r) => !sameContent(r.id, o) && samePicture(query, r.vector!)).length;
  // The statistics against the whole index in float, not just the top 10: the original, and the best of every other picture.
  const own = indexed.find((item) => item.id === String(o))!;
  originalScore.push(dot(query, own.vector));
  originalDct.push(dctCosine(query, own.vector));
  originalRank.push(1 + indexed.filter((item) => dot(query, item.vector) > originalScore.at(-1)!).length);
  let bestScore = -1, bestDct = -1;
  for (const item of indexed) {
    if (!sameContent(item.id, o)) {
      bestScore = Math.max(bestScore, dot(query, item.vector));
      bestDct = Math.max(bestDct, dctCosine(query, item.vector));
    }
  }
  bestOtherScore.push(bestScore);
  bestOtherDct.push(bestDct);
}
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]!;
const low = (values: number[]) => ({ min: percentile(values, 0), p01: percentile(values, 0.01), p05: percentile(values, 0.05), median: percentile(values, 0.5) });
const high = (values: number[]) => ({ median: percentile(values, 0.5), p95: percentile(values, 0.95), p99: percentile(values, 0.99), max: percentile(values, 1) });
const findOriginal = {
  queries: findOriginals.length,
  originalFirstByScore: firstRaw / findOriginals.length,
  originalFirst: firstOrdered / findOriginals.length,
  samePictureDct: SAME_PICTURE_DCT,
  copySearchDepth: COPY_SEARCH_DEPTH,
  /** Results among the top COPY_SEARCH_DEPTH that are other pictures yet pass the same-picture test. */
  othersTakenForCopies,
  /** The original's rank by score among everything indexed (its copies included). */
  originalRankByScore: high(originalRank),
  originalScore: low(originalScore),
  bestOtherScore: high(bestOtherScore),
  originalDct: low(originalDct),
  bestOtherDct: high(bestOtherDct),
};

// ---- Report -----------------------------------------------------------------------------------------

const report = {
  date: new Date().toISOString().slice(0, 10),
  seed: SEED,
  model: spec.id,
  defaultMethod: defaultMethod.id,
  photos: photos.length,
  distractors: DISTRACTORS,
  indexed: items.length,
  queryOriginals: queryOriginals.length,
  queries: queries.length,
  transforms: TRANSFORMS.map((t) => ({ family: t.family, name: t.name })),
  results,
  findOriginal,
};
if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
if (values.json && !jsonFile) console.log(JSON.stringify(report, null, 2));
else {
  const cell = (s: Scores) => `${s.recallAt1.toFixed(3)} ${s.mAP.toFixed(3)}`;
  console.log(`${items.length} indexed (${photos.length} photos + ${DISTRACTORS} distractors), ${queries.length} queries (${queryOriginals.length} originals × ${TRANSFORMS.length} edits); recall@1 and mAP per family`);
  console.log(['method'.padEnd(58), ...FAMILIES.map((f) => f.padStart(13)), 'all R@1 R@10 mAP'.padStart(20)].join(' '));
  for (const r of results) {
    console.log([r.name.padEnd(58), ...FAMILIES.map((f) => cell(r.families[f]!).padStart(13)), `${r.overall.recallAt1.toFixed(3)} ${r.overall.recallAt10.toFixed(3)} ${r.overall.mAP.toFixed(3)}`.padStart(20)].join(' '));
  }
  console.log('\nrecall@1 per edit');
  console.log(['edit'.padEnd(46), ...results.map((_, i) => `m${i}`.padStart(6))].join(' '));
  for (const t of TRANSFORMS) console.log([t.name.padEnd(46), ...results.map((r) => r.transforms[t.name]!.recallAt1.toFixed(3).padStart(6))].join(' '));
  console.log(results.map((r, i) => `m${i} = ${r.name}`).join('; '));
  const f = findOriginal;
  const span = (d: Record<string, number>) => Object.entries(d).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(3)}`).join(', ');
  console.log(`\nFind the original (${f.queries} 1/4 copies; original, 1/2 and 1/4 copies indexed): original first ${f.originalFirst.toFixed(3)} with originalFirst (DCT-part cosine ≥ ${f.samePictureDct}), ${f.originalFirstByScore.toFixed(3)} by score alone (where the original ranks ${span(f.originalRankByScore)}); ${f.othersTakenForCopies} other pictures among the top ${f.copySearchDepth}s taken for copies`);
  console.log(`  DCT-part cosine to the query: the original ${span(f.originalDct)}; the best other picture in the index ${span(f.bestOtherDct)}`);
  console.log(`  full cosine to the query:     the original ${span(f.originalScore)}; the best other picture in the index ${span(f.bestOtherScore)}`);
}
