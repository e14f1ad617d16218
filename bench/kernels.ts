/**
 * `npm run bench:kernels [-- --json <file>]`: each WebAssembly SIMD kernel
 * against its plain-JS path (what engines without SIMD run), side by side in
 * one run: the two calls alternate over the same inputs, and each reports its
 * median. The shapes are the defaults' (1023-d embeddings, 256-bit codes,
 * 256-d int4 sketches, a re-rank of 100, ITQ-256 training).
 *
 * Node runs the same V8 as Chromium, so the ratios carry over; the absolute
 * times are this machine's.
 */
import { writeFileSync } from 'node:fs';
import { Coder, trainCoder } from '../src/core/codes/coder.ts';
import { multiplyABt, plainMultiplyABt } from '../src/core/codes/linalg.ts';
import { seededRandom } from '../src/core/codes/random.ts';
import { MatrixKernel } from '../src/core/index/matrix-kernel.ts';
import { SketchArray } from '../src/core/index/sketch-kernel.ts';
import { Int8Scorer, type StoredInt8 } from '../src/core/vectors/int8-scorer.ts';
import { quantizeInt8 } from '../src/core/vectors/quantize.ts';
import { median } from './stats.ts';

const DIM = 1023;
const BITS = 256;
const SKETCH_DIMS = 256;
const RERANK = 100;
const ROUNDS = 41;

const args = process.argv.slice(2);
const jsonPath = args.includes('--json') ? args[args.indexOf('--json') + 1] : undefined;
const random = seededRandom(7);
const embeddings = (count: number) => Float32Array.from({ length: count * DIM }, () => Math.max(0, random() - 0.4));

interface Row {
  readonly kernel: string;
  readonly simdMs: number;
  readonly plainMs: number;
  readonly speedUp: number;
}

/** Median ms of `calls` repeats of each, alternating rounds. */
function sideBySide(kernel: string, calls: number, simd: () => void, plain: () => void): Row {
  const times = { simd: [] as number[], plain: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [which, run] of [['simd', simd], ['plain', plain]] as const) {
      const start = performance.now();
      for (let c = 0; c < calls; c++) run();
      times[which].push((performance.now() - start) / calls);
    }
  }
  const [simdMs, plainMs] = [median(times.simd), median(times.plain)];
  const row = { kernel, simdMs, plainMs, speedUp: plainMs / simdMs };
  console.log(`${kernel}: SIMD ${row.simdMs.toFixed(4)} ms, plain JS ${row.plainMs.toFixed(4)} ms, ${row.speedUp.toFixed(2)}×`);
  return row;
}

const rows: Row[] = [];

{
  const sample = embeddings(600);
  const params = trainCoder('itq', sample, DIM, { bits: BITS, seed: 1, iterations: 5 });
  const [simd, plain] = [new Coder(params), new Coder(params, { simd: false })];
  const out = new Uint32Array(BITS / 32);
  let i = 0;
  const next = () => (i = (i + 1) % 600) * DIM;
  rows.push(sideBySide(`code an item (${DIM}-d, ITQ-${BITS})`, 20, () => simd.encode(sample, next(), out, 0), () => plain.encode(sample, next(), out, 0)));
}

{
  const pages = Array.from({ length: RERANK }, () => new Int8Array(4 * DIM));
  const items: StoredInt8[] = pages.map((vectors, i) => {
    const offset = (i % 4) * DIM;
    return { vectors, offset, scale: quantizeInt8(embeddings(1), 0, DIM, vectors, offset) };
  });
  const query = embeddings(1);
  const [simd, plain] = [new Int8Scorer(DIM), new Int8Scorer(DIM, { simd: false })];
  rows.push(sideBySide(`re-rank ${RERANK} int8 embeddings`, 5, () => simd.score(query, items), () => plain.score(query, items)));
}

for (const count of [5_000, 200_000]) {
  const arrays = [new SketchArray(SKETCH_DIMS, 'int4', count), new SketchArray(SKETCH_DIMS, 'int4', count, { simd: false })];
  const values = new Float32Array(SKETCH_DIMS);
  for (let slot = 0; slot < count; slot++) {
    for (let j = 0; j < SKETCH_DIMS; j++) values[j] = random() - 0.5;
    for (const array of arrays) array.encode(values, slot);
  }
  const slots = Uint32Array.from({ length: count }, (_, i) => i);
  const query = Float32Array.from({ length: SKETCH_DIMS }, () => random() - 0.5);
  for (const array of arrays) array.setQuery(query);
  const out = new Float32Array(count);
  rows.push(sideBySide(`score ${count} whole int4 sketches (× scale)`, 1, () => arrays[0]!.scores(slots, count, out), () => arrays[1]!.scores(slots, count, out)));
  rows.push(sideBySide(`score ${count} int4 sketch heads (${arrays[0]!.headDims} components, × scale)`, 1, () => arrays[0]!.headScores(slots, count, out), () => arrays[1]!.headScores(slots, count, out)));
}

{
  const matrix = Float32Array.from({ length: SKETCH_DIMS * DIM }, () => random() - 0.5);
  const [simd, plain] = [new MatrixKernel(matrix, SKETCH_DIMS, DIM), new MatrixKernel(matrix, SKETCH_DIMS, DIM, { simd: false })];
  const x = embeddings(1);
  const out = new Float32Array(SKETCH_DIMS);
  rows.push(sideBySide(`project for a sketch (${SKETCH_DIMS} × ${DIM}, f32)`, 20, () => simd.multiply(x, 0, out), () => plain.multiply(x, 0, out)));
}

{
  // One ITQ iteration's V·R: the 1024-row rotation sample in PCA coordinates times the rotation.
  const [m, c] = [1024, BITS];
  const V = Float64Array.from({ length: m * c }, () => random() - 0.5);
  const Rt = Float64Array.from({ length: c * c }, () => random() - 0.5);
  rows.push(sideBySide(`training product V·R (${m} × ${c} × ${c}, f64)`, 1, () => multiplyABt(V, Rt, m, c, c), () => plainMultiplyABt(V, Rt, m, c, c)));
}

if (jsonPath) writeFileSync(jsonPath, JSON.stringify({ date: new Date().toISOString(), node: process.version, rows }, null, 2));
