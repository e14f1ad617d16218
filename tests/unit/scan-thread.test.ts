import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/codes/random.ts';
import { ScanThread } from '../../src/core/index/scan-thread.ts';
import { SketchArray, THREAD_SCAN_MIN } from '../../src/core/index/sketch-kernel.ts';

/** A scan thread in a Node worker, running serveScans from the TypeScript source (through tsx, as the CLI runs). */
function nodeScanThread(): ScanThread {
  const source = pathToFileURL(join(import.meta.dirname, '../../src/core/index/scan-thread.ts')).href;
  const worker = new Worker(`const { parentPort } = require('node:worker_threads');
    import('tsx/esm/api').then(({ tsImport }) => tsImport(${JSON.stringify(source)}, __filename)).then(({ serveScans }) => parentPort.on('message', serveScans));`, { eval: true });
  return new ScanThread(worker);
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a scan thread', () => {
  const threads: ScanThread[] = [];
  afterEach(() => {
    for (const thread of threads.splice(0)) thread.close();
  });

  it('scores a part of each large scan, and the scores are exactly those of one thread', async () => {
    const thread = nodeScanThread();
    threads.push(thread);
    const random = seededRandom(3);
    const [dims, count] = [256, THREAD_SCAN_MIN + 1001];
    const arrays = [new SketchArray(dims, 'int4', count, { thread }), new SketchArray(dims, 'int4', count)];
    for (let i = 0; i < count; i++) {
      const row = Float32Array.from({ length: dims }, () => random() * 2 - 1);
      for (const sketches of arrays) sketches.encode(row, i);
    }
    const query = Float32Array.from({ length: dims }, () => random() * 2 - 1);
    const slots = Uint32Array.from({ length: count - 3 }, () => Math.floor(random() * count));
    for (const sketches of arrays) sketches.setQuery(query);
    // The thread takes its first part once it has the array (its message arrives asynchronously).
    for (let tries = 0; thread.parts === 0 && tries < 200; tries++) {
      arrays[0]!.scan(true, slots, slots.length);
      await pause(10);
    }
    expect(thread.parts).toBeGreaterThan(0);
    for (const whole of [true, false]) {
      const parts = thread.parts;
      const [threaded, alone] = arrays.map((sketches) => sketches.scan(whole, slots, slots.length).slice());
      expect(thread.parts).toBe(parts + 1);
      expect(threaded).toEqual(alone);
    }
    // A scan below THREAD_SCAN_MIN stays on this thread.
    const parts = thread.parts;
    arrays[0]!.scan(true, slots, THREAD_SCAN_MIN - 4);
    expect(thread.parts).toBe(parts);
  });

  it('serves the latest array it was handed; an older one scans alone, with the same scores', async () => {
    const thread = nodeScanThread();
    threads.push(thread);
    const random = seededRandom(4);
    const [dims, count] = [64, THREAD_SCAN_MIN];
    const older = new SketchArray(dims, 'int4', count, { thread });
    const newer = new SketchArray(dims, 'int4', count, { thread });
    for (let i = 0; i < count; i++) {
      const row = Float32Array.from({ length: dims }, () => random() * 2 - 1);
      older.encode(row, i);
      newer.encode(row, i);
    }
    const slots = Uint32Array.from({ length: count }, (_, i) => i);
    const query = Float32Array.from({ length: dims }, () => random() * 2 - 1);
    older.setQuery(query);
    newer.setQuery(query);
    for (let tries = 0; thread.parts === 0 && tries < 200; tries++) {
      newer.scan(true, slots, count);
      await pause(10);
    }
    expect(thread.parts).toBeGreaterThan(0);
    const parts = thread.parts;
    expect(older.scan(true, slots, count).slice()).toEqual(newer.scan(true, slots, count).slice());
    expect(thread.parts).toBe(parts + 1);
  });

  it('whose part fails leaves it to the searching thread, and is not used again', async () => {
    const thread = nodeScanThread();
    threads.push(thread);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65_536, shared: true });
    // A module without the kernel asked for: the thread has none, and each part it is given fails.
    const module = new WebAssembly.Module(Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0));
    const attachment = thread.attach(memory, module, 'scan4');
    let started = false;
    for (let tries = 0; !started && tries < 200; tries++) {
      started = thread.start(attachment, new Array(11).fill(0));
      if (!started) await pause(10);
    }
    expect(started).toBe(true);
    expect(thread.finish()).toBe(false);
    expect(thread.start(attachment, new Array(11).fill(0))).toBe(false);
    expect(thread.parts).toBe(0);
  });
});
