/**
 * `lookalike index`, `search` and `code` as real processes, with the real
 * models and the shared photos: accuracy on edited copies, resuming after a
 * SIGKILL, bad input, and the product brief's code shape.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDING_METHOD } from '../../src/core/embed/embedder.ts';
import { embeddingLength } from '../../src/core/embed/fused.ts';
import { MODELS } from '../../src/core/models/registry.ts';
import { toBitString } from '../../src/core/codes/bits.ts';
import type { PackContents } from '../../src/core/pack/contents.ts';
import { openPack } from '../../src/core/pack/read.ts';
import { fileSource } from '../../src/node/pack-file.ts';
import { makeFixtures } from '../fixtures.ts';
import { runLookalike } from '../cli-process.ts';
import { loadPhotos, type Photo } from '../photos.ts';

const lookalike = runLookalike;

async function readPack(path: string): Promise<PackContents> {
  const source = await fileSource(path);
  try {
    return await (await openPack(source)).readContents();
  } finally {
    await source.close();
  }
}

const jsonLines = (stdout: string) => stdout.trim().split('\n').map((line) => JSON.parse(line));

function copyPhotos(photos: readonly Photo[], dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const p of photos) cpSync(p.path, join(dir, p.file));
}

let work: string;
let fixtures: string;
const photos = loadPhotos();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'cli-index-'));
  fixtures = await makeFixtures();
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('lookalike index + search', () => {
  // More images than code bits, so that the default coder (ITQ, which needs that) is the one tested.
  const indexed = photos.filter((_, i) => i % 2 === 0).slice(0, 300);
  const queried = indexed.filter((_, i) => i % 30 === 7); // 10 photos
  let pack: string;

  it('indexes a folder with --meta, and finds each original from a crop, a JPEG q=30 and a 1/4-size copy in one call', async () => {
    const dir = join(work, 'photos');
    copyPhotos(indexed, dir);
    const meta = join(work, 'items.csv');
    const rows = indexed.map((p, i) => `${p.file},"Photo ${i}, a ""${p.file.replace(/^n\d+_|\.JPEG$/g, '')}"""`);
    writeFileSync(meta, `id,title\n${rows.join('\n')}\nnot-there.jpg,Ghost\n`);
    pack = join(work, 'photos.pack');

    const index = await lookalike(['index', dir, '-o', pack, '--meta', meta]);
    expect(index.stderr).toContain('warning: 1 --meta row(s) match no image');
    expect(index.stderr).toContain('"not-there.jpg"');
    expect(index.stdout).toMatch(/^Wrote .*photos\.pack: 300 items, 0 failed; model default, 256-bit itq codes trained on 300; /);
    expect(index.code).toBe(0);
    expect(existsSync(`${pack}.partial`)).toBe(false);
    const contents = await readPack(pack);
    expect(contents.header).toMatchObject({ modelId: 'default', method: EMBEDDING_METHOD, dim: embeddingLength(MODELS.default), count: 300, coder: { kind: 'itq', bits: 256, trainedOn: 300 } });

    const queries = join(work, 'queries');
    mkdirSync(queries);
    const args: string[] = [];
    for (const p of queried) {
      const stem = basename(p.file, '.JPEG');
      const image = sharp(p.path);
      const { width, height } = await image.metadata();
      const side = Math.sqrt(0.6);
      const crop = { width: Math.round(width * side), height: Math.round(height * side) };
      const variants: Record<string, ReturnType<typeof sharp>> = {
        crop: image.clone().extract({ left: Math.round((width - crop.width) / 2), top: Math.round((height - crop.height) / 2), ...crop }).jpeg({ quality: 90 }),
        q30: image.clone().jpeg({ quality: 30 }),
        small: image.clone().resize(Math.round(width / 4), Math.round(height / 4)).jpeg({ quality: 90 }),
      };
      for (const [kind, variant] of Object.entries(variants)) {
        const file = join(queries, `${stem}.${kind}.jpg`);
        await variant.toFile(file);
        args.push(file);
      }
    }

    const search = await lookalike(['search', pack, ...args, '--json', '-k', '5']);
    expect(search.code).toBe(0);
    const lines = jsonLines(search.stdout);
    expect(lines.map((l) => l.query)).toEqual(args);
    for (const line of lines) {
      const original = `${basename(line.query).split('.')[0]}.JPEG`;
      const photo = queried.find((p) => p.file === original)!;
      expect(line.results).toHaveLength(5);
      expect(Object.keys(line.results[0]).slice(0, 4)).toEqual(['id', 'file', 'score', 'hamming']);
      expect(line.results[0], line.query).toMatchObject({ id: original, file: original });
      expect(line, line.query).not.toHaveProperty('original'); // one copy of the picture in the pack: nothing to name
      expect(line.results[0].title).toMatch(/^Photo \d+, a ".+"$/);
      const { width, height } = await sharp(photo.path).metadata();
      expect(line.results[0]).toMatchObject({ width, height });
      expect(line.results[0].score).toBeGreaterThan(line.results[1].score);
      expect(String(line.results[0].score).replace(/^0\./, '').length).toBeLessThanOrEqual(4);
    }

    const human = await lookalike(['search', pack, args[0]!, '-k', '2']);
    expect(human.stdout).toMatch(new RegExp(`^${args[0]}\\n   1\\. [01]\\.\\d{4}  ${queried[0]!.file}  Photo \\d+, a "`));
  });

  it('puts the original above its own indexed 1/4-size copy when the copy is the query, and names it', async () => {
    const dir = join(work, 'with-copies');
    const others = photos.filter((_, i) => i % 2 === 1).slice(0, 24);
    const originals = others.slice(0, 4);
    copyPhotos(others, dir);
    const copies: string[] = [];
    for (const p of originals) {
      const { width, height } = await sharp(p.path).metadata();
      const file = join(dir, `${basename(p.file, '.JPEG')}.quarter.jpg`);
      await sharp(p.path).resize(Math.round(width / 4), Math.round(height / 4)).jpeg({ quality: 80 }).toFile(file);
      copies.push(file);
    }
    const copiesPack = join(work, 'with-copies.pack');
    expect((await lookalike(['index', dir, '-o', copiesPack])).code).toBe(0);

    const search = await lookalike(['search', copiesPack, ...copies, '--json', '-k', '5']);
    expect(search.code).toBe(0);
    for (const [i, line] of jsonLines(search.stdout).entries()) {
      const [original, copy] = [originals[i]!.file, basename(copies[i]!)];
      expect(line.original, line.query).toBe(original);
      expect(line.results.slice(0, 2).map((r: { id: string }) => r.id)).toEqual([original, copy]);
      expect(line.results[1].score).toBeGreaterThan(line.results[0].score); // by score alone the copy itself would lead
    }
    const human = await lookalike(['search', copiesPack, copies[0]!, '-k', '2']);
    expect(human.stdout).toMatch(new RegExp(`^${copies[0]}\\n   1\\. 0\\.\\d{4}  ${originals[0]!.file}  \\(original\\)\\n   2\\. [01]\\.\\d{4}  ${basename(copies[0]!)}\\n?$`));
  });

  describe('lookalike code', () => {
    it('prints {"item_0": {class, code, box}} per image, the same code each time; --pack uses the pack\'s coder', async () => {
      const tench = photos[0]!.path;
      const rotated = join(fixtures, 'goldfish-exif-rotated.jpg');
      const result = await lookalike(['code', tench, rotated, tench, '--json']);
      expect(result.code).toBe(0);
      const lines = jsonLines(result.stdout);
      expect(lines).toHaveLength(3);
      expect(Object.keys(lines[0])).toEqual(['file', 'item_0']);
      expect(Object.keys(lines[0].item_0)).toEqual(['class', 'code', 'box']);
      expect(lines[0]).toMatchObject({ file: tench, item_0: { class: 'tench', box: [0, 0, 500, 375] } });
      expect(lines[0].item_0.code).toMatch(/^[01]{256}$/);
      expect(lines[2]).toEqual(lines[0]);
      // The box is the upright image's: the file stores 263×376 pixels with EXIF orientation 6.
      expect(lines[1].item_0).toMatchObject({ class: 'goldfish', box: [0, 0, 376, 263] });
      expect(lines[1].item_0.code).not.toBe(lines[0].item_0.code);

      // --pack: the pack's coder, so the code matches the one the pack stores for the same image.
      const item = queried[0]!;
      const withPack = jsonLines((await lookalike(['code', item.path, '--pack', pack, '--json'])).stdout)[0];
      const contents = await readPack(pack);
      const slot = contents.metas.findIndex((m) => m.id === item.file);
      const stored = toBitString(contents.codes, 256, slot * 8);
      // The pack's codes were re-made from its int8 embeddings when the coder was trained on all items, so a bit or
      // two near a hyperplane may differ from the code of the float embedding.
      const distance = [...stored].filter((bit, i) => bit !== withPack.item_0.code[i]).length;
      expect(distance).toBeLessThanOrEqual(3);
      const others = contents.metas.map((_, i) => [...toBitString(contents.codes, 256, i * 8)].filter((bit, j) => bit !== withPack.item_0.code[j]).length);
      expect(Math.min(...others.filter((_, i) => i !== slot))).toBeGreaterThan(20);
      expect(withPack.item_0.code).not.toBe(jsonLines((await lookalike(['code', item.path, '--json'])).stdout)[0].item_0.code);
    });

    it('fetches URLs; a failing URL is an error line and exit 1', async () => {
      const tench = photos[0]!;
      const server: Server = createServer((req, res) => {
        if (req.url === '/tench.jpg') res.writeHead(200, { 'content-type': 'image/jpeg' }).end(readFileSync(tench.path));
        else res.writeHead(404).end('not found');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        const [local, remote, conflict] = await Promise.all([
          lookalike(['code', tench.path, '--json', '--model', 'lite', '--bits', '128']),
          lookalike(['code', `${base}/tench.jpg`, `${base}/missing.jpg`, '--json', '--model', 'lite', '--bits', '128']),
          lookalike(['code', `${base}/tench.jpg`, '--pack', pack, '--bits', '64']),
        ]);
        const [fetched, failed] = jsonLines(remote.stdout);
        expect(fetched.item_0).toEqual(jsonLines(local.stdout)[0].item_0);
        expect(fetched.item_0.code).toMatch(/^[01]{128}$/);
        expect(failed).toEqual({ file: `${base}/missing.jpg`, error: 'The server answered HTTP 404 Not Found.' });
        expect(remote.code).toBe(1);
        expect(conflict.code).toBe(2); // --bits comes from the pack
      } finally {
        server.close();
      }
    });
  });
});

describe('lookalike index, interrupted', () => {
  it('resumes after SIGKILL and writes every item exactly once', async () => {
    const chosen = photos.filter((_, i) => i % 2 === 1).slice(0, 120);
    const dir = join(work, 'resume');
    copyPhotos(chosen, dir);
    const pack = join(work, 'resume.pack');
    // lite and 64 bits: fast, and with more images than bits the final coder is ITQ.
    const args = ['index', dir, '-o', pack, '--model', 'lite', '--bits', '64'];

    let seen = 0;
    const killed = await lookalike(args, (stderr, child) => {
      const done = [...stderr.matchAll(/Indexing (\d+)\/120/g)].map((m) => Number(m[1]));
      if (done.length > 0 && seen === 0) {
        seen = done.at(-1)!;
        child.kill('SIGKILL');
      }
    });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThan(120);
    expect(existsSync(pack)).toBe(false);
    expect(existsSync(`${pack}.partial`)).toBe(true);

    const again = await lookalike(args);
    const resumed = /Resuming: (\d+) of 120 already indexed/.exec(again.stderr);
    expect(resumed, again.stderr).not.toBeNull();
    // Every batch reported done was committed; at most the one in flight was lost.
    expect(Number(resumed![1])).toBeGreaterThanOrEqual(seen);
    expect(again.code).toBe(0);
    expect(existsSync(`${pack}.partial`)).toBe(false);
    const contents = await readPack(pack);
    const ids = contents.metas.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(chosen.map((p) => p.file).sort());
    expect(contents.header).toMatchObject({ modelId: 'lite', count: 120, coder: { kind: 'itq', bits: 64, trainedOn: 120 } });
  });
});

describe('lookalike index, bad input', () => {
  it('reports bad images and still writes the good ones; usage and pack errors', async () => {
    const dir = join(work, 'bad');
    copyPhotos(photos.slice(0, 3), dir);
    cpSync(join(fixtures, 'truncated.jpg'), join(dir, 'broken.jpg'));
    cpSync(join(fixtures, 'notes.png'), join(dir, 'notes.png'));
    const pack = join(work, 'bad.pack');

    const index = await lookalike(['index', dir, '-o', pack, '--model', 'lite']);
    expect(index.code).toBe(1);
    expect(index.stderr).toContain(`${join(dir, 'broken.jpg')}: error: The JPEG file is truncated or corrupt.`);
    expect(index.stderr).toMatch(new RegExp(`${join(dir, 'notes.png')}: error: .+`));
    expect(index.stderr).toContain('2 image(s) could not be indexed.');
    expect(index.stdout).toContain('3 items, 2 failed');
    const contents = await readPack(pack);
    expect(contents.metas.map((m) => m.id).sort()).toEqual(photos.slice(0, 3).map((p) => p.file).sort());

    const notPack = await lookalike(['search', join(dir, 'broken.jpg'), photos[0]!.path]);
    expect(notPack.code).toBe(1);
    expect(notPack.stderr).toContain(`${join(dir, 'broken.jpg')}: Not a Lookalike pack`);
    const missingPack = await lookalike(['search', join(work, 'nope.pack'), photos[0]!.path]);
    expect(missingPack.stderr).toContain('nope.pack: no such file.');
    expect(missingPack.code).toBe(1);

    expect((await lookalike(['index', dir])).code).toBe(2);
    expect((await lookalike(['index', dir, '-o', join(work, 'x.pack'), '--bits', '100'])).code).toBe(2);
    expect((await lookalike(['index', dir, '-o', join(work, 'x.pack'), '--coder', 'pq'])).code).toBe(2);
    expect((await lookalike(['index', join(work, 'no-such-dir'), '-o', join(work, 'x.pack')])).code).toBe(2);
    const badMeta = join(work, 'bad.csv');
    writeFileSync(badMeta, 'id,title\na.jpg,"unclosed\n');
    const meta = await lookalike(['index', dir, '-o', join(work, 'x.pack'), '--meta', badMeta]);
    expect(meta.code).toBe(2);
    expect(meta.stderr).toContain('bad.csv, line 2: a quoted field is never closed.');
    expect(existsSync(join(work, 'x.pack.partial'))).toBe(false);
    expect((await lookalike(['search', pack])).code).toBe(2);
  });
});
