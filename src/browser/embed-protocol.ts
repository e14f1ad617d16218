/** What the main thread and the embedding worker say to each other (through comlink). Kept free of TF.js so the main bundle stays small. */
import type { EmbedOutcome } from '../core/embed/embedder.ts';
import type { ModelId } from '../core/models/registry.ts';

/** TF.js backends in order of preference (see backend.ts). */
export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export type { EmbedOutcome };

export interface EngineOptions {
  readonly model: ModelId;
  /** Force one backend; by default the fastest real one is chosen. */
  readonly backend?: BackendName | undefined;
  /** WASM threads per worker (1 = the single-threaded build); by default TF.js uses half the cores when cross-origin isolated. */
  readonly threads?: number | undefined;
  /** Where the provisioned models are served, relative to the page. */
  readonly modelsUrl?: string | undefined;
}

export interface EngineInfo {
  readonly model: ModelId;
  readonly dims: number;
  readonly backend: BackendName;
  readonly backendDetail: string;
  readonly skippedBackends: readonly { name: BackendName; reason: string }[];
  /** Model fetch + backend start + first inference. */
  readonly loadMs: number;
}


export interface EmbedWorkerApi {
  init(options: EngineOptions): Promise<EngineInfo>;
  /** Decodes and embeds a batch; a bad image yields an error outcome, not a failed batch. */
  embed(images: Blob[]): Promise<EmbedOutcome[]>;
  /** Live tensor count, for leak checks. */
  tensorCount(): number;
}
