/**
 * `npm run bench:cli [-- --queries N] [--json]` (`--json`: JSON on stdout instead of the table)
 *
 * The CLI end to end: `lookalike index` builds a pack of all 800 shared photos,
 * then ONE `lookalike search` call queries edited copies of N of them (crops,
 * JPEG recompression, downscales). Side by side, in the same run, the same
 * copies are searched by exact float cosine over the originals' float
 * embeddings (NodeEngine, the engine the CLI uses). Reported per edit: how often
 * the original is the top result, and within the top 10.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp, { type Sharp } from 'sharp';
import { dot } from '../src/core/embed/vector.ts';
import { MODELS } from '../src/core/models/registry.ts';
import { NodeEngine } from '../src/node/engine.ts';
import { runLookalike } from '../tests/cli-process.ts';
import { loadPhotos, PHOTOS_DIR } from '../tests/photos.ts';

const { values } = parseArgs({ options: { queries: { type: 'string', default: '100' }, json: { type: 'boolean', default: false } } });
const QUERIES = Number(values.queries);

/** The edits, each a sharp pipeline on the original's bytes. */
const EDITS: Record<string, (image: Sharp, width: number, height: number) => Sharp> = {
  'crop 60% centre': (img, w, h) => img.extract(cropBox(w, h, 0.6, 'centre')),
  'crop 60% corner': (img, w, h) => img.extract(cropBox(w, h, 0.6, 'corner')),
  'jpeg q30': (img) => img.jpeg({ quality: 30 }),
  'jpeg q10': (img) => img.jpeg({ quality: 10 }),
  'downscale 1/4': (img, w) => img.resize(Math.round(w / 4)),
  'downscale 1/8': (img, w) => img.resize(Math.round(w / 8)),
};

function cropBox(width: number, height: number, area: number, where: 'centre' | 'corner') {
  const side = Math.sqrt(area);
  const w = Math.round(width * side);
  const h = Math.round(height * side);
  return where === 'centre' ? { left: Math.round((width - w) / 2), top: Math.round((height - h) / 2), width: w, height: h } : { left: 0, top: 0, width: w, height: h };
}

/** Runs the CLI, its progress passed through to stderr; resolves with its stdout. */
async function lookalike(args: readonly string[]): Promise<string> {
  const result = await runLookalike(args, (_, __, chunk) => process.stderr.write(chunk));
  if (result.code !== 0) throw new Error(`lookalike ${args[0]} exited with ${result.code ?? result.signal}`);
  return result.stdout;
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const temp = mkdtempSync(join(tmpdir(), 'lookalike-e2e-'));
try {
  const photos = loadPhotos();
  const queried = photos.filter((_, i) => i % Math.floor(photos.length / QUERIES) === 0).slice(0, QUERIES);

  log(`Editing ${queried.length} photos ${Object.keys(EDITS).length} ways…`);
  const queryDir = join(temp, 'queries');
  mkdirSync(queryDir);
  const queries: { edit: string; original: string; path: string }[] = [];
  for (const photo of queried) {
    const bytes = readFileSync(photo.path);
    const { width, height } = await sharp(bytes).rotate().metadata();
    for (const [edit, apply] of Object.entries(EDITS)) {
      const path = join(queryDir, `${queries.length.toString().padStart(5, '0')}.jpg`);
      const edited = apply(sharp(bytes).rotate(), width!, height!);
      writeFileSync(path, await (edit.startsWith('jpeg') ? edited : edited.jpeg({ quality: 92 })).toBuffer());
      queries.push({ edit, original: photo.file, path });
    }
  }

  const pack = join(temp, 'photos.pack');
  let started = performance.now();
  await lookalike(['index', PHOTOS_DIR, '-o', pack]);
  const indexSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  const lines = (await lookalike(['search', pack, queryDir, '-k', '10', '--json'])).trim().split('\n').map((l) => JSON.parse(l) as { query: string; results: { id: string }[] });
  const searchSeconds = (performance.now() - started) / 1000;
  const cliRanking = new Map(lines.map((l) => [l.query, l.results.map((r) => r.id)]));

  log('Exact float cosine over the originals…');
  const engine = await NodeEngine.create(MODELS.default);
  const embedAll = async (paths: readonly string[]) => {
    const out: Float32Array[] = [];
    for (let i = 0; i < paths.length; i += 16) out.push(...(await engine.embedFiles(paths.slice(i, i + 16).map((p) => readFileSync(p)))).map((e) => e.embedding));
    return out;
  };
  const originals = await embedAll(photos.map((p) => p.path));
  const queryVectors = await embedAll(queries.map((q) => q.path));
  engine.dispose();
  const floatRanking = queryVectors.map((q) =>
    originals.map((o, i) => ({ id: photos[i]!.file, score: dot(q, o) })).sort((a, b) => b.score - a.score).slice(0, 10).map((r) => r.id),
  );

  const rows = Object.keys(EDITS).map((edit) => {
    const mine = queries.map((q, i) => ({ q, i })).filter(({ q }) => q.edit === edit);
    const rate = (ranking: (i: number, path: string) => string[], within: number) =>
      mine.filter(({ q, i }) => ranking(i, q.path).slice(0, within).includes(q.original)).length / mine.length;
    return {
      edit,
      queries: mine.length,
      cliTop1: rate((_, path) => cliRanking.get(path) ?? [], 1),
      floatTop1: rate((i) => floatRanking[i]!, 1),
      cliTop10: rate((_, path) => cliRanking.get(path) ?? [], 10),
      floatTop10: rate((i) => floatRanking[i]!, 10),
    };
  });
  const all = (key: 'cliTop1' | 'floatTop1' | 'cliTop10' | 'floatTop10') => rows.reduce((s, r) => s + r[key] * r.queries, 0) / queries.length;
  const result = {
    date: new Date().toISOString().slice(0, 10),
    collection: photos.length,
    queries: queries.length,
    indexSeconds,
    searchSeconds,
    rows,
    overall: { cliTop1: all('cliTop1'), floatTop1: all('floatTop1'), cliTop10: all('cliTop10'), floatTop10: all('floatTop10') },
  };

  if (values.json) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(`CLI (index + ${result.queries} queries in one search call) vs exact float cosine; ${photos.length} photos indexed in ${indexSeconds.toFixed(0)} s, searched in ${searchSeconds.toFixed(0)} s`);
    console.log('edit               queries  CLI top-1  float top-1  CLI top-10  float top-10');
    for (const r of [...rows, { edit: 'all', queries: queries.length, ...result.overall }]) {
      console.log(`${r.edit.padEnd(18)} ${String(r.queries).padStart(7)}  ${r.cliTop1.toFixed(3).padStart(9)}  ${r.floatTop1.toFixed(3).padStart(11)}  ${r.cliTop10.toFixed(3).padStart(10)}  ${r.floatTop10.toFixed(3).padStart(12)}`);
    }
  }
} finally {
  rmSync(temp, { recursive: true, force: true });
}
