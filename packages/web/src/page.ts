// The experiment page: a config form generated from core's CONFIG_FIELDS and mirrored in the URL,
// run controls, progress, live charts, the run's four files and its checkpoint as downloads, and
// resuming a picked checkpoint. All engine work happens in worker.ts; this file only renders its events.
import * as Comlink from 'comlink';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import {
  CONFIG_FIELDS,
  CONFIG_KEYS,
  DEFAULT_CONFIG,
  configFileText,
  metricsLine,
  resolveConfig,
  RESUME_SAFE_KEYS,
  RUN_FILES,
  summaryFileText,
  type EngineInfo,
  type ExperimentConfig,
  type MnistFiles,
  type RunSummary,
} from '@mnist-sym-wasm/core';
import { chooseBuild, detectCapabilities, unsupportedReason, type BuildChoice } from './capabilities';
import { RunCharts } from './charts';
import { pageLocale } from './locale';
import { fetchMnistFiles, readPickedFiles } from './data-source';
import type { CheckpointBytes, CheckpointInfo, EngineApi, StartResult, WorkerEvent } from './engine-api';
import { configToSearch, DEFAULT_DATA_URL, fieldChoices, fieldText, readPageParams } from './url-config';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const ui = {
  fields: $<HTMLFieldSetElement>('config-fields'),
  dataServer: $<HTMLInputElement>('data-server'),
  dataFiles: $<HTMLInputElement>('data-files'),
  dataPicker: $<HTMLInputElement>('data-picker'),
  dataUrl: $<HTMLElement>('data-url'),
  checkpointPicker: $<HTMLInputElement>('checkpoint-picker'),
  checkpointInfo: $<HTMLElement>('checkpoint-info'),
  checkpointClear: $<HTMLButtonElement>('checkpoint-clear'),
  start: $<HTMLButtonElement>('start'),
  pause: $<HTMLButtonElement>('pause'),
  resume: $<HTMLButtonElement>('resume'),
  stop: $<HTMLButtonElement>('stop'),
  error: $<HTMLElement>('error'),
  status: $<HTMLElement>('status'),
  progress: $<HTMLElement>('progress'),
  engine: $<HTMLElement>('engine'),
  downloads: $<HTMLElement>('downloads'),
  sha: $<HTMLElement>('weights-sha256'),
  summary: $<HTMLElement>('summary-json'),
};

const charts = new RunCharts({ loss: $('chart-loss'), accuracy: $('chart-accuracy'), symmetry: $('chart-symmetry') });
const params = readPageParams(location.search);
const capabilities = detectCapabilities();

// ---- errors and status ----

function showError(message: string | null): void {
  ui.error.textContent = message ?? '';
  ui.error.hidden = message === null;
}

function setStatus(text: string): void {
  ui.status.textContent = text;
}

// ---- the config form, generated from CONFIG_FIELDS so new fields appear without page changes ----

const inputs = {} as Record<keyof ExperimentConfig, HTMLInputElement | HTMLSelectElement>;
for (const key of CONFIG_KEYS) {
  const field = CONFIG_FIELDS[key];
  const label = document.createElement('label');
  label.title = field.help;
  const name = document.createElement('span');
  name.textContent = key;
  const choices = fieldChoices(key);
  let input: HTMLInputElement | HTMLSelectElement;
  if (choices) {
    input = document.createElement('select');
    for (const c of choices) input.append(new Option(c, c));
  } else {
    input = document.createElement('input');
    input.type = 'text';
    input.placeholder = field.valueName;
    input.spellcheck = false;
  }
  input.name = key;
  input.dataset.testid = `config-${key}`;
  input.value = params.raw[key] ?? fieldText(params.config[key]);
  input.addEventListener('change', onFormChange);
  const help = document.createElement('small');
  help.textContent = `${field.help} (default ${fieldText(DEFAULT_CONFIG[key])})`;
  label.append(name, input, help);
  ui.fields.append(label);
  inputs[key] = input;
}

/** The form's config through core's resolver (throws ConfigError with a one-line message). */
function formConfig(): ExperimentConfig {
  const raw: Record<string, string> = {};
  for (const key of CONFIG_KEYS) raw[key] = inputs[key].value.trim();
  return resolveConfig(raw);
}

const dataUrl = params.dataUrl;
ui.dataUrl.textContent = dataUrl;

function writeUrl(config: ExperimentConfig): void {
  const search = configToSearch(config, dataUrl !== DEFAULT_DATA_URL ? { data: dataUrl } : {});
  history.replaceState(null, '', `${location.pathname}${search}`);
}

