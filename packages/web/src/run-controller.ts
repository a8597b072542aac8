// The run: starts an engine worker on the form's config and the chosen data (resuming the picked
// checkpoint, if any), retries a stalled threaded start on the single-threaded build, drives
// pause/resume/stop, and renders the worker's events as status, progress, charts, the result and
// the files the downloads save.
import * as Comlink from 'comlink';
import { configFileText, metricsLine, summaryFileText, type ExperimentConfig, type RunSummary } from '@mnist-sym-wasm/core';
import { unsupportedReason, type BuildChoice, type Capabilities } from './capabilities';
import type { RunCharts } from './charts';
import type { LoadedCheckpoint } from './checkpoint-panel';
import type { DataChoice } from './data-choice';
import type { RunFiles, RunOutputs } from './downloads';
import { describeEngine } from './engine-description';
import type { CheckpointBytes, EngineApi, StartResult, WorkerEvent } from './engine-api';
import { engineWorker } from './engine-worker';
import type { ConfigForm } from './form';
import type { Messages } from './messages';
import { pct, progressLine, type ProgressState } from './progress';

/**
 * How long the threaded build may take from the worker's choice to the run's `start` event
 * (normally 1–3 s). Firefox ESR 153 here sometimes never gets there on a fresh browser's first
 * threaded start (seen twice in about a dozen runs under load); the run then falls back to the
 * single-threaded build, which has no pthreads to wait for.
 */
const THREADED_START_MS = 20_000;

interface RunState extends ProgressState {
  /** The current attempt's worker (a failed threaded start is retried on a fresh one). */
  worker: Worker;
  api: Comlink.Remote<EngineApi>;
  config: ExperimentConfig;
  /** The build the worker chose, and whether the engine started on it (its `start` event came). */
  build: BuildChoice | null;
  started: boolean;
  /** Fails the current attempt when a threaded start stalls (see THREADED_START_MS). */
  stall: { timer?: ReturnType<typeof setTimeout>; fail?: (e: Error) => void };
}

export interface RunController extends RunOutputs {
  readonly running: boolean;
  /** Starts a run unless one is going; settles when it ends (errors are shown, never thrown). */
  start(): Promise<void>;
  /** Sets the run buttons (start, pause, resume, stop) for the current state. */
  render(): void;
}

export interface RunElements {
  start: HTMLButtonElement;
  pause: HTMLButtonElement;
  resume: HTMLButtonElement;
  stop: HTMLButtonElement;
  progress: HTMLElement;
  /** The Result section's weights hash and summary.json. */
  sha: HTMLElement;
  summary: HTMLElement;
}

export interface RunControllerOptions {
  form: ConfigForm;
  data: DataChoice;
  charts: RunCharts;
  messages: Messages;
  capabilities: Capabilities;
  /** The checkpoint the next start resumes, or null for a fresh run. */
  resumeFrom: () => LoadedCheckpoint | null;
  /** Called whenever the run's state changes (the page's buttons follow it). */
  onChange: () => void;
}

