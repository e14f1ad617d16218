/** Top-k ImageNet classes from one row of class scores. */

export interface LabelScore {
  readonly index: number;
  readonly name: string;
  readonly score: number;
}

export function topLabels(scores: Float32Array, names: readonly string[], k: number): LabelScore[] {
  const order = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]!);
  return order.slice(0, k).map((index) => ({ index, name: names[index] ?? `class ${index}`, score: scores[index]! }));
}

export function parseLabels(json: unknown): string[] {
  if (!Array.isArray(json) || json.length !== 1000 || !json.every((s) => typeof s === 'string')) {
    throw new Error('The label file must be a JSON array of 1000 ImageNet class names.');
  }
  return json;
}
