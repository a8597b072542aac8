// The explain suite's data model: its runs, their results, the findings and the report that
// carries them (report.json). Types only; explain-suite.ts plans the runs, explain-run.ts runs them,
// explain-findings.ts draws the conclusions.
import type { ExperimentConfig } from '../config';
import type { EvalRecord, RunSummary } from '../run/run-experiment';

/** What a run of the suite is there to show (the findings pick their runs by it). */
export type SuiteRole =
  | 'symmetric-dense'
  | 'symmetric-twin'
  | 'random-init'
  | 'perturb'
  | 'ties'
  | 'reduce-order'
  | 'twin-loss'
  | 'dense-loss'
  | 'twin-order';

/** One run of the suite. */
export interface SuiteEntry {
  /** Stable id (file names, JSON keys). */
  id: string;
  /** What the run varies, for people. */
  label: string;
  role: SuiteRole;
  config: ExperimentConfig;
}

/** How the suite is sized; what a front end passes (CLI flags, page URL parameters). */
export interface SuiteOptions {
  /** The seed's whole protocol for every run (20000 steps, full evaluations), the other losses on the dense net too. */
  full?: boolean;
  /**
   * Config values given by the user (raw, as flags or URL parameters give them; core's resolver
   * checks them), laid over every run; `steps` or `evalEvery` among them give every run that length.
   */
  overrides?: Record<string, unknown>;
  /** Test images scored at each evaluation (default: QUICK_TEST_IMAGES quick, all with --full). */
  testImages?: number;
  /** Perturbation sizes added to the dense constant init (default: QUICK_PERTURBS / FULL_PERTURBS). */
  perturbs?: number[];
  /** Seeds of shuffled data orders (tf1), run on the twin (default: none quick, FULL_ORDER_SEEDS full). */
  orderSeeds?: number[];
}

/** The runs and the test subset of one explain. */
export interface ExplainPlan {
  entries: SuiteEntry[];
  /** Test images scored (Infinity: the whole test split). */
  testImages: number;
  /** Whether every run has the same length (--full, or --steps/--eval-every given). */
  uniform: boolean;
}

/** A finished run of the suite. */
export interface SuiteResult {
  entry: SuiteEntry;
  records: EvalRecord[];
  summary: RunSummary;
}

/** One conclusion of the report. */
export interface Finding {
  /** Stable id: plateau, random-init, twin-equals-dense, perturb-<x>, ties-<rule>, reduce-order, loss-<run>, data-orders. */
  id: string;
  /** The effect the finding is about. */
  effect: string;
  /** true: the runs show it; false: they do not (the text says whether the run was too short); null: a measurement, no claim. */
  shown: boolean | null;
  text: string;
}

/** One row of the final-numbers table. */
export interface SuiteRow {
  id: string;
  label: string;
  steps: number;
  evalEvery: number;
  train: number | null;
  test: number;
  firstNanStep: number | null;
  /** groups/copies per copy set of the final weights. */
  groups: Record<string, string>;
  msPerStep: number;
  weightsSha256: string;
}

/** Everything an explain reports (written as report.json; rendered as report.html/.md and in the page). */
export interface ExplainReport {
  generated: string;
  /** How the suite was sized; each run's own length is in `table` and in its config. */
  protocol: { testImages: number; uniform: boolean; widths: [number, number, number] };
  /** What the findings count as "split", "left the plateau", "absorbed" ... */
  thresholds: { values: Readonly<Record<string, number>>; definitions: readonly string[] };
  findings: Finding[];
  table: SuiteRow[];
  results: SuiteResult[];
  wallMs: number;
}
