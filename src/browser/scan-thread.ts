import { ScanThread } from '../core/index/scan-thread.ts';

/**
 * Cores a device needs before an index gets a scan thread by default. On this project's 2-core host the thread gave no
 * steady gain at a million items, preloaded, in Chromium: each query with and without it in turn, synthetic queries
 * took 2.21 and 1.71 ms p50 with it against 2.05 and 1.94 without, real photos (whose scans widen) 3.50 and 3.34
 * against 3.78 and 3.70; in two bench:index runs, the pass with it was the slower (2.50 and 2.17 ms against 2.22 and
 * 1.94). There the page, the browser and the collector want the second core too; with a core to spare, the scan's
 * split ran 1.5–1.7 times as fast (BENCHMARKS.md).
 */
export const SCAN_THREAD_MIN_CORES = 3;

/**
 * A scan thread in a worker of its own (workers/scan.worker.ts), for an index opened in this worker; null where it
 * cannot work or is not expected to help: fewer than `minCores` cores, no shared memory (a page that is not
 * cross-origin isolated, such as a store page that embeds the widget), or the page's main thread, which may not block
 * on the thread's answer.
 */
export function startScanThread(minCores = SCAN_THREAD_MIN_CORES): ScanThread | null {
  const inWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'function';
  if (!inWorker || !globalThis.crossOriginIsolated || (navigator.hardwareConcurrency ?? 1) < Math.max(2, minCores)) return null;
  return new ScanThread(new Worker(new URL('../../workers/scan.worker.ts', import.meta.url), { type: 'module', name: 'scan' }));
}
