/** `npm run icons`: renders the app's PNG icons from public/icons/icon.svg (run after editing the SVG; the PNGs are committed). */
import { join } from 'node:path';
import sharp from 'sharp';
import { PROJECT_ROOT } from '../src/node/provision.ts';

const dir = join(PROJECT_ROOT, 'public/icons');
for (const size of [192, 512]) {
  await sharp(join(dir, 'icon.svg')).resize(size, size).png({ compressionLevel: 9, palette: true }).toFile(join(dir, `icon-${size}.png`));
}
