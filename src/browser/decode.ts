/** Browser image decoding (worker-safe): createImageBitmap + OffscreenCanvas. */
import { ImageInputError, sniffImage } from '../core/image/sniff.ts';
import { decodeSize, type RgbaImage } from '../core/image/preprocess.ts';

/** Decodes JPEG, PNG, WebP or GIF (first frame), EXIF orientation applied, to sRGB RGBA. */
export async function decodeImage(blob: Blob, inputSize: number): Promise<RgbaImage> {
  sniffImage(new Uint8Array(await blob.arrayBuffer()));
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { imageOrientation: 'from-image', premultiplyAlpha: 'none', colorSpaceConversion: 'default' });
  } catch {
    throw new ImageInputError('The image data is corrupt and could not be decoded.');
  }
  // The upright size is known only after decoding, so large photos are decoded in
  // full (50 MP ≈ 200 MB for a moment) and then shrunk; one image at a time per batch.
  const target = decodeSize(bitmap.width, bitmap.height, inputSize);
  if (target) {
    const full = bitmap;
    try {
      bitmap = await createImageBitmap(full, { resizeWidth: target.width, resizeHeight: target.height, resizeQuality: 'high', premultiplyAlpha: 'none' });
    } catch {
      throw new ImageInputError(`The ${full.width}×${full.height} image could not be downscaled (out of memory?).`);
    } finally {
      full.close();
    }
  }
  try {
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('OffscreenCanvas 2D context is unavailable.');
    ctx.drawImage(bitmap, 0, 0);
    const { data, width, height } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    return { width, height, data };
  } finally {
    bitmap.close();
  }
}
