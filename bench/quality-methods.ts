/**
 * The embedding methods bench:quality compares, each built from cached
 * per-image features with the same core functions the Embedder uses. The
 * first is the old method; the one marked `isDefault` is what the Embedder computes.
 */
import { EMBEDDING_METHOD } from '../src/core/embed/embedder.ts';
import { dctDescriptor, DCT_WEIGHT, fuse } from '../src/core/embed/fused.ts';

/** What a method builds an image's vector from; bench:quality computes and caches it. */
export interface MethodInput {
  /** The CNN's L2-normalised pooled features. */
  readonly cnn: Float32Array;
  /** The model input's 32×32 grey thumbnail. */
  readonly grey: Float32Array;
  /** `inputSharpness` of the model input. */
  readonly sharpness: number;
}

export interface Method {
  readonly id: string;
  readonly isDefault?: boolean;
  readonly vector: (f: MethodInput) => Float32Array;
}

const flat = () => 1;

/**
 * How much fine detail an HWC RGB model input holds: the mean squared
 * difference between neighbouring grey pixels over the grey variance. An
 * upscaled small image (a heavily downscaled copy) scores far below a photo.
 */
export function inputSharpness(input: Float32Array, inputSize: number): number {
  const n = inputSize;
  const grey = new Float32Array(n * n);
  for (let i = 0; i < grey.length; i++) grey[i] = input[i * 3]! + input[i * 3 + 1]! + input[i * 3 + 2]!;
  let sum = 0, sumSq = 0, diff = 0;
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const v = grey[y * n + x]!;
      sum += v;
      sumSq += v * v;
      if (x > 0) diff += (v - grey[y * n + x - 1]!) ** 2;
      if (y > 0) diff += (v - grey[(y - 1) * n + x]!) ** 2;
    }
  }
  const variance = sumSq / grey.length - (sum / grey.length) ** 2;
  return diff / (2 * n * (n - 1)) / Math.max(variance, 1e-6);
}

/** DCT weight `sharp` at sharpness ≥ 0.03 (photos, crops), `blurred` at ≤ 0.008 (1/8 copies), log-linear between. */
function sharpnessWeight(sharpness: number, sharp: number, blurred: number): number {
  const t = Math.min(1, Math.max(0, Math.log(sharpness / 0.008) / Math.log(0.03 / 0.008)));
  return blurred + (sharp - blurred) * t;
}

/** Rounds of experiments, in the order they were run (BENCHMARKS.md has the figures); the last entry is the default. */
export const METHODS: readonly Method[] = [
  { id: 'gap', vector: (f) => f.cnn },
  ...[0.1, 0.15, 0.2, 0.25, 0.3].map((w) => ({ id: `gap+dct8x8-${w}`, vector: (f: MethodInput) => fuse(f.cnn, dctDescriptor(f.grey, 8, flat), w) })),
  ...[0.15, 0.2, 0.25].map((w) => ({ id: `gap+dctr8x8-${w}`, vector: (f: MethodInput) => fuse(f.cnn, dctDescriptor(f.grey, 8), w) })),
  ...[12, 16].flatMap((keep) => [0.2, 0.25, 0.3].map((w) => ({ id: `gap+dctr${keep}x${keep}-${w}`, vector: (f: MethodInput) => fuse(f.cnn, dctDescriptor(f.grey, keep), w) }))),
  ...[12, 16].flatMap((keep) => [0.2, 0.3].map((w) => ({ id: `gap+dct${keep}x${keep}-${w}`, vector: (f: MethodInput) => fuse(f.cnn, dctDescriptor(f.grey, keep, flat), w) }))),
  ...[12, 16].flatMap((keep) => ([[0.15, 0.4], [0.2, 0.4], [0.15, 0.5], [0.2, 0.5]] as const).map(([sharp, blurred]) => ({
    id: `gap+dctr${keep}x${keep}-adaptive${sharp}-${blurred}`,
    vector: (f: MethodInput) => fuse(f.cnn, dctDescriptor(f.grey, keep), sharpnessWeight(f.sharpness, sharp, blurred)),
  }))),
  { id: EMBEDDING_METHOD, isDefault: true, vector: (f: MethodInput) => fuse(f.cnn, dctDescriptor(f.grey), DCT_WEIGHT) },
];
