/**
 * The pack format's constants, its binary layout and its errors, shared by the
 * writer (write.ts) and the reader (read.ts). docs/pack-format.md is the
 * specification; keep the two in step.
 *
 *   preamble   32 bytes   signature, version, lengths, header checksum
 *   header     JSON       PackHeader, UTF-8, keys in a fixed order
 *   (zero padding to a multiple of 8)
 *   table      48 × n     section name, offset, length, CRC-32
 *   sections   …          each starting at a multiple of 8, zero padding between
 */
import { wordsPerCode } from '../codes/bits.ts';
import type { CoderKind } from '../codes/coder.ts';
import type { ItemMeta } from '../items.ts';
import type { PackHeader } from './contents.ts';
import { crc32 } from './crc32.ts';

/** `\x89 L K P \r \n \x1a \n`, PNG-style: the high byte catches 7-bit transfers, CR LF and LF catch newline conversion, ^Z stops `type` on DOS. */
export const PACK_SIGNATURE: Uint8Array = Uint8Array.of(0x89, 0x4c, 0x4b, 0x50, 0x0d, 0x0a, 0x1a, 0x0a);
/** Incompatible layout changes bump the major version; readers refuse other majors. */
export const FORMAT_MAJOR = 1;
/** Compatible additions (new sections, new header keys) bump the minor version; readers accept any minor. */
export const FORMAT_MINOR = 2; // 1: the optional partition (header key and six sections); 2: int4 sketches and partition.spread

export const PREAMBLE_BYTES = 32;
export const SECTION_NAME_BYTES = 24;
export const SECTION_ENTRY_BYTES = 48;
/** Every section starts at a multiple of this, so typed-array views over a whole-file buffer need no copy. */
export const SECTION_ALIGNMENT = 8;
/** How much a reader fetches first: the preamble, header and table of an ordinary pack fit well inside. */
export const OPEN_READ_BYTES = 4096;
/** Sanity limits on the preamble, so that a damaged length is reported rather than fetched. */
export const MAX_HEADER_BYTES = 1 << 20;
export const MAX_SECTIONS = 1024;
/** Offsets and lengths are u64 on disk but must stay below 2^53 to be exact JS numbers. */
export const MAX_FILE_BYTES = Number.MAX_SAFE_INTEGER;
export const MAX_DIM = 65536;
export const MAX_COUNT = 0xffffffff;

/** The sections of format 1.0, in the order the writer lays them out. */
export const SECTION = {
  coderMean: 'coder.mean',
  coderProjection: 'coder.projection',
  codes: 'codes',
  vectors: 'vectors',
  scales: 'scales',
  meta: 'meta',
  metaIndex: 'meta.index',
  thumbs: 'thumbs',
  thumbsIndex: 'thumbs.index',
  partitionMean: 'partition.mean',
  partitionProjection: 'partition.projection',
  partitionCentroids: 'partition.centroids',
  sketchLists: 'sketch.lists',
  sketchScales: 'sketch.scales',
  sketches: 'sketches',
  sketchesInt4: 'sketches.int4',
  partitionSpread: 'partition.spread',
} as const;

/**
 * The sections a pack whose header has `partition` must have, sketches sixth.
 * int4 sketches (1.2) come with their spread, under a name of their own so that
 * a 1.1 reader finds no `sketches` and refuses the pack rather than misreading them.
 */
export function partitionSections(partition: NonNullable<PackHeader['partition']>): readonly string[] {
  return [
    SECTION.partitionMean,
    SECTION.partitionProjection,
    SECTION.partitionCentroids,
    SECTION.sketchLists,
    SECTION.sketchScales,
    ...(partition.sketch === 'int4' ? [SECTION.sketchesInt4, SECTION.partitionSpread] : [SECTION.sketches]),
  ];
}

/** How a partition's sketch components are stored (src/core/index/sketch-kernel.ts quantises and scans them). */
export type SketchEncoding = 'int8' | 'int4';

/** Bytes per sketch: int4 sketches are blocks of 16 bytes, each holding 32 components (see docs/pack-format.md). */
export function sketchBytes(dims: number, encoding: SketchEncoding): number {
  return encoding === 'int8' ? dims : 16 * Math.ceil(dims / 32);
}

/** The most lists a partition may have: list numbers are u16 here and in the index's sketch pages. */
export const MAX_LISTS = 65536;

