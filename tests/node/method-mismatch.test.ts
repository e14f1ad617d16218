/** A pack made with another embedding method is refused by the CLI with a message that says why and what to do. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EMBEDDING_METHOD } from '../../src/core/embed/embedder.ts';
import { unit } from '../../src/core/embed/vector.ts';
import { seededRandom } from '../../src/core/codes/random.ts';
import { ImageIndex } from '../../src/core/index/image-index.ts';
import { encodePack } from '../../src/core/pack/write.ts';
import { MemoryPageStore } from '../../src/core/store/memory-store.ts';
import { runLookalike } from '../cli-process.ts';
import { SOURCE_PHOTO } from '../fixtures.ts';

const work = mkdtempSync(join(tmpdir(), 'method-mismatch-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A small pack of random vectors recorded under `method`, `dim` long. */
async function packOf(method: string, dim: number): Promise<string> {
  const random = seededRandom(5);
  const index = await ImageIndex.open(new MemoryPageStore(), { modelId: 'default', method, dim, bits: 64, coder: 'lsh' });
  await index.add(Array.from({ length: 20 }, (_, i) => ({ meta: { id: `item-${i}` }, vector: unit(Float32Array.from({ length: dim }, () => random() - 0.5)) })));
  const path = join(work, `${method}.pack`);
  writeFileSync(path, Buffer.concat(encodePack(await index.toPack())));
  return path;
}

describe('packs of another embedding method', () => {
  it('the previous method ("gap", 768-d) is refused by search and code with a clear error', async () => {
    expect(EMBEDDING_METHOD).not.toBe('gap');
    const pack = await packOf('gap', 768);
    for (const args of [['search', pack, SOURCE_PHOTO], ['code', SOURCE_PHOTO, '--pack', pack]]) {
      const result = await runLookalike(args);
      expect(result.code, args[0]).toBe(1);
      expect(result.stderr).toContain(`its items were embedded with method "gap", and this version of Lookalike embeds with "${EMBEDDING_METHOD}", so they cannot be compared. Index the images again.`);
    }
  });
});
