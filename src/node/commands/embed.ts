/** `lookalike embed <files|dirs...>`: embedding and top-5 labels per image. */
import { readFile } from 'node:fs/promises';
import type { LabelScore } from '../../core/embed/labels.ts';
import type { ModelSpec } from '../../core/models/registry.ts';
import { NodeEngine } from '../engine.ts';
import { expandPaths, type PathEntry } from '../image-files.ts';

export interface EmbedCommandOptions {
  readonly spec: ModelSpec;
  readonly json: boolean;
  readonly vectors: boolean;
  readonly batchSize: number;
  readonly write: (line: string) => void;
}

export interface EmbedLine {
  readonly file: string;
  readonly model: string;
  readonly backend: string;
  readonly dims: number;
  readonly labels: LabelScore[];
  readonly embedding?: number[];
}

/** Returns the number of files that failed. */
export async function embedCommand(paths: readonly string[], options: EmbedCommandOptions): Promise<number> {
  const entries = await expandPaths(paths);
  const engine = await NodeEngine.create(options.spec);
  let failures = 0;
  const fail = (file: string, error: string) => {
    failures++;
    options.write(options.json ? JSON.stringify({ file, error }) : `${file}: error: ${error}`);
  };

  const batches: PathEntry[][] = [];
  for (let i = 0; i < entries.length; i += options.batchSize) batches.push(entries.slice(i, i + options.batchSize));
  // Decoding (sharp, on libuv's threads) of the next batch overlaps inference of this one.
  let pending = batches.length > 0 ? prepareBatch(engine, batches[0]!) : undefined;
  for (let b = 0; b < batches.length; b++) {
    const prepared = await pending!;
    pending = b + 1 < batches.length ? prepareBatch(engine, batches[b + 1]!) : undefined;
    const outcomes = await engine.embedder.embedSettled(prepared);
    for (const [i, outcome] of outcomes.entries()) {
      const file = batches[b]![i]!.file;
      if (!outcome.ok) { fail(file, outcome.error); continue; }
      const { embedding, labels } = outcome;
      const line: EmbedLine = {
        file,
        model: engine.spec.id,
        backend: engine.backend,
        dims: engine.spec.embeddingDims,
        labels,
        ...(options.vectors ? { embedding: Array.from(embedding, (v) => Number(v.toPrecision(7))) } : {}),
      };
      options.write(options.json ? JSON.stringify(line) : formatHuman(line));
    }
  }
  engine.dispose();
  return failures;
}

/** Model inputs for a batch, in order; a file that cannot be read or decoded becomes its Error. */
function prepareBatch(engine: NodeEngine, batch: readonly PathEntry[]): Promise<(Float32Array | Error)[]> {
  return Promise.all(
    batch.map(async (entry) => {
      if ('error' in entry) return new Error(entry.error);
      try {
        return await engine.prepare(await readFile(entry.file));
      } catch (err) {
        return err instanceof Error ? err : new Error(String(err));
      }
    }),
  );
}

function formatHuman(line: EmbedLine): string {
  const labels = line.labels.map((l) => `${l.name} ${(l.score * 100).toFixed(1)}%`).join(', ');
  return `${line.file}: ${labels}${line.embedding ? `\n  [${line.embedding.join(', ')}]` : ''}`;
}
