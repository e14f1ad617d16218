/**
 * The embedding models Lookalike knows, described once for every platform.
 * Each entry mirrors the model's SOURCE.txt: getting the input range or the
 * feature node wrong does not fail loudly, it silently ruins accuracy.
 */

export type ModelId = 'default' | 'lite';

export interface ModelSpec {
  readonly id: ModelId;
  readonly name: string;
  /** Folder under the models root (`public/models/`, served as `/models/`). */
  readonly dir: string;
  readonly format: 'layers' | 'graph';
  /** Square input edge in pixels. */
  readonly inputSize: number;
  /** Pixel values 0..255 are mapped linearly onto this range. */
  readonly inputRange: readonly [min: number, max: number];
  /** Layer (layers models) or node (graph models) whose output is the pooled feature vector. */
  readonly featureNode: string;
  /** Length of that feature vector; the embedding adds to it (`embeddingLength` in `embed/fused.ts`). */
  readonly featureDims: number;
  /** Layer or node with the ImageNet class scores. */
  readonly classifierNode: string;
  /** Whether the classifier node already applies softmax. */
  readonly classifierActivation: 'softmax' | 'logits';
  /** Output columns to drop before ImageNet class 0 (TF-Hub models add a background class). */
  readonly classifierOffset: number;
}

/** ImageNet class names, index order 0..999; shared by every model. */
export const LABELS_PATH = 'labels/imagenet-simple-labels.json';

export const MODELS: Readonly<Record<ModelId, ModelSpec>> = {
  default: {
    id: 'default',
    name: 'MobileNet v1 0.75',
    dir: 'mobilenet-v1-0.75-224-keras-layers',
    format: 'layers',
    inputSize: 224,
    inputRange: [-1, 1],
    featureNode: 'global_average_pooling2d_1',
    featureDims: 768,
    classifierNode: 'reshape_2',
    classifierActivation: 'softmax',
    classifierOffset: 0,
  },
  lite: {
    id: 'lite',
    name: 'MobileNet v1 0.25',
    dir: 'mobilenet-v1-0.25-224-tfhub-graph',
    format: 'graph',
    inputSize: 224,
    inputRange: [0, 1],
    featureNode: 'module_apply_default/MobilenetV1/Logits/global_pool',
    featureDims: 256,
    classifierNode: 'module_apply_default/MobilenetV1/Logits/SpatialSqueeze',
    classifierActivation: 'logits',
    classifierOffset: 1,
  },
};

export const MODEL_IDS = Object.keys(MODELS) as ModelId[];

export function modelSpec(id: string): ModelSpec {
  if (!(MODEL_IDS as string[]).includes(id)) {
    throw new Error(`Unknown model "${id}"; choose one of: ${MODEL_IDS.join(', ')}.`);
  }
  return MODELS[id as ModelId];
}

/** Path of a model's entry file relative to the models root. */
export function modelJsonPath(spec: ModelSpec): string {
  return `${spec.dir}/model.json`;
}
