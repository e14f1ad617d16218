/** Image bytes from a CLI argument: a local path or an http(s) URL. */
import { open } from 'node:fs/promises';
import sharp from 'sharp';
import { expandPaths, type PathEntry } from './image-files.ts';

/** Larger files are refused before they are read or downloaded in full. */
export const MAX_IMAGE_BYTES = 50_000_000;
export const FETCH_TIMEOUT_MS = 30_000;

export interface ReadImageOptions {
  readonly maxBytes?: number;
  readonly timeoutMs?: number;
}

export function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/**
 * Like `expandPaths`, with http(s) URLs passed through as they are (in their
 * place in the argument order) for `readImage` to fetch.
 */
export async function expandSources(sources: readonly string[]): Promise<PathEntry[]> {
  const out: PathEntry[] = [];
  for (const source of sources) out.push(...(isUrl(source) ? [{ file: source }] : await expandPaths([source])));
  return out;
}

/** The bytes of a file or URL; errors are plain sentences fit for a CLI error line. */
export function readImage(source: string, options: ReadImageOptions = {}): Promise<Uint8Array> {
  const maxBytes = options.maxBytes ?? MAX_IMAGE_BYTES;
  return isUrl(source) ? fetchImage(source, maxBytes, options.timeoutMs ?? FETCH_TIMEOUT_MS) : readFileCapped(source, maxBytes);
}

/** Pixel size with EXIF orientation applied (read from the header: nothing is decoded). */
export async function orientedSize(bytes: Uint8Array): Promise<{ width: number; height: number }> {
  const { autoOrient } = await sharp(bytes, { limitInputPixels: false, pages: 1 }).metadata();
  return { width: autoOrient.width, height: autoOrient.height };
}

async function readFileCapped(path: string, maxBytes: number): Promise<Uint8Array> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new Error(describeFsError(err));
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw new Error('Is a directory.');
    if (info.size > maxBytes) throw tooLarge(info.size, maxBytes);
    const bytes = await handle.readFile();
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } finally {
    await handle.close();
  }
}

async function fetchImage(url: string, maxBytes: number, timeoutMs: number): Promise<Uint8Array> {
  const signal = AbortSignal.timeout(timeoutMs);
  const timedOut = () => new Error(`Timed out after ${timeoutMs / 1000} s fetching the image.`);
  let response: Response;
  try {
    response = await fetch(url, { signal, redirect: 'follow', headers: { accept: 'image/*' } });
  } catch (err) {
    if (signal.aborted) throw timedOut();
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`Could not fetch the image: ${cause?.code ?? cause?.message ?? (err as Error).message}.`);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    throw new Error(`The server answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}.`);
  }
  const declared = Number(response.headers.get('content-length'));
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge(declared, maxBytes);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body?.getReader();
  try {
    for (;;) {
      const next = await reader?.read();
      if (!next || next.done) break;
      total += next.value.byteLength;
      if (total > maxBytes) throw tooLarge(total, maxBytes, 'at least ');
      chunks.push(next.value);
    }
  } catch (err) {
    await reader?.cancel().catch(() => {});
    throw signal.aborted ? timedOut() : err;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

function tooLarge(size: number, maxBytes: number, qualifier = ''): Error {
  const mb = (n: number) => `${Number((n / 1e6).toPrecision(3))} MB`;
  return new Error(`The file is ${qualifier}${mb(size)}, over the ${mb(maxBytes)} limit for an image.`);
}

function describeFsError(err: unknown): string {
  return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory.' : (err as Error).message;
}
