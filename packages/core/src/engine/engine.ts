// The one explicit engine start: pins tfjs to the WebAssembly backend, sets its SIMD/thread flags
// and wasm file location, registers the project's kernels, and reports what it got. Nothing else in
// the project touches tf.env().
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { getThreadsCount, setThreadsCount, setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from '../kernels/register_wasm_kernels';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { startHeapKernelHelpers, type SpawnHelper } from '../own-wasm/heap-kernels';

/** How to start the engine; platform adapters (cli, web) fill in what only they know. */
export interface EngineOptions {
  /** Folder (URL or path prefix ending in '/') or file map of the tfjs-backend-wasm binaries. */
  wasmPaths?: string | Record<string, string>;
  /** Threads requested ('auto' = all cores); honoured only where the threaded build can run. */
  threads?: number | 'auto';
  /** Whether the platform can run the threaded build (Node: not yet; browser: crossOriginIsolated). */
  allowThreads?: boolean;
  /**
   * Starts one helper thread for the project's own convolution (Node: a worker_threads Worker;
   * browser: a Web Worker). With threads > 1, initEngine starts threads - 1 of them.
   */
  spawnHelper?: SpawnHelper;
}

/** What the engine actually runs on, recorded with every run. */
export interface EngineInfo {
  backend: 'wasm';
  simd: boolean;
  threads: number;
  /** Threads the project's own convolution and GEMM run on (helpers + 1; 1 on a plain heap). */
  kernelThreads: number;
  tfjsVersion: string;
}

let started: EngineInfo | null = null;

/** Starts (once) and returns the engine. Throws if the wasm backend cannot start: no silent fallback. */
export async function initEngine(options: EngineOptions = {}): Promise<EngineInfo> {
  if (started) return started;
  if (options.wasmPaths) setWasmPaths(options.wasmPaths as string);
  const allowThreads = options.allowThreads ?? false;
  // tfjs forces this flag off in Node; the Node adapter makes the threaded build work there.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', allowThreads);
  if (allowThreads && typeof options.threads === 'number') setThreadsCount(options.threads);
  const ok = await tf.setBackend('wasm');
  if (!ok || tf.getBackend() !== 'wasm') {
    throw new Error('the tfjs WebAssembly backend failed to start (are the .wasm files where wasmPaths says?)');
  }
  registerWasmKernels();
  const threads = getThreadsCount();
  const helpers =
    options.spawnHelper && threads > 1 ? startHeapKernelHelpers(tf.backend() as BackendWasm, threads - 1, options.spawnHelper) : 0;
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  started = { backend: 'wasm', simd, threads, kernelThreads: helpers + 1, tfjsVersion: version_wasm };
  return started;
}

/** The running engine, or an error if initEngine has not been awaited. */
export function engineInfo(): EngineInfo {
  if (!started) throw new Error('initEngine() has not been called');
  return started;
}
