import { defineConfig, type Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { LABELS_PATH, MODELS } from './src/core/models/registry.ts';
import { SHARE_ACTION, SHARE_FIELD } from './src/app/pwa/share-target.ts';

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

/**
 * Installable and offline: the manifest, and our service worker (`src/app/pwa/sw.ts`)
 * with the precache list injected. The precache holds the app shell, the WASM
 * binaries and the default model, so after one visit the app starts and searches
 * with no network; the lite and detector models are not used by the app.
 */
function pwa(): Plugin[] {
  return VitePWA({
    strategies: 'injectManifest',
    srcDir: 'src/app/pwa',
    filename: 'sw.ts',
    injectRegister: false, // src/app/pwa/register.ts registers it, with the update prompt
    injectManifest: {
      // The manifest and its icons are added by the plugin.
      globPatterns: ['*.html', 'assets/**/*.{js,css,wasm}', `models/${MODELS.default.dir}/*`, `models/${LABELS_PATH}`],
      // The model's weight shards and the embedding worker bundle are a few MB each.
      maximumFileSizeToCacheInBytes: 16 * 1024 * 1024,
    },
    manifest: {
      name: 'Lookalike — visual search on your device',
      short_name: 'Lookalike',
      description: 'Find the most similar images in your own collection, offline. Images never leave your device.',
      id: '/',
      start_url: '/',
      scope: '/',
      display: 'standalone',
      background_color: '#14161d',
      theme_color: '#2a3a9e',
      icons: [
        { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
        { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
        { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        { src: '/icons/icon.svg', sizes: 'any', type: 'image/svg+xml' },
      ],
      share_target: {
        action: SHARE_ACTION,
        method: 'POST',
        enctype: 'multipart/form-data',
        params: { files: [{ name: SHARE_FIELD, accept: ['image/*'] }] },
      },
    },
  });
}

// `--mode harness` adds the test/benchmark page that drives the engine directly.
export default defineConfig(({ mode }) => ({
  server: { host: '127.0.0.1', headers: ISOLATION_HEADERS },
  preview: { host: '127.0.0.1', port: 4173, strictPort: true, headers: ISOLATION_HEADERS },
  plugins: [tfjsWasmThreadsFix(), pwa()],
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
