/** Writes a pack: validates PackContents and lays it out as docs/pack-format.md describes. */
import { wordsPerCode } from '../codes/bits.ts';
import type { PackContents } from './contents.ts';
import { crc32 } from './crc32.ts';
import {
  FORMAT_MAJOR,
  FORMAT_MINOR,
  MAX_FILE_BYTES,
  PREAMBLE_BYTES,
  PackError,
  SECTION,
  align8,
  encodeHeader,
  encodePreamble,
  encodeSectionTable,
  headerChecksum,
  metaJson,
  sketchBytes,
  storedBytes,
  tableSpan,
  type PackSection,
} from './format.ts';

/** One section to lay out: its name and its bytes, in pieces. */
export interface SectionInput {
  readonly name: string;
  readonly chunks: readonly Uint8Array[];
}

/**
 * The whole pack file for `contents`, as an ordered list of chunks to concatenate
 * (a Blob of them in the browser, written one after another in Node), so a large
 * pack never needs one contiguous buffer. The same contents always give the same
 * bytes, on every platform.
 *
 * Large chunks are views of the arrays in `contents`: leave those unchanged until
 * the chunks have been written. Throws PackError('invalid') for contents that are
 * not a consistent index, before anything is produced.
 */
export function encodePack(contents: PackContents): Uint8Array<ArrayBuffer>[] {
  const { header, coder, codes, vectors, scales, metas, thumbs, partition } = contents;
  const headerJson = encodeHeader(header); // validates the header
  const { dim, count } = header;
  const bits = header.coder.bits;
  const invalid = (what: string): never => {
    throw new PackError('invalid', `Can't write pack: ${what}.`);
  };
  const checkArray = (name: string, value: unknown, type: string, length: number): void => {
    const tag = typeof value === 'object' && value !== null ? (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] : undefined;
    if (tag !== type) invalid(`${name} must be a ${type}`);
    const actual = (value as ArrayLike<number>).length;
    if (actual !== length) invalid(`${name} has ${actual} elements but the header (count ${count}, dim ${dim}, bits ${bits}) needs ${length}`);
  };
  const checkFinite = (name: string, values: Float32Array): void => {
    for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) invalid(`${name}[${i}] is not a finite number`);
  };
  if (typeof coder !== 'object' || coder === null) invalid('coder must be an object with mean and projection');
  checkArray('coder.mean', coder.mean, 'Float32Array', dim);
  checkArray('coder.projection', coder.projection, 'Float32Array', bits * dim);
  checkArray('codes', codes, 'Uint32Array', count * wordsPerCode(bits));
  checkArray('vectors', vectors, 'Int8Array', count * dim);
  checkArray('scales', scales, 'Float32Array', count);
  checkFinite('coder.mean', coder.mean);
  checkFinite('coder.projection', coder.projection);
  checkFinite('scales', scales);
  if (!Array.isArray(metas) || metas.length !== count) invalid(`metas must be an array of ${count} items (the header's count)`);
  if ((partition === undefined) !== (header.partition === undefined)) invalid('partition and header.partition come together');
  if (partition && header.partition) {
    const { lists, dims, sketch } = header.partition;
    checkArray('partition.mean', partition.mean, 'Float32Array', dim);
    checkArray('partition.projection', partition.projection, 'Float32Array', dims * dim);
    checkArray('partition.centroids', partition.centroids, 'Float32Array', lists * dims);
    checkArray('partition.spread', partition.spread, 'Float32Array', dims);
    checkArray('partition.lists', partition.lists, 'Uint16Array', count);
    checkArray('partition.scales', partition.scales, 'Float32Array', count);
    checkArray('partition.sketches', partition.sketches, 'Int8Array', count * sketchBytes(dims, sketch));
    for (const name of ['mean', 'projection', 'centroids', 'spread', 'scales'] as const) checkFinite(`partition.${name}`, partition[name]);
    // int8 sketches (1.1) have no spread section: theirs is all 1.
    if (sketch === 'int8' && partition.spread.some((s) => s !== 1)) invalid('int8 sketches are quantised without a spread, so partition.spread must be all 1');
    if (!partition.spread.every((s) => s > 0)) invalid('partition.spread must be positive');
    partition.lists.forEach((list, i) => {
      if (list >= lists) invalid(`partition.lists[${i}] is ${list}, but there are ${lists} lists`);
    });
  }
  if (thumbs !== undefined) {
    if (!Array.isArray(thumbs) || thumbs.length !== count) invalid(`thumbs must be an array of ${count} entries (the header's count) when present`);
    thumbs.forEach((t, i) => {
      if (t !== null && Object.prototype.toString.call(t) !== '[object Uint8Array]') invalid(`thumbs[${i}] must be a Uint8Array or null`);
    });
  }

  // meta: one canonical JSON object per line; meta.index: where each line starts.
  const encoder = new TextEncoder();
  const ids = new Map<string, number>();
  const metaChunks: Uint8Array[] = [];
  const metaIndex = new Uint32Array(count + 1);
  let metaBytes = 0;
  for (let i = 0; i < count; i++) {
    const meta = metas[i]!;
    const line = encoder.encode(`${metaJson(meta, i)}\n`);
    const earlier = ids.get(meta.id);
    if (earlier !== undefined) invalid(`items ${earlier} and ${i} have the same id ${JSON.stringify(meta.id)} (ids must be unique)`);
    ids.set(meta.id, i);
    metaChunks.push(line);
    metaBytes += line.length;
    if (metaBytes > 0xffffffff) invalid('the metadata totals 4 GiB or more, beyond what meta.index can address');
    metaIndex[i + 1] = metaBytes;
  }

  const sections: SectionInput[] = [
    { name: SECTION.coderMean, chunks: [storedBytes(coder.mean, 4)] },
    { name: SECTION.coderProjection, chunks: [storedBytes(coder.projection, 4)] },
    { name: SECTION.codes, chunks: [storedBytes(codes, 4)] },
    { name: SECTION.vectors, chunks: [storedBytes(vectors, 1)] },
    { name: SECTION.scales, chunks: [storedBytes(scales, 4)] },
    { name: SECTION.meta, chunks: metaChunks },
    { name: SECTION.metaIndex, chunks: [storedBytes(metaIndex, 4)] },
  ];

  if (partition) {
    sections.push(
      { name: SECTION.partitionMean, chunks: [storedBytes(partition.mean, 4)] },
      { name: SECTION.partitionProjection, chunks: [storedBytes(partition.projection, 4)] },
      { name: SECTION.partitionCentroids, chunks: [storedBytes(partition.centroids, 4)] },
      { name: SECTION.sketchLists, chunks: [storedBytes(partition.lists, 2)] },
      { name: SECTION.sketchScales, chunks: [storedBytes(partition.scales, 4)] },
      ...(header.partition?.sketch === 'int4'
        ? [{ name: SECTION.sketchesInt4, chunks: [storedBytes(partition.sketches, 1)] }, { name: SECTION.partitionSpread, chunks: [storedBytes(partition.spread, 4)] }]
        : [{ name: SECTION.sketches, chunks: [storedBytes(partition.sketches, 1)] }]),
    );
  }

  // thumbs + thumbs.index, only when at least one item has a thumbnail; an empty one counts as none.
  if (thumbs?.some((t) => t !== null && t.length > 0)) {
    const thumbChunks: Uint8Array[] = [];
    const thumbIndex = new Uint32Array(count + 1);
    let thumbBytes = 0;
    for (let i = 0; i < count; i++) {
      const t = thumbs[i];
      if (t) {
        thumbChunks.push(t);
        thumbBytes += t.length;
        if (thumbBytes > 0xffffffff) invalid('the thumbnails total 4 GiB or more, beyond what thumbs.index can address');
      }
      thumbIndex[i + 1] = thumbBytes;
    }
    sections.push({ name: SECTION.thumbs, chunks: thumbChunks }, { name: SECTION.thumbsIndex, chunks: [storedBytes(thumbIndex, 4)] });
  }
  // Each pack is written as the oldest version that holds it: 1.0 (byte for byte as before) without a partition, 1.1 with int8 sketches.
  return assemblePack(headerJson, sections, !header.partition ? 0 : header.partition.sketch === 'int8' ? 1 : FORMAT_MINOR);
}

