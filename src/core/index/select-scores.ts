/**
 * Picking the scores at or above a threshold, in order: how the sketch scan's picks (inverted-lists.ts) find the
 * few scores they must look at. A JavaScript loop over 50 000 scores took 75–100 µs in Chromium 150 here (and the
 * heap that kept the best 100 of them, 123–243 µs); the WebAssembly SIMD kernel (select-scores.wat) tests four a step,
 * and SketchArray runs it where a scan's scores are, in its memory. The loop below is the same pick everywhere else.
 */
import { simdModule } from '../wasm/simd-module.ts';
import { SELECT_SCORES_SHARED_WASM_BASE64, SELECT_SCORES_WASM_BASE64 } from './select-scores-wasm.ts';

/**
 * The indexes of a set of scores at or above a threshold (compared as a float32, as the kernel does), in increasing
 * order: a view of the array the pick writes into, which its maker chose.
 */
export type SelectAtLeast = (threshold: number) => Uint32Array;

/** The compiled kernel, or null where WebAssembly SIMD is missing. */
export const compiledSelectKernel = simdModule(SELECT_SCORES_WASM_BASE64);
/** The same, importing a shared memory. */
export const compiledSharedSelectKernel = simdModule(SELECT_SCORES_SHARED_WASM_BASE64);

/** The kernel's export: atLeast(scores, count, threshold, out) → how many (byte addresses; see select-scores.wat). */
export type AtLeastFunction = (scores: number, count: number, threshold: number, out: number) => number;

/** The indexes i of `scores` with scores[i] ≥ threshold as a float32 (NaN never is), in increasing order, in `into` (a view of it). */
export function indexesAtLeast(scores: Float32Array, threshold: number, into: Uint32Array): Uint32Array {
  const cut = Math.fround(threshold);
  let n = 0;
  for (let i = 0; i < scores.length; i++) if (scores[i]! >= cut) into[n++] = i;
  return into.subarray(0, n);
}
