/**
 * Copydays-style edits of a photo: each turns an original's bytes into a JPEG
 * copy with sharp, deterministically from a seeded random source. Also the
 * distractors (images that are no query's original). bench:quality makes every
 * kind; a Node test makes two, which is why this is a test helper (as
 * `photos.ts` is) and not part of the bench.
 */
import sharp, { type Sharp } from 'sharp';

export type Family = 'crop' | 'jpeg' | 'downscale' | 'rotation' | 'flip' | 'colour' | 'overlay' | 'combination';
export const FAMILIES: readonly Family[] = ['crop', 'jpeg', 'downscale', 'rotation', 'flip', 'colour', 'overlay', 'combination'];

/** One step on an upright image; `random` is seeded per (original, transform). */
type Step = (image: Sharp, width: number, height: number, random: () => number) => Sharp | Promise<Sharp>;

export interface Transform {
  readonly family: Family;
  readonly name: string;
  /** Applied in order, each on the previous step's output; the copy is then saved as JPEG q92 unless a step sets its own quality. */
  readonly steps: readonly Step[];
  readonly quality?: number;
}

const crop = (area: number, offCentre: boolean): Step => (image, width, height, random) => {
  const side = Math.sqrt(area);
  const w = Math.round(width * side), h = Math.round(height * side);
  const left = offCentre ? Math.floor(random() * (width - w + 1)) : Math.round((width - w) / 2);
  const top = offCentre ? Math.floor(random() * (height - h + 1)) : Math.round((height - h) / 2);
  return image.extract({ left, top, width: w, height: h });
};

const downscale = (factor: number): Step => (image, width) => image.resize({ width: Math.max(1, Math.round(width / factor)) });

/** Rotated about the centre and cut back to the original frame, the corners filled black, as a photo of a tilted print. */
const rotate = (degrees: number): Step => async (image, width, height) => {
  const { data, info } = await image.rotate(degrees, { background: '#000' }).png().toBuffer({ resolveWithObject: true });
  return sharp(data).extract({ left: Math.round((info.width - width) / 2), top: Math.round((info.height - height) / 2), width, height });
};

const brightness: Step = (image, _w, _h, random) => image.modulate({ brightness: random() < 0.5 ? 0.65 : 1.35 });
const contrast: Step = (image, _w, _h, random) => {
  const a = random() < 0.5 ? 0.55 : 1.5;
  return image.linear(a, 128 * (1 - a));
};
const saturation: Step = (image, _w, _h, random) => image.modulate({ saturation: random() < 0.5 ? 0.25 : 1.9, hue: Math.round(random() * 40 - 20) });

const WORDS = ['SALE', 'Holiday 2024', '© lookalike', 'Best price!', 'IMG_4031', 'Summer'];

/** A caption in DejaVu Sans, a tenth to a sixth of the image high, at a random place. */
const text: Step = (image, width, height, random) => {
  const size = Math.round(height * (0.1 + random() * 0.06));
  const word = WORDS[Math.floor(random() * WORDS.length)]!;
  const x = Math.round(random() * width * 0.3), y = Math.round(size + random() * (height - 1.3 * size));
  const svg = `<svg width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg"><text x="${x}" y="${y}" font-family="DejaVu Sans" font-weight="bold" font-size="${size}" fill="#fff" stroke="#000" stroke-width="${Math.max(1, size / 20)}">${word}</text></svg>`;
  return image.composite([{ input: Buffer.from(svg), left: 0, top: 0 }]);
};

/** A semi-opaque badge (disc and bar) of a fifth of the width in a random corner. */
const logo: Step = (image, width, height, random) => {
  const size = Math.max(8, Math.round(width * 0.2));
  const hue = Math.floor(random() * 360);
  const svg = `<svg width="${size}" height="${size}" xmlns="http://www.w3.org/2000/svg"><circle cx="${size / 2}" cy="${size / 2}" r="${size / 2.2}" fill="hsl(${hue},80%,50%)" fill-opacity="0.8"/><rect x="${size * 0.2}" y="${size * 0.42}" width="${size * 0.6}" height="${size * 0.16}" fill="#fff"/></svg>`;
  const corner = Math.floor(random() * 4);
  const left = corner % 2 ? width - size - Math.round(width * 0.03) : Math.round(width * 0.03);
  const top = corner >= 2 ? height - size - Math.round(height * 0.03) : Math.round(height * 0.03);
  return image.composite([{ input: Buffer.from(svg), left: Math.max(0, left), top: Math.max(0, top) }]);
};