/**
 * Lays out a pack from header JSON bytes and sections, in the order given: the
 * layer below encodePack, for tools that add sections of their own (readers
 * ignore sections they do not know) and for tests that forge packs.
 */
export function assemblePack(headerJson: Uint8Array, inputs: readonly SectionInput[], minor = FORMAT_MINOR): Uint8Array<ArrayBuffer>[] {
  const { start: tableStart, end: tableEnd } = tableSpan({ headerLength: headerJson.length, sectionCount: inputs.length });
  const sections: PackSection[] = [];
  const out = new ChunkList();
  out.push(new Uint8Array(tableEnd)); // preamble, header and table: filled in below
  let offset = tableEnd;
  for (const input of inputs) {
    const start = align8(offset);
    out.push(new Uint8Array(start - offset));
    let length = 0;
    let crc = 0;
    for (const chunk of input.chunks) {
      crc = crc32(chunk, crc);
      length += chunk.length;
      out.push(chunk);
    }
    sections.push({ name: input.name, offset: start, length, crc32: crc });
    offset = start + length;
  }
  if (offset > MAX_FILE_BYTES) throw new PackError('invalid', `Can't write pack: it would be ${offset} bytes, beyond 2^53.`);

  const head = out.first();
  head.set(headerJson, PREAMBLE_BYTES);
  head.set(encodeSectionTable(sections), tableStart);
  const lengths = { major: FORMAT_MAJOR, minor, headerLength: headerJson.length, sectionCount: sections.length, fileLength: offset };
  head.set(encodePreamble(lengths, 0), 0);
  head.set(encodePreamble(lengths, headerChecksum(head)), 0);
  return out.finish();
}