export const REQUIRED_SECTIONS: readonly string[] = [
  SECTION.coderMean,
  SECTION.coderProjection,
  SECTION.codes,
  SECTION.vectors,
  SECTION.scales,
  SECTION.meta,
  SECTION.metaIndex,
];

/** The coder kinds format 1 knows; tsc fails here when CoderKind grows, so a new kind is a deliberate format decision. */
const CODER_KINDS = ['lsh', 'itq'] as const satisfies readonly CoderKind[];
const allCoderKindsListed: CoderKind extends (typeof CODER_KINDS)[number] ? true : never = true;
void allCoderKindsListed;

/** One entry of the section table. */
export interface PackSection {
  readonly name: string;
  /** Byte offset from the start of the file; a multiple of 8. */
  readonly offset: number;
  readonly length: number;
  /** CRC-32 of the section's `length` bytes. */
  readonly crc32: number;
}

export interface Preamble {
  readonly major: number;
  readonly minor: number;
  /** Bytes of header JSON, from byte 32. */
  readonly headerLength: number;
  /** Entries in the section table. */
  readonly sectionCount: number;
  /** CRC-32 of bytes 8–19 followed by bytes 24 to the end of the section table. */
  readonly headerCrc: number;
  /** The whole file's length. */
  readonly fileLength: number;
}

// ---------------------------------------------------------------------------
// Errors

export type PackErrorCode = 'foreign' | 'version' | 'truncated' | 'corrupt' | 'invalid';

/**
 * Everything that can be wrong with a pack, in words a user can act on.
 * - `foreign`: not a pack at all.
 * - `version`: a pack this version cannot read (a newer major format, an unknown coder).
 * - `truncated`: the file ends early (an interrupted download or copy).
 * - `corrupt`: a checksum fails or the layout contradicts itself.
 * - `invalid`: the contents handed to the writer are not a valid index (a bug in the caller).
 */
export class PackError extends Error {
  override readonly name = 'PackError';
  readonly code: PackErrorCode;
  /** The section the problem is in, when it is in one. */
  readonly section: string | undefined;

  constructor(code: PackErrorCode, message: string, section?: string) {
    super(message);
    this.code = code;
    this.section = section;
  }
}

const AGAIN = 'Copy or download it again.';

export function truncatedError(what: string, end: number, size: number, section?: string): PackError {
  return new PackError('truncated', `Pack is truncated: ${what} ends at byte ${end} but the file has ${size} bytes. ${AGAIN}`, section);
}

export function corruptError(what: string, section?: string): PackError {
  return new PackError('corrupt', `Pack is corrupt: ${what}. ${AGAIN}`, section);
}

export function checksumError(section: string): PackError {
  return corruptError(`section "${section}" fails its checksum`, section);
}

// ---------------------------------------------------------------------------
// Numbers

export function align8(n: number): number {
  return Math.ceil(n / SECTION_ALIGNMENT) * SECTION_ALIGNMENT;
}

/** Writes a u64 (below 2^53) little-endian as two u32 halves. */
function setU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value % 0x1_0000_0000, true);
  view.setUint32(at + 4, Math.floor(value / 0x1_0000_0000), true);
}

