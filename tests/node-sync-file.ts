/** A real file behind the mirror's SyncFile interface, for Node tests (in browsers an OPFS sync access handle is one). */
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import type { SyncFile } from '../src/core/store/mirrored-page-store.ts';

export function nodeSyncFile(path: string): SyncFile {
  const handle = openSync(path, existsSync(path) ? 'r+' : 'w+');
  return {
    read: (buffer, { at }) => readSync(handle, buffer, 0, buffer.byteLength, at),
    write: (buffer, { at }) => writeSync(handle, buffer, 0, buffer.byteLength, at),
    truncate: (size) => ftruncateSync(handle, size),
    getSize: () => fstatSync(handle).size,
    flush: () => fsyncSync(handle),
    close: () => closeSync(handle),
  };
}
