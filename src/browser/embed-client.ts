/**
 * The main thread's one door to the embedding workers. Spawns workers lazily,
 * spreads batches over them, cancels by terminating (the only way to stop a
 * running inference), and shuts idle workers down to give their memory back.
 */
import { wrap, type Remote } from 'comlink';
import type { EmbedOutcome, EmbedWorkerApi, EngineInfo, EngineOptions } from './embed-protocol.ts';

export interface EmbedClientOptions extends EngineOptions {
  /**
   * Parallel workers. Default: one per core (at most 4), each single-threaded,
   * which measured faster for batches than one worker with WASM threads (BENCHMARKS.md).
   */
  readonly workers?: number;
  /** Terminate the workers after this long without work (ms); 0 keeps them. */
  readonly idleMs?: number;
}

export interface EmbedManyOptions {
  readonly batchSize?: number;
  readonly signal?: AbortSignal | undefined;
  readonly onProgress?: (done: number, total: number) => void;
}

interface Slot {
  readonly remote: Remote<EmbedWorkerApi>;
  readonly ready: Promise<EngineInfo>;
  /** Rejects when the worker dies, so no call waits forever on a dead worker. */
  readonly died: Promise<never>;
  kill(reason: Error): void;
  inFlight: number;
}

export class EmbedClient {
  private slots: Slot[] = [];
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly workerCount: number;
  private readonly idleMs: number;

  constructor(private readonly options: EmbedClientOptions) {
    this.workerCount = Math.max(1, options.workers ?? Math.min(navigator.hardwareConcurrency || 1, 4));
    this.idleMs = options.idleMs ?? 5 * 60_000;
  }

  /** Starts the workers (if needed) and returns what the first one chose. */
  async ready(): Promise<EngineInfo> {
    const info = await this.ensureSlots()[0]!.ready;
    this.scheduleIdleShutdown();
    return info;
  }

  /**
   * Embeds one batch on the least busy worker. Aborting terminates that worker
   * (the only way to stop a running inference), so other calls queued on it fail too.
   */
  async embed(images: Blob[], signal?: AbortSignal): Promise<EmbedOutcome[]> {
    signal?.throwIfAborted();
    const slot = this.ensureSlots().reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    slot.inFlight++;
    clearTimeout(this.idleTimer);
    const onAbort = () => this.remove(slot, abortError());
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.race([slot.ready, slot.died]);
      return await Promise.race([slot.remote.embed(images), slot.died]);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      slot.inFlight--;
      this.scheduleIdleShutdown();
    }
  }

  /** Embeds any number of images in batches spread over all workers, results in input order. */
  async embedMany(images: readonly Blob[], options: EmbedManyOptions = {}): Promise<EmbedOutcome[]> {
    const batchSize = options.batchSize ?? 8;
    const results: EmbedOutcome[] = new Array(images.length);
    let done = 0;
    let nextStart = 0;
    let failed = false;
    // Two batches in flight per worker: one decoding while the other runs the model.
    const lanes = Array.from({ length: this.workerCount * 2 }, async () => {
      while (nextStart < images.length && !failed) {
        const start = nextStart;
        nextStart += batchSize;
        const batch = images.slice(start, start + batchSize);
        const outcomes = await this.embed(batch, options.signal).catch((err: unknown) => {
          failed = true; // the other lanes stop taking batches
          throw err;
        });
        outcomes.forEach((o, i) => (results[start + i] = o));
        done += batch.length;
        options.onProgress?.(done, images.length);
      }
    });
    await Promise.all(lanes);
    return results;
  }

  /** Live tensors in each worker (leak checks). */
  async tensorCounts(): Promise<number[]> {
    return Promise.all(this.ensureSlots().map((s) => s.remote.tensorCount()));
  }

  /** Stops every worker now; pending calls reject. The next call starts fresh ones. */
  terminate(reason: Error = new Error('The embedding workers were shut down.')): void {
    clearTimeout(this.idleTimer);
    for (const slot of this.slots) this.remove(slot, reason);
  }

  /** Tops the pool up to its size, replacing workers that crashed or were cancelled. */
  private ensureSlots(): Slot[] {
    while (this.slots.length < this.workerCount) this.slots.push(this.spawn());
    return this.slots;
  }

  private remove(slot: Slot, reason: Error): void {
    this.slots = this.slots.filter((s) => s !== slot);
    slot.kill(reason);
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('../../workers/embed.worker.ts', import.meta.url), { type: 'module', name: 'embed' });
    const remote = wrap<EmbedWorkerApi>(worker);
    let kill!: (reason: Error) => void;
    const died = new Promise<never>((_, reject) => {
      kill = (reason) => {
        worker.terminate();
        reject(reason);
      };
    });
    died.catch(() => {}); // observed by racing callers; never an unhandled rejection
    const ready = Promise.race([remote.init(this.engineOptions()), died]);
    const slot: Slot = { remote, ready, died, kill, inFlight: 0 };
    worker.addEventListener('error', (event) => this.remove(slot, new Error(`The embedding worker crashed: ${event.message || 'unknown error'}`)));
    // A worker that cannot start is useless: drop it so the next call starts a fresh one.
    ready.catch((err: Error) => this.remove(slot, err));
    return slot;
  }

  private engineOptions(): EngineOptions {
    const { model, backend, threads, modelsUrl } = this.options;
    // Several workers already use every core; threads inside each would only contend.
    return { model, backend, threads: threads ?? (this.workerCount > 1 ? 1 : undefined), modelsUrl };
  }

  private scheduleIdleShutdown(): void {
    if (this.idleMs <= 0 || this.slots.some((s) => s.inFlight > 0)) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.terminate(), this.idleMs);
  }
}

function abortError(): Error {
  return new DOMException('The embedding was cancelled.', 'AbortError');
}
