/**
 * "Find the original": among the results that show the same content as the
 * query (cosine at least `minScore`), the one with the most pixels comes
 * first, so a low-res copy leads to its high-res original rather than to itself.
 */

/**
 * Cosine (default method) above which two images are taken to show the same
 * content. From bench:quality: a 1/4-size copy scores ≥ 0.632 against its
 * original for 99% of queries, and the best different image scored at most
 * 0.642 among 2000 ImageNet photos and distractors. Distinct photos of one
 * scene (bursts) can score above it and are then ordered by size too.
 */
export const SAME_CONTENT_SCORE = 0.65;

export interface SizedResult {
  readonly score: number;
  readonly meta: { readonly width?: number; readonly height?: number };
}

/** Same-content results by pixel count (largest first; ties keep their order), then the rest as they came. */
export function originalsFirst<R extends SizedResult>(results: readonly R[], minScore = SAME_CONTENT_SCORE): R[] {
  const pixels = (r: R) => (r.meta.width ?? 0) * (r.meta.height ?? 0);
  const same = results.filter((r) => r.score >= minScore).sort((a, b) => pixels(b) - pixels(a));
  return [...same, ...results.filter((r) => r.score < minScore)];
}
