/**
 * The perceptual part of a fused embedding: the low DCT frequencies of the
 * model input's grey thumbnail, the information pHash keeps. The CNN's
 * pooled features lose it when a copy is heavily downscaled (blurred), while
 * the low frequencies survive; the fused vector's cosine is
 * (1 − w)·cos_cnn + w·cos_dct for DCT weight w.
 */
import { lowDct } from '../image/dct.ts';
import type { ModelSpec } from '../models/registry.ts';
import { cosine, unit } from './vector.ts';

/** Side of the grey thumbnail the DCT runs on, and of the block of lowest frequencies kept. */
export const DCT_GRID = 32;
const DCT_KEEP = 16;
/** Frequencies kept (DC dropped: it is the image's mean brightness). */
export const DCT_DIMS = DCT_KEEP * DCT_KEEP - 1;
/** Share of the fused cosine given to the DCT part; chosen on bench:quality (see BENCHMARKS.md). */
export const DCT_WEIGHT = 0.25;

/** Length of the embeddings `Embedder` gives for a model: its pooled features, then the DCT part. */
export function embeddingLength(spec: ModelSpec): number {
  return spec.featureDims + DCT_DIMS;
}

/** The 32×32 mean grey of an HWC RGB model input, whose side must be a multiple of 32. */
export function inputGrey(input: Float32Array, inputSize: number): Float32Array {
  const block = inputSize / DCT_GRID;
  if (!Number.isInteger(block) || input.length !== inputSize * inputSize * 3) {
    throw new RangeError(`Expected a ${inputSize}×${inputSize}×3 model input with a side divisible by ${DCT_GRID}.`);
  }
  const grey = new Float32Array(DCT_GRID * DCT_GRID);
  for (let y = 0; y < inputSize; y++) {
    const row = Math.floor(y / block) * DCT_GRID;
    for (let x = 0; x < inputSize; x++) {
      const p = (y * inputSize + x) * 3;
      grey[row + Math.floor(x / block)]! += input[p]! + input[p + 1]! + input[p + 2]!;
    }
  }
  return grey;
}

/** Scale of horizontal frequency u, vertical v: natural images' spectra fall off as 1/f, and this evens them out. */
const radialFrequency = (u: number, v: number): number => Math.hypot(u, v);

/**
 * The `keep`×`keep` lowest DCT frequencies of a 32×32 grey thumbnail, DC
 * dropped, each scaled by `weight(u, v)`, as a unit vector. The defaults are
 * the embedding's; bench:quality compares others. Unscaled, the first few
 * frequencies would outweigh the rest.
 */
export function dctDescriptor(grey: Float32Array, keep = DCT_KEEP, weight = radialFrequency): Float32Array {
  const c = lowDct(grey, DCT_GRID, keep);
  const out = new Float32Array(c.length - 1);
  for (let j = 1; j < c.length; j++) out[j - 1] = c[j]! * weight(j % keep, Math.floor(j / keep));
  return unit(out);
}

/** [√(1 − w)·cnn, √w·dct] for unit `cnn` and `dct`: a unit vector. */
export function fuse(cnn: Float32Array, dct: Float32Array, dctWeight: number): Float32Array {
  const out = new Float32Array(cnn.length + dct.length);
  const a = Math.sqrt(1 - dctWeight), b = Math.sqrt(dctWeight);
  for (let i = 0; i < cnn.length; i++) out[i] = a * cnn[i]!;
  for (let i = 0; i < dct.length; i++) out[cnn.length + i] = b * dct[i]!;
  return out;
}

/**
 * Cosine between the DCT parts (the last `DCT_DIMS` components) of two fused
 * embeddings. A resized copy keeps its low frequencies while its CNN features
 * drift, so this tells the same picture at another size from a similar one.
 */
export function dctCosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length || a.length < DCT_DIMS) throw new RangeError(`Expected two fused embeddings of one length, not ${a.length} and ${b.length}.`);
  return cosine(a.subarray(a.length - DCT_DIMS), b.subarray(b.length - DCT_DIMS));
}
