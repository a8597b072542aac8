// Must run before @mnist-sym-wasm/core is loaded. Core bundles tfjs, whose Node code paths (the
// platform object, the emscripten loader of the wasm backend) call CommonJS `require` and read
// `__dirname` at load time; an ESM process has neither, so they are defined here.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireWithFileWorkers } from './node-wasm-threads';

const g = globalThis as { require?: NodeRequire; __dirname?: string };

/** tfjs-backend-wasm's package folder (resolved from core's own dependency). */
export function wasmPackageDir(): string {
  const fromCore = createRequire(fileURLToPath(import.meta.resolve('@mnist-sym-wasm/core')));
  return dirname(fromCore.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
}

/** Folder holding tfjs-backend-wasm's .wasm binaries. */
export function wasmBinaryDir(): string {
  return join(wasmPackageDir(), 'dist');
}

g.require ??= requireWithFileWorkers(createRequire(import.meta.url), wasmPackageDir());
g.__dirname ??= wasmBinaryDir();
