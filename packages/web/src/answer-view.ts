// The page's Answer view: runs `explain`'s suite (the URL's parameters, see answer-params.ts) in an
// engine worker through comlink, shows each run's progress, then the findings, plots and runs
// (answer-render.ts), and offers report.json (the CLI's numbers for the same suite and data).
import * as Comlink from 'comlink';
import { toJson, type ExplainReport, type MnistFiles } from '@mnist-sym-wasm/core';
import { readAnswerParams } from './answer-params';
import { answerHtml } from './answer-render';
import { fetchMnistFiles } from './data-source';
import type { ExplainEvent } from './engine-api';
import { engineWorker } from './engine-worker';
import type { Messages } from './messages';

export interface AnswerView {
  readonly running: boolean;
  /** The last finished report, or null. */
  readonly report: ExplainReport | null;
  /** Runs the suite unless it is running; settles when it ends (errors are shown, never thrown). */
  start(): Promise<void>;
  stop(): void;
}

/** Builds the view's elements inside `root` (its own section; nothing else of the page is touched). */
export function mountAnswerView(root: HTMLElement, search: string, messages: Messages): AnswerView {
  const params = readAnswerParams(search);
  root.hidden = false;
  root.innerHTML = `<h2>Answer: why does the constant-initialised CNN learn?</h2>
<p class="muted">The runs of <code>mnist-sym-wasm explain</code>, in this tab; the findings are computed from them.</p>
<div class="controls"><button type="button" data-testid="answer-start">Run the suite</button>
<button type="button" data-testid="answer-stop" disabled>Stop</button>
<a data-testid="answer-download" hidden download="report.json">report.json</a></div>
<p data-testid="answer-progress"></p>
<div data-testid="answer-report"></div>`;
  const q = <T extends HTMLElement>(id: string) => root.querySelector(`[data-testid=${id}]`) as T;
  const startButton = q<HTMLButtonElement>('answer-start');
  const stopButton = q<HTMLButtonElement>('answer-stop');
  const download = q<HTMLAnchorElement>('answer-download');
  const progress = q('answer-progress');
  const out = q('answer-report');
  let running = false;
  let report: ExplainReport | null = null;
  let stopNow: (() => void) | null = null;

  const setRunning = (on: boolean) => {
    running = on;
    startButton.disabled = on || params.error !== null;
    stopButton.disabled = !on;
  };

  const onEvent = (e: ExplainEvent) => {
    if (e.type === 'build') messages.engine(`engine: ${e.build} (${e.threads} thread${e.threads === 1 ? '' : 's'})`);
    else if (e.type === 'run-start') progress.textContent = `run ${e.index + 1}/${e.count}: ${e.id} (${e.steps} steps)`;
    else if (e.type === 'run-progress')
      progress.textContent = `${e.id}: step ${e.step}/${e.steps}${e.test === null ? '' : `, test ${(100 * e.test).toFixed(2)}%`}`;
    else progress.textContent = `${e.id}: done, test ${(100 * e.test).toFixed(2)}% in ${(e.wallMs / 1000).toFixed(1)} s`;
  };

  async function runOnce(files: MnistFiles, threadedFailed?: string): Promise<ExplainReport> {
    const { worker, api, crashed } = engineWorker();
    stopNow = () => void api.stop();
    try {
      const copy = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, (v as Uint8Array).slice()])) as unknown as MnistFiles;
      const transfer = Object.values(copy).map((v) => (v as Uint8Array).buffer as ArrayBuffer);
      return await Promise.race([
        api.explain(Comlink.transfer({ options: params.options, files: copy, threadedFailed }, transfer), Comlink.proxy(onEvent)),
        crashed,
      ]);
    } finally {
      stopNow = null;
      worker.terminate();
    }
  }

  async function start(): Promise<void> {
    if (running || params.error) return;
    setRunning(true);
    messages.error(null);
    messages.status('answer: running');
    out.innerHTML = '';
    download.hidden = true;
    try {
      const files = await fetchMnistFiles(params.dataUrl, params.dataParam === null ? undefined : 'the URL parameter data');
      let result: ExplainReport;
      try {
        result = await runOnce(files);
      } catch (e) {
        // A threaded build that failed to start: once more on the single-threaded build (as a run does).
        const message = (e as Error).message;
        if (!/threaded SIMD build failed to start/.test(message) || /single-threaded/.test(message)) throw e;
        result = await runOnce(files, message);
      }
      report = result;
      out.innerHTML = answerHtml(result, params.dataParam);
      if (download.href) URL.revokeObjectURL(download.href);
      download.href = URL.createObjectURL(new Blob([`${toJson(result, 1)}\n`], { type: 'application/json' }));
      download.hidden = false;
      messages.status('answer: done');
    } catch (e) {
      messages.error((e as Error).message);
      messages.status('answer: failed');
    } finally {
      setRunning(false);
    }
  }

  startButton.addEventListener('click', () => void start());
  stopButton.addEventListener('click', () => stopNow?.());
  setRunning(false);
  if (params.error) messages.error(params.error);
  else if (params.autorun) void start();
  return {
    get running() {
      return running;
    },
    get report() {
      return report;
    },
    start,
    stop: () => stopNow?.(),
  };
}