export function mountRunController(ui: RunElements, options: RunControllerOptions): RunController {
  const { form, charts, messages, capabilities } = options;
  let run: RunState | null = null;
  /** The current (or last) run's file contents, for the downloads. */
  const files: RunFiles = { csv: '', metrics: '', config: '', summary: '' };
  /** The last run's final (or stopping) checkpoint, for the download once its worker is gone. */
  let lastCheckpoint: CheckpointBytes | null = null;

  function renderProgress(r: RunState): void {
    ui.progress.textContent = progressLine(r, performance.now());
  }

  function onEvent(r: RunState, dataLabel: string, event: WorkerEvent): void {
    if (run !== r) return;
    switch (event.type) {
      case 'build':
        r.build = event;
        messages.engine(`starting the ${event.reason}…`);
        if (event.build === 'threaded-simd') {
          r.stall.timer = setTimeout(
            () => r.stall.fail?.(new Error(`the threaded SIMD build failed to start: no start within ${THREADED_START_MS / 1000} s`)),
            THREADED_START_MS,
          );
        }
        break;
      case 'start':
        r.started = true;
        clearTimeout(r.stall.timer);
        files.config = configFileText(event.config, event.engine, dataLabel);
        messages.engine(describeEngine(capabilities, event.engine, r.build));
        r.resumedAt = performance.now();
        r.steps = r.firstStep = event.resumedFrom ?? 0;
        messages.status(
          event.resumedFrom === undefined
            ? `evaluating ${event.trainImages} train / ${event.testImages} test images at step 0…`
            : `resumed from the checkpoint at step ${event.resumedFrom}`,
        );
        break;
      case 'step':
        r.steps = event.step;
        r.lastLoss = event.loss;
        charts.addStep(event.step, event.loss);
        messages.status('training');
        renderProgress(r);
        break;
      case 'eval':
        files.csv += event.csvLine;
        files.metrics += metricsLine(event.record);
        r.lastTest = pct(event.record.test);
        charts.addEval(event.record);
        // How the evaluation and the steps before it ran (once per copy set or every unit), as the CLI says.
        messages.status(
          `step ${event.record.step}: train ${pct(event.record.train)}, test ${r.lastTest}${event.path ? `; eval ${event.path}` : ''}${event.stepPath ? `; steps ${event.stepPath}` : ''}`,
        );
        renderProgress(r);
        break;
      case 'end':
        files.summary = summaryFileText(event.summary);
        break;
      case 'paused':
        r.paused = true;
        r.activeMs += performance.now() - r.resumedAt;
        messages.status(`paused before step ${event.step + 1}`);
        renderProgress(r);
        break;
      case 'resumed':
        r.paused = false;
        r.resumedAt = performance.now();
        messages.status('training');
        break;
    }
    options.onChange();
  }

  function showSummary(summary: RunSummary): void {
    ui.sha.textContent = summary.weightsSha256;
    ui.summary.textContent = summaryFileText(summary);
    ui.sha.closest('section')!.hidden = false;
  }

  /** One start on r's current worker: loads the data (transferred to it), runs, and returns the result. */
  async function attempt(
    r: RunState,
    crashed: Promise<never>,
    resumeFrom: LoadedCheckpoint | null,
    threadedFailed?: string,
  ): Promise<StartResult> {
    Object.assign(files, { csv: '', metrics: '', config: '', summary: '' });
    messages.status('loading data…');
    const data = await Promise.race([options.data.load(r.config), crashed]);
    messages.status('starting the engine…');
    const buffers = Object.values(data.files).map((a: Uint8Array) => a.buffer as ArrayBuffer);
    // A copy of the picked checkpoint goes over, so the page can resume it again.
    const checkpoint = resumeFrom?.bytes.slice();
    if (checkpoint) buffers.push(checkpoint.buffer as ArrayBuffer);
    const request = Comlink.transfer(
      {
        config: r.config,
        files: data.files,
        dataLabel: data.label,
        ...(checkpoint ? { checkpoint } : {}),
        ...(threadedFailed ? { threadedFailed } : {}),
      },
      buffers,
    );
    const listener = Comlink.proxy((event: WorkerEvent) => onEvent(r, data.label, event));
    const stalled = new Promise<never>((_resolve, reject) => (r.stall = { fail: reject }));
    return await Promise.race([r.api.start(request, listener), crashed, stalled]);
  }

  async function start(): Promise<void> {
    if (run) return;
    messages.error(null);
    let config: ExperimentConfig;
    try {
      config = form.config();
    } catch (e) {
      messages.error((e as Error).message);
      return;
    }
    const unsupported = unsupportedReason(capabilities);
    if (unsupported) {
      messages.error(unsupported);
      return;
    }
    form.writeUrl(config);
    const resumeFrom = options.resumeFrom();
    const first = engineWorker();
    const r: RunState = {
      worker: first.worker,
      api: first.api,
      config,
      build: null,
      started: false,
      stall: {},
      paused: false,
      steps: 0,
      firstStep: 0,
      activeMs: 0,
      resumedAt: performance.now(),
      lastLoss: NaN,
      lastTest: 'n/a',
    };
    run = r;
    lastCheckpoint = null;
    charts.reset();
    ui.sha.textContent = '';
    ui.summary.textContent = '';
    ui.sha.closest('section')!.hidden = true;
    ui.progress.textContent = '';
    options.onChange();
    try {
      let result: StartResult;
      try {
        result = await attempt(r, first.crashed, resumeFrom);
      } catch (e) {
        // A threaded build that detection allowed but that failed to start: a failed tfjs start
        // cannot be retried in its worker, so a fresh one runs the single-threaded SIMD build.
        if (r.build?.build !== 'threaded-simd' || r.started) throw e;
        clearTimeout(r.stall.timer);
        r.worker.terminate();
        const next = engineWorker();
        Object.assign(r, { worker: next.worker, api: next.api, build: null });
        result = await attempt(r, next.crashed, resumeFrom, (e as Error)?.message ?? String(e));
      }
      lastCheckpoint = result.checkpoint ?? null;
      if (result.status === 'done') {
        messages.status(`done: ${result.summary.steps} steps, test accuracy ${pct(result.summary.final.test)}`);
        showSummary(result.summary);
      } else {
        messages.status(`stopped before step ${result.step + 1}; the downloads hold the evaluations so far`);
      }
    } catch (e) {
      messages.status('failed');
      messages.error((e as Error)?.message ?? String(e));
    } finally {
      clearTimeout(r.stall.timer);
      r.worker.terminate();
      run = null;
      options.onChange();
    }
  }

  ui.start.addEventListener('click', () => void start());
  ui.pause.addEventListener('click', () => void run?.api.pause());
  ui.resume.addEventListener('click', () => void run?.api.resume());
  ui.stop.addEventListener('click', () => {
    if (!run) return;
    void run.api.stop();
    messages.status('stopping…');
  });

  return {
    get running() {
      return run !== null;
    },
    files,
    get hasCheckpoint() {
      return run !== null || lastCheckpoint !== null;
    },
    async checkpoint() {
      return run ? await run.api.checkpoint() : lastCheckpoint;
    },
    start,
    render() {
      const loaded = options.resumeFrom();
      ui.start.disabled = run !== null;
      ui.start.textContent = loaded ? `Resume from step ${loaded.info.step}` : 'Start';
      ui.pause.disabled = !run || run.paused;
      ui.resume.disabled = !run?.paused;
      ui.stop.disabled = !run;
    },
  };
}
