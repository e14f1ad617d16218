/**
 * The index benchmark's page: starts the bench in a worker (index-bench.ts),
 * where the index's OPFS mirror can be opened as in the app's library worker,
 * and hands bench/index.ts the worker as `window.indexBench`.
 */
import { proxy, wrap, type Remote } from 'comlink';
import type { IndexBench } from './index-bench.ts';

declare global {
  interface Window { indexBench: Remote<IndexBench> }
}

/** The JS heaps and array buffers of this page and its workers (cross-origin isolated pages only); null where it cannot be measured. */
async function agentMemory(): Promise<number | null> {
  try {
    const measure = (performance as unknown as { measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }> }).measureUserAgentSpecificMemory;
    return measure ? (await measure.call(performance)).bytes : null;
  } catch {
    return null; // not cross-origin isolated
  }
}

const bench = wrap<IndexBench>(new Worker(new URL('./index-bench.ts', import.meta.url), { type: 'module', name: 'index-bench' }));
void bench.setMemoryProbe(proxy(agentMemory)).then(() => {
  window.indexBench = bench;
});
