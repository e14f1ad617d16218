/** Seeded synthetic embeddings for index tests: the same items in Node and in the browser. */
import { gaussianRandom, seededRandom } from '../src/core/codes/random.ts';
import type { NewItem } from '../src/core/index/image-index.ts';

/**
 * Non-negative unit vectors spread around 64 centres, shaped like pooled CNN
 * features; item i has id `<prefix>-<i>` and a `shelf` field for filter tests.
 */
export function syntheticItems(count: number, seed: number, dim: number, prefix = 'item'): NewItem[] {
  const gauss = gaussianRandom(seededRandom(seed));
  const centres = Array.from({ length: 64 }, () => Float32Array.from({ length: dim }, () => Math.abs(gauss())));
  return Array.from({ length: count }, (_, i) => {
    const centre = centres[i % centres.length]!;
    const v = centre.map((c) => Math.max(0, c + 0.5 * gauss()));
    const norm = Math.hypot(...v);
    return { meta: { id: `${prefix}-${i}`, title: `Item ${i}`, shelf: i % 3 }, vector: v.map((x) => x / norm) };
  });
}
