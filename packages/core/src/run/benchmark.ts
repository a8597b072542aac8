// Timing of the training step and of evaluation for `bench`: medians of repeated runs, so the
// results are ratios measured in one process on one (noisy) machine, never test assertions.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { EvalConvKind, ExperimentConfig } from '../config';
import { useKernelSet, type KernelSet } from '../kernels/register_wasm_kernels';
import type { MnistData } from '../data/mnist';
import { Trainer } from '../dense/trainer';
import { setConvGradZeroSkip } from '../kernels/zero-skip';
import { runExperiment } from './run-experiment';
import type { DenseEvalPool } from '../dense/symmetric-eval';

/**
 * One benchmark subject: the engine on the seed's constant init, or `-random` on truncated-normal
 * init (no symmetry to exploit); `-plain` with the exact shortcuts off (the convolution gradients'
 * zero skipping, symmetric execution), which compute the same bits more slowly; the
 * engine-shuffled-* subjects, the engine's step with `--reduce-order shuffled` and
 * `--reduce-shuffle bias`, `filter` or `all` (their ratio to `engine` in one run is what the
 * shuffled summation orders cost); the two baselines.
 */
export type BenchSubject =
  | 'engine'
  | 'engine-plain'
  | 'engine-random'
  | 'engine-random-plain'
  | 'engine-shuffled-bias'
  | 'engine-shuffled-filter'
  | 'engine-shuffled-all'
  | 'stock-wasm'
  | 'tfjs-cpu';

/** The subjects that run this project's engine at every thread count. */
export const ENGINE_SUBJECTS: readonly BenchSubject[] = ['engine', 'engine-plain', 'engine-random', 'engine-random-plain'];

/** The reductions a shuffled engine subject shuffles, or null for the other subjects. */
export function shuffledReductions(subject: BenchSubject): ExperimentConfig['reduceShuffle'] | null {
  const m = /^engine-shuffled-(bias|filter|all)$/.exec(subject);
  return m ? (m[1] as ExperimentConfig['reduceShuffle']) : null;
}

/** Timings of one subject. */
export interface BenchTiming {
  subject: BenchSubject;
  backend: string;
  threads: number;
  /** Milliseconds of each timed training step (after warm-up). */
  stepMs: number[];
  medianStepMs: number;
  /** Forward-evaluation throughput (images per second), null when not measured. */
  evalImagesPerSecond: number | null;
  /** The same evaluation with conv2 by direct sums (--eval-conv direct), engine only; else null. */
  evalDirectImagesPerSecond: number | null;
  /** Live tensors after the timed steps minus before them (0 = no leak). */
  tensorsGrowth: number;
  /** WebAssembly heap size after the timed steps (bytes; null off wasm). */
  wasmHeapBytes: number | null;
  /**
   * Where one more step's time went (with `profile`): milliseconds per tfjs kernel, largest first,
   * and last '(outside kernels)': Adam, the float32 head, batch gathering, tfjs bookkeeping.
   */
  profile: { name: string; ms: number }[] | null;
}

/** Kernel times of one training step, summed per kernel name, plus the time outside kernels. */
async function profileStep(trainer: Trainer): Promise<{ name: string; ms: number }[]> {
  const t0 = performance.now();
  const info = await tf.profile(() => {
    trainer.trainStep();
  });
  const wall = performance.now() - t0;
  const byName = new Map<string, number>();
  for (const k of info.kernels) byName.set(k.name, (byName.get(k.name) ?? 0) + Number(k.kernelTimeMs));
  const rows = [...byName].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
  const inKernels = rows.reduce((a, r) => a + r.ms, 0);
  return [...rows, { name: '(outside kernels)', ms: Math.max(0, wall - inKernels) }];
}

function wasmHeapBytes(): number | null {
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  return backend.wasm ? backend.wasm.HEAPU8.length : null;
}

/** Median of a non-empty list. */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function timeSteps(trainer: Trainer, warmup: number, samples: number): number[] {
  for (let i = 0; i < warmup; i++) trainer.trainStep();
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    trainer.trainStep();
    out.push(performance.now() - t0);
  }
  return out;
}

/**
 * Times `samples` training steps (after `warmup`) and, if evalImages > 0, an evaluation of that
 * many train images, for one subject. The engine must have been started; the wasm kernel set is
 * restored to the project's afterwards.
 */
