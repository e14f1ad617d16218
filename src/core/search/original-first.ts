/**
 * "Find the original": among the results that show the query's picture at
 * another size, the largest comes first, so a low-res copy leads to its
 * high-res original rather than to itself. Whether a result shows the same
 * picture is decided on the DCT parts of the embeddings alone: a resized copy
 * keeps its low frequencies, while its CNN features drift as much as those of
 * a different photo of the same kind of thing (the full cosine cannot separate them).
 */
import { dctCosine } from '../embed/fused.ts';
import type { ImageIndex, SearchResult } from '../index/image-index.ts';

/**
 * DCT-part cosine from which a result shows the query's picture. From
 * bench:quality (BENCHMARKS.md): a 1/4-size copy and its original score
 * ≥ 0.987 in 99 of 100 cases (min 0.934), the best other picture among 2200 at
 * most 0.580. Set nearer the copies than the midpoint, because distinct
 * photos of one scene (bursts), absent from that set, are the likely near misses.
 */
export const SAME_PICTURE_DCT = 0.85;

/**
 * How many of the best results are checked for copies of the query's picture,
 * whatever k. A 1/4 copy's CNN features drift so far that its original can
 * score below other pictures (0.60 against up to 0.64 in bench:quality, where it
 * still ranked 4th at worst), so in a larger library it can fall outside the top k.
 */
export const COPY_SEARCH_DEPTH = 50;

/** Whether `stored` (a fused embedding) shows the picture of `query` (another), at any size. */
export function samePicture(query: Float32Array, stored: Float32Array): boolean {
  return dctCosine(query, stored) >= SAME_PICTURE_DCT;
}

export interface StoredResult {
  /** The stored embedding (`ImageIndex.search` with `vectors: true`). */
  readonly vector?: Float32Array;
  readonly meta: { readonly width?: number; readonly height?: number };
}

export interface OriginalFirst<R> {
  /** The results, the largest that shows the query's picture first, the rest in their order. */
  readonly results: R[];
  /** That first result when two or more results show the picture (it is their original), else null. */
  readonly original: R | null;
}

/** The index's `k` best results for `query` in `originalFirst` order, copies looked for among the best COPY_SEARCH_DEPTH. */
export async function searchOriginalFirst(index: ImageIndex, query: Float32Array, k: number): Promise<OriginalFirst<SearchResult>> {
  const { results, original } = originalFirst(query, await index.search(query, { k: Math.max(k, COPY_SEARCH_DEPTH), vectors: true }));
  return { results: results.slice(0, k), original };
}

/** Orders search results (best score first) for "find the original". */
export function originalFirst<R extends StoredResult>(query: Float32Array, results: readonly R[]): OriginalFirst<R> {
  const same = results.filter((r) => {
    if (!r.vector) throw new TypeError('originalFirst needs the stored vectors: search with `vectors: true`.');
    return samePicture(query, r.vector);
  });
  if (same.length === 0) return { results: [...results], original: null };
  const pixels = (r: R) => (r.meta.width ?? 0) * (r.meta.height ?? 0);
  const largest = same.reduce((best, r) => (pixels(r) > pixels(best) ? r : best));
  return { results: [largest, ...results.filter((r) => r !== largest)], original: same.length > 1 ? largest : null };
}