function onFormChange(): void {
  if (run) return;
  try {
    const config = formConfig();
    writeUrl(config);
    ui.engine.textContent = describeBrowser(config);
    showError(null);
  } catch (e) {
    showError((e as Error).message);
  }
}

// ---- the run ----

/**
 * How long the threaded build may take from the worker's choice to the run's `start` event
 * (normally 1–3 s). Firefox ESR 153 here sometimes never gets there on a fresh browser's first
 * threaded start (seen twice in about a dozen runs under load); the run then falls back to the
 * single-threaded build, which has no pthreads to wait for.
 */
const THREADED_START_MS = 20_000;

interface RunState {
  /** The current attempt's worker (a failed threaded start is retried on a fresh one). */
  worker: Worker;
  api: Comlink.Remote<EngineApi>;
  config: ExperimentConfig;
  /** The build the worker chose, and whether the engine started on it (its `start` event came). */
  build: BuildChoice | null;
  started: boolean;
  /** Fails the current attempt when a threaded start stalls (see THREADED_START_MS). */
  stall: { timer?: ReturnType<typeof setTimeout>; fail?: (e: Error) => void };
  paused: boolean;
  steps: number;
  /** Step this session started from (the checkpoint's when resuming), for the rate. */
  firstStep: number;
  activeMs: number;
  resumedAt: number;
  lastLoss: number;
  lastTest: string;
}

let run: RunState | null = null;
/** The current (or last) run's file contents, for the downloads. */
const files = { csv: '', metrics: '', config: '', summary: '' };
/** The last run's final (or stopping) checkpoint, for the download once its worker is gone. */
let lastCheckpoint: CheckpointBytes | null = null;
/** The picked checkpoint the next start resumes, or null for a fresh run. */
let loaded: { name: string; bytes: Uint8Array; info: CheckpointInfo } | null = null;

function setButtons(): void {
  ui.start.disabled = run !== null;
  ui.start.textContent = loaded ? `Resume from step ${loaded.info.step}` : 'Start';
  ui.checkpointPicker.disabled = run !== null;
  ui.checkpointClear.disabled = run !== null;
  ui.pause.disabled = !run || run.paused;
  ui.resume.disabled = !run?.paused;
  ui.stop.disabled = !run;
  for (const b of ui.downloads.querySelectorAll('button')) {
    b.disabled = b.dataset.file === 'checkpoint' ? !run && !lastCheckpoint : files[b.dataset.file as keyof typeof files] === '';
  }
}

function pct(x: number | null): string {
  return x === null || Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(2)}%`;
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const mmss = `${String(m).padStart(h ? 2 : 1, '0')}:${String(s % 60).padStart(2, '0')}`;
  return h ? `${h}:${mmss}` : mmss;
}

function renderProgress(r: RunState): void {
  const active = r.activeMs + (r.paused ? 0 : performance.now() - r.resumedAt);
  const done = r.steps - r.firstStep;
  const rate = done / (active / 1000);
  const eta = (r.config.steps - r.steps) / rate;
  ui.progress.textContent =
    `step ${r.steps}/${r.config.steps} · ${done > 0 ? rate.toFixed(2) : '–'} steps/s · ETA ${done > 0 ? clock(eta) : '--:--'}` +
    ` · batch loss ${done > 0 ? r.lastLoss.toPrecision(5) : 'n/a'} · test ${r.lastTest}${r.paused ? ' · paused' : ''}`;
}

function describeEngine(e: EngineInfo, build: BuildChoice | null): string {
  return (
    `tfjs ${e.tfjsVersion} ${e.backend}, SIMD ${e.simd ? 'on' : 'off'}, ${e.threads} thread${e.threads === 1 ? '' : 's'} (own kernels: ${e.kernelThreads}); ` +
    `crossOriginIsolated: ${capabilities.crossOriginIsolated ? 'yes' : 'no'}${build ? `; ${build.reason}` : ''}`
  );
}

/** What the page expects to run before a run starts (the worker decides again in its own scope). */
function describeBrowser(config: ExperimentConfig): string {
  const locale =
    pageLocale.used === pageLocale.reported
      ? ''
      : `; numbers in ${pageLocale.used} (the browser's language '${pageLocale.reported}' is not a tag Intl accepts)`;
  const unsupported = unsupportedReason(capabilities);
  return `${unsupported ?? `this browser: ${chooseBuild(capabilities, config.threads).reason}`}${locale}`;
}

