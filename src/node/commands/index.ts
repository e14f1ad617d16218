/**
 * `lookalike index <dir> -o <file.pack>`: embeds every image under a folder into a pack.
 *
 * The work goes into an ImageIndex in `<out>.partial/` (a journalled
 * FilePageStore), one atomic `add` per batch, so a process killed at any
 * moment loses at most the batch in flight, and running the same command
 * again resumes: images already in the store are skipped. At the end the coder
 * is retrained on the whole collection if it has grown since the last
 * training, the pack is written (all or nothing) and the working folder removed.
 */
import { rm, stat } from 'node:fs/promises';
import { relative, sep } from 'node:path';
import type { CoderKind } from '../../core/codes/coder.ts';
import { EMBEDDING_METHOD } from '../../core/embed/embedder.ts';
import { embeddingLength } from '../../core/embed/fused.ts';
import { ImageIndex, IndexMismatchError, type IndexSettings, type NewItem } from '../../core/index/image-index.ts';
import type { ModelSpec } from '../../core/models/registry.ts';
import { embedBatches } from '../embed-batches.ts';
import { NodeEngine } from '../engine.ts';
import { FilePageStore } from '../file-store.ts';
import { expandPaths, type PathEntry } from '../image-files.ts';
import { mergeMeta, type ItemMetadata } from '../item-metadata.ts';
import { writePackFile } from '../pack-file.ts';
import { formatDuration, Progress } from '../progress.ts';

export interface IndexCommandOptions {
  readonly dir: string;
  readonly out: string;
  readonly spec: ModelSpec;
  readonly bits: number;
  readonly coder: CoderKind;
  readonly metadata?: ItemMetadata | undefined;
  /** Images per model call and per atomic add (default 16). */
  readonly batchSize?: number;
  /** The summary (stdout). */
  readonly write: (line: string) => void;
  /** Progress, warnings and error lines (default: stderr). */
  readonly stderr?: NodeJS.WriteStream;
}

export interface IndexResult {
  readonly items: number;
  readonly failures: number;
}

/** Seed of the coder's random projections (LSH, ITQ's initial rotation): fixed, so that a pack is reproducible. */
const CODER_SEED = 1;

type Entry = PathEntry & { readonly id: string };

