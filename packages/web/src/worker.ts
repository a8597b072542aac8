// The engine in a Web Worker: core's run loop behind one typed API object exposed with comlink.
// Pause/resume/stop act between training steps through core's betweenSteps hook; checkpoints are
// core's bytes, taken between steps (core's snapshot) and transferred to the page.
import * as Comlink from 'comlink';
import {
  checkResumeConfig,
  decodeCheckpoint,
  encodeCheckpoint,
  explainReport,
  explainSuite,
  firstTestImages,
  initEngine,
  runExplainSuite,
  validateAgainstData,
  type ExplainReport,
  loadMnist,
  resolveConfig,
  runExperiment,
  RunStoppedError,
  seedCsvLine,
  type Checkpoint,
  type EngineInfo,
  type HeapKernelsHelperData,
} from '@mnist-sym-wasm/core';
import { chooseBuild, detectCapabilities, type BuildChoice } from './capabilities';
import { resumedHistory } from './checkpoint-history';
import type {
  CheckpointBytes,
  CheckpointInfo,
  EngineApi,
  ExplainEvent,
  ExplainRequest,
  StartRequest,
  StartResult,
  WorkerEvent,
} from './engine-api';

type Control = 'run' | 'pause' | 'stop';

let control: Control = 'run';
let wake: (() => void) | null = null;
let running = false;

/** A helper thread for core's own convolution and GEMM: a nested worker from the source core gives. */
function spawnWorkerHelper(source: string, data: HeapKernelsHelperData): void {
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  new Worker(url).postMessage(data);
}

/** The run's newest checkpoint (its final or stopping state once start() has returned). */
let latest: Checkpoint | null = null;
/** checkpoint() calls waiting for the next step boundary. */
let wanted: { resolve: (c: Checkpoint) => void; reject: (e: Error) => void }[] = [];

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

function wakeUp(): void {
  wake?.();
  wake = null;
}

function setControl(next: Control): void {
  if (control === 'stop') return; // a stop is final for this run
  control = next;
  wakeUp();
}

function serveCheckpoints(snapshot: () => Checkpoint): void {
  if (wanted.length === 0) return;
  latest = snapshot();
  for (const w of wanted) w.resolve(latest);
  wanted = [];
}

function transferable(checkpoint: Checkpoint): CheckpointBytes {
  const bytes = encodeCheckpoint(checkpoint);
  return Comlink.transfer({ step: checkpoint.trainer.step, bytes }, [bytes.buffer as ArrayBuffer]);
}

/**
 * initEngine on the chosen build, with the real cause in its error: tfjs catches the build's own
 * start error and only prints it (console.warn, as emscripten prints its aborts), then core can
 * only say that the backend did not start. So what is printed meanwhile goes into the message.
 */
async function startEngine(choice: BuildChoice): Promise<EngineInfo> {
  // core's initEngine sizes tfjs's pthread pool to choice.threads (engine/bundled-engine.ts).
  const threaded = choice.build === 'threaded-simd';
  const printed: string[] = [];
  const saved = { warn: console.warn, error: console.error };
  const keep =
    (print: (...args: unknown[]) => void) =>
    (...args: unknown[]) => {
      printed.push(args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : String(a))).join(' '));
      print(...args);
    };
  console.warn = keep(saved.warn);
  console.error = keep(saved.error);
  // An error thrown in this worker's own scope meanwhile (e.g. by a pthread's message handler).
  const onError = (e: ErrorEvent) => printed.push(`${e.message} (at ${e.filename}:${e.lineno}:${e.colno})`);
  addEventListener('error', onError);
  try {
    return await initEngine({
      wasmPaths: new URL('./', import.meta.url).href, // the binaries sit beside this bundle
      threads: choice.threads,
      allowThreads: threaded,
      spawnHelper: spawnWorkerHelper,
    });
  } catch (e) {
    const cause = printed
      .filter((line) => !/^Initialization of backend \w+ failed$/.test(line))
      .map((line) => line.trim().replace(/\s*\n\s*/g, ' | '))
      .join(' | ')
      .slice(0, 600);
    const label = threaded ? 'threaded SIMD' : 'single-threaded SIMD';
    throw new Error(`the ${label} build failed to start: ${cause || (e as Error).message}`);
  } finally {
    console.warn = saved.warn;
    console.error = saved.error;
    removeEventListener('error', onError);
  }
}

