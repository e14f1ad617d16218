import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { MODELS } from '../../src/core/models/registry.ts';
import { NodeEngine } from '../../src/node/engine.ts';
import { loadPhotos } from '../photos.ts';

/** Top-1 ImageNet accuracy over all shared photos through the Node path. */
async function top1(engine: NodeEngine): Promise<number> {
  const photos = loadPhotos();
  let correct = 0;
  for (let i = 0; i < photos.length; i += 16) {
    const batch = photos.slice(i, i + 16);
    const results = await engine.embedFiles(await Promise.all(batch.map((p) => readFile(p.path))));
    results.forEach((r, j) => { if (r.labels[0]!.index === batch[j]!.classIndex) correct++; });
  }
  return correct / photos.length;
}

describe('Node embedding accuracy on the 800 shared photos', () => {
  it.each([
    ['default', 0.85],
    ['lite', 0.55],
  ] as const)('%s model top-1 ≥ %s', async (id, threshold) => {
    const engine = await NodeEngine.create(MODELS[id]);
    const accuracy = await top1(engine);
    console.log(`node ${id}: top-1 ${accuracy.toFixed(3)}`);
    expect(accuracy).toBeGreaterThanOrEqual(threshold);
    engine.dispose();
  });
});
