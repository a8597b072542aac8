// The seed's protocol as a loop that emits events: evaluate at step 0 and every `evalEvery` steps
// (before that step's update, as the question's loop does) and after the last step; any front end
// (CLI, Web Worker) renders the events and writes the files.
import { checkResumeConfig, dataFingerprint, type Checkpoint } from './checkpoint';
import type { ExperimentConfig } from '../config';
import { engineInfo } from '../engine/engine';
import { CheckpointError } from '../errors';
import type { SplitScore } from '../dense/evaluate';
import type { MnistData } from '../data/mnist';
import { seedCsvLine } from './seed-csv';
import { oneGroupReport, symmetryReport } from '../science/symmetry';
import { convGroups, deadUnits, fc1Activity, fc1Groups } from '../science/unit-activity';
import { Trainer, type EvalPath, type StepPath } from '../dense/trainer';
import type { DenseEvalPool } from '../dense/symmetric-eval';
import { TwinTrainer, type TwinEvalPool } from '../twin/twin-trainer';
import { CORE_VERSION } from '../version';
import type { EvalRecord, RunEvent, RunSummary } from './run-events';

export type { EvalRecord, RunEvent, RunSummary } from './run-events';

/** Hooks a front end passes in. */
export interface RunHooks {
  /** Runs the width-1 twin's evaluations (worker threads, say); results are bitwise the same. */
  twinEvalPool?: TwinEvalPool;
  /** Runs the dense network's evaluations while it is symmetric (worker threads, say); results are bitwise the same. */
  denseEvalPool?: DenseEvalPool;
  onEvent?: (event: RunEvent) => void;
  /**
   * Awaited between steps: return 'stop' to end the run early (it then throws RunStoppedError).
   * `snapshot` returns a checkpoint of the state after `step` steps (e.g. for a paused run).
   */
  betweenSteps?: (step: number, snapshot: () => Checkpoint) => 'continue' | 'stop' | Promise<'continue' | 'stop'>;
  /**
   * Asked at each step boundary after the first one this run reached (after that step's
   * evaluation, the last step included): true requests a checkpoint of the state after `step` steps.
   */
  checkpointAt?: (step: number) => boolean;
  /**
   * Receives the requested checkpoints, and one of the stopping step when betweenSteps stops the
   * run (so a stopped run can always be resumed). Awaited before the run goes on.
   */
  onCheckpoint?: (checkpoint: Checkpoint) => void | Promise<void>;
}

/** Thrown when betweenSteps asked to stop; carries the step reached. */
export class RunStoppedError extends Error {
  override readonly name = 'RunStoppedError';
  constructor(readonly step: number) {
    super(`run stopped after step ${step}`);
  }
}

/** fc1's activity over the evaluated splits, or null when a split did not count it. */
function activityOf(groups: LayerGroups, train: SplitScore | null, test: SplitScore): EvalRecord['activity'] | null {
  if (!test.fc1Active || (train && !train.fc1Active)) return null;
  const images = test.images + (train ? train.images : 0);
  const counts = test.fc1Active.map((n, u) => n + (train ? train.fc1Active![u] : 0));
  const out: NonNullable<EvalRecord['activity']> = { fc1: fc1Activity(groups.fc1, counts, images) };
  if (test.convActive && (!train || train.convActive)) {
    for (const layer of [0, 1] as const) {
      const channels = test.convActive[layer].map((n, c) => n + (train ? train.convActive![layer][c] : 0));
      out[layer === 0 ? 'conv1' : 'conv2'] = fc1Activity(groups.conv[layer], channels, images);
    }
  }
  return out;
}

/** The copy groups of fc1's units and of conv1's and conv2's channels. */
interface LayerGroups {
  fc1: number[][];
  conv: [number[][], number[][]];
}

/** Every unit of a layer `width` wide in one group (a network in orbit form, or the twin standing for one). */
const oneGroup = (width: number) => [Array.from({ length: width }, (_, u) => u)];

/** How many evaluations ran each way. */
function countPaths(log: [number, EvalPath][]): Record<EvalPath, number> {
  const counts: Record<EvalPath, number> = { symmetric: 0, 'partly-symmetric': 0, plain: 0 };
  for (const [, path] of log) counts[path]++;
  return counts;
}

