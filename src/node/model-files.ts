/** Loads provisioned model files from disk for TF.js in Node. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { LABELS_PATH, modelJsonPath, type ModelSpec } from '../core/models/registry.ts';
import { parseLabels } from '../core/embed/labels.ts';

interface ModelJson {
  modelTopology?: object;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** An IOHandler that reads model.json and concatenates its weight shards in manifest order. */
export function fileModelSource(modelsDir: string, spec: ModelSpec): tf.io.IOHandler {
  const jsonPath = join(modelsDir, modelJsonPath(spec));
  return {
    async load() {
      const json = JSON.parse(await readFile(jsonPath, 'utf8')) as ModelJson;
      const dir = join(modelsDir, spec.dir);
      const shards = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(join(dir, p))));
      const weightData = new Uint8Array(shards.reduce((n, s) => n + s.length, 0));
      let offset = 0;
      for (const shard of shards) { weightData.set(shard, offset); offset += shard.length; }
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
        weightData: weightData.buffer,
      };
    },
  };
}

export async function readLabels(modelsDir: string): Promise<string[]> {
  return parseLabels(JSON.parse(await readFile(join(modelsDir, LABELS_PATH), 'utf8')));
}
