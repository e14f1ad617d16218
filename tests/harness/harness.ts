/**
 * Test and benchmark page: exposes the production EmbedClient on `window.harness`
 * so Playwright can drive the real worker path with real image files.
 */
import { EmbedClient, type EmbedClientOptions } from '../../src/browser/embed-client.ts';
import type { EmbedOutcome, EngineInfo } from '../../src/browser/embed-protocol.ts';
import { wrap } from 'comlink';
import type { IndexHarness } from './index-harness.ts';

export interface HarnessResult {
  readonly outcomes: ({ ok: true; embedding: number[]; labels: { index: number; name: string; score: number }[] } | { ok: false; error: string })[];
  /** Wall time of the embedding alone (fetching the files excluded). */
  readonly ms: number;
}

let client: EmbedClient | undefined;

async function fetchBlobs(urls: readonly string[]): Promise<Blob[]> {
  return Promise.all(urls.map(async (u) => (await fetch(u)).blob()));
}

const harness = {
  async start(options: EmbedClientOptions): Promise<EngineInfo> {
    client?.terminate();
    client = new EmbedClient(options);
    return client.ready();
  },
  async embedUrls(urls: string[], batchSize = 8): Promise<HarnessResult> {
    const blobs = await fetchBlobs(urls);
    const started = performance.now();
    const outcomes = await client!.embedMany(blobs, { batchSize });
    return { outcomes: outcomes.map(plain), ms: performance.now() - started };
  },
  /** Starts a batch and aborts it after `afterMs`; resolves with the rejection's name. */
  async abortAfter(urls: string[], afterMs: number): Promise<string> {
    const blobs = await fetchBlobs(urls);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), afterMs);
    try {
      await client!.embedMany(blobs, { signal: controller.signal });
      return 'completed';
    } catch (err) {
      return (err as Error).name;
    }
  },
  tensorCounts: () => client!.tensorCounts(),
  crossOriginIsolated: () => self.crossOriginIsolated,
  /** The index engine in a worker, on the app's browser store (index-harness.ts). */
  index: wrap<IndexHarness>(new Worker(new URL('./index-worker.ts', import.meta.url), { type: 'module', name: 'index' })),
};

function plain(o: EmbedOutcome): HarnessResult['outcomes'][number] {
  return o.ok ? { ok: true, embedding: Array.from(o.embedding), labels: o.labels } : o;
}

declare global {
  interface Window { harness: typeof harness }
}
window.harness = harness;