function onEvent(r: RunState, dataLabel: string, event: WorkerEvent): void {
  if (run !== r) return;
  switch (event.type) {
    case 'build':
      r.build = event;
      ui.engine.textContent = `starting the ${event.reason}…`;
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
      ui.engine.textContent = describeEngine(event.engine, r.build);
      r.resumedAt = performance.now();
      r.steps = r.firstStep = event.resumedFrom ?? 0;
      setStatus(
        event.resumedFrom === undefined
          ? `evaluating ${event.trainImages} train / ${event.testImages} test images at step 0…`
          : `resumed from the checkpoint at step ${event.resumedFrom}`,
      );
      break;
    case 'step':
      r.steps = event.step;
      r.lastLoss = event.loss;
      charts.addStep(event.step, event.loss);
      setStatus('training');
      renderProgress(r);
      break;
    case 'eval':
      files.csv += event.csvLine;
      files.metrics += metricsLine(event.record);
      r.lastTest = pct(event.record.test);
      charts.addEval(event.record);
      setStatus(`step ${event.record.step}: train ${pct(event.record.train)}, test ${r.lastTest}`);
      renderProgress(r);
      break;
    case 'end':
      files.summary = summaryFileText(event.summary);
      break;
    case 'paused':
      r.paused = true;
      r.activeMs += performance.now() - r.resumedAt;
      setStatus(`paused before step ${event.step + 1}`);
      renderProgress(r);
      break;
    case 'resumed':
      r.paused = false;
      r.resumedAt = performance.now();
      setStatus('training');
      break;
  }
  setButtons();
}

function showSummary(summary: RunSummary): void {
  ui.sha.textContent = summary.weightsSha256;
  ui.summary.textContent = summaryFileText(summary);
  ui.sha.closest('section')!.hidden = false;
}

async function loadData(config: ExperimentConfig): Promise<{ files: MnistFiles; label: string }> {
  if (ui.dataFiles.checked) {
    const picked = ui.dataPicker.files;
    if (!picked || picked.length === 0) throw new Error('missing data: pick the four MNIST files (raw or .gz), or choose the server data');
    return { files: await readPickedFiles(picked), label: `files:${[...picked].map((f) => f.name).join(',')}` };
  }
  // Name the URL parameter in a failure when it chose the folder.
  const from = dataUrl === params.dataUrl && params.dataParam !== null ? `the URL parameter data=${params.dataParam}` : undefined;
  return { files: await fetchMnistFiles(dataUrl, from, config), label: new URL(dataUrl, location.href).href };
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
function engineWorker(): { worker: Worker; api: Comlink.Remote<EngineApi>; crashed: Promise<never> } {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'mnist-sym-wasm engine' });
  const crashed = whenCrashed(worker);
  crashed.catch(() => {});
  return { worker, api: Comlink.wrap<EngineApi>(worker), crashed };
}

async function startRun(): Promise<void> {
  if (run) return;
  showError(null);
  let config: ExperimentConfig;
  try {
    config = formConfig();
  } catch (e) {
    showError((e as Error).message);
    return;
  }
  const unsupported = unsupportedReason(capabilities);
  if (unsupported) {
    showError(unsupported);
    return;
  }
  writeUrl(config);
  const resumeFrom = loaded;
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
  setButtons();
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
      setStatus(`done: ${result.summary.steps} steps, test accuracy ${pct(result.summary.final.test)}`);
      showSummary(result.summary);
    } else {
      setStatus(`stopped before step ${result.step + 1}; the downloads hold the evaluations so far`);
    }
  } catch (e) {
    setStatus('failed');
    showError((e as Error)?.message ?? String(e));
  } finally {
    clearTimeout(r.stall.timer);
    r.worker.terminate();
    run = null;
    setButtons();
  }
}

