// Starts the core engine under Node (node-globals.ts must have been loaded before core).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { initEngine, type EngineInfo } from '@mnist-sym-wasm/core';
import { wasmBinaryDir } from './node-globals';
import { setWasmThreadRequest } from './node-wasm-threads';

/**
 * initEngine for Node: the threaded SIMD build with `threads` workers ('auto' = every core), or
 * the single-threaded SIMD build for 1 thread. Results do not depend on the choice.
 */
export async function startNodeEngine(threads: number | 'auto'): Promise<EngineInfo> {
  const count = threads === 'auto' ? availableParallelism() : threads;
  setWasmThreadRequest(count);
  return initEngine({ wasmPaths: `${wasmBinaryDir()}/`, threads: count, allowThreads: count > 1, spawnHelper: spawnNodeHelper });
}

/** A helper thread for core's own convolution; unref'd, so it never keeps the process alive. */
function spawnNodeHelper(source: string, data: unknown): void {
  new Worker(source, { eval: true, workerData: data }).unref();
}
