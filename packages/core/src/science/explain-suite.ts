// The side-by-side suite behind `explain`: which runs answer the question (constant vs truncated-normal
// init, dense vs width-1 twin, tie rules, perturbations, data orders), and the measured findings drawn
// from their results. Pure: a front end runs the configs and renders the findings.
import { resolveConfig, type ExperimentConfig } from '../config';
import type { EvalRecord, RunSummary } from '../run/run-experiment';
import { SYMMETRY_KEYS, type SymmetryReport } from './symmetry';
import { twinScales } from '../twin/twin';

/** One run of the suite. */
export interface SuiteEntry {
  /** Stable id (file names, JSON keys). */
  id: string;
  /** What the run varies, for people. */
  label: string;
  config: ExperimentConfig;
}

/** How big the suite is. */
export interface SuiteOptions {
  /** Seeds of the extra data orders (TF >= 1.1 shuffled order), run on the twin. */
  orderSeeds: number[];
  /** Perturbation sizes added to the constant init of the dense network. */
  perturbs: number[];
  /** Also run the two other losses on the dense network (always run on the twin, which is cheap). */
  denseLosses?: boolean;
}

/** The suite's runs over a base config (steps, evaluation, widths, lr, loss ... come from `base`). */
export function explainSuite(base: ExperimentConfig, options: SuiteOptions): SuiteEntry[] {
  const make = (id: string, label: string, over: Partial<ExperimentConfig>): SuiteEntry => ({
    id,
    label,
    config: resolveConfig({ ...base, ...over }),
  });
  const seedLike = { init: 'constant', poolTies: 'first', perturb: 0 } as const;
  return [
    make('dense-constant', 'dense, constant init (the question)', { ...seedLike, model: 'dense' }),
    make('twin-constant', 'width-1 twin, constant init', { ...seedLike, model: 'twin' }),
    make('dense-truncated-normal', 'dense, truncated-normal init', { ...seedLike, model: 'dense', init: 'truncated-normal' }),
    make('dense-ties-last', 'dense, constant init, pool ties: last', { ...seedLike, model: 'dense', poolTies: 'last' }),
    make('dense-ties-random', 'dense, constant init, pool ties: random', { ...seedLike, model: 'dense', poolTies: 'random' }),
    ...options.perturbs.map((x) =>
      make(`dense-perturb-${x}`, `dense, constant init + ${x} * N(0,1)`, { ...seedLike, model: 'dense', perturb: x }),
    ),
    ...(['epsilon', 'stable'] as const).flatMap((loss) => [
      ...(options.denseLosses
        ? [make(`dense-loss-${loss}`, `dense, constant init, loss: ${loss}`, { ...seedLike, model: 'dense', loss })]
        : []),
      make(`twin-loss-${loss}`, `width-1 twin, constant init, loss: ${loss}`, { ...seedLike, model: 'twin', loss }),
    ]),
    ...options.orderSeeds.map((s) =>
      make(`twin-order-tf1-seed-${s}`, `width-1 twin, shuffled data order (tf1), seed ${s}`, {
        ...seedLike,
        model: 'twin',
        order: 'tf1',
        seed: s,
      }),
    ),
  ];
}

/** A finished run of the suite. */
export interface SuiteResult {
  entry: SuiteEntry;
  records: EvalRecord[];
  summary: RunSummary;
}

/** One row of the final-numbers table. */
export interface SuiteRow {
  id: string;
  label: string;
  steps: number;
  train: number | null;
  test: number;
  firstNanStep: number | null;
  /** groups/copies per copy set of the final weights. */
  groups: Record<string, string>;
  msPerStep: number;
}

/** The final-numbers table. */
export function suiteTable(results: SuiteResult[]): SuiteRow[] {
  return results.map(({ entry, summary }) => ({
    id: entry.id,
    label: entry.label,
    steps: summary.steps,
    train: summary.final.train,
    test: summary.final.test,
    firstNanStep: summary.firstNanStep,
    groups: Object.fromEntries(SYMMETRY_KEYS.map((k) => [k, `${summary.symmetry[k].groups}/${summary.symmetry[k].copies}`])),
    msPerStep: summary.msPerStep,
  }));
}

