/**
 * Random access to a pack's bytes, wherever they are: in memory, in a Blob or
 * File, behind an HTTP server that answers Range requests, or on disk
 * (src/node/pack-file.ts). The reader asks for small ranges first (the header,
 * one item) and whole sections only when it needs them.
 */
import { OPEN_READ_BYTES, PackError } from './format.ts';

export interface RangeSource {
  /** Total bytes. */
  readonly size: number;
  /** Exactly `length` bytes from `offset`; rejects a range beyond `size`. The result may share memory with the source. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

function checkRange(offset: number, length: number, size: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new RangeError(`Bad byte range: offset ${offset}, length ${length}.`);
  }
  if (offset + length > size) throw new RangeError(`Bytes ${offset}–${offset + length} are beyond the end of a ${size}-byte source.`);
}

/** A pack already in memory; reads are views, not copies. */
export function bytesSource(bytes: Uint8Array): RangeSource {
  return {
    size: bytes.length,
    read(offset, length) {
      checkRange(offset, length, bytes.length);
      return Promise.resolve(bytes.subarray(offset, offset + length));
    },
  };
}

/** A pack in a Blob or File (browser, worker, Node ≥ 18): each read slices the blob. */
export function blobSource(blob: Blob): RangeSource {
  return {
    size: blob.size,
    async read(offset, length) {
      checkRange(offset, length, blob.size);
      if (length === 0) return new Uint8Array(0);
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
}

/**
 * A pack behind an HTTP(S) URL, read with `Range` requests. The first request
 * fetches the first bytes (enough for openPack's first read, which it then
 * serves without another round trip) and learns the size from `Content-Range`.
 *
 * The server must answer ranges with 206 Partial Content; one that sends the
 * whole file instead (status 200) is refused with an error, rather than silently
 * downloading a large pack once per read (unless the whole file is no larger
 * than the first request asked for, when that one answer is all it takes). Across origins the server must also
 * allow the request (CORS) and expose `Content-Range`; if it does not expose it,
 * the size comes from a HEAD request's Content-Length. Serve packs without a
 * Content-Encoding: ranges of a compressed response are not ranges of the pack.
 */
export async function httpRangeSource(url: string | URL, fetchFn: typeof fetch = fetch): Promise<RangeSource> {
  const where = String(url);
  const probeEnd = OPEN_READ_BYTES - 1;
  const probe = await fetchFn(url, { headers: { Range: `bytes=0-${probeEnd}` } });
  let size: number;
  let prefix: Uint8Array;
  if (probe.status === 416) {
    // Nothing in range: only an empty file answers a request for byte 0 with this.
    await probe.body?.cancel().catch(() => undefined);
    size = totalFromContentRange(probe.headers.get('Content-Range'));
    if (size !== 0) throw new Error(`The server at ${where} refused the range 0–${probeEnd} of a ${size}-byte file.`);
    prefix = new Uint8Array(0);
  } else if (probe.status === 200 && Number(probe.headers.get('Content-Length') ?? Infinity) <= OPEN_READ_BYTES) {
    // The whole file is smaller than the probe, and some servers answer such a range with all of it.
    prefix = new Uint8Array(await probe.arrayBuffer());
    size = prefix.length;
  } else {
    await requirePartial(probe, where);
    prefix = new Uint8Array(await probe.arrayBuffer());
    const total = probe.headers.get('Content-Range');
    if (total !== null) {
      size = totalFromContentRange(total);
    } else {
      const head = await fetchFn(url, { method: 'HEAD' });
      const length = head.ok ? Number(head.headers.get('Content-Length') ?? NaN) : NaN;
      if (!Number.isSafeInteger(length) || length < 0) {
        throw new Error(`Can't tell the size of ${where}: the server does not expose Content-Range or Content-Length (across origins, add "Access-Control-Expose-Headers: Content-Range").`);
      }
      size = length;
    }
    if (prefix.length !== Math.min(size, OPEN_READ_BYTES)) {
      throw new Error(`The server at ${where} sent ${prefix.length} bytes for the range 0–${probeEnd} of a ${size}-byte file.`);
    }
  }

  return {
    size,
    async read(offset, length) {
      checkRange(offset, length, size);
      if (offset + length <= prefix.length) return prefix.subarray(offset, offset + length);
      if (length === 0) return new Uint8Array(0);
      const last = offset + length - 1;
      const response = await fetchFn(url, { headers: { Range: `bytes=${offset}-${last}` } });
      await requirePartial(response, where);
      const range = response.headers.get('Content-Range');
      if (range !== null && totalFromContentRange(range) !== size) {
        await response.body?.cancel().catch(() => undefined);
        throw new Error(`The pack at ${where} changed while it was being read. Open it again.`);
      }
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (bytes.length !== length) {
        throw new PackError('truncated', `The server at ${where} sent ${bytes.length} bytes for a request of ${length} (bytes ${offset}–${last}). Try again.`);
      }
      return bytes;
    },
  };
}

/** Throws unless `response` is a 206; stops the body of a full (200) response from downloading. */
async function requirePartial(response: Response, where: string): Promise<void> {
  if (response.status === 206) return;
  await response.body?.cancel().catch(() => undefined);
  if (response.ok) {
    throw new Error(
      `The server at ${where} ignores HTTP Range requests (it answered ${response.status} instead of 206 Partial Content), so the pack can't be read in parts. ` +
        'Serve it from a server that supports Range requests (most static file servers and CDNs do), or load the whole file.',
    );
  }
  const status = response.statusText ? `${response.status} ${response.statusText}` : String(response.status);
  throw new Error(`Can't read ${where}: the server answered ${status}.`);
}

/** The total length from a Content-Range header ("bytes 0-99/1234", or "bytes *\/1234" on a 416). */
function totalFromContentRange(header: string | null): number {
  const match = /^bytes (?:\d+-\d+|\*)\/(\d+)$/i.exec(header?.trim() ?? '');
  const total = match ? Number(match[1]) : NaN;
  if (!Number.isSafeInteger(total)) throw new Error(`The server sent an unusable Content-Range header (${header ?? 'none'}).`);
  return total;
}
