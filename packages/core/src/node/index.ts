// Entry of @mnist-sym-wasm/core under Node (the package's "node" export condition, ESM and
// CommonJS): everything the neutral entry exports, with an initEngine that knows where Node keeps
// tfjs's .wasm binaries and how to run threads there. This folder is core's only Node code: it
// reads no data and writes no files (the platform port; data still comes in as bytes).
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ConfigError } from '../errors';
import { initEngine as initEngineOn, type EngineInfo, type EngineOptions } from '../engine/engine';
import { installPthreadWorkers, withCoreCount } from './node-threads';

export * from '../index';

/** tfjs-backend-wasm's package folder, resolved from core's own dependency. */
function wasmPackageDir(): string {
  const fromCore = createRequire(import.meta.url);
  return dirname(fromCore.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
}

/**
 * Starts (once) the engine under Node: the threaded SIMD build with `threads` threads (default
 * 'auto' = every core), or the single-threaded SIMD build for 1 thread. Results never depend on the
 * thread count. Options left out get Node's answers (wasmPaths: tfjs's own dist folder; helper
 * threads: worker_threads).
 */
export async function initEngine(options: EngineOptions = {}): Promise<EngineInfo> {
  const requested = options.threads ?? 'auto';
  if (requested !== 'auto' && !(Number.isInteger(requested) && requested >= 1)) {
    throw new ConfigError(`threads must be 'auto' or a whole number >= 1 (got ${String(requested)})`);
  }
  const threads = requested === 'auto' ? availableParallelism() : requested;
  const pkg = wasmPackageDir();
  installPthreadWorkers(join(pkg, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js'));
  return withCoreCount(threads, () =>
    initEngineOn({
      ...options,
      wasmPaths: options.wasmPaths ?? `${join(pkg, 'dist')}/`,
      allowThreads: options.allowThreads ?? threads > 1,
      spawnHelper: options.spawnHelper ?? spawnNodeHelper,
      threads,
    }),
  );
}

/** A helper thread for core's own kernels; unref'd, so it never keeps the process alive. */
function spawnNodeHelper(source: string, data: unknown): void {
  new Worker(source, { eval: true, workerData: data }).unref();
}
