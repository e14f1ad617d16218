/**
 * The main thread's bridge to its workers: the embedding pool (EmbedClient) and
 * the library worker (comlink). `ready` settles once the model is loaded and the
 * library of that model is open.
 */
import { wrap } from 'comlink';
import { EmbedClient } from '../browser/embed-client.ts';
import { BACKENDS, type EngineInfo } from '../browser/embed-protocol.ts';
import type { Library } from '../browser/library.ts';
import { MODEL_IDS } from '../core/models/registry.ts';

// ?model=lite and ?backend=webgpu|webgl|wasm|cpu override the automatic choices.
const params = new URLSearchParams(location.search);
const model = MODEL_IDS.find((id) => id === (params.get('model') ?? 'default')) ?? 'default';

export const embedder = new EmbedClient({ model, backend: BACKENDS.find((b) => b === params.get('backend')) });

export const library = wrap<Library>(new Worker(new URL('../../workers/library.worker.ts', import.meta.url), { type: 'module', name: 'library' }));

export const ready: Promise<EngineInfo> = embedder.ready().then(async (info) => {
  await library.open(info.model, info.dims);
  return info;
});
ready.catch(() => {}); // each caller shows the failure its own way
