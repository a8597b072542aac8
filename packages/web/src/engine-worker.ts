// A fresh engine worker (worker.ts, beside the page's script) wrapped with comlink, and a promise
// that rejects when it dies: a crashed worker's comlink calls would otherwise never settle.
import * as Comlink from 'comlink';
import type { EngineApi } from './engine-api';

export interface EngineWorker {
  worker: Worker;
  api: Comlink.Remote<EngineApi>;
  /** Rejects with a one-line message if the worker dies (script error, out of memory). */
  crashed: Promise<never>;
}

/** Rejects when the worker dies (script error, out of memory): Comlink calls would never settle. */
function whenCrashed(worker: Worker): Promise<never> {
  return new Promise((_resolve, reject) => {
    worker.addEventListener('error', (e) => {
      e.preventDefault();
      // The worker's own error and where it was thrown; a script that fails to load has neither.
      const where = e.filename ? ` (at ${e.filename}:${e.lineno}:${e.colno})` : '';
      reject(
        new Error(
          e.message
            ? `the engine worker crashed: ${e.message}${where}`
            : `the engine worker crashed: its script ${new URL('./worker.js', import.meta.url).href} failed to load or run, and the browser gave no message${where}`,
        ),
      );
    });
    worker.addEventListener('messageerror', () => reject(new Error('the engine worker crashed: a message could not be decoded')));
  });
}

/** A fresh engine worker; `crashed` rejects if it dies (listen at once: a broken script fails early). */
export function engineWorker(): EngineWorker {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'mnist-sym-wasm engine' });
  const crashed = whenCrashed(worker);
  crashed.catch(() => {});
  return { worker, api: Comlink.wrap<EngineApi>(worker), crashed };
}