const flip: Step = (image) => image.flop();

export const TRANSFORMS: readonly Transform[] = [
  ...([0.8, 0.6, 0.4] as const).flatMap((area) => [
    { family: 'crop' as const, name: `crop ${area * 100}% centre`, steps: [crop(area, false)] },
    { family: 'crop' as const, name: `crop ${area * 100}% off-centre`, steps: [crop(area, true)] },
  ]),
  ...[75, 30, 10].map((quality) => ({ family: 'jpeg' as const, name: `jpeg q${quality}`, steps: [], quality })),
  ...[2, 4, 8].map((factor) => ({ family: 'downscale' as const, name: `downscale 1/${factor}`, steps: [downscale(factor)] })),
  ...[5, -5, 15, -15].map((degrees) => ({ family: 'rotation' as const, name: `rotate ${degrees > 0 ? '+' : ''}${degrees}°`, steps: [rotate(degrees)] })),
  { family: 'flip', name: 'flip horizontal', steps: [flip] },
  { family: 'colour', name: 'brightness', steps: [brightness] },
  { family: 'colour', name: 'contrast', steps: [contrast] },
  { family: 'colour', name: 'saturation + hue', steps: [saturation] },
  { family: 'overlay', name: 'text', steps: [text] },
  { family: 'overlay', name: 'logo', steps: [logo] },
  { family: 'combination', name: 'crop 60% off-centre + brightness + jpeg q30', steps: [crop(0.6, true), brightness], quality: 30 },
  { family: 'combination', name: 'downscale 1/4 + rotate +5° + text', steps: [downscale(4), rotate(5), text] },
  { family: 'combination', name: 'flip + crop 80% + saturation + jpeg q50', steps: [flip, crop(0.8, true), saturation], quality: 50 },
];

/** The upright original, as sharp sees it after EXIF orientation. */
async function upright(bytes: Uint8Array): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(bytes).autoOrient().png().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

export async function applyTransform(bytes: Uint8Array, transform: Transform, random: () => number): Promise<Buffer> {
  let current = await upright(bytes);
  for (const step of transform.steps) {
    const { data, info } = await (await step(sharp(current.data), current.width, current.height, random)).png().toBuffer({ resolveWithObject: true });
    current = { data, width: info.width, height: info.height };
  }
  return sharp(current.data).jpeg({ quality: transform.quality ?? 92 }).toBuffer();
}

/** A downscaled copy (the low-res twin of "find the original"). */
export async function lowRes(bytes: Uint8Array, factor: number): Promise<Buffer> {
  return applyTransform(bytes, { family: 'downscale', name: `1/${factor}`, steps: [downscale(factor)], quality: 80 }, () => 0);
}

/** A distractor from one photo: a random quarter of it, colour-shifted. */
export async function cropDistractor(bytes: Uint8Array, random: () => number): Promise<Buffer> {
  return applyTransform(bytes, { family: 'crop', name: 'distractor', steps: [crop(0.25, true), saturation] }, random);
}

/** A distractor from four photos: a 2×2 mosaic of their thumbnails. */
export async function mosaicDistractor(photos: readonly Uint8Array[]): Promise<Buffer> {
  const tiles = await Promise.all(photos.map((p) => sharp(p).autoOrient().resize(256, 256).png().toBuffer()));
  return sharp({ create: { width: 512, height: 512, channels: 3, background: '#000' } })
    .composite(tiles.map((input, i) => ({ input, left: (i % 2) * 256, top: Math.floor(i / 2) * 256 })))
    .jpeg({ quality: 90 })
    .toBuffer();
}
