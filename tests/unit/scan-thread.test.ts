import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/codes/random.ts';
import { CHUNK, ScanThread, type ScanKernel } from '../../src/core/index/scan-thread.ts';
import { SketchArray, THREAD_SCAN_MIN } from '../../src/core/index/sketch-kernel.ts';
import { sharedMemory } from '../../src/core/wasm/simd-module.ts';

/** A scan thread in a Node worker, running serveScans from the TypeScript source (through tsx, as the CLI runs). */
function nodeScanThread(): ScanThread {
  const source = pathToFileURL(join(import.meta.dirname, '../../src/core/index/scan-thread.ts')).href;
  const worker = new Worker(`const { parentPort } = require('node:worker_threads');
    import('tsx/esm/api').then(({ tsImport }) => tsImport(${JSON.stringify(source)}, __filename)).then(({ serveScans }) => parentPort.on('message', serveScans));`, { eval: true });
  return new ScanThread(worker);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A worker that loads the TypeScript source takes seconds to start when the suite runs files side by side. */
const STARTUP_TIMEOUT = 60_000;

/** Sketch arrays of `count` random sketches, the same in each, set to one random query. */
function sketchArrays(seed: number, dims: number, count: number, options: ConstructorParameters<typeof SketchArray>[3][]): SketchArray[] {
  const random = seededRandom(seed);
  const arrays = options.map((option) => new SketchArray(dims, 'int4', count, option));
  for (let i = 0; i < count; i++) {
    const row = Float32Array.from({ length: dims }, () => random() * 2 - 1);
    for (const sketches of arrays) sketches.encode(row, i);
  }
  const query = Float32Array.from({ length: dims }, () => random() * 2 - 1);
  for (const sketches of arrays) sketches.setQuery(query);
  return arrays;
}

/**
 * Scans with `sketches` until `thread` has scored a chunk: its worker starts, and gets the array, asynchronously; and
 * it takes a chunk only where it wakes before this side has claimed them all.
 */
async function untilItTakesChunks(thread: ScanThread, sketches: SketchArray, slots: Uint32Array): Promise<void> {
  for (let tries = 0; thread.chunks === 0 && tries < 1500; tries++) {
    for (let i = 0; i < 20; i++) sketches.scan(true, slots, slots.length);
    await pause(10);
  }
  expect(thread.chunks).toBeGreaterThan(0);
}

// The thread takes chunks only where a second core runs it while this side scans.
describe.skipIf(availableParallelism() < 2)('a scan thread', () => {
  const threads: ScanThread[] = [];
  afterEach(() => {
    for (const thread of threads.splice(0)) thread.close();
  });

  it('scores chunks of each large scan, and the scores are exactly those of one thread', async () => {
    const thread = nodeScanThread();
    threads.push(thread);
    const count = THREAD_SCAN_MIN + 1001;
    const [threaded, alone] = sketchArrays(3, 256, count, [{ thread }, {}]);
    const random = seededRandom(30);
    const slots = Uint32Array.from({ length: count - 3 }, () => Math.floor(random() * count));
    await untilItTakesChunks(thread, threaded!, slots);
    for (let round = 0; round < 20; round++) {
      for (const whole of [true, false]) expect(threaded!.scan(whole, slots, slots.length).slice()).toEqual(alone!.scan(whole, slots, slots.length).slice());
    }
    // A scan below THREAD_SCAN_MIN stays on this thread.
    const chunks = thread.chunks;
    threaded!.scan(true, slots, THREAD_SCAN_MIN - 4);
    expect(thread.chunks).toBe(chunks);
  }, STARTUP_TIMEOUT);

  it('serves the latest array it was handed; an older one scans alone, with the same scores', async () => {
    const thread = nodeScanThread();
    threads.push(thread);
    const count = THREAD_SCAN_MIN;
    const [older, newer] = sketchArrays(4, 256, count, [{ thread }, { thread }]);
    const slots = Uint32Array.from({ length: count }, (_, i) => i);
    await untilItTakesChunks(thread, newer!, slots);
    const chunks = thread.chunks;
    expect(older!.scan(true, slots, count).slice()).toEqual(newer!.scan(true, slots, count).slice());
    const newerTook = thread.chunks - chunks;
    older!.scan(true, slots, count);
    expect(thread.chunks).toBe(chunks + newerTook);
  }, STARTUP_TIMEOUT);

  it('whose chunk fails leaves the scan to the searching thread, and is not used again', async () => {
    const thread = nodeScanThread();
    threads.push(thread);
    const memory = sharedMemory()!;
    // A module without the kernel asked for: the thread has none, and each chunk it takes fails.
    const attachment = thread.attach(memory, new WebAssembly.Module(Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0)), 'scan4');
    // This side's kernel scores slot s as 2s, and notes the counts it is called for; it takes 5 ms a call, so that the
    // thread wakes while chunks are left.
    const idle = new Int32Array(new SharedArrayBuffer(4));
    const count = 4 * CHUNK;
    const [slots, out] = [0, 4 * count];
    new Uint32Array(memory.buffer, slots, count).set(Array.from({ length: count }, (_, i) => i));
    const calls: number[] = [];
    const kernel: ScanKernel = (...args) => {
      const [at, n, to] = args.slice(8) as [number, number, number];
      calls.push(n);
      Atomics.wait(idle, 0, 0, 5); // a sleep, which leaves the core to the thread on a busy machine
      const from = new Uint32Array(memory.buffer, at, n);
      new Float32Array(memory.buffer, to, n).set(Array.from(from, (s) => 2 * s));
    };
    // Until the thread has taken a chunk, and failed it; every scan's scores are right meanwhile.
    for (let tries = 0; !thread.failed && tries < 1500; tries++) {
      calls.length = 0;
      new Float32Array(memory.buffer, out, count).fill(-1);
      thread.scan(attachment, kernel, new Array(8).fill(0), slots, count, out);
      expect(Array.from(new Float32Array(memory.buffer, out, count))).toEqual(Array.from({ length: count }, (_, i) => 2 * i));
      if (!thread.failed) await pause(10);
    }
    expect(thread.failed).toBe(true);
    // The failing scan: the chunks this side took, then the whole scan again.
    expect(calls.at(-1)).toBe(count);
    expect(calls.slice(0, -1).every((n) => n === CHUNK)).toBe(true);
    expect(calls.length - 1).toBeLessThan(4); // the thread took at least one chunk
    calls.length = 0;
    thread.scan(attachment, kernel, new Array(8).fill(0), slots, count, out);
    expect(calls).toEqual([count]);
    expect(thread.chunks).toBe(0);
  }, STARTUP_TIMEOUT);
});
