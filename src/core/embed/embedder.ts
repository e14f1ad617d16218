/**
 * The embedding engine: model-ready pixels in, L2-normalised embedding and
 * top-5 ImageNet labels out, for any batch size and any TF.js backend.
 * Platform code (worker, CLI) decodes images and says where the model comes
 * from (a URL or an IOHandler); this file never touches the DOM or the file system.
 */
import * as tf from '@tensorflow/tfjs';
import type { ModelSpec } from '../models/registry.ts';
import { DCT_WEIGHT, dctDescriptor, fuse, inputGrey } from './fused.ts';
import { topLabels, type LabelScore } from './labels.ts';

export interface Embedding {
  /** Unit-length vector, `embeddingLength(spec)` long (`featureDims` long from `cnnFeatures`). */
  readonly embedding: Float32Array;
  /** Five most likely ImageNet classes, best first. */
  readonly labels: LabelScore[];
}

/** One image's result in a batch where some images may have failed before reaching the model. */
export type EmbedOutcome = ({ readonly ok: true } & Embedding) | { readonly ok: false; readonly error: string };

export const TOP_LABELS = 5;

/**
 * Names how `Embedder` turns an image into an embedding. `gap+dct16`: the
 * model's global-average-pooled features fused with the 16×16 low DCT
 * frequencies of the model input (`fused.ts`), which find heavily downscaled
 * copies that the CNN features alone miss (bench:quality). Indexes and packs
 * record it, and embeddings of different methods are never compared.
 */
export const EMBEDDING_METHOD = 'gap+dct16';

export class Embedder {
  private constructor(
    readonly spec: ModelSpec,
    private readonly run: (batch: tf.Tensor4D) => [features: tf.Tensor, scores: tf.Tensor],
    private readonly model: tf.LayersModel | tf.GraphModel,
    private readonly labelNames: readonly string[],
  ) {}

  /** `source` is a URL (browser) or an IOHandler (Node file loader, tests). */
  static async load(spec: ModelSpec, source: string | tf.io.IOHandler, labelNames: readonly string[]): Promise<Embedder> {
    if (spec.format === 'layers') {
      const full = await tf.loadLayersModel(source);
      const features = full.getLayer(spec.featureNode).output as tf.SymbolicTensor;
      const scores = full.getLayer(spec.classifierNode).output as tf.SymbolicTensor;
      // One forward pass yields both the features and the class scores.
      const model = tf.model({ inputs: full.inputs, outputs: [features, scores] });
      return new Embedder(spec, (x) => model.predict(x) as [tf.Tensor, tf.Tensor], full, labelNames);
    }
    const graph = await tf.loadGraphModel(source);
    const run = (x: tf.Tensor4D) => graph.execute(x, [spec.featureNode, spec.classifierNode]) as [tf.Tensor, tf.Tensor];
    return new Embedder(spec, run, graph, labelNames);
  }

  /** Runs one dummy batch so the first real query does not pay for shader compilation or kernel set-up. */
  async warmUp(): Promise<void> {
    const n = this.spec.inputSize;
    await this.embed([new Float32Array(n * n * 3)]);
  }

  /** Embeds a batch of `toModelInput` outputs. */
  async embed(inputs: readonly Float32Array[]): Promise<Embedding[]> {
    const features = await this.cnnFeatures(inputs);
    return features.map(({ embedding, labels }, i) => ({
      embedding: fuse(embedding, dctDescriptor(inputGrey(inputs[i]!, this.spec.inputSize)), DCT_WEIGHT),
      labels,
    }));
  }

  /** The model's pooled features, L2-normalised, and the top labels: the CNN part of an embedding. */
  async cnnFeatures(inputs: readonly Float32Array[]): Promise<Embedding[]> {
    if (inputs.length === 0) return [];
    const { inputSize: n, featureDims, classifierOffset } = this.spec;
    const [features, scores] = tf.tidy(() => {
      const batch = tf.tensor4d(concat(inputs, n * n * 3), [inputs.length, n, n, 3]);
      const [rawFeatures, rawScores] = this.run(batch);
      const flat = rawFeatures.reshape([inputs.length, featureDims]);
      const unit = flat.div(flat.norm('euclidean', 1, true).maximum(1e-12));
      let classScores = rawScores.reshape([inputs.length, -1]);
      if (classifierOffset > 0) classScores = classScores.slice([0, classifierOffset], [-1, -1]);
      if (this.spec.classifierActivation === 'logits') classScores = classScores.softmax();
      return [unit, classScores];
    });
    try {
      const [featureData, scoreData] = await Promise.all([features.data(), scores.data()]);
      const classes = scoreData.length / inputs.length;
      return inputs.map((_, i) => ({
        embedding: Float32Array.from(featureData.subarray(i * featureDims, (i + 1) * featureDims)),
        labels: topLabels(Float32Array.from(scoreData.subarray(i * classes, (i + 1) * classes)), this.labelNames, TOP_LABELS),
      }));
    } finally {
      features.dispose();
      scores.dispose();
    }
  }

  /**
   * Embeds the inputs that were prepared and passes the failures through,
   * so one bad image never fails its batch. Outcomes keep the input order.
   */
  async embedSettled(prepared: readonly (Float32Array | Error)[]): Promise<EmbedOutcome[]> {
    const embeddings = await this.embed(prepared.filter((p): p is Float32Array => p instanceof Float32Array));
    let next = 0;
    return prepared.map((p) => (p instanceof Error ? { ok: false, error: p.message } : { ok: true, ...embeddings[next++]! }));
  }

  dispose(): void {
    this.model.dispose();
  }
}

function concat(parts: readonly Float32Array[], each: number): Float32Array {
  const out = new Float32Array(parts.length * each);
  parts.forEach((p, i) => {
    if (p.length !== each) throw new Error(`Model input ${i} has ${p.length} values; expected ${each}.`);
    out.set(p, i * each);
  });
  return out;
}
