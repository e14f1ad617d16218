import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionModels, type ModelLock } from '../../src/node/provision.ts';

const files = { 'model.json': '{"weights": true}', 'shard.bin': 'weights-bytes' };
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const quiet = () => {};

let server: Server;
let upstream: string;
const served: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const name = req.url!.split('/').pop()!;
    served.push(name);
    const body = files[name as keyof typeof files];
    res.writeHead(body === undefined ? 404 : 200).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  upstream = `http://127.0.0.1:${(server.address() as { port: number }).port}/toy/`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function lockFor(sources: string[], hashes = { 'model.json': sha(files['model.json']), 'shard.bin': sha(files['shard.bin']) }): ModelLock {
  return { toy: { sources, files: hashes } };
}

function localCopy(content: Record<string, string> = files): string {
  const root = mkdtempSync(join(tmpdir(), 'models-src-'));
  mkdirSync(join(root, 'toy'));
  for (const [name, body] of Object.entries(content)) writeFileSync(join(root, 'toy', name), body);
  return root;
}

const OFFLINE = 'http://127.0.0.1:9/unreachable/';

describe('model provisioning', () => {
  it('copies from a local folder, verifies, and skips work once present', async () => {
    const dest = mkdtempSync(join(tmpdir(), 'models-'));
    const log: string[] = [];
    await provisionModels({ dest, lock: lockFor([OFFLINE]), localDirs: [localCopy()], log: (l) => log.push(l) });
    expect(readFileSync(join(dest, 'toy/shard.bin'), 'utf8')).toBe(files['shard.bin']);
    expect(log).toHaveLength(1);
    await provisionModels({ dest, lock: lockFor([OFFLINE]), localDirs: [], log: (l) => log.push(l) });
    expect(log).toHaveLength(1);
  });

  it('falls through a bad local copy to the upstream URL', async () => {
    const dest = mkdtempSync(join(tmpdir(), 'models-'));
    const tampered = localCopy({ ...files, 'shard.bin': 'tampered' });
    await provisionModels({ dest, lock: lockFor([upstream]), localDirs: [tampered], log: quiet });
    expect(readFileSync(join(dest, 'toy/shard.bin'), 'utf8')).toBe(files['shard.bin']);
    expect(served).toContain('shard.bin');
  });

  it('replaces a corrupted installed file', async () => {
    const dest = mkdtempSync(join(tmpdir(), 'models-'));
    await provisionModels({ dest, lock: lockFor([OFFLINE]), localDirs: [localCopy()], log: quiet });
    writeFileSync(join(dest, 'toy/model.json'), 'garbage');
    await provisionModels({ dest, lock: lockFor([OFFLINE]), localDirs: [localCopy()], log: quiet });
    expect(readFileSync(join(dest, 'toy/model.json'), 'utf8')).toBe(files['model.json']);
  });

  it('offline with no local copy: a clear message and no half-filled folder', async () => {
    const dest = mkdtempSync(join(tmpdir(), 'models-'));
    const attempt = provisionModels({ dest, lock: lockFor([OFFLINE]), localDirs: [join(tmpdir(), 'nowhere')], log: quiet });
    await expect(attempt).rejects.toThrow(/Could not provision model "toy"[\s\S]*not found[\s\S]*127\.0\.0\.1:9[\s\S]*LOOKALIKE_MODELS_FROM/);
    expect(readdirSync(dest)).toEqual([]);
  });

  it('a hash mismatch everywhere names the file and leaves nothing behind', async () => {
    const dest = mkdtempSync(join(tmpdir(), 'models-'));
    const lock = lockFor([upstream], { 'model.json': sha(files['model.json']), 'shard.bin': sha('other') });
    await expect(provisionModels({ dest, lock, localDirs: [localCopy()], log: quiet })).rejects.toThrow(/shard\.bin has sha256 [0-9a-f]{64}, expected/);
    expect(existsSync(join(dest, 'toy'))).toBe(false);
    expect(readdirSync(dest)).toEqual([]);
  });
});
