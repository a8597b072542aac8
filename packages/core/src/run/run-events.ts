// What a run reports: its evaluation records, its final summary, and the events a front end
// renders (shared by the run loop, checkpoints and every front end).
import type { ExperimentConfig } from '../config';
import type { EvalPath, StepPath } from '../dense/trainer';
import type { EngineInfo } from '../engine/engine';
import type { SymmetryReport } from '../science/symmetry';
import type { DeadUnits, UnitActivity } from '../science/unit-activity';

/** One evaluation, as stored in metrics.jsonl. */
export interface EvalRecord {
  /** Training steps done before this evaluation. */
  step: number;
  /** Train-split accuracy, or null when evalTrain is 0. */
  train: number | null;
  /** Test-split accuracy (all test images). */
  test: number;
  /** Mean loss over the evaluated train images (null when skipped). */
  trainLoss: number | null;
  /** Mean loss over the test images. */
  testLoss: number;
  /** Loss of the last training batch (null at step 0). */
  batchLoss: number | null;
  /** Train images evaluated. */
  trainImages: number;
  /** Milliseconds since the run started. */
  elapsedMs: number;
  /** Copy sets of the parameters at this step (see science/symmetry.ts). */
  symmetry: SymmetryReport;
  /**
   * How often fc1's copy groups, and conv1's and conv2's channel groups, were active on the evaluated
   * images (absent in records written before it existed; conv1 and conv2 absent before they were counted).
   */
  activity?: { fc1: UnitActivity; conv1?: UnitActivity; conv2?: UnitActivity };
}

/** The final record of a run, as stored in summary.json. */
export interface RunSummary {
  steps: number;
  final: { step: number; train: number | null; test: number; loss: number | null };
  /** First training step (1-based) whose batch loss was NaN, or null. */
  firstNanStep: number | null;
  /** Mean wall time of a training step (evaluations excluded). */
  msPerStep: number;
  /** SHA-256 of the final parameters (conv1.W, conv1.b, …, fc2.b; TF layouts; float32 LE). */
  weightsSha256: string;
  /** Copy sets of the final parameters (see science/symmetry.ts). */
  symmetry: SymmetryReport;
  /**
   * fc1's units that were inactive on every evaluated image from some evaluation to the end, and
   * the step they died (science/unit-activity.ts); absent when the evaluations did not record activity.
   */
  deadUnits?: { fc1: DeadUnits; conv1?: DeadUnits; conv2?: DeadUnits };
  evaluations: number;
  /**
   * How the evaluations ran (dense model; symmetricExec): every layer as one representative, some
   * layers, or every unit (a resumed run counts from its checkpoint on when that predates this field).
   * Null for the twin.
   */
  evalPaths: Record<EvalPath, number> | null;
  /**
   * How the training steps ran (dense model; symmetricExec): once per copy set or every unit (a
   * resumed run counts from its checkpoint on when that predates this field). Null for the twin.
   */
  stepPaths: Record<StepPath, number> | null;
  wallMs: number;
  engine: EngineInfo;
  config: ExperimentConfig;
}

/** Everything a run reports, in order. */
export type RunEvent =
  | {
      type: 'start';
      config: ExperimentConfig;
      engine: EngineInfo;
      trainImages: number;
      testImages: number;
      evalSteps: number[];
      /** Step of the checkpoint this run continues (absent for a fresh run). */
      resumedFrom?: number;
    }
  | { type: 'step'; step: number; loss: number; ms: number }
  | {
      type: 'eval';
      record: EvalRecord;
      csvLine: string;
      /** How the evaluation ran (dense model; see RunSummary.evalPaths); not part of the record. */
      path?: EvalPath;
      /** How the training step before this evaluation ran (dense model, after its first step). */
      stepPath?: StepPath;
    }
  | { type: 'end'; summary: RunSummary };
