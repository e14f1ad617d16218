/** Expands CLI path arguments into image files. */
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif']);

export type PathEntry = { readonly file: string } | { readonly file: string; readonly error: string };

/**
 * Files named explicitly are kept whatever their extension (a non-image then
 * gets a clear error of its own); directories are walked recursively for
 * image extensions, in sorted order so that output is reproducible.
 */
export async function expandPaths(paths: readonly string[]): Promise<PathEntry[]> {
  const out: PathEntry[] = [];
  for (const path of paths) {
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(path)).isDirectory();
    } catch {
      out.push({ file: path, error: 'No such file or directory.' });
      continue;
    }
    if (isDirectory) out.push(...(await walk(path)).map((file) => ({ file })));
    else out.push({ file: path });
  }
  return out;
}

async function walk(dir: string): Promise<string[]> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await walk(path)));
    else if (entry.isFile() && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) files.push(path);
  }
  return files;
}
