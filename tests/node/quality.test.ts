/**
 * The default embedding method with the real model finds the original of a
 * 1/8-size copy and of a 40%-area off-centre crop, through the index's default
 * search (bench:quality measures this at scale; this keeps it from regressing).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/codes/random.ts';
import { EMBEDDING_METHOD } from '../../src/core/embed/embedder.ts';
import { embeddingLength } from '../../src/core/embed/fused.ts';
import { ImageIndex } from '../../src/core/index/image-index.ts';
import { MODELS } from '../../src/core/models/registry.ts';
import { MemoryPageStore } from '../../src/core/store/memory-store.ts';
import { NodeEngine } from '../../src/node/engine.ts';
import { applyTransform, TRANSFORMS } from '../edited-copies.ts';
import { loadPhotos } from '../photos.ts';

const spec = MODELS.default;
const photos = loadPhotos().filter((_, i) => i % 5 === 0); // 160
const queried = photos.filter((_, i) => i % 20 === 3); // 8
let engine: NodeEngine;
let index: ImageIndex;

beforeAll(async () => {
  engine = await NodeEngine.create(spec);
  index = await ImageIndex.open(new MemoryPageStore(), { modelId: spec.id, method: EMBEDDING_METHOD, dim: embeddingLength(spec) });
  for (let i = 0; i < photos.length; i += 16) {
    const batch = photos.slice(i, i + 16);
    const embedded = await engine.embedFiles(batch.map((p) => readFileSync(p.path)));
    await index.add(embedded.map((e, j) => ({ meta: { id: batch[j]!.file }, vector: e.embedding })));
  }
}, 300_000);
afterAll(() => engine.dispose());

describe('finding the original', () => {
  it.each(['downscale 1/8', 'crop 40% off-centre'])('of a %s copy: the original comes first', async (name) => {
    const transform = TRANSFORMS.find((t) => t.name === name)!;
    const copies = await Promise.all(queried.map((p, i) => applyTransform(readFileSync(p.path), transform, seededRandom(i + 1))));
    const embedded = await engine.embedFiles(copies);
    const top = await Promise.all(embedded.map(async (e) => (await index.search(e.embedding, { k: 1 }))[0]!.id));
    expect(top).toEqual(queried.map((p) => p.file));
  }, 120_000);
});
