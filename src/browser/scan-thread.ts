import { ScanThread } from '../core/index/scan-thread.ts';

/**
 * A scan thread in a worker of its own (workers/scan.worker.ts), for an index opened in this worker; null where it
 * cannot help or cannot work: a single core, no shared memory (a page that is not cross-origin isolated, such as a
 * store page that embeds the widget), or the page's main thread, which may not block on the thread's answer.
 */
export function startScanThread(): ScanThread | null {
  const inWorker = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'function';
  if (!inWorker || !globalThis.crossOriginIsolated || (navigator.hardwareConcurrency ?? 1) < 2) return null;
  return new ScanThread(new Worker(new URL('../../workers/scan.worker.ts', import.meta.url), { type: 'module', name: 'scan' }));
}
