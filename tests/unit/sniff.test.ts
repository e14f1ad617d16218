import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ImageInputError, MAX_IMAGE_PIXELS, sniffImage } from '../../src/core/image/sniff.ts';
import { SOURCE_PHOTO } from '../fixtures.ts';

const jpeg = readFileSync(SOURCE_PHOTO);
const rgb = { width: 37, height: 23, channels: 3 as const, background: '#3a6' };

describe('sniffImage', () => {
  it('reads the size of each supported format', async () => {
    const meta = await sharp(jpeg).metadata();
    expect(sniffImage(jpeg)).toEqual({ format: 'jpeg', width: meta.width, height: meta.height });
    const png = await sharp({ create: rgb }).png().toBuffer();
    expect(sniffImage(png)).toEqual({ format: 'png', width: 37, height: 23 });
    expect(sniffImage(await sharp({ create: rgb }).gif().toBuffer())).toEqual({ format: 'gif', width: 37, height: 23 });
    expect(sniffImage(await sharp({ create: rgb }).webp({ lossless: true }).toBuffer())).toEqual({ format: 'webp', width: 37, height: 23 });
    expect(sniffImage(await sharp({ create: rgb }).webp({ quality: 80 }).toBuffer())).toEqual({ format: 'webp', width: 37, height: 23 });
    const withAlpha = await sharp({ create: { ...rgb, channels: 4, background: { r: 1, g: 2, b: 3, alpha: 0.5 } } }).webp().toBuffer();
    expect(sniffImage(withAlpha)).toMatchObject({ width: 37, height: 23 });
  });

  it('rejects empty, foreign and truncated files with a clear message', async () => {
    expect(() => sniffImage(new Uint8Array())).toThrow(/empty/);
    expect(() => sniffImage(new TextEncoder().encode('hello, world'))).toThrow(/expected JPEG, PNG, GIF or WebP/);
    expect(() => sniffImage(jpeg.subarray(0, jpeg.length - 100))).toThrow(/JPEG file is truncated/);
    expect(() => sniffImage(jpeg.subarray(0, 300))).toThrow(/truncated/);
    const png = await sharp({ create: rgb }).png().toBuffer();
    expect(() => sniffImage(png.subarray(0, png.length - 20))).toThrow(/PNG file is truncated/);
    const webp = await sharp({ create: rgb }).webp().toBuffer();
    expect(() => sniffImage(webp.subarray(0, webp.length - 10))).toThrow(/WebP file is truncated/);
  });

  it('accepts a PNG with bytes after its end chunk', async () => {
    const png = await sharp({ create: rgb }).png().toBuffer();
    expect(sniffImage(Buffer.concat([png, Buffer.alloc(200, 7)]))).toMatchObject({ format: 'png' });
  });

  it('rejects decompression bombs before decoding', async () => {
    const png = Buffer.from(await sharp({ create: rgb }).png().toBuffer());
    png.writeUInt32BE(20_000, 16);
    png.writeUInt32BE(20_000, 20);
    expect(() => sniffImage(png)).toThrow(ImageInputError);
    expect(() => sniffImage(png)).toThrow(`limit is ${MAX_IMAGE_PIXELS / 1e6} megapixels`);
  });
});
