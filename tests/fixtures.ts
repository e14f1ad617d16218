/**
 * Derived test images, made at test time from the shared photos (never committed):
 * bad inputs of every kind, and the same photo in other formats and orientations.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { PHOTOS_DIR } from './photos.ts';

export const SOURCE_PHOTO = join(PHOTOS_DIR, 'n01443537_goldfish.JPEG');

/** Files that must embed, and what each one is. All show the goldfish photo upright. */
export const GOOD_FIXTURES = ['goldfish.png', 'goldfish-alpha.png', 'goldfish.webp', 'goldfish.gif', 'goldfish-exif-rotated.jpg', 'goldfish-50mp.jpg'] as const;
/** Files that must fail with a clear error. */
export const BAD_FIXTURES = ['empty.jpg', 'notes.png', 'truncated.jpg', 'truncated.png', 'bomb.png'] as const;
/** Scrambled entropy data: a decoder may reject it or return garbage, but must not hang or crash. */
export const CORRUPT_FIXTURE = 'scrambled.jpg';

export async function makeFixtures(): Promise<string> {
  const dir = join(tmpdir(), `lookalike-fixtures-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const jpeg = readFileSync(SOURCE_PHOTO);
  const photo = sharp(jpeg);
  const { width, height } = await photo.metadata();

  writeFileSync(join(dir, 'goldfish.png'), await photo.clone().png().toBuffer());
  writeFileSync(join(dir, 'goldfish-alpha.png'), await photo.clone().ensureAlpha(0.999).png().toBuffer());
  writeFileSync(join(dir, 'goldfish.webp'), await photo.clone().webp({ quality: 95 }).toBuffer());
  writeFileSync(join(dir, 'goldfish.gif'), await photo.clone().gif().toBuffer());
  // Pixels stored rotated 90° anticlockwise with EXIF orientation 6: upright when the orientation is honoured.
  writeFileSync(join(dir, 'goldfish-exif-rotated.jpg'), await sharp(await photo.clone().rotate(-90).toBuffer()).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer());
  const scale = Math.sqrt(50e6 / (width * height));
  writeFileSync(join(dir, 'goldfish-50mp.jpg'), await photo.clone().resize(Math.round(width * scale), Math.round(height * scale)).jpeg({ quality: 80 }).toBuffer());

  writeFileSync(join(dir, 'empty.jpg'), new Uint8Array());
  writeFileSync(join(dir, 'notes.png'), 'These are my notes, not a picture.\n');
  writeFileSync(join(dir, 'truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.length * 0.6)));
  const png = readFileSync(join(dir, 'goldfish.png'));
  writeFileSync(join(dir, 'truncated.png'), png.subarray(0, Math.floor(png.length * 0.6)));
  // A decompression bomb: a tiny PNG whose header claims 40000×40000 pixels.
  const bomb = Buffer.from(await sharp({ create: { width: 8, height: 8, channels: 3, background: '#888' } }).png().toBuffer());
  bomb.writeUInt32BE(40_000, 16);
  bomb.writeUInt32BE(40_000, 20);
  writeFileSync(join(dir, 'bomb.png'), bomb);
  const scrambled = Buffer.from(jpeg);
  for (let i = Math.floor(scrambled.length / 3); i < (scrambled.length * 2) / 3; i += 7) scrambled[i] = (i * 31) & 0xfe;
  writeFileSync(join(dir, CORRUPT_FIXTURE), scrambled);
  return dir;
}
