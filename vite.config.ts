import { defineConfig, type Plugin } from 'vite';

/** Cross-origin isolation unlocks SharedArrayBuffer, which multi-threaded WASM needs. */
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * Multi-threaded TF.js WASM crashed minified production builds with
 * "ReferenceError: e is not defined". Each pthread worker re-evaluates the
 * Emscripten factory from its source text (`factory.toString()`), outside the
 * wrapper that declares `_scriptDir`. Unminified, the factory guards the read
 * with `typeof _scriptDir !== "undefined"`; the minifier sees the declaration,
 * renames it to `e` and drops the guard as redundant, so the pthread reads an
 * undeclared `e`. In browsers the branch is dead anyway (`document.currentScript`
 * is null in modules and workers), so remove it before the minifier runs.
 */
function tfjsWasmThreadsFix(): Plugin {
  const guard = 'typeof _scriptDir !== "undefined" && _scriptDir';
  return {
    name: 'tfjs-wasm-threads-fix',
    transform(code, id) {
      if (!/tfjs-backend-wasm-threaded-simd\.js$/.test(id)) return null;
      if (!code.includes(guard)) this.error('The _scriptDir guard is gone: re-check the threaded WASM build after a tfjs upgrade.');
      return { code: code.replace(guard, 'false'), map: null };
    },
  };
}

// `--mode harness` adds the test/benchmark page that drives the engine directly.
export default defineConfig(({ mode }) => ({
  server: { host: '127.0.0.1', headers: ISOLATION_HEADERS },
  preview: { host: '127.0.0.1', port: 4173, strictPort: true, headers: ISOLATION_HEADERS },
  plugins: [tfjsWasmThreadsFix()],
  // Worker bundles do not inherit top-level plugins, and the engine runs in a worker.
  worker: { format: 'es', plugins: () => [tfjsWasmThreadsFix()] },
  build: {
    target: 'es2022',
    outDir: mode === 'harness' ? 'dist-harness' : 'dist',
    rollupOptions: {
      input: { main: 'index.html', ...(mode === 'harness' ? { harness: 'tests/harness/index.html', indexBench: 'tests/harness/index-bench.html' } : {}) } as Record<string, string>,
    },
  },
}));
