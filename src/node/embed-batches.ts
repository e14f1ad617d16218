/** Embedding many images from the CLI: batches, with decoding of the next batch overlapping inference. */
import type { EmbedOutcome } from '../core/embed/embedder.ts';
import type { NodeEngine } from './engine.ts';
import type { PathEntry } from './image-files.ts';
import { orientedSize, readImage } from './image-source.ts';

export interface EmbedBatchOptions {
  readonly batchSize: number;
  /** Also read each image's pixel size (EXIF orientation applied). */
  readonly withSize?: boolean;
}

export interface ImageOutcome<E extends PathEntry> {
  readonly entry: E;
  readonly outcome: EmbedOutcome;
  /** With `withSize`, for images that were decoded. */
  readonly size?: { readonly width: number; readonly height: number };
}

interface Loaded {
  readonly input: Float32Array | Error;
  readonly size?: { readonly width: number; readonly height: number };
}

/**
 * Yields one array of outcomes per batch of `entries`, in order. An entry that
 * cannot be read or decoded (or that already carries an error) fails alone;
 * the rest of its batch is embedded. The next batch is read and decoded (sharp,
 * on libuv's threads) while this one runs through the model and while the
 * caller handles it.
 */
export async function* embedBatches<E extends PathEntry>(engine: NodeEngine, entries: readonly E[], options: EmbedBatchOptions): AsyncGenerator<ImageOutcome<E>[]> {
  const { batchSize, withSize = false } = options;
  const batches: E[][] = [];
  for (let i = 0; i < entries.length; i += batchSize) batches.push(entries.slice(i, i + batchSize));
  let pending = batches.length > 0 ? loadBatch(engine, batches[0]!, withSize) : undefined;
  for (let b = 0; b < batches.length; b++) {
    const loaded = await pending!;
    pending = b + 1 < batches.length ? loadBatch(engine, batches[b + 1]!, withSize) : undefined;
    const outcomes = await engine.embedder.embedSettled(loaded.map((l) => l.input));
    yield outcomes.map((outcome, i) => {
      const size = loaded[i]!.size;
      return { entry: batches[b]![i]!, outcome, ...(size && outcome.ok ? { size } : {}) };
    });
  }
}

/** Model inputs for a batch, in order; a file that cannot be read or decoded becomes its Error. */
function loadBatch(engine: NodeEngine, batch: readonly PathEntry[], withSize: boolean): Promise<Loaded[]> {
  return Promise.all(
    batch.map(async (entry): Promise<Loaded> => {
      if ('error' in entry) return { input: new Error(entry.error) };
      try {
        const bytes = await readImage(entry.file);
        const input = await engine.prepare(bytes);
        return withSize ? { input, size: await orientedSize(bytes) } : { input };
      } catch (err) {
        return { input: err instanceof Error ? err : new Error(String(err)) };
      }
    }),
  );
}
