/**
 * `lookalike search <pack> <image|url|dir>...`: the nearest items of a pack for
 * each query image, by score, except that the largest copy of the query's own
 * picture comes first (`searchOriginalFirst`). The pack is loaded and the model (the
 * one the pack was made with) started once for all the queries, which are
 * embedded in batches.
 */
import { ImageIndex, type SearchResult } from '../../core/index/image-index.ts';
import type { JsonValue } from '../../core/items.ts';
import { searchOriginalFirst } from '../../core/search/original-first.ts';
import { MemoryPageStore } from '../../core/store/memory-store.ts';
import { embedBatches } from '../embed-batches.ts';
import { NodeEngine } from '../engine.ts';
import { expandSources } from '../image-source.ts';
import { withPack } from '../pack-input.ts';

export interface SearchCommandOptions {
  readonly pack: string;
  readonly queries: readonly string[];
  readonly k: number;
  readonly json: boolean;
  readonly batchSize?: number;
  readonly write: (line: string) => void;
}

/** One result as printed: the item's id, file, score and Hamming distance, then its other metadata. */
export type ResultLine = { readonly id: string; readonly file?: string; readonly score: number; readonly hamming: number } & { readonly [field: string]: JsonValue | undefined };

/** Returns the number of queries that failed. */
export async function searchCommand(options: SearchCommandOptions): Promise<number> {
  const { spec, index } = await withPack(options.pack, async (reader, spec) => ({
    spec,
    index: await ImageIndex.fromPack(new MemoryPageStore(), await reader.readContents()),
  }));
  const entries = await expandSources(options.queries);
  const engine = await NodeEngine.create(spec);
  let failures = 0;
  for await (const batch of embedBatches(engine, entries, { batchSize: options.batchSize ?? 16 })) {
    for (const { entry, outcome } of batch) {
      const query = entry.file;
      if (!outcome.ok) {
        failures++;
        options.write(options.json ? JSON.stringify({ query, error: outcome.error }) : `${query}: error: ${outcome.error}`);
        continue;
      }
      const found = await searchOriginalFirst(index, outcome.embedding, options.k);
      const results = found.results.map(resultLine);
      const original = found.original?.id;
      options.write(options.json ? JSON.stringify({ query, ...(original === undefined ? {} : { original }), results }) : formatHuman(query, results, original));
    }
  }
  engine.dispose();
  await index.close();
  return failures;
}

function resultLine({ score, hamming, meta }: SearchResult): ResultLine {
  const { id, file, ...rest } = meta;
  const line: Record<string, JsonValue | undefined> = { id, ...(file === undefined ? {} : { file }), score: Math.round(score * 1e4) / 1e4, hamming };
  // Other metadata after them; a --meta column named "score" or "hamming" cannot hide the real ones.
  for (const [key, value] of Object.entries(rest)) if (!(key in line)) line[key] = value;
  return line as ResultLine;
}

function formatHuman(query: string, results: readonly ResultLine[], original: string | undefined): string {
  if (results.length === 0) return `${query}: no results`;
  const lines = results.map((r, i) => {
    const title = typeof r.title === 'string' ? `  ${r.title}` : '';
    const mark = i === 0 && r.id === original ? '  (original)' : '';
    return `  ${String(i + 1).padStart(2)}. ${r.score.toFixed(4)}  ${r.id}${title}${mark}`;
  });
  return `${query}\n${lines.join('\n')}`;
}