export async function benchmarkSubject(
  subject: BenchSubject,
  config: ExperimentConfig,
  data: MnistData,
  options: { warmup: number; samples: number; evalImages: number; threads: number; profile?: boolean },
): Promise<BenchTiming> {
  const kernels: KernelSet = subject === 'stock-wasm' ? 'stock' : 'project';
  const backend = subject === 'tfjs-cpu' ? 'cpu' : 'wasm';
  const isEngine = ENGINE_SUBJECTS.includes(subject);
  const plain = subject.endsWith('-plain');
  await tf.setBackend(backend);
  if (backend === 'wasm') useKernelSet(kernels);
  const shuffle = shuffledReductions(subject);
  setConvGradZeroSkip(!plain);
  const subjectConfig: ExperimentConfig = {
    ...config,
    ...(subject.startsWith('engine-random') ? { init: 'truncated-normal' as const } : {}),
    ...(plain ? { symmetricExec: 'off' as const } : {}),
    ...(shuffle ? { reduceOrder: 'shuffled' as const, reduceShuffle: shuffle } : {}),
  };
  // The baselines keep Adam in TypeScript (and their backend's own kernels), as tfjs users would.
  const trainer = new Trainer(subjectConfig, data, { ownWasm: isEngine || shuffle !== null });
  try {
    const tensorsBefore = tf.memory().numTensors;
    const stepMs = timeSteps(trainer, options.warmup, options.samples);
    const tensorsGrowth = tf.memory().numTensors - tensorsBefore;
    const heap = wasmHeapBytes();
    const profile = options.profile ? await profileStep(trainer) : null;
    const imagesPerSecond = (conv2: EvalConvKind): number => {
      trainer.evaluate(data.train, Math.min(1000, options.evalImages), conv2); // warm-up (weight packing)
      const t0 = performance.now();
      const score = trainer.evaluate(data.train, options.evalImages, conv2);
      return score.images / ((performance.now() - t0) / 1000);
    };
    const evaluates = options.evalImages > 0;
    const evalImagesPerSecond = evaluates ? imagesPerSecond(subjectConfig.evalConv) : null;
    const evalDirectImagesPerSecond = evaluates && isEngine ? imagesPerSecond('direct') : null;
    return {
      subject,
      backend,
      threads: backend === 'cpu' ? 1 : options.threads,
      stepMs,
      medianStepMs: median(stepMs),
      evalImagesPerSecond,
      evalDirectImagesPerSecond,
      tensorsGrowth,
      wasmHeapBytes: heap,
      profile,
    };
  } finally {
    trainer.dispose();
    setConvGradZeroSkip(true);
    if (backend === 'wasm') useKernelSet('project');
    await tf.setBackend('wasm');
  }
}

/** The question's protocol timed whole: `protocol` as shipped, `protocol-plain` with the exact shortcuts off. */
export type ProtocolSubject = 'protocol' | 'protocol-plain';

/** One shortened run of the question's protocol, and the full protocol's time projected from it. */
export interface ProtocolTiming {
  subject: ProtocolSubject;
  threads: number;
  steps: number;
  evaluations: number;
  /** Mean training step (evaluations excluded). */
  msPerStep: number;
  /** Mean evaluation (the whole train and test splits). */
  msPerEvaluation: number;
  wallMs: number;
  /** 20000 steps and 201 evaluations at those rates, in minutes. */
  projectedMinutes: number;
  weightsSha256: string;
  evalPaths: Record<string, number> | null;
}

/**
 * Runs the seed's protocol (its config, constant init, full evaluations every 100 steps and after
 * the last) for `steps` steps and times it; `protocol-plain` turns the zero skipping and symmetric
 * execution off, so both give the same weights hash and metrics. `protocol` evaluates on
 * `denseEvalPool` when given, as `train` does on more than one thread. The engine must have been started.
 */
export async function benchmarkProtocol(
  subject: ProtocolSubject,
  config: ExperimentConfig,
  data: MnistData,
  options: { steps: number; threads: number; denseEvalPool?: DenseEvalPool },
): Promise<ProtocolTiming> {
  const plain = subject === 'protocol-plain';
  await tf.setBackend('wasm');
  useKernelSet('project');
  setConvGradZeroSkip(!plain);
  try {
    const run: ExperimentConfig = { ...config, steps: options.steps, symmetricExec: plain ? 'off' : 'on' };
    const s = await runExperiment(run, data, { denseEvalPool: plain ? undefined : options.denseEvalPool });
    const stepMs = s.msPerStep * s.steps;
    const msPerEvaluation = (s.wallMs - stepMs) / s.evaluations;
    return {
      subject,
      threads: options.threads,
      steps: s.steps,
      evaluations: s.evaluations,
      msPerStep: s.msPerStep,
      msPerEvaluation,
      wallMs: s.wallMs,
      projectedMinutes: (20000 * s.msPerStep + 201 * msPerEvaluation) / 60000,
      weightsSha256: s.weightsSha256,
      evalPaths: s.evalPaths,
    };
  } finally {
    setConvGradZeroSkip(true);
  }
}