export async function indexCommand(options: IndexCommandOptions): Promise<IndexResult> {
  const started = performance.now();
  const { dir, out, spec, bits } = options;
  const stderr = options.stderr ?? process.stderr;
  const entries: Entry[] = (await expandPaths([dir])).map((entry) => ({ ...entry, id: relative(dir, entry.file).split(sep).join('/') }));
  if (entries.length === 0) throw new Error(`No images in ${dir} (looked for .jpg .jpeg .png .webp .gif files).`);

  const rows = new Map(entries.map((e) => [e.id, options.metadata?.rowFor(e.id)] as const));
  const unknown = options.metadata?.unused() ?? [];
  if (unknown.length > 0) {
    const shown = unknown.slice(0, 5).map((id) => JSON.stringify(id)).join(', ');
    stderr.write(`warning: ${unknown.length} --meta row(s) match no image in ${dir}: ${shown}${unknown.length > 5 ? ', …' : ''}\n`);
  }

  const partial = `${out}.partial`;
  const settings: IndexSettings = { modelId: spec.id, method: EMBEDDING_METHOD, dim: embeddingLength(spec), bits, coder: options.coder, seed: CODER_SEED };
  const index = await openWorkingIndex(partial, settings, (line) => stderr.write(`${line}\n`));
  const wanted = new Set(entries.map((e) => e.id));
  const stale: string[] = [];
  for await (const { meta } of index.items()) if (!wanted.has(meta.id)) stale.push(meta.id);
  if (stale.length > 0) await index.remove(stale);
  const already = index.count;
  if (already > 0) stderr.write(`Resuming: ${already} of ${entries.length} already indexed (in ${partial}).\n`);

  const todo: Entry[] = [];
  for (const entry of entries) if (!(await index.has(entry.id))) todo.push(entry);
  const onInterrupt = () => {
    stderr.write(`\nInterrupted. ${index.count} of ${entries.length} images are kept in ${partial}; run the same command again to resume.\n`);
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  let failures = 0;
  let embedSeconds = 0;
  try {
    if (todo.length > 0) {
      const engine = await NodeEngine.create(spec);
      const embedStarted = performance.now();
      const progress = new Progress(entries.length, { label: 'Indexing', done: already, stream: stderr });
      for await (const batch of embedBatches(engine, todo, { batchSize: options.batchSize ?? 16, withSize: true })) {
        const items: NewItem[] = [];
        for (const { entry, outcome, size } of batch) {
          if (!outcome.ok) {
            failures++;
            progress.log(`${entry.file}: error: ${outcome.error}`);
            continue;
          }
          // Only the image's own fields are stored; --meta rows are merged into the pack, so a resumed run uses the current file.
          items.push({ meta: { id: entry.id, file: entry.id, ...size }, vector: outcome.embedding });
        }
        await index.add(items);
        progress.advance(batch.length);
      }
      progress.finish();
      engine.dispose();
      embedSeconds = (performance.now() - embedStarted) / 1000;
    }

    const count = index.count;
    if (count === 0) {
      await index.close();
      await rm(partial, { recursive: true, force: true });
      throw new Error(`None of the ${entries.length} images could be indexed; no pack written.`);
    }
    const trainedAt = index.settings.coder?.trainedAtCount ?? 0;
    if (trainedAt < count) await index.rebuild();
    const contents = await index.toPack();
    await writePackFile(out, { ...contents, metas: contents.metas.map((meta) => mergeMeta(meta, rows.get(meta.id))) });
    await index.close();
    await rm(partial, { recursive: true, force: true });

    const { coder } = contents.header;
    const why = bits > settings.dim ? `no more code bits than the embedding's ${settings.dim} dimensions` : `more images than code bits: ${count} ≤ ${bits}`;
    const note = options.coder === 'itq' && coder.kind === 'lsh' ? ` (ITQ needs ${why}; these are LSH codes)` : '';
    const size = (await stat(out)).size;
    const seconds = (performance.now() - started) / 1000;
    const rate = embedSeconds > 0 ? `, ${(todo.length / embedSeconds).toFixed(1)} img/s` : '';
    options.write(`Wrote ${out}: ${count} items, ${failures} failed; model ${spec.id}, ${coder.bits}-bit ${coder.kind} codes trained on ${coder.trainedOn}${note}; ${formatBytes(size)}; ${formatDuration(seconds)}${rate}.`);
    return { items: count, failures };
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

/**
 * Opens (or creates) the working index; one made with other settings (another
 * model, code length or coder) is of no use to this run and is started over.
 */
async function openWorkingIndex(partial: string, settings: IndexSettings, log: (line: string) => void): Promise<ImageIndex> {
  let store: FilePageStore | undefined;
  let index: ImageIndex | undefined;
  let why = '';
  try {
    store = await FilePageStore.open(partial);
    index = await ImageIndex.open(store, settings);
    const { bits, coderKind, count } = { ...index.settings, count: index.count };
    if (bits === settings.bits && coderKind === settings.coder) return index;
    why = `it holds ${count} items with ${bits}-bit ${coderKind} codes`;
  } catch (err) {
    if (!(err instanceof IndexMismatchError) || !store) throw new Error(`${partial}: ${(err as Error).message} Delete that folder to start over.`);
    why = err.message.replace(/^This index was built/, 'it was built').replace(/\. .*$/, '');
  }
  log(`Starting over: ${partial} is from another run (${why}).`);
  await index?.close();
  await store.clear();
  return ImageIndex.open(store, settings);
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
