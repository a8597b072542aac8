// The contract between the page and the engine worker: one API object (exposed with comlink) and
// the events it reports through a proxied callback.
import type { ExperimentConfig, ExplainReport, MnistFiles, RunEvent, RunSummary, SuiteOptions } from '@mnist-sym-wasm/core';
import type { BuildChoice } from './capabilities';

/** Checkpoint bytes (core's encodeCheckpoint; the CLI's .ckpt format) and the step they hold. */
export interface CheckpointBytes {
  step: number;
  bytes: Uint8Array;
}

/** What the page shows about a picked checkpoint before resuming it. */
export interface CheckpointInfo {
  step: number;
  /** The run's resolved config: a resume uses it (only RESUME_SAFE_KEYS may change). */
  config: ExperimentConfig;
  /** Whether it carries the evaluations before its step (else the CSV/metrics start after it). */
  hasHistory: boolean;
}

/**
 * What the worker reports: the build it chose (before the engine starts, so the page knows which
 * one failed), the core run's events, and the pause state it actually reached.
 */
export type WorkerEvent =
  | ({ type: 'build' } & BuildChoice)
  | RunEvent
  | { type: 'paused'; step: number }
  | { type: 'resumed'; step: number };

/** One run's inputs. The four files' buffers are transferred to the worker, not copied. */
export interface StartRequest {
  /** The resolved config (the worker resolves it again: a typed config passes unchanged). */
  config: ExperimentConfig;
  /** The four MNIST files, raw IDX or gzip bytes, parsed in the worker by core's IDX reader. */
  files: MnistFiles;
  /** Where the data came from; recorded as `data` in config.json. */
  dataLabel: string;
  /**
   * Checkpoint bytes to continue (transferred). The run then first reports the checkpoint's earlier
   * evaluations as `eval` events (after `start`), so the page's CSV/metrics equal an uninterrupted run's.
   */
  checkpoint?: Uint8Array;
  /**
   * The threaded build's start error from an earlier worker of this page: the worker then takes
   * the single-threaded SIMD build (a failed tfjs start cannot be retried in the same worker).
   */
  threadedFailed?: string;
}

/** How a run ended (errors are thrown, with a one-line message). */
export type StartResult =
  | { status: 'done'; summary: RunSummary; checkpoint?: CheckpointBytes }
  | { status: 'stopped'; step: number; checkpoint?: CheckpointBytes };

/** The explain suite's inputs (the four files' buffers are transferred). */
export interface ExplainRequest {
  /** How the suite is sized, as the CLI's `explain` flags give it (core's explainSuite). */
  options: SuiteOptions;
  files: MnistFiles;
  /** As in StartRequest. */
  threadedFailed?: string;
}

/** What the worker reports while the explain suite runs. */
export type ExplainEvent =
  | ({ type: 'build' } & BuildChoice)
  | { type: 'run-start'; index: number; count: number; id: string; label: string; steps: number }
  /** A run's progress: after each of its evaluations, and every 50th training step. */
  | { type: 'run-progress'; index: number; id: string; step: number; steps: number; test: number | null }
  | { type: 'run-end'; index: number; id: string; test: number; wallMs: number };

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
  /**
   * A checkpoint of the run in progress (transferred): at the current step when paused, else at
   * the next step boundary (the final state if the run ends first).
   */
  checkpoint(): Promise<CheckpointBytes>;
  /** Decodes and checks checkpoint bytes (transferred); rejects with core's one-line CheckpointError. */
  readCheckpoint(bytes: Uint8Array): Promise<CheckpointInfo>;
  /**
   * Runs the explain suite (core's explainSuite and runExplainSuite, as the CLI's `explain`) and
   * resolves with its report: the same numbers as the CLI's report.json for the same options and
   * data, timings aside. stop() ends it (rejects with core's "run stopped" error).
   */
  explain(request: ExplainRequest, onEvent: (event: ExplainEvent) => void | Promise<void>): Promise<ExplainReport>;
}
