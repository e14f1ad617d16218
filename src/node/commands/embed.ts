/** `lookalike embed <files|dirs|urls...>`: embedding and top-5 labels per image. */
import { embeddingLength } from '../../core/embed/fused.ts';
import type { LabelScore } from '../../core/embed/labels.ts';
import type { ModelSpec } from '../../core/models/registry.ts';
import { embedBatches } from '../embed-batches.ts';
import { NodeEngine } from '../engine.ts';
import { expandSources } from '../image-source.ts';

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
  const entries = await expandSources(paths);
  const engine = await NodeEngine.create(options.spec);
  let failures = 0;
  const fail = (file: string, error: string) => {
    failures++;
    options.write(options.json ? JSON.stringify({ file, error }) : `${file}: error: ${error}`);
  };

  for await (const batch of embedBatches(engine, entries, { batchSize: options.batchSize })) {
    for (const { entry, outcome } of batch) {
      if (!outcome.ok) { fail(entry.file, outcome.error); continue; }
      const { embedding, labels } = outcome;
      const line: EmbedLine = {
        file: entry.file,
        model: engine.spec.id,
        backend: engine.backend,
        dims: embeddingLength(engine.spec),
        labels,
        ...(options.vectors ? { embedding: Array.from(embedding, (v) => Number(v.toPrecision(7))) } : {}),
      };
      options.write(options.json ? JSON.stringify(line) : formatHuman(line));
    }
  }
  engine.dispose();
  return failures;
}

function formatHuman(line: EmbedLine): string {
  const labels = line.labels.map((l) => `${l.name} ${(l.score * 100).toFixed(1)}%`).join(', ');
  return `${line.file}: ${labels}${line.embedding ? `\n  [${line.embedding.join(', ')}]` : ''}`;
}
