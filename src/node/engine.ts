/** The embedding engine in Node: TF.js on the WASM backend, images decoded by sharp. */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Embedder, type Embedding } from '../core/embed/embedder.ts';
import { toModelInput } from '../core/image/preprocess.ts';
import type { ModelSpec } from '../core/models/registry.ts';
import { decodeImage } from './decode.ts';
import { fileModelSource, readLabels } from './model-files.ts';
import { MODELS_DIR } from './provision.ts';

export class NodeEngine {
  private constructor(readonly embedder: Embedder) {}

  get spec(): ModelSpec { return this.embedder.spec; }
  readonly backend = 'wasm';

  static async create(spec: ModelSpec, modelsDir = MODELS_DIR): Promise<NodeEngine> {
    if (!(await tf.setBackend('wasm'))) throw new Error('The TF.js WASM backend failed to initialise.');
    const embedder = await Embedder.load(spec, fileModelSource(modelsDir, spec), await readLabels(modelsDir));
    await embedder.warmUp();
    return new NodeEngine(embedder);
  }

  /** Decodes and preprocesses one encoded image file. */
  async prepare(bytes: Uint8Array): Promise<Float32Array> {
    return toModelInput(await decodeImage(bytes, this.spec.inputSize), this.spec);
  }

  async embedFiles(files: readonly Uint8Array[]): Promise<Embedding[]> {
    return this.embedder.embed(await Promise.all(files.map((f) => this.prepare(f))));
  }

  dispose(): void { this.embedder.dispose(); }
}
