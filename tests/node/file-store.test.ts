import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { FilePageStore } from '../../src/node/file-store.ts';

const temp = await mkdtemp(join(tmpdir(), 'lookalike-crash-'));
afterAll(() => rm(temp, { recursive: true, force: true }));

/** Runs the writer until it is committing, lets it run `ms` more, then SIGKILLs it. */
async function killWriterAfter(dir: string, ms: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'file-store-writer.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => resolve());
    child.on('exit', (code) => reject(new Error(`writer exited early (${code})`)));
  });
  await new Promise((r) => setTimeout(r, ms));
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGKILL');
  await exited;
}

it('a process killed at any moment leaves every page from the same commit', async () => {
  const dir = join(temp, 'store');
  const stamps = new Set<number>();
  for (const ms of [0, 7, 23, 61, 137, 211]) {
    await killWriterAfter(dir, ms);
    const store = await FilePageStore.open(dir);
    const [manifest, ...pages] = await store.getMany(['manifest', ...Array.from({ length: 20 }, (_, i) => `page/${i}`)]);
    const stamp = manifest![0]!;
    stamps.add(stamp);
    for (const page of pages) expect(page!.every((b) => b === stamp)).toBe(true);
  }
  expect(stamps.size).toBeGreaterThan(1); // the writer really was interrupted at different commits
}, 120_000);