/** Reads a little-endian u64; values from 2^53 up come back as Infinity so that range checks reject them. */
function getU64(view: DataView, at: number): number {
  const high = view.getUint32(at + 4, true);
  if (high >= 0x20_0000) return Infinity;
  return high * 0x1_0000_0000 + view.getUint32(at, true);
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export const LITTLE_ENDIAN_HOST = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** Reverses each `size`-byte group of `bytes` in place: little- ↔ big-endian. */
function swap(bytes: Uint8Array, size: 2 | 4): void {
  for (let i = 0; i + size - 1 < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

function isArrayBuffer(buffer: ArrayBufferLike): buffer is ArrayBuffer {
  return Object.prototype.toString.call(buffer) === '[object ArrayBuffer]';
}

/**
 * The bytes of a typed array as the pack stores them (little-endian): a view on
 * little-endian machines, a copy on big-endian ones or when the array lives in
 * a SharedArrayBuffer (which Blob does not take).
 */
export function storedBytes(array: ArrayBufferView, elementBytes: 1 | 2 | 4): Uint8Array<ArrayBuffer> {
  const view = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  if (elementBytes !== 1 && !LITTLE_ENDIAN_HOST) {
    const copy = view.slice();
    swap(copy, elementBytes);
    return copy;
  }
  return isArrayBuffer(view.buffer) ? (view as Uint8Array<ArrayBuffer>) : view.slice();
}

/** A Uint32Array over stored little-endian bytes; shares memory when they are aligned, copies when not. */
export function u32Array(bytes: Uint8Array): Uint32Array {
  const b = hostOrder(bytes, 4);
  return new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

/** A Uint16Array over stored little-endian bytes; shares memory when they are aligned, copies when not. */
export function u16Array(bytes: Uint8Array): Uint16Array {
  const b = hostOrder(bytes, 2);
  return new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2);
}

/** A Float32Array over stored little-endian bytes; shares memory when they are aligned, copies when not. */
export function f32Array(bytes: Uint8Array): Float32Array {
  const b = hostOrder(bytes, 4);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

function hostOrder(bytes: Uint8Array, size: 2 | 4): Uint8Array {
  if (bytes.byteLength % size !== 0) throw new RangeError(`Not a whole number of ${size}-byte elements.`);
  if (LITTLE_ENDIAN_HOST && bytes.byteOffset % size === 0) return bytes;
  const copy = bytes.slice();
  if (!LITTLE_ENDIAN_HOST) swap(copy, size);
  return copy;
}

// ---------------------------------------------------------------------------
// Preamble

export function encodePreamble(p: Omit<Preamble, 'headerCrc'>, headerCrc: number): Uint8Array {
  const bytes = new Uint8Array(PREAMBLE_BYTES);
  const view = viewOf(bytes);
  bytes.set(PACK_SIGNATURE, 0);
  view.setUint16(8, p.major, true);
  view.setUint16(10, p.minor, true);
  view.setUint32(12, p.headerLength, true);
  view.setUint32(16, p.sectionCount, true);
  view.setUint32(20, headerCrc, true);
  setU64(view, 24, p.fileLength);
  return bytes;
}

/** Where the section table starts and ends, from the preamble's lengths. */
export function tableSpan(p: Pick<Preamble, 'headerLength' | 'sectionCount'>): { start: number; end: number } {
  const start = align8(PREAMBLE_BYTES + p.headerLength);
  return { start, end: start + p.sectionCount * SECTION_ENTRY_BYTES };
}

/**
 * The header checksum of `bytes`, the file from byte 0 to the end of the section
 * table: CRC-32 of bytes 8–19 followed by bytes 24 to the end, that is everything
 * after the signature except the checksum field itself.
 */
export function headerChecksum(bytes: Uint8Array): number {
  return crc32(bytes.subarray(24), crc32(bytes.subarray(8, 20)));
}

/**
 * Reads the preamble from the first bytes of a file of `size` bytes and checks the
 * signature and version. Lengths are checked for plausibility only: the header
 * checksum, which covers them, is the reader's next step.
 */
export function decodePreamble(bytes: Uint8Array, size: number): Preamble {
  if (size === 0) throw new PackError('foreign', 'Not a Lookalike pack (the file is empty).');
  const sig = PACK_SIGNATURE;
  const seen = Math.min(bytes.length, sig.length);
  let matches = true;
  for (let i = 0; i < seen; i++) if (bytes[i] !== sig[i]) matches = false;
  if (!matches) {
    // "LKP" in place but the rest changed: a pack damaged by a text-mode or 7-bit transfer.
    const lkpAt = (i: number) => bytes[i] === 0x4c && bytes[i + 1] === 0x4b && bytes[i + 2] === 0x50;
    const replaced = bytes[0] === 0xef && bytes[1] === 0xbf && bytes[2] === 0xbd && lkpAt(3); // 0x89 → U+FFFD
    if ((lkpAt(1) && ((bytes[0] ?? 0) & 0x7f) === 0x09) || replaced) {
      throw new PackError(
        'corrupt',
        'Pack is corrupt: its signature was changed in transit (a text-mode or 7-bit transfer rewrites line endings and high bytes). Transfer the file again in binary mode.',
      );
    }
    throw new PackError('foreign', 'Not a Lookalike pack (unknown file signature).');
  }
  if (size < PREAMBLE_BYTES) throw truncatedError('its preamble', PREAMBLE_BYTES, size);
  const view = viewOf(bytes);
  const major = view.getUint16(8, true);
  const minor = view.getUint16(10, true);
  if (major !== FORMAT_MAJOR) {
    throw new PackError(
      'version',
      major > FORMAT_MAJOR
        ? `This pack was written by a newer Lookalike (format ${major}); this version reads format ${FORMAT_MAJOR}. Update Lookalike.`
        : `This pack uses format ${major}, which this version of Lookalike cannot read (it reads format ${FORMAT_MAJOR}). Rebuild the pack.`,
    );
  }
  const p: Preamble = {
    major,
    minor,
    headerLength: view.getUint32(12, true),
    sectionCount: view.getUint32(16, true),
    headerCrc: view.getUint32(20, true),
    fileLength: getU64(view, 24),
  };
  if (p.headerLength > MAX_HEADER_BYTES || p.sectionCount > MAX_SECTIONS || p.fileLength > MAX_FILE_BYTES || p.fileLength < tableSpan(p).end) {
    throw corruptError('its preamble is damaged');
  }
  return p;
}

// ---------------------------------------------------------------------------
// Header

/** The header as UTF-8 JSON, keys in declaration order; validates first. */
export function encodeHeader(header: PackHeader): Uint8Array {
  checkHeader(header, 'invalid');
  const { coder } = header;
  const json =
    `{"modelId":${JSON.stringify(header.modelId)},"method":${JSON.stringify(header.method)},` +
    `"dim":${header.dim},"count":${header.count},` +
    `"coder":{"kind":${JSON.stringify(coder.kind)},"bits":${coder.bits},"seed":${coder.seed},"trainedOn":${coder.trainedOn}},` +
    `"vectors":${JSON.stringify(header.vectors)}` +
    (header.partition ? `,"partition":{"lists":${header.partition.lists},"dims":${header.partition.dims},"trainedOn":${header.partition.trainedOn}${header.partition.sketch === 'int8' ? '' : `,"sketch":"${header.partition.sketch}"`}}` : '') +
    '}';
  return new TextEncoder().encode(json);
}

/** Parses and validates header JSON bytes; unknown keys (from newer minor versions) are dropped. */
export function decodeHeader(bytes: Uint8Array): PackHeader {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes));
  } catch {
    throw corruptError('its header is not valid JSON');
  }
  checkHeader(value, 'corrupt');
  const { modelId, method, dim, count, coder, vectors, partition } = value;
  const { kind, bits, seed, trainedOn } = coder;
  const header: PackHeader = { modelId, method, dim, count, coder: { kind, bits, seed, trainedOn }, vectors };
  return partition ? { ...header, partition: { lists: partition.lists, dims: partition.dims, sketch: partition.sketch ?? 'int8', trainedOn: partition.trainedOn } } : header;
}

/** Throws PackError(`code`) unless `h` is a valid header. */
export function checkHeader(h: unknown, code: 'invalid' | 'corrupt'): asserts h is PackHeader {
  const fail = (what: string): never => {
    throw code === 'invalid'
      ? new PackError('invalid', `Can't write pack: header ${what}.`)
      : corruptError(`its header ${what}`);
  };
  if (!isRecord(h)) return fail('is not an object');
  if (typeof h.modelId !== 'string' || h.modelId === '') fail('field "modelId" must be a non-empty string');
  if (typeof h.method !== 'string' || h.method === '') fail('field "method" must be a non-empty string');
  if (!isInt(h.dim, 1, MAX_DIM)) fail(`field "dim" must be an integer from 1 to ${MAX_DIM}`);
  if (!isInt(h.count, 0, MAX_COUNT)) fail(`field "count" must be an integer from 0 to ${MAX_COUNT}`);
  const c = h.coder;
  if (!isRecord(c)) return fail('field "coder" must be an object');
  if (typeof c.kind !== 'string') fail('field "coder.kind" must be a string');
  if (!(CODER_KINDS as readonly string[]).includes(c.kind as string)) {
    if (code === 'corrupt') {
      throw new PackError('version', `This pack uses a coder ("${String(c.kind)}") that this version of Lookalike does not know. Update Lookalike.`);
    }
    fail(`field "coder.kind" must be one of ${CODER_KINDS.map((k) => `"${k}"`).join(', ')}`);
  }
  try {
    wordsPerCode(c.bits as number);
  } catch (e) {
    fail(`field "coder.bits" is wrong: ${(e as Error).message}`);
  }
  if (!isInt(c.seed, 0, 0xffffffff)) fail('field "coder.seed" must be an integer from 0 to 4294967295');
  if (!isInt(c.trainedOn, 0, Number.MAX_SAFE_INTEGER)) fail('field "coder.trainedOn" must be a non-negative integer');
  if (h.vectors !== 'int8') {
    if (code === 'corrupt' && typeof h.vectors === 'string') {
      throw new PackError('version', `This pack stores its vectors as "${h.vectors}", which this version of Lookalike cannot read. Update Lookalike.`);
    }
    fail('field "vectors" must be "int8"');
  }
  const p = h.partition;
  if (p !== undefined) {
    if (!isRecord(p)) return fail('field "partition" must be an object when present');
    if (!isInt(p.lists, 1, MAX_LISTS)) fail(`field "partition.lists" must be an integer from 1 to ${MAX_LISTS}`);
    if (!isInt(p.dims, 1, h.dim as number)) fail('field "partition.dims" must be an integer from 1 to "dim"');
    if (!isInt(p.trainedOn, 0, Number.MAX_SAFE_INTEGER)) fail('field "partition.trainedOn" must be a non-negative integer');
    // Absent in 1.1 packs, whose sketches are all int8.
    if (code === 'corrupt' && p.sketch !== undefined && p.sketch !== 'int8' && p.sketch !== 'int4') {
      throw new PackError('version', `This pack stores its sketches as "${String(p.sketch)}", which this version of Lookalike cannot read. Update Lookalike.`);
    }
    if (code === 'invalid' && p.sketch !== 'int8' && p.sketch !== 'int4') fail('field "partition.sketch" must be "int8" or "int4"');
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/** The exact byte length a fixed-size section must have, or undefined for variable-length and unknown sections. */
export function expectedSectionLength(name: string, header: PackHeader): number | undefined {
  const { dim, count } = header;
  const bits = header.coder.bits;
  switch (name) {
    case SECTION.coderMean: return dim * 4;
    case SECTION.coderProjection: return bits * dim * 4;
    case SECTION.codes: return count * (bits / 8);
    case SECTION.vectors: return count * dim;
    case SECTION.scales: return count * 4;
    case SECTION.metaIndex:
    case SECTION.thumbsIndex: return (count + 1) * 4;
  }
  const { partition } = header;
  if (!partition) return undefined;
  switch (name) {
    case SECTION.partitionMean: return dim * 4;
    case SECTION.partitionProjection: return partition.dims * dim * 4;
    case SECTION.partitionCentroids: return partition.lists * partition.dims * 4;
    case SECTION.sketchLists: return count * 2;
    case SECTION.sketchScales: return count * 4;
    case SECTION.sketches: return count * sketchBytes(partition.dims, 'int8');
    case SECTION.sketchesInt4: return count * sketchBytes(partition.dims, 'int4');
    case SECTION.partitionSpread: return partition.dims * 4;
    default: return undefined;
  }
}

// ---------------------------------------------------------------------------
// Section table

export function encodeSectionTable(sections: readonly PackSection[]): Uint8Array {
  const bytes = new Uint8Array(sections.length * SECTION_ENTRY_BYTES);
  const view = viewOf(bytes);
  sections.forEach((s, i) => {
    const at = i * SECTION_ENTRY_BYTES;
    if (!/^[\x21-\x7e]+$/.test(s.name) || s.name.length > SECTION_NAME_BYTES) throw new RangeError(`Bad section name "${s.name}".`);
    for (let k = 0; k < s.name.length; k++) bytes[at + k] = s.name.charCodeAt(k);
    setU64(view, at + 24, s.offset);
    setU64(view, at + 32, s.length);
    view.setUint32(at + 40, s.crc32, true);
    // Bytes 44–47 are reserved: written as zero, ignored by readers.
  });
  return bytes;
}

/**
 * Reads `count` table entries from `bytes` and checks that names are printable
 * ASCII and unique, and that every section is 8-aligned, after the table, inside
 * `fileLength` and clear of the others.
 */
export function decodeSectionTable(bytes: Uint8Array, count: number, tableEnd: number, fileLength: number): PackSection[] {
  const view = viewOf(bytes);
  const sections: PackSection[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const at = i * SECTION_ENTRY_BYTES;
    let name = '';
    let k = 0;
    for (; k < SECTION_NAME_BYTES && bytes[at + k] !== 0; k++) {
      const b = bytes[at + k]!;
      if (b < 0x21 || b > 0x7e) throw corruptError(`section table entry ${i} has a malformed name`);
      name += String.fromCharCode(b);
    }
    for (; k < SECTION_NAME_BYTES; k++) if (bytes[at + k] !== 0) throw corruptError(`section table entry ${i} has a malformed name`);
    if (name === '') throw corruptError(`section table entry ${i} has no name`);
    if (seen.has(name)) throw corruptError(`section "${name}" appears twice in the section table`, name);
    seen.add(name);
    const offset = getU64(view, at + 24);
    const length = getU64(view, at + 32);
    if (offset % SECTION_ALIGNMENT !== 0 || offset < tableEnd || offset + length > fileLength) {
      throw corruptError(`section "${name}" lies outside the file or off alignment`, name);
    }
    sections.push({ name, offset, length, crc32: view.getUint32(at + 40, true) });
  }
  const byOffset = [...sections].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < byOffset.length; i++) {
    const prev = byOffset[i - 1]!;
    const cur = byOffset[i]!;
    if (prev.offset + prev.length > cur.offset) throw corruptError(`sections "${prev.name}" and "${cur.name}" overlap`, cur.name);
  }
  return sections;
}

// ---------------------------------------------------------------------------
// Item metadata: one canonical JSON object per line

/**
 * An item's metadata as canonical JSON: no whitespace, `id` first, then every other
 * key sorted by UTF-16 code units (nested objects too); fields whose value is
 * `undefined` are left out. Anything that would not come back unchanged from
 * JSON.parse (NaN, functions, class instances, cycles, sparse arrays) is rejected.
 */
export function metaJson(meta: ItemMeta, index: number): string {
  const fail = (why: string): never => {
    throw new PackError('invalid', `Can't write pack: item ${index}'s metadata ${why}.`);
  };
  if (!isPlainObject(meta)) return fail('is not a plain object');
  if (typeof meta.id !== 'string' || meta.id === '') return fail('needs an "id" that is a non-empty string');
  const stack: object[] = [];
  const write = (value: unknown, path: string): string => {
    switch (typeof value) {
      case 'string':
        return JSON.stringify(value);
      case 'boolean':
        return value ? 'true' : 'false';
      case 'number':
        return Number.isFinite(value) ? JSON.stringify(value) : fail(`has a non-finite number at ${path}`);
      case 'object': {
        if (value === null) return 'null';
        if (stack.includes(value)) return fail(`refers to itself at ${path}`);
        stack.push(value);
        let out: string;
        if (Array.isArray(value)) {
          const parts: string[] = [];
          for (let i = 0; i < value.length; i++) {
            if (!(i in value) || value[i] === undefined) fail(`has an empty array slot at ${path}[${i}]`);
            parts.push(write(value[i], `${path}[${i}]`));
          }
          out = `[${parts.join(',')}]`;
        } else if (isPlainObject(value)) {
          const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
          if (stack.length === 1) {
            keys.splice(keys.indexOf('id'), 1);
            keys.unshift('id');
          }
          out = `{${keys.map((k) => `${JSON.stringify(k)}:${write(value[k], `${path}.${k}`)}`).join(',')}}`;
        } else {
          return fail(`has a value at ${path} that is not plain JSON (${Object.prototype.toString.call(value)})`);
        }
        stack.pop();
        return out;
      }
      default:
        return fail(`has a value at ${path} that is not JSON (${typeof value})`);
    }
  };
  return write(meta, 'the top level');
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as object | null;
  // Object.prototype of any realm (a worker's, an iframe's), or none.
  return proto === null || Object.getPrototypeOf(proto) === null;
}

const metaDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Parses one line of the `meta` section (its bytes, newline included). */
export function decodeMetaLine(bytes: Uint8Array, index: number): ItemMeta {
  const bad = (): never => {
    throw corruptError(`item ${index}'s metadata in section "meta" is damaged`, SECTION.meta);
  };
  if (bytes.length < 2 || bytes[bytes.length - 1] !== 0x0a) return bad();
  let value: unknown;
  try {
    value = JSON.parse(metaDecoder.decode(bytes.subarray(0, bytes.length - 1)));
  } catch {
    return bad();
  }
  if (!isRecord(value) || typeof value.id !== 'string' || value.id === '') return bad();
  return value as ItemMeta;
}
