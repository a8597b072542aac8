// The side-by-side suite behind `explain`: which runs answer the question (the symmetric network
// dense and as its width-1 twin, random init, perturbations, tie rules, shuffled bias sums, and in
// --full the other losses and data orders), each with a length at which its effect shows. Pure: a
// front end (CLI or web worker) runs the configs (explain-run.ts) and renders the findings.
import { resolveConfig, type ExperimentConfig } from '../config';
import type { ExplainPlan, SuiteEntry, SuiteOptions, SuiteRole } from './explain-types';

export { firstSplitStep, maxTestGap, suiteFindings } from './explain-findings';
export { suiteTable } from './explain-run';
export type { ExplainPlan, SuiteEntry, SuiteOptions, SuiteResult, SuiteRole, SuiteRow } from './explain-types';

/** The quick suite's test subset: 2000 images, so an accuracy moves in steps of 0.05 points. */
export const QUICK_TEST_IMAGES = 2000;
/** Quick perturbations: 1e-10 survives float32 rounding and breaks everything; 1e-30 is absorbed. */
export const QUICK_PERTURBS = [1e-10, 1e-30];
export const FULL_PERTURBS = [1e-10, 1e-6, 1e-3, 1e-30];
export const FULL_ORDER_SEEDS = [1, 2, 3, 4];
/** Perturbations at most this large are expected to be absorbed, so the quick suite gives them a short run. */
export const TINY_PERTURB = 1e-20;

/**
 * Quick run lengths, per role: the shortest at which each effect shows, from measurements on the
 * first 2000 test images (docs/ANSWER.md). The symmetric network sits at 11.70% (one class) until
 * step 250 and is near 19-20% from step 300 on, so the constant-init dense run needs at least 300
 * steps before "equal to the twin" means more than "both at chance".
 */
export const QUICK_LENGTHS = {
  /** The plateau is measured from step 500; the twin costs ~2 ms a step. */
  twin: { steps: 3000, evalEvery: 50 },
  /**
   * As long as the twin, so the two are compared at all 61 evaluations: the symmetric network
   * trains and evaluates once per copy set (a few ms a step, docs/ENGINE.md).
   */
  symmetricDense: { steps: 3000, evalEvery: 50 },
  /** Random init is at 52.50% by step 100, the symmetric network at 11.70%. */
  randomInit: { steps: 100, evalEvery: 50 },
  /** 1e-10: 28.75% at step 500 against the symmetric network's 18.20% (at 400: 18.75% against 18.70%). */
  perturb: { steps: 500, evalEvery: 100 },
  /** A perturbation below float32 resolution is rounded away within the first 5 Adam updates. */
  tinyPerturb: { steps: 10, evalEvery: 5 },
  /** Random ties split every convolution copy set within the first 5 steps. */
  ties: { steps: 10, evalEvery: 5 },
  /**
   * Shuffled bias sums split conv2 within 50 steps (conv1 follows by step 250, fc1 by step 350;
   * every unit is computed, so the quick suite stops at 200).
   */
  reduceOrder: { steps: 200, evalEvery: 50 },
} as const;

const QUICK_BASE = { evalTrain: 0 } as const;

/**
 * The quick suite evaluates a tiny perturbation's run with conv2 by direct sums: at step 0 conv2's
 * input is flat (pool1 = relu(0.1 + ~1e-30)), Winograd's input transform leaves rounding residues of
 * ~1e-8 there, and their products with ~1e-30 weights fall in float32's subnormal range, which
 * x86 computes far slower (`train --perturb 1e-30 --steps 0 --eval-train 0`: 56 s with Winograd,
 * 10 s direct, 7 s for `--perturb 1e-10`). Its finding is about copy sets, not accuracy.
 */
const TINY_PERTURB_EVAL = { evalConv: 'direct' } as const;

/** The suite's runs for `options` (quick by default). */
export function explainSuite(options: SuiteOptions = {}): ExplainPlan {
  const full = Boolean(options.full);
  const overrides = options.overrides ?? {};
  const uniform = full || overrides.steps !== undefined || overrides.evalEvery !== undefined;
  const base = resolveConfig({ ...(full ? {} : QUICK_BASE), ...overrides });
  const perturbs = options.perturbs ?? (full ? FULL_PERTURBS : QUICK_PERTURBS);
  const orderSeeds = options.orderSeeds ?? (full ? FULL_ORDER_SEEDS : []);
  const seedLike = { init: 'constant', poolTies: 'first', perturb: 0, reduceOrder: 'fixed' } as const;
  const make = (
    id: string,
    label: string,
    role: SuiteRole,
    length: { steps: number; evalEvery: number },
    over: Partial<ExperimentConfig>,
  ): SuiteEntry => ({
    id,
    label,
    role,
    config: resolveConfig({ ...base, ...(uniform ? {} : length), ...seedLike, ...over }),
  });
  const L = QUICK_LENGTHS;
  const entries: SuiteEntry[] = [
    make('dense-constant', 'dense, constant init (the question)', 'symmetric-dense', L.symmetricDense, { model: 'dense' }),
    make('twin-constant', 'width-1 twin, constant init', 'symmetric-twin', L.twin, { model: 'twin' }),
    make('dense-truncated-normal', 'dense, truncated-normal init', 'random-init', L.randomInit, {
      model: 'dense',
      init: 'truncated-normal',
    }),
    ...perturbs.map((x) =>
      make(
        `dense-perturb-${x.toExponential()}`,
        `dense, constant init + ${x.toExponential()} * N(0,1)`,
        'perturb',
        x <= TINY_PERTURB ? L.tinyPerturb : L.perturb,
        {
          model: 'dense',
          perturb: x,
          ...(x <= TINY_PERTURB && !uniform ? TINY_PERTURB_EVAL : {}),
        },
      ),
    ),
    make('dense-ties-last', 'dense, constant init, pool ties: last', 'ties', L.ties, { model: 'dense', poolTies: 'last' }),
    make('dense-ties-random', 'dense, constant init, pool ties: random', 'ties', L.ties, { model: 'dense', poolTies: 'random' }),
    make('dense-reduce-shuffled', 'dense, constant init, bias gradients summed in shuffled order', 'reduce-order', L.reduceOrder, {
      model: 'dense',
      reduceOrder: 'shuffled',
      reduceShuffle: 'bias',
    }),
    ...(full
      ? (['epsilon', 'stable'] as const).map((loss) =>
          make(`dense-loss-${loss}`, `dense, constant init, loss: ${loss}`, 'dense-loss', L.symmetricDense, { model: 'dense', loss }),
        )
      : []),
    ...(full
      ? (['epsilon', 'stable'] as const).map((loss) =>
          make(`twin-loss-${loss}`, `width-1 twin, constant init, loss: ${loss}`, 'twin-loss', L.twin, { model: 'twin', loss }),
        )
      : []),
    ...orderSeeds.map((s) =>
      make(`twin-order-tf1-seed-${s}`, `width-1 twin, shuffled data order (tf1), seed ${s}`, 'twin-order', L.twin, {
        model: 'twin',
        order: 'tf1',
        seed: s,
      }),
    ),
  ];
  const testImages = options.testImages ?? (full ? Number.POSITIVE_INFINITY : QUICK_TEST_IMAGES);
  return { entries, testImages, uniform };
}
