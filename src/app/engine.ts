/**
 * The main thread's bridge to its workers: the embedding pool (EmbedClient) and
 * the library worker (comlink). `ready` settles once the model is loaded and the
 * library of that model is open; if either fails, it rejects with a
 * `StartError` that says which, in plain words.
 */
import { wrap } from 'comlink';
import { EmbedClient } from '../browser/embed-client.ts';
import { BACKENDS, type EngineInfo } from '../browser/embed-protocol.ts';
import type { Library } from '../browser/library.ts';
import { MODEL_IDS } from '../core/models/registry.ts';
import { libraryFailed, modelFailed } from './ui/notices.ts';

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

export const ready: Promise<EngineInfo> = embedder.ready().then(
  async (info) => {
    await library.open(info.model, info.dims).catch((err: unknown) => { throw new StartError('library', libraryFailed(err)); });
    return info;
  },
  (err: unknown) => { throw new StartError('model', modelFailed(err)); },
);
ready.catch(() => {}); // each caller shows the failure its own way
