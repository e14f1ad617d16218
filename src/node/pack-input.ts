/** Opening a pack named on the command line, with errors that say which file and what to do. */
import { EMBEDDING_METHOD } from '../core/embed/embedder.ts';
import { embeddingLength } from '../core/embed/fused.ts';
import { MODEL_IDS, modelSpec, type ModelSpec } from '../core/models/registry.ts';
import { PackError } from '../core/pack/format.ts';
import { openPack, type PackReader } from '../core/pack/read.ts';
import { fileSource } from './pack-file.ts';

/** The pack cannot be used (missing, not a pack, damaged, or made by an incompatible model or method). */
export class PackInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PackInputError';
  }
}

/**
 * Opens the pack at `path`, checks that this version can embed queries the way
 * its items were embedded, and hands the reader and the model to `use`; the
 * file is closed afterwards.
 */
export async function withPack<T>(path: string, use: (reader: PackReader, spec: ModelSpec) => Promise<T>): Promise<T> {
  let source;
  try {
    source = await fileSource(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PackInputError(`${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a pack' : (err as Error).message}.`);
  }
  try {
    let reader: PackReader;
    let spec: ModelSpec;
    try {
      reader = await openPack(source);
      const { modelId, method } = reader.header;
      if (method !== EMBEDDING_METHOD) {
        throw new Error(`its items were embedded with method "${method}", and this version of Lookalike embeds with "${EMBEDDING_METHOD}", so they cannot be compared. Index the images again.`);
      }
      if (!(MODEL_IDS as readonly string[]).includes(modelId)) throw new Error(`it was made with model "${modelId}", which this version of Lookalike does not know. Update Lookalike.`);
      spec = modelSpec(modelId);
      const dim = embeddingLength(spec);
      if (reader.header.dim !== dim) throw new Error(`it has ${reader.header.dim}-d embeddings but model "${modelId}" gives ${dim}-d ones.`);
    } catch (err) {
      throw new PackInputError(`${path}: ${(err as Error).message}`);
    }
    try {
      return await use(reader, spec);
    } catch (err) {
      // A section that fails its checksum is only found when it is read.
      if (err instanceof PackError) throw new PackInputError(`${path}: ${err.message}`);
      throw err;
    }
  } finally {
    await source.close();
  }
}
