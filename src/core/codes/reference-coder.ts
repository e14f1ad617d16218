/**
 * The reference coder: binary codes that mean the same on every device
 * without any index, for `lookalike code` when no pack is given.
 *
 * LSH (random hyperplanes, seed 1, 256 bits unless asked otherwise) centred on
 * the model's mean embedding. The means in `../models/feature-means.json` are
 * the average L2-normalised embedding of each model over the 800 shared
 * ImageNet sample photos (one per class), each value rounded to 6 significant
 * digits; `scripts/feature-means.ts` computes them. They are a derived
 * statistic: neither photos nor model weights. Changing them, the seed or the
 * model changes every reference code.
 */
import { embeddingLength } from '../embed/fused.ts';
import type { ModelSpec } from '../models/registry.ts';
import means from '../models/feature-means.json' with { type: 'json' };
import { DEFAULT_BITS } from './bits.ts';
import { Coder, trainCoder } from './coder.ts';

export const REFERENCE_SEED = 1;

export function referenceCoder(spec: ModelSpec, bits = DEFAULT_BITS): Coder {
  const mean = (means as Readonly<Record<string, readonly number[]>>)[spec.id];
  if (!mean || mean.length !== embeddingLength(spec)) {
    throw new Error(`No reference mean embedding for model "${spec.id}"; run scripts/feature-means.ts.`);
  }
  // LSH "trained" on one row, the mean, takes that row as its centre.
  return new Coder(trainCoder('lsh', Float32Array.from(mean), embeddingLength(spec), { bits, seed: REFERENCE_SEED }));
}
