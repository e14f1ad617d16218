/** Embedding worker: owns the TF.js backend and the model; decodes and embeds off the main thread. */
import * as tf from '@tensorflow/tfjs';
import { expose } from 'comlink';
import { Embedder } from '../src/core/embed/embedder.ts';
import { embeddingLength } from '../src/core/embed/fused.ts';
import { parseLabels } from '../src/core/embed/labels.ts';
import { toModelInput } from '../src/core/image/preprocess.ts';
import { LABELS_PATH, modelJsonPath, modelSpec } from '../src/core/models/registry.ts';
import { chooseBackend } from '../src/browser/backend.ts';
import { decodeImage } from '../src/browser/decode.ts';
import type { EmbedOutcome, EmbedWorkerApi, EngineInfo, EngineOptions } from '../src/browser/embed-protocol.ts';

let engine: { embedder: Embedder; info: EngineInfo } | undefined;

const api: EmbedWorkerApi = {
  async init(options: EngineOptions): Promise<EngineInfo> {
    if (engine) throw new Error('This worker is already initialised; start a new one to change model or backend.');
    const started = performance.now();
    const spec = modelSpec(options.model);
    const backend = await chooseBackend({ force: options.backend, threads: options.threads });
    const base = new URL(options.modelsUrl ?? '/models/', self.location.href);
    let embedder: Embedder;
    try {
      const labelsResponse = await fetch(new URL(LABELS_PATH, base));
      if (!labelsResponse.ok) throw new Error(`HTTP ${labelsResponse.status} for ${LABELS_PATH}`);
      const labels = parseLabels(await labelsResponse.json());
      embedder = await Embedder.load(spec, new URL(modelJsonPath(spec), base).href, labels);
    } catch (err) {
      throw new Error(`The ${spec.name} model could not be loaded from ${base.pathname}: ${(err as Error).message}`);
    }
    await embedder.warmUp();
    const info: EngineInfo = {
      model: spec.id,
      dims: embeddingLength(spec),
      backend: backend.name,
      backendDetail: backend.detail,
      skippedBackends: backend.skipped,
      loadMs: performance.now() - started,
    };
    engine = { embedder, info };
    return info;
  },

  async embed(images: Blob[]): Promise<EmbedOutcome[]> {
    if (!engine) throw new Error('The embedding worker is not initialised.');
    const { embedder } = engine;
    const prepared = await Promise.all(
      images.map((blob) => decodeImage(blob, embedder.spec.inputSize).then((image) => toModelInput(image, embedder.spec)).catch(asError)),
    );
    return embedder.embedSettled(prepared);
  },

  tensorCount: () => tf.memory().numTensors,
};

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

expose(api);
