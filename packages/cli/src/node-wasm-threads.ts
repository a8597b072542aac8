// Lets tfjs-backend-wasm's threaded build run under Node's worker_threads. Its emscripten loader
// starts each pthread worker from a `blob:` URL and sends the main script as a Blob, both of which
// Node's Worker rejects. The loader gets `worker_threads` through the global `require` we provide
// (node-globals.ts), so we hand it a Worker that loads the same two scripts from real files.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import * as workerThreads from 'node:worker_threads';

let requestedThreads = 1;

/**
 * The loader sizes its thread pool from the core count it sees (half of os.cpus(), clamped), not
 * from setThreadsCount alone; it is told twice the requested count so the request is honoured.
 */
export function setWasmThreadRequest(threads: number): void {
  requestedThreads = threads;
}

/** A `require` for tfjs's loader: real modules, except a blob-free worker_threads.Worker and os.cpus. */
export function requireWithFileWorkers(realRequire: NodeRequire, wasmPackageDir: string): NodeRequire {
  const outDir = join(wasmPackageDir, 'wasm-out');
  const mainScript = join(outDir, 'tfjs-backend-wasm-threaded-simd.js');
  let workerScript: string | null = null;
  const workerFile = (): string => {
    if (workerScript) return workerScript;
    // The package ships the worker source as a string export; write it once to a CommonJS file.
    const { wasmWorkerContents } = realRequire(join(outDir, 'tfjs-backend-wasm-threaded-simd.worker.js')) as {
      wasmWorkerContents: string;
    };
    // Same escaping as tfjs applies before making its Blob: the template literal turned the
    // source's `\n` escapes inside string literals into real newlines.
    const source = wasmWorkerContents.replace(/\n/g, '\\n');
    const digest = createHash('sha256').update(source).digest('hex').slice(0, 16);
    const dir = join(os.tmpdir(), 'mnist-sym-wasm');
    const file = join(dir, `tfjs-wasm-pthread-${digest}.cjs`);
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, source);
      renameSync(tmp, file);
    }
    workerScript = file;
    return file;
  };

  class FileWorker extends workerThreads.Worker {
    constructor(url: string | URL, options?: workerThreads.WorkerOptions) {
      super(typeof url === 'string' && url.startsWith('blob:') ? workerFile() : url, options);
      // Pool workers must not keep the process alive after the run.
      this.unref();
    }

    override postMessage(message: unknown, transfer?: readonly workerThreads.TransferListItem[]): void {
      const m = message as { cmd?: string; urlOrBlob?: unknown };
      if (m && m.cmd === 'load' && typeof m.urlOrBlob !== 'string') {
        super.postMessage({ ...m, urlOrBlob: mainScript }, transfer);
        return;
      }
      super.postMessage(message, transfer);
    }
  }

  const patchedThreads = { ...workerThreads, Worker: FileWorker };
  const patchedOs = {
    ...os,
    cpus: () => {
      const real = os.cpus();
      const wanted = 2 * requestedThreads;
      return real.length >= wanted ? real : Array.from({ length: wanted }, (_, i) => real[i % real.length]);
    },
  };
  const modules: Record<string, unknown> = {
    worker_threads: patchedThreads,
    'node:worker_threads': patchedThreads,
    os: patchedOs,
    'node:os': patchedOs,
  };
  const wrapped = ((id: string) => modules[id] ?? realRequire(id)) as NodeRequire;
  return Object.assign(wrapped, { resolve: realRequire.resolve, cache: realRequire.cache, main: realRequire.main, extensions: realRequire.extensions });
}
