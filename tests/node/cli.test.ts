import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { embeddingLength } from '../../src/core/embed/fused.ts';
import { MODELS } from '../../src/core/models/registry.ts';
import { runLookalike } from '../cli-process.ts';
import { makeFixtures, SOURCE_PHOTO } from '../fixtures.ts';
import { PHOTOS_DIR } from '../photos.ts';

const lookalike = (...args: string[]) => runLookalike(args);

let dir: string;
beforeAll(async () => {
  const fixtures = await makeFixtures();
  dir = mkdtempSync(join(tmpdir(), 'cli-'));
  mkdirSync(join(dir, 'nested'));
  cpSync(SOURCE_PHOTO, join(dir, 'a-goldfish.JPEG'));
  cpSync(join(PHOTOS_DIR, 'n01440764_tench.JPEG'), join(dir, 'nested/tench.jpg'));
  cpSync(join(fixtures, 'truncated.jpg'), join(dir, 'b-broken.jpg'));
  writeFileSync(join(dir, 'readme.txt'), 'not an image, and skipped when walking');
});

describe('lookalike embed', () => {
  it('prints one JSON line per image, an error line per bad one, and exits 1', async () => {
    const { code, stdout, stderr } = await lookalike('embed', dir, '--json');
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.file)).toEqual([join(dir, 'a-goldfish.JPEG'), join(dir, 'b-broken.jpg'), join(dir, 'nested/tench.jpg')]);
    expect(lines[0]).toMatchObject({ model: 'default', backend: 'wasm', dims: embeddingLength(MODELS.default) });
    expect(lines[0].labels).toHaveLength(5);
    expect(lines[0].labels[0]).toMatchObject({ index: 1, name: 'goldfish' });
    expect(lines[0].embedding).toBeUndefined();
    expect(lines[1]).toEqual({ file: join(dir, 'b-broken.jpg'), error: 'The JPEG file is truncated or corrupt.' });
    expect(lines[2].labels[0].name).toBe('tench');
    expect(code).toBe(1);
    expect(stderr).toContain('1 file(s) could not be embedded');
  });

  it('gives the same results across several prefetched batches as in one', async () => {
    const one = await lookalike('embed', dir, '--json', '--batch', '16');
    const many = await lookalike('embed', dir, '--json', '--batch', '1');
    const top = (out: string) => out.trim().split('\n').map((l) => JSON.parse(l)).map((l) => l.error ?? l.labels[0].name);
    expect(top(many.stdout)).toEqual(top(one.stdout));
    expect(top(many.stdout)).toEqual(['goldfish', 'The JPEG file is truncated or corrupt.', 'tench']);
  });

  it('exits 0 when all succeed; --vectors adds the unit embedding; --model lite', async () => {
    const { code, stdout } = await lookalike('embed', join(dir, 'a-goldfish.JPEG'), '--json', '--vectors', '--model', 'lite');
    expect(code).toBe(0);
    const line = JSON.parse(stdout);
    expect(line).toMatchObject({ model: 'lite', dims: embeddingLength(MODELS.lite) });
    expect(line.embedding).toHaveLength(embeddingLength(MODELS.lite));
    expect(Math.hypot(...line.embedding)).toBeCloseTo(1, 4);
  });

  it('prints readable lines without --json, and usage errors exit 2', async () => {
    const human = await lookalike('embed', join(dir, 'a-goldfish.JPEG'));
    expect(human.stdout).toMatch(/a-goldfish\.JPEG: goldfish \d+\.\d%, /);
    const missing = await lookalike('embed', join(dir, 'missing.jpg'), '--json');
    expect(JSON.parse(missing.stdout)).toEqual({ file: join(dir, 'missing.jpg'), error: 'No such file or directory.' });
    expect(missing.code).toBe(1);
    expect((await lookalike('embed', dir, '--model', 'huge')).code).toBe(2);
    const unknown = await lookalike('frobnicate');
    expect(unknown.stderr).toContain('Unknown command');
    expect(unknown.code).toBe(2);
  });
});