/** One start on r's current worker: loads the data (transferred to it), runs, and returns the result. */
async function attempt(r: RunState, crashed: Promise<never>, resumeFrom: typeof loaded, threadedFailed?: string): Promise<StartResult> {
  Object.assign(files, { csv: '', metrics: '', config: '', summary: '' });
  setStatus('loading data…');
  const data = await Promise.race([loadData(r.config), crashed]);
  setStatus('starting the engine…');
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

// ---- controls and downloads ----

ui.start.addEventListener('click', () => void startRun());
ui.pause.addEventListener('click', () => void run?.api.pause());
ui.resume.addEventListener('click', () => void run?.api.resume());
ui.stop.addEventListener('click', () => {
  if (!run) return;
  void run.api.stop();
  setStatus('stopping…');
});
ui.dataServer.addEventListener('change', () => showError(null));
ui.dataFiles.addEventListener('change', () => showError(null));
ui.dataPicker.addEventListener('change', () => (ui.dataFiles.checked = true));

// ---- checkpoints: resume a picked one, download the run's ----

const legend = ui.fields.querySelector('legend')!;
const freshLegend = legend.textContent;

/** Shows the form for a resume (the checkpoint's config; only RESUME_SAFE_KEYS editable) or a fresh run. */
function showLoaded(): void {
  for (const key of CONFIG_KEYS) {
    if (loaded) inputs[key].value = fieldText(loaded.info.config[key]);
    inputs[key].disabled = loaded !== null && !(RESUME_SAFE_KEYS as readonly string[]).includes(key);
  }
  ui.fields.classList.toggle('from-checkpoint', loaded !== null);
  legend.textContent = loaded
    ? `Experiment (from the checkpoint ${loaded.name}; only ${RESUME_SAFE_KEYS.join(' and ')} may change)`
    : freshLegend;
  ui.checkpointInfo.textContent = loaded
    ? `${loaded.name}: step ${loaded.info.step} of ${loaded.info.config.steps}. The config above comes from the checkpoint ` +
      `(only ${RESUME_SAFE_KEYS.join(' and ')} may change); the data must be the MNIST it was trained on.` +
      (loaded.info.hasHistory
        ? ''
        : ` It carries no evaluations before its step: the CSV and metrics.jsonl start after step ${loaded.info.step}.`)
    : '';
  ui.checkpointClear.hidden = loaded === null;
  setButtons();
}

async function pickCheckpoint(file: File): Promise<void> {
  showError(null);
  loaded = null;
  showLoaded();
  setStatus('reading the checkpoint…');
  const { worker, api, crashed } = engineWorker();
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const copy = bytes.slice();
    const info = await Promise.race([api.readCheckpoint(Comlink.transfer(copy, [copy.buffer as ArrayBuffer])), crashed]);
    loaded = { name: file.name, bytes, info };
    writeUrl(info.config);
    setStatus('ready');
  } catch (e) {
    ui.checkpointPicker.value = '';
    setStatus('ready');
    showError(`${file.name}: ${(e as Error)?.message ?? String(e)}`);
  } finally {
    worker.terminate();
    showLoaded();
  }
}

ui.checkpointPicker.addEventListener('change', () => {
  const file = ui.checkpointPicker.files?.[0];
  if (file && !run) void pickCheckpoint(file);
});
ui.checkpointClear.addEventListener('click', () => {
  loaded = null;
  ui.checkpointPicker.value = '';
  showLoaded();
});

function saveAs(content: BlobPart, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const DOWNLOADS: [keyof typeof files, string, string][] = [
  ['csv', RUN_FILES.csv, 'text/csv'],
  ['metrics', RUN_FILES.metrics, 'application/x-ndjson'],
  ['config', RUN_FILES.config, 'application/json'],
  ['summary', RUN_FILES.summary, 'application/json'],
];
for (const [key, name, type] of DOWNLOADS) {
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = name;
  button.dataset.file = key;
  button.dataset.testid = `download-${key}`;
  button.addEventListener('click', () => saveAs(files[key], name, type));
  ui.downloads.append(button);
}
{
  // The CLI's file name, so it can go straight into a run folder's checkpoints/ (see docs/WEB.md).
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = 'checkpoint (.ckpt)';
  button.title = 'the run at its current step when paused (else at the next step), or its final state';
  button.dataset.file = 'checkpoint';
  button.dataset.testid = 'download-checkpoint';
  button.addEventListener('click', async () => {
    try {
      const checkpoint = run ? await run.api.checkpoint() : lastCheckpoint;
      if (!checkpoint) return;
      saveAs(checkpoint.bytes as BlobPart, `step-${String(checkpoint.step).padStart(8, '0')}.ckpt`, 'application/octet-stream');
    } catch (e) {
      showError(`checkpoint: ${(e as Error)?.message ?? String(e)}`);
    }
  });
  ui.downloads.append(button);
}

// ---- start-up ----

setButtons();
setStatus('ready');
ui.engine.textContent = describeBrowser(params.config);
const unsupported = unsupportedReason(capabilities);
if (params.error || unsupported) {
  showError(params.error ?? unsupported);
  setStatus('not started');
} else if (params.autorun) {
  void startRun();
}
