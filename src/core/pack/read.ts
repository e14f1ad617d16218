/** Reads a pack from any RangeSource, a section or an item at a time; see docs/pack-format.md. */
import type { ItemMeta } from '../items.ts';
import type { PackContents, PackHeader, PackPartition } from './contents.ts';
import { crc32 } from './crc32.ts';
import {
  OPEN_READ_BYTES,
  partitionSections,
  PREAMBLE_BYTES,
  REQUIRED_SECTIONS,
  SECTION,
  checksumError,
  corruptError,
  decodeHeader,
  decodeMetaLine,
  decodePreamble,
  decodeSectionTable,
  expectedSectionLength,
  f32Array,
  headerChecksum,
  tableSpan,
  truncatedError,
  u16Array,
  u32Array,
  type PackSection,
} from './format.ts';
import type { RangeSource } from './range-source.ts';

export interface PackReader {
  /** The format version the pack was written in (the major is always the one this code reads). */
  readonly version: { readonly major: number; readonly minor: number };
  readonly header: PackHeader;
  /** Every section in the table, known or not, in table order. */
  readonly sections: readonly PackSection[];
  readonly hasThumbs: boolean;
  /** A section's bytes, checksum verified; null when the pack has no such section. */
  readSection(name: string): Promise<Uint8Array | null>;
  readCoder(): Promise<PackContents['coder']>;
  readCodes(): Promise<Uint32Array>;
  readVectors(): Promise<Int8Array>;
  readScales(): Promise<Float32Array>;
  /** All items' metadata, in item order (reads and verifies `meta` and `meta.index` whole). */
  readMetas(): Promise<ItemMeta[]>;
  /**
   * One item's metadata with two small range reads (8 bytes of `meta.index`, then
   * the item's line). Checked for shape, not by checksum: that needs the whole section.
   */
  readMeta(index: number): Promise<ItemMeta>;
  /** One item's thumbnail bytes, or null when it has none; small range reads like readMeta. */
  readThumb(index: number): Promise<Uint8Array | null>;
  /** The partition and sketches (format 1.1), or null when the pack has none. */
  readPartition(): Promise<PackPartition | null>;
  /** Everything, each section verified. */
  readContents(): Promise<PackContents>;
}

/**
 * Opens a pack: reads and validates only the preamble, header and section table
 * (one read of the first 4 KB for an ordinary pack), and checks that the file is
 * complete and its sections consistent with the header. Sections are read, and
 * their checksums verified, when asked for. Arrays returned may share memory
 * with the source's bytes.
 */
export async function openPack(source: RangeSource): Promise<PackReader> {
  const size = source.size;
  const first = await source.read(0, Math.min(size, OPEN_READ_BYTES));
  const preamble = decodePreamble(first, size);
  const { start: tableStart, end: tableEnd } = tableSpan(preamble);
  if (tableEnd > size) {
    throw preamble.fileLength > size ? truncatedError('its header', tableEnd, size) : corruptError('its preamble is damaged');
  }
  let head = first.subarray(0, tableEnd);
  if (first.length < tableEnd) {
    head = new Uint8Array(tableEnd);
    head.set(first, 0);
    head.set(await source.read(first.length, tableEnd - first.length), first.length);
  }
  if (headerChecksum(head) !== preamble.headerCrc) throw corruptError('its header fails its checksum');

  const header = decodeHeader(head.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + preamble.headerLength));
  const fileLength = preamble.fileLength;
  const sections = decodeSectionTable(head.subarray(tableStart, tableEnd), preamble.sectionCount, tableEnd, fileLength);

  if (size < fileLength) {
    const cut = [...sections].sort((a, b) => a.offset - b.offset).find((s) => s.offset + s.length > size);
    throw cut ? truncatedError(`section "${cut.name}"`, cut.offset + cut.length, size, cut.name) : truncatedError('the pack', fileLength, size);
  }
  if (size > fileLength) throw corruptError(`it should be ${fileLength} bytes but the file has ${size} (extra bytes at the end)`);

  const byName = new Map(sections.map((s) => [s.name, s]));
  for (const name of [...REQUIRED_SECTIONS, ...(header.partition ? partitionSections(header.partition) : [])]) {
    if (!byName.has(name)) throw corruptError(`required section "${name}" is missing`, name);
  }
  const hasThumbs = byName.has(SECTION.thumbs);
  if (hasThumbs !== byName.has(SECTION.thumbsIndex)) {
    const missing = hasThumbs ? SECTION.thumbsIndex : SECTION.thumbs;
    throw corruptError(`section "${missing}" is missing (thumbs and thumbs.index come together)`, missing);
  }
  for (const s of sections) {
    const expected = expectedSectionLength(s.name, header);
    if (expected !== undefined && s.length !== expected) {
      throw corruptError(`section "${s.name}" is ${s.length} bytes but the header (count ${header.count}, dim ${header.dim}, bits ${header.coder.bits}) needs ${expected}`, s.name);
    }
  }
  return new Reader(source, { major: preamble.major, minor: preamble.minor }, header, sections, byName, hasThumbs);
}

