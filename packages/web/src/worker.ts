// The engine in a Web Worker: core's run loop behind one typed API object exposed with comlink.
// Pause/resume/stop act between training steps through core's betweenSteps hook.
import * as Comlink from 'comlink';
import { initEngine, loadMnist, resolveConfig, runExperiment, RunStoppedError } from '@mnist-sym-wasm/core';
import type { EngineApi, StartRequest, StartResult, WorkerEvent } from './engine-api';

type Control = 'run' | 'pause' | 'stop';

let control: Control = 'run';
let wake: (() => void) | null = null;
let running = false;

// A training step is synchronous and `await` alone only drains microtasks, so pause/stop messages
// from the page would never be handled mid-run; a message to ourselves lets queued tasks run first.
const tick = new MessageChannel();
let tickResolve: (() => void) | null = null;
tick.port1.onmessage = () => tickResolve?.();
function yieldToMessages(): Promise<void> {
  return new Promise((resolve) => {
    tickResolve = resolve;
    tick.port2.postMessage(null);
  });
}

function setControl(next: Control): void {
  if (control === 'stop') return; // a stop is final for this run
  control = next;
  wake?.();
  wake = null;
}

const api: EngineApi = {
  async start(request: StartRequest, onEvent: (event: WorkerEvent) => void | Promise<void>): Promise<StartResult> {
    if (running) throw new Error('a run is already in progress in this worker');
    running = true;
    control = 'run';
    // Events travel on the proxy's own port, in order; awaiting the last one's reply before start()
    // returns guarantees the page has every event before it sees the result.
    let delivered: Promise<void> = Promise.resolve();
    const emit = (event: WorkerEvent) => {
      delivered = Promise.resolve(onEvent(event)).catch(() => {});
    };
    try {
      const config = resolveConfig(request.config as unknown as Record<string, unknown>);
      const data = loadMnist(request.files, config.validationSize);
      // Threads: the single-threaded SIMD build for now (see docs/WEB.md); the wasm binaries sit
      // beside this bundle.
      const engine = await initEngine({ wasmPaths: new URL('./', import.meta.url).href, threads: config.threads, allowThreads: false });
      if (!engine.simd) throw new Error('the WebAssembly SIMD build did not start; results would not match the CLI');
      const summary = await runExperiment(config, data, {
        onEvent: emit,
        betweenSteps: async (step) => {
          await yieldToMessages();
          if (control === 'pause') {
            emit({ type: 'paused', step });
            while (control === 'pause') await new Promise<void>((resolve) => (wake = resolve));
            if (control === 'run') emit({ type: 'resumed', step });
          }
          return control === 'stop' ? 'stop' : 'continue';
        },
      });
      return { status: 'done', summary };
    } catch (e) {
      if (e instanceof RunStoppedError) return { status: 'stopped', step: e.step };
      throw e;
    } finally {
      await delivered;
      running = false;
    }
  },
  pause: () => setControl('pause'),
  resume: () => setControl('run'),
  stop: () => setControl('stop'),
};

Comlink.expose(api);
