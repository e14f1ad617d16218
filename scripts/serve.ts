/**
 * `npm start`: builds the app if the build is missing or older than its sources,
 * then serves it on http://127.0.0.1:$PORT (default 4173) with the headers that
 * make the page cross-origin isolated. `--mode harness` serves the test build.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build, preview } from 'vite';
import { PROJECT_ROOT } from '../src/node/provision.ts';

const modeFlag = process.argv.indexOf('--mode');
const mode = modeFlag >= 0 ? process.argv[modeFlag + 1]! : 'production';
const outDir = join(PROJECT_ROOT, mode === 'harness' ? 'dist-harness' : 'dist');
const SOURCES = ['index.html', 'vite.config.ts', 'package-lock.json', 'src', 'workers', 'public', 'tests/harness', 'tests/index-data.ts'];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((max, name) => Math.max(max, newestMtime(join(path, name))), stat.mtimeMs);
}

// A production build even when a test runner (which sets NODE_ENV=test) starts this script;
// otherwise `import.meta.env.DEV` is true in the build and production-only code (the service worker) is left out.
process.env.NODE_ENV = 'production';
const builtAt = newestMtime(join(outDir, 'index.html'));
if (builtAt < Math.max(...SOURCES.map((s) => newestMtime(join(PROJECT_ROOT, s))))) {
  await build({ root: PROJECT_ROOT, mode, logLevel: 'warn' });
}
const port = Number(process.env.PORT ?? 4173);
const server = await preview({ root: PROJECT_ROOT, mode, preview: { port, host: '127.0.0.1', strictPort: true } });
console.log(`Lookalike is serving on ${server.resolvedUrls?.local[0] ?? `http://127.0.0.1:${port}/`}`);
