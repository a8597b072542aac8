// A default Vite app, with two settings of its own: terser as the minifier (the stricter one: it
// broke tfjs's pthread script before core made it self-contained, so the example keeps it), and the
// cross-origin isolation headers threads need, for `vite` and `vite preview`.
import { defineConfig } from 'vite';

const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  build: { minify: 'terser' },
  worker: { format: 'es' },
  server: { headers: isolation },
  preview: { headers: isolation },
  // Dev server only: pre-bundling would move core away from the .wasm files beside it.
  optimizeDeps: { exclude: ['@mnist-sym-wasm/core'] },
});
