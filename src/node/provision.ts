/**
 * Fills `public/models/` with verified model files. Sources, in order: a
 * directory named by LOOKALIKE_MODELS_FROM, `../shared/models` beside the
 * project, then the upstream URLs in models.lock.json. Each model folder is
 * assembled in a staging folder and renamed into place only once every file
 * matches its recorded sha256, so a failure never leaves a half-filled folder.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import lock from './models.lock.json' with { type: 'json' };

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const MODELS_DIR = join(PROJECT_ROOT, 'public/models');
const SHARED_MODELS_DIR = resolve(PROJECT_ROOT, '../shared/models');

export interface LockEntry { readonly sources: readonly string[]; readonly files: Readonly<Record<string, string>> }
export type ModelLock = Readonly<Record<string, LockEntry>>;

export interface ProvisionOptions {
  /** Where to put the folders; defaults to `public/models/`. */
  readonly dest?: string;
  /** An explicit local copy to take the files from; defaults to $LOOKALIKE_MODELS_FROM. */
  readonly from?: string | undefined;
  readonly lock?: ModelLock;
  /** Local copies to try before the network; defaults to [from, ../shared/models]. */
  readonly localDirs?: readonly string[];
  readonly log?: (line: string) => void;
}

type Fetcher = (name: string) => Promise<Uint8Array>;

/** Makes sure every model folder is present and verified; copies or downloads what is not. */
export async function provisionModels(options: ProvisionOptions = {}): Promise<void> {
  const dest = options.dest ?? MODELS_DIR;
  const models = options.lock ?? (lock as ModelLock);
  const from = options.from ?? process.env.LOOKALIKE_MODELS_FROM;
  const localDirs = options.localDirs ?? [...(from ? [from] : []), SHARED_MODELS_DIR];
  const log = options.log ?? ((line) => console.error(line));
  await mkdir(dest, { recursive: true });
  // Staging folders of a run that was killed would otherwise linger and be served.
  for (const name of await readdir(dest)) {
    if (name.includes('.staging-')) await rm(join(dest, name), { recursive: true, force: true });
  }

  for (const [dir, entry] of Object.entries(models)) {
    const target = join(dest, dir);
    if ((await verifyFolder(target, entry)) === null) continue;
    const candidates: [string, Fetcher][] = [
      ...localDirs.map((d): [string, Fetcher] => [join(d, dir), (name) => readFile(join(d, dir, name))]),
      ...entry.sources.map((url): [string, Fetcher] => [url, (name) => download(new URL(name, url))]),
    ];
    const failures: string[] = [];
    for (const [where, fetchFile] of candidates) {
      const problem = await installFrom(fetchFile, entry, target);
      if (problem === null) {
        log(`models: ${dir} ← ${where}`);
        break;
      }
      failures.push(`  ${where}: ${problem}`);
    }
    if (failures.length === candidates.length) {
      throw new Error(
        `Could not provision model "${dir}"; every source failed:\n${failures.join('\n')}\n` +
          'Offline? Point LOOKALIKE_MODELS_FROM at a folder that holds a copy (its sub-folders named as above), then run `npm run models` again.',
      );
    }
  }
}

/** Returns null when every file in the folder matches its hash, else what is wrong. */
async function verifyFolder(folder: string, entry: LockEntry): Promise<string | null> {
  for (const [name, sha] of Object.entries(entry.files)) {
    const path = join(folder, name);
    if (!existsSync(path)) return `${name} is missing`;
    if (sha256(await readFile(path)) !== sha) return `${name} does not match its sha256`;
  }
  return null;
}

async function installFrom(fetchFile: Fetcher, entry: LockEntry, target: string): Promise<string | null> {
  const staging = `${target}.staging-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    for (const [name, sha] of Object.entries(entry.files)) {
      const bytes = await fetchFile(name);
      const actual = sha256(bytes);
      if (actual !== sha) return `${name} has sha256 ${actual}, expected ${sha}`;
      await writeFile(join(staging, name), bytes);
    }
    await rm(target, { recursive: true, force: true });
    await rename(staging, target);
    return null;
  } catch (err) {
    return describe(err);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function download(url: URL): Promise<Uint8Array> {
  const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${url.pathname.split('/').pop()}`);
  return new Uint8Array(await response.arrayBuffer());
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'not found';
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
  return `${err.message}${cause}`;
}
