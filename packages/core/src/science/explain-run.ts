// Runs the explain suite (explainSuite's plan, one after another) and assembles its report: the
// findings, their thresholds, the final-numbers table and every evaluation. The CLI and the web
// worker both call this, so the same plan on the same data gives the same numbers in both.
import type { MnistData } from '../data/mnist';
import type { Checkpoint } from '../run/checkpoint';
import { runExperiment, type EvalRecord, type RunEvent } from '../run/run-experiment';
import type { TwinEvalPool } from '../twin/twin-trainer';
import { EXPLAIN_THRESHOLDS, suiteFindings, THRESHOLD_DEFINITIONS } from './explain-findings';
import type { ExplainPlan, ExplainReport, SuiteEntry, SuiteResult, SuiteRow } from './explain-types';
import { SYMMETRY_KEYS } from './symmetry';

/** The first `count` test images of `data` (all of them when count is Infinity or larger). */
export function firstTestImages(data: MnistData, count: number): MnistData {
  if (count >= data.test.count) return data;
  const px = data.rows * data.cols;
  return { ...data, test: { count, images: data.test.images.subarray(0, count * px), labels: data.test.labels.subarray(0, count) } };
}

/** What a front end hooks into while the suite runs. */
export interface ExplainHooks {
  /** A twin evaluation pool for this run (closed by the caller in onRunEnd), or undefined. */
  twinEvalPool?: (entry: SuiteEntry) => TwinEvalPool | undefined;
  /** Called when a run ends (also when it fails: `result` is then null). */
  onRunEnd?: (index: number, entry: SuiteEntry, result: SuiteResult | null, wallMs: number) => void | Promise<void>;
  /** Every event of every run. */
  onEvent?: (index: number, entry: SuiteEntry, event: RunEvent) => void;
  /** Between training steps of any run: 'stop' ends the suite (runExperiment's RunStoppedError). */
  betweenSteps?: (step: number, snapshot: () => Checkpoint) => 'continue' | 'stop' | Promise<'continue' | 'stop'>;
}

/** Runs every entry of the plan on `data` (already cut to the plan's test images). The engine must be started. */
export async function runExplainSuite(plan: ExplainPlan, data: MnistData, hooks: ExplainHooks = {}): Promise<SuiteResult[]> {
  const results: SuiteResult[] = [];
  for (const [index, entry] of plan.entries.entries()) {
    const records: EvalRecord[] = [];
    const t0 = performance.now();
    let result: SuiteResult | null = null;
    try {
      const summary = await runExperiment(entry.config, data, {
        twinEvalPool: hooks.twinEvalPool?.(entry),
        betweenSteps: hooks.betweenSteps,
        onEvent: (event) => {
          if (event.type === 'eval') records.push(event.record);
          hooks.onEvent?.(index, entry, event);
        },
      });
      result = { entry, records, summary };
      results.push(result);
    } finally {
      await hooks.onRunEnd?.(index, entry, result, performance.now() - t0);
    }
  }
  return results;
}

/** The final-numbers table. */
export function suiteTable(results: SuiteResult[]): SuiteRow[] {
  return results.map(({ entry, summary }) => ({
    id: entry.id,
    label: entry.label,
    steps: summary.steps,
    evalEvery: entry.config.evalEvery,
    train: summary.final.train,
    test: summary.final.test,
    firstNanStep: summary.firstNanStep,
    groups: Object.fromEntries(SYMMETRY_KEYS.map((k) => [k, `${summary.symmetry[k].groups}/${summary.symmetry[k].copies}`])),
    msPerStep: summary.msPerStep,
    weightsSha256: summary.weightsSha256,
  }));
}

/** The report of finished runs. `testImages` is the count the runs scored. */
export function explainReport(
  plan: ExplainPlan,
  results: SuiteResult[],
  testImages: number,
  timing: { generated: string; wallMs: number },
): ExplainReport {
  return {
    generated: timing.generated,
    protocol: { testImages, uniform: plan.uniform, widths: plan.entries[0].config.widths },
    thresholds: { values: EXPLAIN_THRESHOLDS, definitions: THRESHOLD_DEFINITIONS },
    findings: suiteFindings(results),
    table: suiteTable(results),
    results,
    wallMs: timing.wallMs,
  };
}
