/** Node image decoding with sharp (libvips; its binaries ship inside npm packages). */
import sharp from 'sharp';
import { sniffImage } from '../core/image/sniff.ts';
import { decodeSize, type RgbaImage } from '../core/image/preprocess.ts';

/** Decodes JPEG, PNG, WebP or GIF (first frame), EXIF orientation applied, to sRGB RGBA. */
export async function decodeImage(bytes: Uint8Array, inputSize: number): Promise<RgbaImage> {
  sniffImage(bytes);
  let pipeline = sharp(bytes, { failOn: 'error', limitInputPixels: false, pages: 1 }).autoOrient();
  // The shrink target follows the upright image: EXIF orientations 5-8 swap the axes.
  const { autoOrient: upright } = await pipeline.metadata();
  const target = decodeSize(upright.width, upright.height, inputSize);
  if (target) pipeline = pipeline.resize({ ...target, fit: 'fill' });
  const { data, info: out } = await pipeline.toColourspace('srgb').ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: out.width, height: out.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}
