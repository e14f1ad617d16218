/** Expands CLI path arguments into image files. */
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif']);

export type PathEntry = { readonly file: string } | { readonly file: string; readonly error: string };

/**
 * Files named explicitly are kept whatever their extension (a non-image then
 * gets a clear error of its own); directories are walked recursively for
 * image extensions, in sorted order so that output is reproducible.
 */
export async function expandPaths(paths: readonly string[]): Promise<PathEntry[]> {
  const out: PathEntry[] = [];
  for (const path of paths) {
    try {
      if ((await stat(path)).isDirectory()) out.push(...(await walk(path)));
      else out.push({ file: path });
    } catch (err) {
      out.push({ file: path, error: describe(err) });
    }
  }
  return out;
}

/** Follows symbolic links; an unreadable sub-folder becomes an error entry, not a failed walk. */
async function walk(dir: string): Promise<PathEntry[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (err) {
    return [{ file: dir, error: describe(err) }];
  }
  const out: PathEntry[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined); // dangling link: skip
    if (info?.isDirectory()) out.push(...(await walk(path)));
    else if (info?.isFile() && IMAGE_EXTENSIONS.has(extname(name).toLowerCase())) out.push({ file: path });
  }
  return out;
}

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'No such file or directory.';
  if (code === 'EACCES' || code === 'EPERM') return 'Permission denied.';
  return err instanceof Error ? err.message : String(err);
}
