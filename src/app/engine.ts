/**
 * The main thread's bridge to its workers: the embedding pool (EmbedClient) and
 * the library worker (comlink). `started` settles once the model is loaded and
 * the library of that model is open, which waits while another tab or window
 * holds the library; if either fails, it rejects with a `StartError` that says
 * which, in plain words. Operations wait on `ready()` instead.
 */
import { proxy, wrap } from 'comlink';
import { EmbedClient } from '../browser/embed-client.ts';
import { BACKENDS, type EngineInfo } from '../browser/embed-protocol.ts';
import type { Library } from '../browser/library.ts';
import { MODEL_IDS } from '../core/models/registry.ts';
import { LIBRARY_ELSEWHERE, libraryFailed, modelFailed } from './ui/notices.ts';

// ?model=lite and ?backend=webgpu|webgl|wasm|cpu override the automatic choices.
const params = new URLSearchParams(location.search);
const model = MODEL_IDS.find((id) => id === (params.get('model') ?? 'default')) ?? 'default';

export const embedder = new EmbedClient({ model, backend: BACKENDS.find((b) => b === params.get('backend')) });

export const library = wrap<Library>(new Worker(new URL('../../workers/library.worker.ts', import.meta.url), { type: 'module', name: 'library' }));

/** The model or the library did not start; `message` is for people. */
export class StartError extends Error {
  override readonly name = 'StartError';
  constructor(readonly part: 'model' | 'library', message: string) {
    super(message);
  }
}

/**
 * Another tab or window and the library, this module's to track: 'holding'
 * while it holds the library and `started` waits for it to close, 'closed' once
 * it has (this one then has the library), 'none' if none held it.
 */
type OtherTab = 'none' | 'holding' | 'closed';
let otherTab: OtherTab = 'none';
const otherTabListeners: ((state: OtherTab) => void)[] = [];

/** Calls `listener` each time `OtherTab` changes (never before the model has loaded, so a listener set up at start misses nothing). */
export function onOtherTab(listener: (state: OtherTab) => void): void { otherTabListeners.push(listener); }

function setOtherTab(state: OtherTab): void {
  otherTab = state;
  for (const listener of otherTabListeners) listener(state);
}

export const started: Promise<EngineInfo> = embedder.ready().then(
  async (info) => {
    await library.open(info.model, info.dims, proxy(() => setOtherTab('holding'))).catch((err: unknown) => { throw new StartError('library', libraryFailed(err)); });
    if (otherTab === 'holding') setOtherTab('closed');
    return info;
  },
  (err: unknown) => { throw new StartError('model', modelFailed(err)); },
);
started.catch(() => {}); // each caller shows the failure its own way

/** `started`, for an operation on the library: refused at once while another tab holds it, rather than waiting for that tab to close. */
export function ready(): Promise<EngineInfo> {
  return otherTab === 'holding' ? Promise.reject(new Error(LIBRARY_ELSEWHERE)) : started;
}