const pct = (x: number | null) => (x === null || Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(2)}%`);

function symmetryWords(s: SymmetryReport): string {
  const split = SYMMETRY_KEYS.filter((k) => s[k].groups > 1);
  if (split.length === 0) return 'every copy set is still ONE bitwise group (all copies equal)';
  return `copies split in ${split.map((k) => `${k} (${s[k].groups} of ${s[k].copies} groups, ${s[k].groupsTol} within tolerance)`).join(', ')}`;
}

/** First evaluation step at which any copy set has more than one bitwise group, or null. */
export function firstSplitStep(records: EvalRecord[]): number | null {
  const r = records.find((x) => SYMMETRY_KEYS.some((k) => x.symmetry[k].groups > 1));
  return r ? r.step : null;
}

/** Largest |test accuracy difference| between two runs over their common evaluation steps. */
export function maxTestGap(a: EvalRecord[], b: EvalRecord[]): number {
  const byStep = new Map(b.map((r) => [r.step, r.test]));
  let gap = 0;
  for (const r of a) {
    const other = byStep.get(r.step);
    if (other !== undefined) gap = Math.max(gap, Math.abs(r.test - other));
  }
  return gap;
}

/**
 * The measured answers, as sentences: every number comes from `results` (runs missing from the
 * suite are skipped), nothing is assumed.
 */
export function suiteFindings(results: SuiteResult[]): string[] {
  const get = (id: string) => results.find((r) => r.entry.id === id);
  const out: string[] = [];
  const dense = get('dense-constant');
  const twin = get('twin-constant');
  if (dense) {
    const s = dense.summary;
    const best = Math.max(...dense.records.map((r) => r.test));
    out.push(
      `The constant-initialised dense network (the question) reached ${pct(s.final.test)} test accuracy ` +
        `(train ${pct(s.final.train)}) after ${s.steps} steps (best evaluation ${pct(best)}; chance is about 10%). ` +
        `At the end ${symmetryWords(s.symmetry)}.`,
    );
    if (s.firstNanStep !== null) out.push(`Its loss first became NaN at step ${s.firstNanStep}.`);
  }
  if (dense && twin) {
    const gap = maxTestGap(dense.records, twin.records);
    const [c1, c2, f1] = dense.entry.config.widths;
    const sc = twinScales([c1, c2, f1]);
    out.push(
      `Its width-1 twin (one conv1 filter, one conv2 filter, one fc1 unit; lr multipliers ${sc.lrScale.join(', ')}; ` +
        `epsilon multipliers ${sc.epsScale.join(', ')}) reached ${pct(twin.summary.final.test)}; the largest test-accuracy ` +
        `difference between dense and twin over ${dense.records.length} common evaluations was ${(100 * gap).toFixed(2)} percentage points. ` +
        `Time per step: dense ${dense.summary.msPerStep.toFixed(1)} ms, twin ${twin.summary.msPerStep.toFixed(2)} ms.`,
    );
  }
  const tn = get('dense-truncated-normal');
  if (tn)
    out.push(
      `With the truncated-normal init the dense network reached ${pct(tn.summary.final.test)}; ${symmetryWords(tn.summary.symmetry)}.`,
    );
  for (const id of ['dense-ties-last', 'dense-ties-random']) {
    const r = get(id);
    if (!r) continue;
    const split = firstSplitStep(r.records);
    out.push(
      `${r.entry.label}: ${pct(r.summary.final.test)} test accuracy; ` +
        `${split === null ? 'the copies never split' : `copies were first seen split at the evaluation of step ${split}`}; at the end ${symmetryWords(r.summary.symmetry)}.`,
    );
  }
  for (const r of results.filter((x) => x.entry.id.startsWith('dense-perturb-'))) {
    out.push(`${r.entry.label}: ${pct(r.summary.final.test)} test accuracy; at the end ${symmetryWords(r.summary.symmetry)}.`);
  }
  for (const r of results.filter((x) => /-loss-/.test(x.entry.id))) {
    const base = r.entry.config.model === 'twin' ? twin : dense;
    out.push(
      `${r.entry.label}: ${pct(r.summary.final.test)} test accuracy` +
        (base ? ` (seed loss: ${pct(base.summary.final.test)})` : '') +
        `; first NaN loss: ${r.summary.firstNanStep ?? 'none'}` +
        (r.entry.config.model === 'dense' ? `; at the end ${symmetryWords(r.summary.symmetry)}.` : '.'),
    );
  }
  const orders = results.filter((x) => x.entry.id.startsWith('twin-order-'));
  if (orders.length > 0) {
    const accs = orders.map((r) => r.summary.final.test);
    out.push(
      `Over ${orders.length} shuffled data orders the twin's final test accuracy ranged from ${pct(Math.min(...accs))} to ${pct(Math.max(...accs))}` +
        (twin ? ` (file order: ${pct(twin.summary.final.test)}).` : '.'),
    );
  }
  return out;
}
