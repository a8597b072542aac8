// The contract between the page and the engine worker: one API object (exposed with comlink) and
// the events it reports through a proxied callback.
import type { ExperimentConfig, MnistFiles, RunEvent, RunSummary } from '@mnist-sym-wasm/core';

/** What the worker reports: the core run's events, plus the pause state it actually reached. */
export type WorkerEvent = RunEvent | { type: 'paused'; step: number } | { type: 'resumed'; step: number };

/** One run's inputs. The four files' buffers are transferred to the worker, not copied. */
export interface StartRequest {
  /** The resolved config (the worker resolves it again: a typed config passes unchanged). */
  config: ExperimentConfig;
  /** The four MNIST files, raw IDX or gzip bytes, parsed in the worker by core's IDX reader. */
  files: MnistFiles;
  /** Where the data came from; recorded as `data` in config.json. */
  dataLabel: string;
}

/** How a run ended (errors are thrown, with a one-line message). */
export type StartResult = { status: 'done'; summary: RunSummary } | { status: 'stopped'; step: number };

/** The engine worker's API; every method crosses the worker boundary, so all return promises. */
export interface EngineApi {
  /**
   * Starts the engine (once per worker), loads the data and runs the protocol to its end. `onEvent`
   * is a Comlink proxy (its own message port, so it is not ordered with start's reply): start()
   * settles only after the page has handled every event.
   */
  start(request: StartRequest, onEvent: (event: WorkerEvent) => void | Promise<void>): Promise<StartResult>;
  /** Pauses before the next training step (reported by a `paused` event). */
  pause(): void;
  /** Continues a paused run. */
  resume(): void;
  /** Ends the run before the next training step; start() then resolves as `stopped`. */
  stop(): void;
}
