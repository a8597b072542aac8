// Lets tfjs-backend-wasm's threaded build run under Node's worker_threads, for any way core is
// loaded (ESM or CommonJS). Its emscripten loader assigns `global.Worker = worker_threads.Worker`,
// then starts each pthread worker from a `blob:` URL and sends it the main script as a Blob, both
// of which Node's Worker rejects; it also sizes XNNPACK's pool from `os.cpus()`. We catch the
// assignment (a setter on globalThis.Worker) and hand back a Worker that runs the pthread script
// from source (`eval`) and loads the main script from tfjs's own file, so nothing is written to disk.
import os from 'node:os';
import * as workerThreads from 'node:worker_threads';
import { wasmWorkerContents } from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js';

type WorkerClass = typeof workerThreads.Worker;

/**
 * A Worker class for the loader: `blob:` URLs become the pthread script (evaluated), a Blob main
 * script becomes `mainScript`'s path; workers never keep the process alive.
 */
function fileBackedWorker(Base: WorkerClass, mainScript: string): WorkerClass {
  // Same escaping as tfjs applies before making its Blob: the template literal turned the source's
  // `\n` escapes inside string literals into real newlines.
  const pthreadSource = wasmWorkerContents.replace(/\n/g, '\\n');
  return class PthreadWorker extends Base {
    constructor(url: string | URL, options?: workerThreads.WorkerOptions) {
      const fromBlob = typeof url === 'string' && url.startsWith('blob:');
      super(fromBlob ? pthreadSource : url, fromBlob ? { ...options, eval: true } : options);
      this.unref();
    }

    // The loader refs a worker while its pthread runs; XNNPACK's pool threads run for the life of
    // the process, which would then never exit on its own.
    override ref(): void {}

    override postMessage(message: unknown, transfer?: readonly workerThreads.TransferListItem[]): void {
      const m = message as { cmd?: string; urlOrBlob?: unknown } | null;
      super.postMessage(m && m.cmd === 'load' && typeof m.urlOrBlob !== 'string' ? { ...m, urlOrBlob: mainScript } : message, transfer);
    }
  };
}

let installed = false;

/**
 * Installs the globalThis.Worker setter (once). `mainScript` is the path of tfjs-backend-wasm's
 * `wasm-out/tfjs-backend-wasm-threaded-simd.js`.
 */
export function installPthreadWorkers(mainScript: string): void {
  if (installed) return;
  installed = true;
  const g = globalThis as { Worker?: unknown };
  let current: unknown = g.Worker;
  Object.defineProperty(globalThis, 'Worker', {
    configurable: true,
    get: () => current,
    set: (value: unknown) => {
      current = value === workerThreads.Worker ? fileBackedWorker(workerThreads.Worker, mainScript) : value;
    },
  });
}

/**
 * Runs `start` with os.cpus() reporting at least 2 * `threads` cores: the loader sizes its thread
 * pool from half the core count it sees, not from setThreadsCount alone. Restored afterwards.
 */
export async function withCoreCount<T>(threads: number, start: () => Promise<T>): Promise<T> {
  const real = os.cpus;
  const wanted = 2 * threads;
  // The default import is the module object the loader's require('os') returns, so this is seen there.
  const mutableOs = os as { cpus: typeof os.cpus };
  try {
    mutableOs.cpus = () => {
      const cpus = real();
      return cpus.length >= wanted ? cpus : Array.from({ length: wanted }, (_, i) => cpus[i % cpus.length]);
    };
  } catch {
    // A frozen module namespace: the pool then follows the real core count.
  }
  try {
    return await start();
  } finally {
    try {
      mutableOs.cpus = real;
    } catch {
      // nothing was replaced
    }
  }
}
