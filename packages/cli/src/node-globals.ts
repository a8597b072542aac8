// Must run before @mnist-sym-wasm/core is loaded. Core bundles tfjs, whose Node code paths (the
// platform object, the emscripten loader of the wasm backend) call CommonJS `require` and read
// `__dirname` at load time; an ESM process has neither, so they are defined here.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const g = globalThis as { require?: NodeRequire; __dirname?: string };

/** Folder holding tfjs-backend-wasm's .wasm binaries (resolved from core's own dependency). */
export function wasmBinaryDir(): string {
  const fromCore = createRequire(fileURLToPath(import.meta.resolve('@mnist-sym-wasm/core')));
  return join(dirname(fromCore.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
}

g.require ??= createRequire(import.meta.url);
g.__dirname ??= wasmBinaryDir();
