/**
 * Global set-up of the browser suite: builds the harness build if stale and
 * serves it exactly as `npm start` does, as a separate process on 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { TestProject } from 'vitest/node';
import { PROJECT_ROOT } from '../../src/node/provision.ts';

declare module 'vitest' {
  export interface ProvidedContext { baseUrl: string }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export default async function setup(project: TestProject): Promise<() => void> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/serve.ts', '--mode', 'harness'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`The app server exited early (code ${code}).`)));
    child.stdout.on('data', (chunk: Buffer) => { if (chunk.toString().includes('serving on')) resolve(); });
  });
  project.provide('baseUrl', `http://127.0.0.1:${port}/`);
  return () => { child.kill(); };
}