/** Steps after which the protocol evaluates: 0, every evalEvery, and the last (no duplicates). */
export function evaluationSteps(config: Pick<ExperimentConfig, 'steps' | 'evalEvery'>): number[] {
  if (config.evalEvery === 0) return [config.steps];
  const out: number[] = [];
  for (let s = 0; s < config.steps; s += config.evalEvery) out.push(s);
  out.push(config.steps);
  return out;
}

/**
 * Runs the whole protocol; the engine must have been started with initEngine(). With `resume`,
 * continues that checkpoint (refused with a CheckpointError unless checkResumeConfig accepts
 * `config` and the data is the same): the events, CSV lines and summary from there on are those
 * of the uninterrupted run, timings aside.
 */
export async function runExperiment(
  config: ExperimentConfig,
  data: MnistData,
  hooks: RunHooks = {},
  resume?: Checkpoint,
): Promise<RunSummary> {
  const engine = engineInfo();
  const emit = hooks.onEvent ?? (() => {});
  if (resume) {
    checkResumeConfig(resume, config);
    if (resume.data !== dataFingerprint(data)) {
      throw new CheckpointError('checkpoint was trained on different MNIST data (fingerprint differs); pass the data the run used');
    }
  }
  const trainer =
    config.model === 'twin'
      ? new TwinTrainer(config, data, hooks.twinEvalPool)
      : new Trainer(config, data, { evalPool: hooks.denseEvalPool });
  if (resume) {
    try {
      trainer.importState(resume.trainer);
    } catch (e) {
      trainer.dispose();
      throw e instanceof RangeError ? new CheckpointError(`checkpoint does not fit this run: ${e.message}`) : e;
    }
  }
  const firstStep = resume ? resume.trainer.step : 0;
  const elapsedBefore = resume ? resume.run.elapsedMs : 0;
  const start = performance.now();
  const evalSteps = evaluationSteps(config);
  const evalAt = new Set(evalSteps);
  const trainCount = config.evalTrain === 'all' ? data.train.count : config.evalTrain;
  emit({
    type: 'start',
    config,
    engine,
    trainImages: trainCount,
    testImages: data.test.count,
    evalSteps,
    ...(resume ? { resumedFrom: firstStep } : {}),
  });
  let firstNanStep: number | null = resume ? resume.run.firstNanStep : null;
  let lastLoss: number | null = resume ? resume.run.lastLoss : null;
  let stepMs = resume ? resume.run.stepMs : 0;
  let last: EvalRecord | null = resume ? resume.run.lastEval : null;
  // The evaluations on this config's schedule (a changed `steps` can drop the old final one).
  const evals: EvalRecord[] | null = resume ? (resume.run.evals?.filter((r) => evalAt.has(r.step)) ?? null) : [];
  let checkpointed = resume ? firstStep : -1;
  const snapshot = (): Checkpoint => {
    settle();
    const run = {
      firstNanStep,
      lastLoss,
      stepMs,
      elapsedMs: elapsedBefore + performance.now() - start,
      lastEval: last,
      ...(evals ? { evals: [...evals] } : {}),
      ...(evalPaths ? { evalPaths: [...evalPaths] } : {}),
      ...(trainer instanceof Trainer ? { stepPaths: stepPathsSoFar(trainer) } : {}),
    };
    return { engineVersion: CORE_VERSION, config, data: dataFingerprint(data), trainer: trainer.exportState(), run };
  };
  // An evaluation whose scores are still being computed (the twin's pool scores it on other
  // threads while training goes on); settled, in order, before anything reads `last` or `evals`.
  let pending: (() => EvalRecord) | null = null;
  let pendingPath: EvalPath | undefined;
  let pendingStepPath: StepPath | undefined;
  // Steps a resumed run took before its checkpoint, by path; this process's own come from the trainer.
  const stepPathsBefore = resume?.run.stepPaths ?? { symmetric: 0, plain: 0 };
  const stepPathsSoFar = (t: Trainer): Record<StepPath, number> => ({
    symmetric: stepPathsBefore.symmetric + t.stepPaths.symmetric,
    plain: stepPathsBefore.plain + t.stepPaths.plain,
  });
  // How each evaluation ran, by step (those on this config's schedule, as `evals`).
  const evalPaths: [number, EvalPath][] | null =
    trainer instanceof Trainer ? (resume?.run.evalPaths?.filter(([s]) => evalAt.has(s)) ?? []) : null;
  const settle = () => {
    if (!pending) return;
    last = pending();
    pending = null;
    evals?.push(last);
    emit({
      type: 'eval',
      record: last,
      csvLine: seedCsvLine(last.step, last.train, last.test),
      ...(pendingPath ? { path: pendingPath } : {}),
      ...(pendingStepPath ? { stepPath: pendingStepPath } : {}),
    });
  };
  const overlap = trainer.evaluatesInBackground;
  const beginEvaluation = (step: number) => {
    let scores: () => { train: SplitScore | null; test: SplitScore };
    if (trainer instanceof TwinTrainer) {
      scores = trainer.beginEvaluation(trainCount);
    } else {
      pendingPath = trainer.evalPath();
      pendingStepPath = trainer.lastStepPath ?? undefined;
      evalPaths!.push([step, pendingPath]);
      scores = trainer.beginEvaluation(trainCount);
    }
    // A network in orbit form has every copy set one group: its report without reading every weight.
    const orbit = trainer instanceof Trainer && trainer.inOrbitForm();
    const params = orbit ? null : trainer.paramValues();
    const symmetry = params ? symmetryReport(trainer.shape, params, config.symTol) : oneGroupReport(trainer.shape);
    const widths = trainer.shape.widths;
    const groups: LayerGroups = params
      ? { fc1: fc1Groups(trainer.shape, params), conv: [convGroups(trainer.shape, params, 0), convGroups(trainer.shape, params, 1)] }
      : { fc1: oneGroup(widths[2]), conv: [oneGroup(widths[0]), oneGroup(widths[1])] };
    const batchLoss = lastLoss;
    pending = () => {
      const { train, test } = scores();
      const activity = activityOf(groups, train, test);
      return {
        step,
        train: train ? train.accuracy : null,
        test: test.accuracy,
        trainLoss: train ? train.loss : null,
        testLoss: test.loss,
        batchLoss,
        trainImages: trainCount,
        elapsedMs: elapsedBefore + performance.now() - start,
        symmetry,
        ...(activity ? { activity } : {}),
      };
    };
  };
  const checkpoint = async () => {
    settle();
    checkpointed = trainer.step;
    await hooks.onCheckpoint!(snapshot());
  };
  try {
    for (let step = firstStep; ; step++) {
      // A resumed run has already evaluated its first step when that was an evaluation step.
      if (evalAt.has(step) && last?.step !== step) {
        settle();
        beginEvaluation(step);
        // Overlapped, it is scored while the next steps train (the last one is awaited at once).
        if (!overlap || step === config.steps) settle();
      }
      if (hooks.onCheckpoint && step > firstStep && hooks.checkpointAt?.(step)) await checkpoint();
      if (step === config.steps) break;
      if (hooks.betweenSteps && (await hooks.betweenSteps(step, snapshot)) === 'stop') {
        settle();
        if (hooks.onCheckpoint && checkpointed !== step) await checkpoint();
        throw new RunStoppedError(step);
      }
      const t0 = performance.now();
      const loss = trainer.trainStep();
      const ms = performance.now() - t0;
      stepMs += ms;
      lastLoss = loss;
      if (firstNanStep === null && Number.isNaN(loss)) firstNanStep = step + 1;
      emit({ type: 'step', step: step + 1, loss, ms });
    }
    const dead = evals ? deadUnits(evals) : null;
    const deadChannels = (layer: 'conv1' | 'conv2') => {
      const d = evals ? deadUnits(evals, layer) : null;
      return d ? { [layer]: d } : {};
    };
    const summary: RunSummary = {
      steps: config.steps,
      final: { step: config.steps, train: last!.train, test: last!.test, loss: lastLoss },
      firstNanStep,
      msPerStep: config.steps > 0 ? stepMs / config.steps : 0,
      weightsSha256: trainer.weightsSha256(),
      symmetry: symmetryReport(trainer.shape, trainer.paramValues(), config.symTol),
      ...(dead ? { deadUnits: { fc1: dead, ...deadChannels('conv1'), ...deadChannels('conv2') } } : {}),
      evaluations: evalSteps.length,
      evalPaths: evalPaths && countPaths(evalPaths),
      stepPaths: trainer instanceof Trainer ? stepPathsSoFar(trainer) : null,
      wallMs: elapsedBefore + performance.now() - start,
      engine,
      config,
    };
    emit({ type: 'end', summary });
    return summary;
  } finally {
    trainer.dispose();
  }
}
