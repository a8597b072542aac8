// One build for the whole monorepo: one tsup config per package, each entry mirrored in that
// package's `exports` map.
import { defineConfig } from 'tsup';

const nodeBuiltins = ['fs', 'path', 'os', 'util', 'worker_threads', 'perf_hooks', 'crypto', 'url', 'module', 'node-fetch', 'string_decoder'];

export default defineConfig([
  {
    // core bundles tfjs: tfjs-core's ESM build uses extension-less imports that plain Node ESM
    // cannot load, and the wasm backend must share the one tfjs-core instance core registers into.
    name: 'core',
    entry: { index: 'packages/core/src/index.ts' },
    outDir: 'packages/core/dist',
    format: ['esm'],
    platform: 'neutral',
    target: 'es2022',
    dts: true,
    clean: true,
    noExternal: [/^@tensorflow\//],
    external: nodeBuiltins,
    tsconfig: 'tsconfig.json',
  },
  {
    name: 'cli',
    entry: { index: 'packages/cli/src/index.ts' },
    outDir: 'packages/cli/dist',
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    clean: true,
    external: ['@mnist-sym-wasm/core'],
    banner: { js: '#!/usr/bin/env node' },
    loader: { '.py': 'text' }, // bench's PyTorch baseline script, embedded
    tsconfig: 'tsconfig.json',
  },
  {
    name: 'web',
    entry: { page: 'packages/web/src/page.ts', worker: 'packages/web/src/worker.ts' },
    outDir: 'packages/web/dist',
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    clean: true,
    splitting: false,
    noExternal: [/.*/],
    tsconfig: 'tsconfig.json',
    // The page's HTML and the tfjs-backend-wasm binaries, which the worker loads from beside itself.
    onSuccess: async () => {
      const { copyFileSync } = await import('node:fs');
      const { createRequire } = await import('node:module');
      const { dirname, join, resolve } = await import('node:path');
      const fromCore = createRequire(resolve('packages/core/package.json'));
      const wasmDir = join(dirname(fromCore.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
      copyFileSync('packages/web/src/index.html', 'packages/web/dist/index.html');
      for (const name of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
        copyFileSync(join(wasmDir, name), join('packages/web/dist', name));
      }
    },
  },
]);