/**
 * Collects output chunks, copying runs of small pieces (metadata lines, small
 * thumbnails, padding) into blocks of about a megabyte and passing large pieces
 * through as they are.
 */
class ChunkList {
  private static readonly SMALL = 64 * 1024;
  private static readonly BLOCK = 1024 * 1024;
  private readonly chunks: Uint8Array<ArrayBuffer>[] = [];
  private pending: Uint8Array<ArrayBuffer> | undefined;
  private used = 0;

  push(piece: Uint8Array): void {
    if (piece.length === 0) return;
    if (this.chunks.length === 0 && this.pending === undefined) {
      this.chunks.push(piece as Uint8Array<ArrayBuffer>); // the head, filled in later in place
      return;
    }
    if (piece.length >= ChunkList.SMALL) {
      this.flush();
      this.chunks.push(storedBytes(piece, 1));
      return;
    }
    if (this.pending !== undefined && this.used + piece.length > this.pending.length) this.flush();
    this.pending ??= new Uint8Array(ChunkList.BLOCK);
    this.pending.set(piece, this.used);
    this.used += piece.length;
  }

  first(): Uint8Array<ArrayBuffer> {
    return this.chunks[0]!;
  }

  finish(): Uint8Array<ArrayBuffer>[] {
    this.flush();
    return this.chunks;
  }

  private flush(): void {
    if (this.pending !== undefined && this.used > 0) {
      // A mostly empty block is copied down, so a small pack does not hold on to a megabyte.
      this.chunks.push(this.used < ChunkList.BLOCK / 4 ? this.pending.slice(0, this.used) : this.pending.subarray(0, this.used));
    }
    this.pending = undefined;
    this.used = 0;
  }
}
