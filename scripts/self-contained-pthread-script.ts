// esbuild plugin for core's browser build (and the page's worker, which bundles core): makes the
// main script of tfjs-backend-wasm's pthread workers self-contained.
//
// tfjs hands its pthread workers `wasmFactoryThreadedSimd.toString()` as their main script. That
// text is only the inner function of emscripten's MODULARIZE wrapper: it reads the wrapper's
// `_scriptDir` (behind a `typeof` guard that a minifier such as terser drops, since it sees the
// binding declared) and, once bundled, esbuild's `__require`. An app that bundles core and minifies
// renames both, and every pthread worker throws `ReferenceError: <x> is not defined`. The plugin
// wraps the factory so that the workers get the untouched glue file's text instead, embedded as a
// string literal, which no downstream bundler rewrites.
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Plugin } from 'esbuild';

const GLUE = /[\\/]wasm-out[\\/]tfjs-backend-wasm-threaded-simd\.js$/;

export const selfContainedPthreadScript: Plugin = {
  name: 'self-contained-pthread-script',
  setup(build) {
    build.onResolve({ filter: /tfjs-backend-wasm-threaded-simd\.js$/ }, (args) => {
      // Only tfjs's own import of the glue; the wrapper's import of the real file resolves normally.
      if (args.namespace === 'pthread-script' || !/tfjs-backend-wasm[\\/]dist[\\/]/.test(args.importer)) return undefined;
      const file = resolve(args.resolveDir, args.path);
      if (!GLUE.test(file)) return undefined;
      // A relative-looking path: esbuild prints it in a comment of the output.
      return { path: basename(file), namespace: 'pthread-script', pluginData: file };
    });
    build.onLoad({ filter: /.*/, namespace: 'pthread-script' }, (args) => {
      const file = args.pluginData as string;
      return {
        resolveDir: dirname(file),
        loader: 'js',
        contents: [
          `import * as glue from './${basename(file)}';`,
          'const factory = glue.default || glue;',
          `const source = ${JSON.stringify(readFileSync(file, 'utf8'))};`,
          'export default function WasmBackendModuleThreadedSimd(config) {',
          "  if (config && typeof Blob !== 'undefined') config.mainScriptUrlOrBlob = new Blob([source], { type: 'text/javascript' });",
          '  return factory(config);',
          '}',
        ].join('\n'),
      };
    });
  },
};
