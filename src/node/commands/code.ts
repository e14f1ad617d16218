/**
 * `lookalike code <image|url>...`: each image's binary code, in the shape of the
 * product brief: `{"item_0": {"class", "code", "box"}}` (item_0 is the whole
 * image; per-object items come later).
 *
 * With `--pack` the codes come from that pack's coder, so they are comparable
 * with its items' codes; without, from the reference coder, which gives the
 * same code for the same image anywhere.
 */
import { Coder } from '../../core/codes/coder.ts';
import { toBitString } from '../../core/codes/bits.ts';
import { referenceCoder } from '../../core/codes/reference-coder.ts';
import type { ModelSpec } from '../../core/models/registry.ts';
import { embedBatches } from '../embed-batches.ts';
import { NodeEngine } from '../engine.ts';
import { expandSources } from '../image-source.ts';
import { withPack } from '../pack-input.ts';

export interface CodeCommandOptions {
  readonly sources: readonly string[];
  readonly json: boolean;
  /** Use this pack's model and coder; otherwise `spec` and the reference coder with `bits`. */
  readonly pack?: string | undefined;
  readonly spec: ModelSpec;
  readonly bits: number;
  readonly batchSize?: number;
  readonly write: (line: string) => void;
}

export interface CodeItem {
  /** The top-1 ImageNet label. */
  readonly class: string;
  /** "0101…", bit 0 first. */
  readonly code: string;
  /** [x, y, width, height] in the upright image's pixels. */
  readonly box: readonly [number, number, number, number];
}

/** Returns the number of images that failed. */
export async function codeCommand(options: CodeCommandOptions): Promise<number> {
  const { spec, coder } = options.pack
    ? await withPack(options.pack, async (reader, spec) => {
        const { header } = reader;
        return { spec, coder: new Coder({ ...header.coder, dim: header.dim, ...(await reader.readCoder()) }) };
      })
    : { spec: options.spec, coder: referenceCoder(options.spec, options.bits) };
  const entries = await expandSources(options.sources);
  const engine = await NodeEngine.create(spec);
  const { bits } = coder.params;
  const code = new Uint32Array(coder.words);
  let failures = 0;
  for await (const batch of embedBatches(engine, entries, { batchSize: options.batchSize ?? 16, withSize: true })) {
    for (const { entry, outcome, size } of batch) {
      const { file } = entry;
      if (!outcome.ok || !size) {
        const error = outcome.ok ? 'The image size could not be read.' : outcome.error;
        failures++;
        options.write(options.json ? JSON.stringify({ file, error }) : `${file}: error: ${error}`);
        continue;
      }
      coder.encode(outcome.embedding, 0, code, 0);
      const item: CodeItem = { class: outcome.labels[0]!.name, code: toBitString(code, bits), box: [0, 0, size.width, size.height] };
      options.write(options.json ? JSON.stringify({ file, item_0: item }) : `${file}\n  item_0: ${item.class}, box [${item.box.join(', ')}]\n  ${item.code}`);
    }
  }
  engine.dispose();
  return failures;
}
