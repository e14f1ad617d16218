/** The shared ImageNet sample photos: one per class, with their class index. */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PROJECT_ROOT } from '../src/node/provision.ts';

export const PHOTOS_DIR = process.env.LOOKALIKE_PHOTOS ?? resolve(PROJECT_ROOT, '../shared/data/imagenet-sample-images');

export interface Photo { readonly classIndex: number; readonly file: string; readonly path: string }

export function loadPhotos(): Photo[] {
  const lines = readFileSync(join(PHOTOS_DIR, 'index.csv'), 'utf8').trim().split('\n').slice(1);
  return lines.map((line) => {
    const [index, , , file] = line.split(',');
    return { classIndex: Number(index), file: file!, path: join(PHOTOS_DIR, file!) };
  });
}
