// Starts the core engine under Node (node-globals.ts must have been loaded before core).
import { initEngine, type EngineInfo } from '@mnist-sym-wasm/core';
import { wasmBinaryDir } from './node-globals';

/** initEngine for Node: single-threaded SIMD build (see docs/ENGINE.md for the threads status). */
export async function startNodeEngine(threads: number | 'auto'): Promise<EngineInfo> {
  return initEngine({ wasmPaths: `${wasmBinaryDir()}/`, threads, allowThreads: false });
}
