/** Packs on disk: a RangeSource over a file, and an all-or-nothing write. */
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PackContents } from '../core/pack/contents.ts';
import { PackError } from '../core/pack/format.ts';
import type { RangeSource } from '../core/pack/range-source.ts';
import { encodePack } from '../core/pack/write.ts';

/** Reads ranges of a file with positional reads on one open handle; close() when done. */
export async function fileSource(path: string): Promise<RangeSource & { close(): Promise<void> }> {
  const handle = await open(path, 'r');
  let size: number;
  try {
    size = (await handle.stat()).size;
  } catch (e) {
    await handle.close();
    throw e;
  }
  return {
    size,
    async read(offset, length) {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
        throw new RangeError(`Bytes ${offset}–${offset + length} are beyond the end of ${path} (${size} bytes).`);
      }
      // A fresh Uint8Array (not a pooled Buffer) so that typed-array views over it are aligned.
      const bytes = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(bytes, done, length - done, offset + done);
        if (bytesRead === 0) {
          throw new PackError('truncated', `Pack is truncated: ${path} became shorter while it was being read (it had ${size} bytes). Open it again.`);
        }
        done += bytesRead;
      }
      return bytes;
    },
    close: () => handle.close(),
  };
}

/**
 * Writes a pack to `path` so that it is either the complete new pack or untouched:
 * the chunks go to `path.tmp-<pid>`, which is flushed to disk and then renamed over
 * `path`. Invalid contents throw PackError('invalid') before any file is created.
 */
export async function writePackFile(path: string, contents: PackContents): Promise<void> {
  const chunks = encodePack(contents);
  const temp = `${path}.tmp-${process.pid}`;
  const handle = await open(temp, 'w');
  try {
    for (const chunk of chunks) {
      let done = 0;
      while (done < chunk.length) done += (await handle.write(chunk, done, chunk.length - done)).bytesWritten;
    }
    await handle.sync();
  } catch (e) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw e;
  }
  await handle.close();
  try {
    await rename(temp, path);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
  // Make the rename itself durable; directories cannot be opened for this on Windows, where it is not needed.
  try {
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // Best effort.
  }
}
