import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddingLength } from '../../src/core/embed/fused.ts';
import { cosine } from '../../src/core/embed/vector.ts';
import { MODELS } from '../../src/core/models/registry.ts';
import { NodeEngine } from '../../src/node/engine.ts';
import { BAD_FIXTURES, CORRUPT_FIXTURE, GOOD_FIXTURES, makeFixtures, SOURCE_PHOTO } from '../fixtures.ts';

let engine: NodeEngine;
let fixtures: string;

beforeAll(async () => {
  [engine, fixtures] = await Promise.all([NodeEngine.create(MODELS.default), makeFixtures()]);
});
afterAll(() => engine.dispose());

describe('Node engine', () => {
  it('returns unit-length embeddings of the model size and five labels, best first', async () => {
    const [result] = await engine.embedFiles([readFileSync(SOURCE_PHOTO)]);
    expect(result!.embedding).toHaveLength(embeddingLength(MODELS.default));
    expect(Math.hypot(...result!.embedding)).toBeCloseTo(1, 5);
    expect(result!.labels.map((l) => l.name)[0]).toBe('goldfish');
    expect(result!.labels).toHaveLength(5);
    const scores = result!.labels.map((l) => l.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it('gives the same embedding alone and inside a batch', async () => {
    const bytes = readFileSync(SOURCE_PHOTO);
    const [alone] = await engine.embedFiles([bytes]);
    const batch = await engine.embedFiles([readFileSync(join(fixtures, 'goldfish.webp')), bytes, bytes]);
    expect(cosine(alone!.embedding, batch[1]!.embedding)).toBeGreaterThan(0.9999);
  });

  it('leaks no tensors across many batches', async () => {
    const bytes = readFileSync(SOURCE_PHOTO);
    await engine.embedFiles([bytes]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) await engine.embedFiles([bytes, bytes, bytes]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('sees other formats, transparency, EXIF rotation and a 50-megapixel photo as the same picture', async () => {
    const [original] = await engine.embedFiles([readFileSync(SOURCE_PHOTO)]);
    for (const name of GOOD_FIXTURES) {
      const [result] = await engine.embedFiles([readFileSync(join(fixtures, name))]);
      expect(cosine(original!.embedding, result!.embedding), name).toBeGreaterThan(0.95);
    }
  });

  it('rejects bad inputs with a clear error and keeps working', async () => {
    const messages: Record<string, string> = {};
    for (const name of BAD_FIXTURES) {
      const error = await engine.prepare(readFileSync(join(fixtures, name))).then(() => 'accepted', (e: Error) => e.message);
      messages[name] = error;
    }
    expect(messages).toEqual({
      'empty.jpg': 'The file is empty (0 bytes).',
      'notes.png': 'Not a supported image: expected JPEG, PNG, GIF or WebP.',
      'truncated.jpg': 'The JPEG file is truncated or corrupt.',
      'truncated.png': 'The PNG file is truncated or corrupt.',
      'bomb.png': 'The image is 40000×40000 (1600 megapixels); the limit is 100 megapixels.',
    });
    // Scrambled data may decode to noise or fail; either way the engine answers and carries on.
    const scrambled = await engine.prepare(readFileSync(join(fixtures, CORRUPT_FIXTURE))).then(() => 'decoded', (e: Error) => e.message);
    expect(scrambled).toMatch(/^(decoded|.+corrupt.+|.*(JPEG|jpeg|VipsJpeg).*)$/);
    const [after] = await engine.embedFiles([readFileSync(SOURCE_PHOTO)]);
    expect(after!.labels[0]!.name).toBe('goldfish');
  });
});
