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
    tsconfig: 'tsconfig.json',
  },
  {
    name: 'web',
    entry: { index: 'packages/web/src/index.ts' },
    outDir: 'packages/web/dist',
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    clean: true,
    noExternal: [/.*/],
    tsconfig: 'tsconfig.json',
  },
]);