class Reader implements PackReader {
  constructor(
    private readonly source: RangeSource,
    readonly version: { readonly major: number; readonly minor: number },
    readonly header: PackHeader,
    readonly sections: readonly PackSection[],
    private readonly byName: ReadonlyMap<string, PackSection>,
    readonly hasThumbs: boolean,
  ) {}

  async readSection(name: string): Promise<Uint8Array | null> {
    const s = this.byName.get(name);
    if (s === undefined) return null;
    const bytes = await this.source.read(s.offset, s.length);
    if (crc32(bytes) !== s.crc32) throw checksumError(name);
    return bytes;
  }

  /** A section that openPack has checked is present. */
  private async required(name: string): Promise<Uint8Array> {
    return (await this.readSection(name))!;
  }

  async readCoder(): Promise<PackContents['coder']> {
    const [mean, projection] = await Promise.all([this.required(SECTION.coderMean), this.required(SECTION.coderProjection)]);
    return { mean: f32Array(mean), projection: f32Array(projection) };
  }

  async readCodes(): Promise<Uint32Array> {
    return u32Array(await this.required(SECTION.codes));
  }

  async readVectors(): Promise<Int8Array> {
    const bytes = await this.required(SECTION.vectors);
    return new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  async readScales(): Promise<Float32Array> {
    return f32Array(await this.required(SECTION.scales));
  }

  async readMetas(): Promise<ItemMeta[]> {
    const [meta, index] = await Promise.all([this.required(SECTION.meta), this.required(SECTION.metaIndex)]);
    const offsets = this.checkIndex(u32Array(index), meta.length, SECTION.metaIndex);
    const metas: ItemMeta[] = new Array(this.header.count);
    const ids = new Set<string>();
    for (let i = 0; i < metas.length; i++) {
      const item = decodeMetaLine(meta.subarray(offsets[i]!, offsets[i + 1]!), i);
      if (ids.has(item.id)) throw corruptError(`two items have the id ${JSON.stringify(item.id)}`, SECTION.meta);
      ids.add(item.id);
      metas[i] = item;
    }
    return metas;
  }

  async readMeta(index: number): Promise<ItemMeta> {
    const [start, end] = await this.itemRange(index, SECTION.metaIndex, SECTION.meta);
    const meta = this.byName.get(SECTION.meta)!;
    return decodeMetaLine(await this.source.read(meta.offset + start, end - start), index);
  }

  async readThumb(index: number): Promise<Uint8Array | null> {
    if (!this.hasThumbs) {
      this.checkItem(index);
      return null;
    }
    const [start, end] = await this.itemRange(index, SECTION.thumbsIndex, SECTION.thumbs);
    if (start === end) return null;
    return this.source.read(this.byName.get(SECTION.thumbs)!.offset + start, end - start);
  }

  async readPartition(): Promise<PackPartition | null> {
    const { partition } = this.header;
    if (!partition) return null;
    const [mean, projection, centroids, lists, scales, sketches, spread] = await Promise.all(partitionSections(partition).map((name) => this.required(name)));
    const listNumbers = u16Array(lists!);
    for (let i = 0; i < listNumbers.length; i++) {
      if (listNumbers[i]! >= partition.lists) throw corruptError(`item ${i} is filed under list ${listNumbers[i]} of ${partition.lists}`, SECTION.sketchLists);
    }
    const spreads = spread ? f32Array(spread) : new Float32Array(partition.dims).fill(1);
    // An index cannot use a partition whose spreads are not positive: refuse it here, before anything is imported.
    const bad = spreads.findIndex((s) => !(s > 0 && Number.isFinite(s)));
    if (bad >= 0) throw corruptError(`the spread of sketch component ${bad} is ${spreads[bad]}, not a positive number`, SECTION.partitionSpread);
    const sketchScales = f32Array(scales!);
    // A scale that is not a finite number makes its item's every score NaN: refuse it, as the writer does.
    const badScale = sketchScales.findIndex((s) => !Number.isFinite(s));
    if (badScale >= 0) throw corruptError(`the sketch scale of item ${badScale} is ${sketchScales[badScale]}`, SECTION.sketchScales);
    return {
      mean: f32Array(mean!),
      projection: f32Array(projection!),
      centroids: f32Array(centroids!),
      spread: spreads,
      lists: listNumbers,
      scales: sketchScales,
      sketches: new Int8Array(sketches!.buffer, sketches!.byteOffset, sketches!.byteLength),
    };
  }

  async readContents(): Promise<PackContents> {
    const [coder, codes, vectors, scales, metas, thumbs, partition] = await Promise.all([
      this.readCoder(),
      this.readCodes(),
      this.readVectors(),
      this.readScales(),
      this.readMetas(),
      this.readThumbs(),
      this.readPartition(),
    ]);
    return {
      header: this.header, coder, codes, vectors, scales, metas,
      ...(thumbs === undefined ? {} : { thumbs }),
      ...(partition ? { partition } : {}),
    };
  }

  private async readThumbs(): Promise<(Uint8Array | null)[] | undefined> {
    if (!this.hasThumbs) return undefined;
    const [bytes, index] = await Promise.all([this.required(SECTION.thumbs), this.required(SECTION.thumbsIndex)]);
    const offsets = this.checkIndex(u32Array(index), bytes.length, SECTION.thumbsIndex);
    const thumbs: (Uint8Array | null)[] = [];
    for (let i = 0; i < this.header.count; i++) {
      thumbs.push(offsets[i] === offsets[i + 1] ? null : bytes.subarray(offsets[i]!, offsets[i + 1]!));
    }
    return thumbs;
  }

  /** An index section: count + 1 non-decreasing offsets from 0 to the data section's length. */
  private checkIndex(offsets: Uint32Array, dataLength: number, name: string): Uint32Array {
    let ok = offsets[0] === 0 && offsets[offsets.length - 1] === dataLength;
    for (let i = 1; ok && i < offsets.length; i++) ok = offsets[i - 1]! <= offsets[i]!;
    if (!ok) throw corruptError(`section "${name}" has offsets out of order or out of range`, name);
    return offsets;
  }

  private checkItem(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.header.count) {
      throw new RangeError(`No item ${index}: the pack has ${this.header.count} items.`);
    }
  }

  /** Item `index`'s byte range in `dataName`, from 8 bytes of `indexName`. */
  private async itemRange(index: number, indexName: string, dataName: string): Promise<[number, number]> {
    this.checkItem(index);
    const entry = await this.source.read(this.byName.get(indexName)!.offset + index * 4, 8);
    const view = new DataView(entry.buffer, entry.byteOffset, 8);
    const start = view.getUint32(0, true);
    const end = view.getUint32(4, true);
    if (start > end || end > this.byName.get(dataName)!.length) {
      throw corruptError(`section "${indexName}" has offsets out of order or out of range`, indexName);
    }
    return [start, end];
  }
}
