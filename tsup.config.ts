// One build for the whole monorepo: one tsup config per package, each entry mirrored in that
// package's `exports` map.
import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';
import { selfContainedPthreadScript } from './scripts/self-contained-pthread-script';

const TFJS_WASM_BINARIES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

/** Copies tfjs-backend-wasm's binaries into `outDir` (core's and the page's builds load them from beside themselves). */
async function copyTfjsWasm(outDir: string): Promise<void> {
  const { copyFileSync } = await import('node:fs');
  const { createRequire } = await import('node:module');
  const { dirname, join, resolve } = await import('node:path');
  const fromCore = createRequire(resolve('packages/core/package.json'));
  const wasmDir = join(dirname(fromCore.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  for (const name of TFJS_WASM_BINARIES) copyFileSync(join(wasmDir, name), join(outDir, name));
}

const cliPackage = JSON.parse(readFileSync('packages/cli/package.json', 'utf8')) as { dependencies: Record<string, string> };

const nodeBuiltins = [
  'fs',
  'path',
  'os',
  'util',
  'worker_threads',
  'perf_hooks',
  'crypto',
  'url',
  'module',
  'node-fetch',
  'string_decoder',
];

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
    // Public types name the project's own types; tfjs tensors are @internal (tfjs-core's own .d.ts
    // do not compile without skipLibCheck).
    dts: { compilerOptions: { stripInternal: true } },
    clean: ['index.*'], // core-node shares the folder
    noExternal: [/^@tensorflow\//],
    external: nodeBuiltins,
    tsconfig: 'tsconfig.json',
    esbuildPlugins: [selfContainedPthreadScript],
    // The binaries beside dist/index.js, where engine/bundled-engine.ts points by default.
    onSuccess: () => copyTfjsWasm('packages/core/dist'),
  },
  {
    // core under Node (the "node" export condition), as ESM and CommonJS: the same engine plus the
    // Node platform port (src/node). The bundled tfjs calls `require` and reads `__dirname` at load
    // time in Node; CommonJS has both, the ESM build gets them from the banner and tsup's shims.
    name: 'core-node',
    entry: { node: 'packages/core/src/node/index.ts' },
    outDir: 'packages/core/dist',
    format: ['esm', 'cjs'],
    platform: 'node',
    target: 'node20',
    dts: { compilerOptions: { stripInternal: true } },
    clean: ['node.*'],
    shims: true,
    noExternal: [/^@tensorflow\//],
    external: nodeBuiltins,
    tsconfig: 'tsconfig.json',
    banner: (ctx) =>
      ctx.format === 'esm'
        ? {
            js: "import { createRequire as __coreCreateRequire } from 'node:module';\nconst require = __coreCreateRequire(import.meta.url);",
          }
        : {},
  },
  {
    name: 'cli',
    entry: { index: 'packages/cli/src/index.ts' },
    outDir: 'packages/cli/dist',
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    clean: true,
    // The CLI's own dependencies stay imports (tsup would only externalise the root package's).
    external: Object.keys(cliPackage.dependencies),
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
    esbuildPlugins: [selfContainedPthreadScript],
    // The page's HTML and the tfjs-backend-wasm binaries, which the worker loads from beside itself.
    onSuccess: async () => {
      const { copyFileSync } = await import('node:fs');
      copyFileSync('packages/web/src/index.html', 'packages/web/dist/index.html');
      await copyTfjsWasm('packages/web/dist');
    },
  },
]);
