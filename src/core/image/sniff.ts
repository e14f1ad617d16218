/**
 * Recognises an image file from its bytes and reads its size without decoding it,
 * so that every platform rejects non-images, truncated files and decompression
 * bombs with the same clear message before handing the bytes to a decoder.
 */

export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'webp';

export interface ImageInfo {
  readonly format: ImageFormat;
  readonly width: number;
  readonly height: number;
}

/** Decoding more than this would need over 400 MB of RGBA memory. */
export const MAX_IMAGE_PIXELS = 100_000_000;

export class ImageInputError extends Error {
  override readonly name = 'ImageInputError';
}

export function sniffImage(bytes: Uint8Array): ImageInfo {
  if (bytes.length === 0) throw new ImageInputError('The file is empty (0 bytes).');
  const info = readHeader(bytes);
  if (info.width <= 0 || info.height <= 0) {
    throw new ImageInputError(`The ${info.format.toUpperCase()} header gives an invalid size ${info.width}×${info.height}.`);
  }
  if (info.width * info.height > MAX_IMAGE_PIXELS) {
    const mp = ((info.width * info.height) / 1e6).toFixed(0);
    throw new ImageInputError(
      `The image is ${info.width}×${info.height} (${mp} megapixels); the limit is ${MAX_IMAGE_PIXELS / 1e6} megapixels.`,
    );
  }
  return info;
}

function readHeader(b: Uint8Array): ImageInfo {
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return readJpeg(b);
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return readPng(b);
  if (startsWithAscii(b, 0, 'GIF87a') || startsWithAscii(b, 0, 'GIF89a')) return readGif(b);
  if (startsWithAscii(b, 0, 'RIFF') && startsWithAscii(b, 8, 'WEBP')) return readWebp(b);
  throw new ImageInputError('Not a supported image: expected JPEG, PNG, GIF or WebP.');
}

function truncated(format: string): never {
  throw new ImageInputError(`The ${format} file is truncated or corrupt.`);
}

function readJpeg(b: Uint8Array): ImageInfo {
  let size: { width: number; height: number } | undefined;
  let pos = 2;
  while (pos + 4 <= b.length) {
    if (b[pos] !== 0xff) truncated('JPEG');
    const marker = b[pos + 1]!;
    if (marker === 0xff) { pos += 1; continue; } // fill byte
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) { pos += 2; continue; } // TEM, RSTn, SOI: no length
    const length = u16be(b, pos + 2);
    const isStartOfFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isStartOfFrame && pos + 9 <= b.length) {
      size = { height: u16be(b, pos + 5), width: u16be(b, pos + 7) };
    }
    if (marker === 0xda) {
      // Start of scan: entropy-coded data follows. Inside it 0xFF is always
      // stuffed (FF00) or a restart marker, so an end-of-image marker after this
      // point can only be the real one; without it the file was cut short.
      if (!size) truncated('JPEG');
      if (!containsPair(b, pos + 2 + length, 0xff, 0xd9)) truncated('JPEG');
      return { format: 'jpeg', ...size };
    }
    pos += 2 + length;
  }
  return truncated('JPEG');
}

function readPng(b: Uint8Array): ImageInfo {
  if (b.length < 33 || !startsWithAscii(b, 12, 'IHDR')) truncated('PNG');
  // The end chunk may be followed by trailing bytes, so look for it anywhere after the header.
  if (!containsSequence(b, 33, [0x49, 0x45, 0x4e, 0x44])) truncated('PNG');
  return { format: 'png', width: u32be(b, 16), height: u32be(b, 20) };
}

function readGif(b: Uint8Array): ImageInfo {
  if (b.length < 14) truncated('GIF');
  return { format: 'gif', width: u16le(b, 6), height: u16le(b, 8) };
}

function readWebp(b: Uint8Array): ImageInfo {
  if (b.length < 30 || u32le(b, 4) + 8 > b.length) truncated('WebP');
  if (startsWithAscii(b, 12, 'VP8 ')) {
    return { format: 'webp', width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  }
  if (startsWithAscii(b, 12, 'VP8L')) {
    const bits = u32le(b, 21);
    return { format: 'webp', width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (startsWithAscii(b, 12, 'VP8X')) {
    return { format: 'webp', width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
  }
  throw new ImageInputError('The WebP file has an unknown layout.');
}

const u16be = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const u16le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const u24le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
const u32be = (b: Uint8Array, i: number) => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
const u32le = (b: Uint8Array, i: number) => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;

function startsWith(b: Uint8Array, prefix: readonly number[], at = 0): boolean {
  return prefix.every((v, i) => b[at + i] === v);
}

function startsWithAscii(b: Uint8Array, at: number, text: string): boolean {
  return startsWith(b, Array.from(text, (c) => c.charCodeAt(0)), at);
}

function containsPair(b: Uint8Array, from: number, first: number, second: number): boolean {
  for (let i = b.indexOf(first, from); i !== -1 && i + 1 < b.length; i = b.indexOf(first, i + 1)) {
    if (b[i + 1] === second) return true;
  }
  return false;
}

function containsSequence(b: Uint8Array, from: number, seq: readonly number[]): boolean {
  for (let i = from; i + seq.length <= b.length; i++) if (startsWith(b, seq, i)) return true;
  return false;
}
