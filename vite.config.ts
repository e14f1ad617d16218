import { defineConfig } from 'vite';

/** Cross-origin isolation unlocks SharedArrayBuffer, which multi-threaded WASM needs. */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

// `--mode harness` adds the test/benchmark page that drives the engine directly.
export default defineConfig(({ mode }) => ({
  server: { host: '127.0.0.1', headers: ISOLATION_HEADERS },
  preview: { host: '127.0.0.1', port: 4173, strictPort: true, headers: ISOLATION_HEADERS },
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    outDir: mode === 'harness' ? 'dist-harness' : 'dist',
    rollupOptions: {
      input: { main: 'index.html', ...(mode === 'harness' ? { harness: 'tests/harness/index.html' } : {}) } as Record<string, string>,
    },
  },
}));