const api: EngineApi = {
  async start(request: StartRequest, onEvent: (event: WorkerEvent) => void | Promise<void>): Promise<StartResult> {
    if (running) throw new Error('a run is already in progress in this worker');
    running = true;
    control = 'run';
    latest = null;
    // Events travel on the proxy's own port, in order; awaiting the last one's reply before start()
    // returns guarantees the page has every event before it sees the result.
    let delivered: Promise<void> = Promise.resolve();
    const emit = (event: WorkerEvent) => {
      delivered = Promise.resolve(onEvent(event)).catch(() => {});
    };
    try {
      const config = resolveConfig(request.config as unknown as Record<string, unknown>);
      const resume = request.checkpoint ? decodeCheckpoint(request.checkpoint) : undefined;
      const history = resume ? (resumedHistory(resume, config) ?? []) : [];
      const data = loadMnist(request.files, config.validationSize);
      // The build (threaded SIMD, else single-threaded SIMD) is chosen in capabilities.ts from what
      // this worker's scope can do; the page hears it before the engine starts. See docs/WEB.md.
      const choice = chooseBuild(detectCapabilities(), config.threads, request.threadedFailed);
      emit({ type: 'build', ...choice });
      const engine = await startEngine(choice);
      if (!engine.simd) throw new Error('the WebAssembly SIMD build did not start; results would not match the CLI');
      let result: StartResult;
      try {
        const summary = await runExperiment(
          config,
          data,
          {
            onEvent: (event) => {
              emit(event);
              // The evaluations before the checkpoint, as a run folder's cut-back CSV/metrics hold them.
              if (event.type === 'start')
                for (const record of history) emit({ type: 'eval', record, csvLine: seedCsvLine(record.step, record.train, record.test) });
            },
            betweenSteps: async (step, snapshot) => {
              await yieldToMessages();
              serveCheckpoints(snapshot);
              if (control === 'pause') {
                emit({ type: 'paused', step });
                while (control === 'pause') {
                  await new Promise<void>((resolve) => (wake = resolve));
                  serveCheckpoints(snapshot);
                }
                if (control === 'run') emit({ type: 'resumed', step });
              }
              return control === 'stop' ? 'stop' : 'continue';
            },
            // The final state, so a finished run can be downloaded too (a stop hands one over anyway).
            checkpointAt: (step) => step === config.steps,
            onCheckpoint: (checkpoint) => void (latest = checkpoint),
          },
          resume,
        );
        result = { status: 'done', summary };
      } catch (e) {
        if (!(e instanceof RunStoppedError)) throw e;
        result = { status: 'stopped', step: e.step };
      }
      if (!latest) return result;
      const checkpoint = transferable(latest);
      return Comlink.transfer({ ...result, checkpoint }, [checkpoint.bytes.buffer as ArrayBuffer]);
    } finally {
      for (const w of wanted) latest ? w.resolve(latest) : w.reject(new Error('the run ended before a checkpoint could be taken'));
      wanted = [];
      await delivered;
      running = false;
    }
  },
  pause: () => setControl('pause'),
  resume: () => setControl('run'),
  stop: () => setControl('stop'),
  async checkpoint(): Promise<CheckpointBytes> {
    const checkpoint = running
      ? await new Promise<Checkpoint>((resolve, reject) => {
          wanted.push({ resolve, reject });
          wakeUp(); // a paused run takes it now
        })
      : latest;
    if (!checkpoint) throw new Error('no run to checkpoint yet');
    return transferable(checkpoint);
  },
  async readCheckpoint(bytes: Uint8Array): Promise<CheckpointInfo> {
    const checkpoint = decodeCheckpoint(bytes);
    checkResumeConfig(checkpoint, checkpoint.config); // refuses another engine version now, not at start
    const config = resolveConfig(checkpoint.config as unknown as Record<string, unknown>);
    return { step: checkpoint.trainer.step, config, hasHistory: resumedHistory(checkpoint, config) !== null };
  },
  async explain(request: ExplainRequest, onEvent: (event: ExplainEvent) => void | Promise<void>): Promise<ExplainReport> {
    if (running) throw new Error('a run is already in progress in this worker');
    running = true;
    control = 'run';
    let delivered: Promise<void> = Promise.resolve();
    const emit = (event: ExplainEvent) => {
      delivered = Promise.resolve(onEvent(event)).catch(() => {});
    };
    try {
      const plan = explainSuite(request.options);
      const first = plan.entries[0].config;
      const data = firstTestImages(loadMnist(request.files, first.validationSize), plan.testImages);
      for (const entry of plan.entries) validateAgainstData(entry.config, data);
      const choice = chooseBuild(detectCapabilities(), first.threads, request.threadedFailed);
      emit({ type: 'build', ...choice });
      const engine = await startEngine(choice);
      if (!engine.simd) throw new Error('the WebAssembly SIMD build did not start; results would not match the CLI');
      const generated = new Date().toISOString();
      const started = performance.now();
      const count = plan.entries.length;
      const results = await runExplainSuite(plan, data, {
        onEvent: (index, entry, event) => {
          const steps = entry.config.steps;
          if (event.type === 'start') emit({ type: 'run-start', index, count, id: entry.id, label: entry.label, steps });
          else if (event.type === 'eval')
            emit({ type: 'run-progress', index, id: entry.id, step: event.record.step, steps, test: event.record.test });
          else if (event.type === 'step' && event.step % 50 === 0)
            emit({ type: 'run-progress', index, id: entry.id, step: event.step, steps, test: null });
        },
        onRunEnd: (index, entry, result, wallMs) => {
          if (result) emit({ type: 'run-end', index, id: entry.id, test: result.summary.final.test, wallMs });
        },
        betweenSteps: async () => {
          await yieldToMessages();
          return control === 'stop' ? 'stop' : 'continue';
        },
      });
      return explainReport(plan, results, data.test.count, { generated, wallMs: performance.now() - started });
    } finally {
      await delivered;
      running = false;
    }
  },
};

Comlink.expose(api);
