/** Starts the harness build exactly as `npm start` serves the app: a separate process on 127.0.0.1. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { PROJECT_ROOT } from '../../src/node/provision.ts';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Builds the harness build if stale, serves it, and resolves with its base URL. */
export async function startHarnessServer(): Promise<{ baseUrl: string; process: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/serve.ts', '--mode', 'harness'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`The app server exited early (code ${code}).`)));
    child.stdout!.on('data', (chunk: Buffer) => { if (chunk.toString().includes('serving on')) resolve(); });
  });
  return { baseUrl: `http://127.0.0.1:${port}/`, process: child };
}
