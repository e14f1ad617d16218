/**
 * `npx tsx scripts/feature-means.ts`: writes `src/core/models/feature-means.json`,
 * `{modelId: number[]}`, the mean of each model's L2-normalised embeddings over
 * the 800 shared ImageNet sample photos (one per class, in index.csv order;
 * `../shared/data/imagenet-sample-images` or $LOOKALIKE_PHOTOS), summed in
 * Float64 and rounded to 6 significant digits. The reference coder
 * (src/core/codes/reference-coder.ts) centres its hyperplanes on these means,
 * so rerunning this changes every reference code: commit the JSON, and only
 * regenerate it when a model or EMBEDDING_METHOD changes.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { embeddingLength } from '../src/core/embed/fused.ts';
import { MODEL_IDS, modelSpec } from '../src/core/models/registry.ts';
import { embedBatches } from '../src/node/embed-batches.ts';
import { NodeEngine } from '../src/node/engine.ts';
import { PROJECT_ROOT, provisionModels } from '../src/node/provision.ts';
import { loadPhotos } from '../tests/photos.ts';

const OUT = join(PROJECT_ROOT, 'src/core/models/feature-means.json');

await provisionModels({ log: () => {} });
const photos = loadPhotos().map((p) => ({ file: p.path }));
const means: Record<string, number[]> = {};
for (const id of MODEL_IDS) {
  const engine = await NodeEngine.create(modelSpec(id));
  const sum = new Float64Array(embeddingLength(engine.spec));
  let n = 0;
  for await (const batch of embedBatches(engine, photos, { batchSize: 16 })) {
    for (const { entry, outcome } of batch) {
      if (!outcome.ok) throw new Error(`${entry.file}: ${outcome.error}`);
      outcome.embedding.forEach((v, k) => (sum[k] = sum[k]! + v));
      n++;
    }
  }
  engine.dispose();
  means[id] = Array.from(sum, (s) => Number((s / n).toPrecision(6)));
  console.log(`${id}: mean of ${n} embeddings (${sum.length}-d)`);
}
await writeFile(OUT, `${JSON.stringify(means)}\n`);
console.log(`Wrote ${OUT}`);
