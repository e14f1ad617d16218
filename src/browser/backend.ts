/**
 * Picks the fastest TF.js backend that is really there. Runs inside the worker.
 * Order: WebGPU on real hardware, WebGL on real hardware, WASM (SIMD, threaded
 * when cross-origin isolated), CPU. Software GPUs (SwiftShader, llvmpipe) are
 * skipped unless forced: measured in headless Chromium they are far slower than WASM.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { BACKENDS, type BackendName } from './embed-protocol.ts';


const SOFTWARE_GPU = /swiftshader|llvmpipe|lavapipe|software/i;

export interface BackendOptions {
  /** Use exactly this backend (even a software GPU); fail if it cannot start. */
  readonly force?: BackendName | undefined;
  /** WASM threads; 1 selects the single-threaded build. By default TF.js uses half the cores when cross-origin isolated. */
  readonly threads?: number | undefined;
}

export interface BackendChoice {
  readonly name: BackendName;
  /** Adapter or renderer, threads: what a person needs to understand the speed they see. */
  readonly detail: string;
  /** Backends tried before this one and why they were passed over. */
  readonly skipped: readonly { name: BackendName; reason: string }[];
}

export async function chooseBackend(options: BackendOptions = {}): Promise<BackendChoice> {
  const skipped: { name: BackendName; reason: string }[] = [];
  for (const name of options.force ? [options.force] : BACKENDS) {
    const forced = options.force === name;
    try {
      const detail = await start(name, forced, options);
      return { name, detail, skipped };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (forced) throw new Error(`The ${name} backend could not start: ${reason}`);
      skipped.push({ name, reason });
    }
  }
  throw new Error(`No TF.js backend could start: ${skipped.map((s) => `${s.name} (${s.reason})`).join('; ')}`);
}

async function start(name: BackendName, forced: boolean, options: BackendOptions): Promise<string> {
  switch (name) {
    case 'webgpu': {
      const adapter = await requestGpuAdapter();
      const software = adapter.isFallbackAdapter || SOFTWARE_GPU.test(adapter.description);
      if (software && !forced) throw new Error(`software adapter (${adapter.description})`);
      await setBackend('webgpu');
      return adapter.description;
    }
    case 'webgl': {
      await setBackend('webgl');
      const renderer = webglRenderer();
      if (SOFTWARE_GPU.test(renderer) && !forced) {
        tf.removeBackend('webgl');
        throw new Error(`software renderer (${renderer})`);
      }
      return renderer;
    }
    case 'wasm': {
      setWasmPaths({
        'tfjs-backend-wasm.wasm': wasmPlain,
        'tfjs-backend-wasm-simd.wasm': wasmSimd,
        'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd,
      });
      // setThreadsCount(1) alone still loads the threaded binary; this flag picks the plain SIMD one.
      if (options.threads === 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      else if (options.threads !== undefined) setThreadsCount(options.threads);
      await setBackend('wasm');
      const [simd, threaded] = await Promise.all([tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')]);
      // The threaded build caps itself at half the cores, so on 2 cores it runs 1 thread.
      return `${simd ? 'SIMD' : 'no SIMD'}, ${threaded ? `threaded build, ${getThreadsCount()} thread(s)` : 'single-threaded build'}`;
    }
    case 'cpu':
      await setBackend('cpu');
      return 'plain JavaScript';
  }
}

async function setBackend(name: BackendName): Promise<void> {
  // tf.setBackend resolves false, rather than throwing, when a backend's initialiser fails.
  if (!(await tf.setBackend(name))) throw new Error('initialisation failed');
  await tf.ready();
}

interface GpuAdapterSummary { isFallbackAdapter: boolean; description: string }

/** Minimal typing of navigator.gpu: TypeScript's DOM library does not describe WebGPU yet. */
interface GpuAdapterLike {
  readonly isFallbackAdapter?: boolean;
  readonly info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
}

async function requestGpuAdapter(): Promise<GpuAdapterSummary> {
  const gpu = (navigator as { gpu?: { requestAdapter(o?: object): Promise<GpuAdapterLike | null> } }).gpu;
  if (!gpu) throw new Error('no WebGPU in this browser');
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('no WebGPU adapter');
  const info = adapter.info ?? {};
  const description = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unknown adapter';
  return { isFallbackAdapter: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter), description };
}

function webglRenderer(): string {
  const gl = (tf.backend() as unknown as { gpgpu: { gl: WebGLRenderingContext } }).gpgpu.gl;
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}
