// What `explain` concludes from its runs: each finding names an effect, says whether the runs show
// it by stated thresholds (EXPLAIN_THRESHOLDS), and words it with the measured numbers; a run too
// short to show its effect gets a sentence saying so, never a number that reads as "no effect".
import type { EvalRecord } from '../run/run-experiment';
import { twinScales } from '../twin/twin';
import type { Finding, SuiteEntry, SuiteResult } from './explain-types';
import { SYMMETRY_KEYS, type SymmetryKey, type SymmetryReport } from './symmetry';

/** The findings' thresholds (accuracies in percentage points of test accuracy). */
export const EXPLAIN_THRESHOLDS = {
  /** Left the plateau: test accuracy more than this many points above the symmetric run's at the same step. */
  leftPlateauPoints: 5,
  /** The plateau is measured from this step on (before it, the symmetric network is still climbing from chance). */
  plateauFrom: 500,
  /** A symmetric run shorter than this is too short to show its plateau. */
  plateauMinSteps: 1000,
  /** On a plateau: every evaluation from plateauFrom on within a band this wide. */
  plateauBandPoints: 10,
  /** The twin equals the dense network: test accuracies at most this far apart at every common evaluation... */
  twinMatchPoints: 0.5,
  /** ...while the dense network has moved at least this far from its step-0 accuracy (else: too short to tell). */
  movedPoints: 2,
  /** Data orders are compared only after this many steps (before, every run is still climbing). */
  orderMinSteps: 1000,
} as const;

/**
 * The definitions behind the findings, for the report. A copy set is split when its copies form
 * more than one bitwise group (docs/SYMMETRY.md); "one group" means still exactly symmetric.
 */
export const THRESHOLD_DEFINITIONS: readonly string[] = [
  `split: a copy set whose copies form more than one bitwise group; symmetric: one group.`,
  `left the plateau: test accuracy more than ${EXPLAIN_THRESHOLDS.leftPlateauPoints} points above the symmetric run's (the twin, else the constant-init dense run) at the same evaluation step.`,
  `plateau: every evaluation of the symmetric run from step ${EXPLAIN_THRESHOLDS.plateauFrom} on within ${EXPLAIN_THRESHOLDS.plateauBandPoints} points; a symmetric run shorter than ${EXPLAIN_THRESHOLDS.plateauMinSteps} steps is too short to show it.`,
  `twin equal to dense: test accuracies within ${EXPLAIN_THRESHOLDS.twinMatchPoints} points at every common evaluation, every dense copy set one group, and the dense run at least ${EXPLAIN_THRESHOLDS.movedPoints} points away from its step-0 accuracy at some evaluation (else too short to tell).`,
  'absorbed: a perturbation that splits copy sets at step 0 and leaves every copy set one group at the last evaluation; survived: every copy set split at the last evaluation.',
  `data orders: compared only in runs of at least ${EXPLAIN_THRESHOLDS.orderMinSteps} steps.`,
];

const T = EXPLAIN_THRESHOLDS;
const CONV_SETS: SymmetryKey[] = ['conv1.out', 'conv2.out', 'conv2.in', 'fc1.in'];
const FC1_SETS: SymmetryKey[] = ['fc1.out', 'fc2.in'];

const pct = (x: number | null) => (x === null || Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(2)}%`);
const points = (x: number) => (100 * x).toFixed(2);
const isSplit = (s: SymmetryReport, k: SymmetryKey) => s[k].groups > 1;
const groupsOf = (s: SymmetryReport, keys: readonly SymmetryKey[]) => keys.map((k) => `${k} ${s[k].groups}/${s[k].copies}`).join(', ');
const last = <X>(xs: X[]): X | undefined => xs[xs.length - 1];

/** First evaluation step at which any copy set has more than one bitwise group, or null. */
export function firstSplitStep(records: EvalRecord[], keys: readonly SymmetryKey[] = SYMMETRY_KEYS): number | null {
  const r = records.find((x) => keys.some((k) => isSplit(x.symmetry, k)));
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

/** The symmetric reference: the twin's evaluations, else the constant-init dense run's, by step. */
function symmetricReference(results: SuiteResult[]): Map<number, number> {
  const twin = results.find((r) => r.entry.role === 'symmetric-twin');
  const dense = results.find((r) => r.entry.role === 'symmetric-dense');
  const byStep = new Map<number, number>();
  for (const run of [dense, twin]) for (const r of run?.records ?? []) byStep.set(r.step, r.test);
  return byStep;
}

/** Where a run left the plateau (first evaluation above the reference by the threshold), and how many steps could be compared. */
export function leftPlateau(
  records: EvalRecord[],
  reference: Map<number, number>,
): { compared: number; at: { step: number; test: number; reference: number } | null } {
  let compared = 0;
  for (const r of records) {
    const ref = reference.get(r.step);
    if (ref === undefined) continue;
    compared++;
    if (r.test - ref > T.leftPlateauPoints / 100) return { compared, at: { step: r.step, test: r.test, reference: ref } };
  }
  return { compared, at: null };
}

/** "X% at step N (the symmetric network: Y%)" for a run's last evaluation. */
function lastVsSymmetric(records: EvalRecord[], reference: Map<number, number>): string {
  const end = last(records);
  if (!end) return 'no evaluation';
  const ref = reference.get(end.step);
  return `${pct(end.test)} at step ${end.step}${ref === undefined ? '' : ` against the symmetric network's ${pct(ref)}`}`;
}

function plateauFinding(run: SuiteResult): Finding {
  const effect = 'the symmetric network learns, but only to a plateau near 20%';
  const steps = run.summary.steps;
  const best = Math.max(...run.records.map((r) => r.test));
  const who = run.entry.role === 'symmetric-twin' ? 'The symmetric network (the width-1 twin)' : 'The constant-init dense network';
  if (steps < T.plateauMinSteps) {
    return {
      id: 'plateau',
      effect,
      shown: false,
      text: `${who} ran ${steps} steps, too short to show its plateau (it needs at least ${T.plateauMinSteps} steps; the plateau is measured from step ${T.plateauFrom}); it reached ${pct(run.summary.final.test)}.`,
    };
  }
  const band = run.records.filter((r) => r.step >= T.plateauFrom).map((r) => r.test);
  const lo = Math.min(...band);
  const hi = Math.max(...band);
  const shown = hi - lo <= T.plateauBandPoints / 100;
  return {
    id: 'plateau',
    effect,
    shown,
    text: shown
      ? `${who} learns, but only to a plateau: from step ${T.plateauFrom} to step ${steps} its test accuracy stayed between ${pct(lo)} and ${pct(hi)} (chance is about 10%), ${pct(run.summary.final.test)} at the end. One conv1 filter, one conv2 filter and one fc1 unit is all it has.`
      : `${who} did not stay on a plateau: from step ${T.plateauFrom} to step ${steps} its test accuracy ranged from ${pct(lo)} to ${pct(hi)}, more than ${T.plateauBandPoints} points (best ${pct(best)}).`,
  };
}

function randomInitFinding(run: SuiteResult, reference: Map<number, number>): Finding {
  const effect = 'random init leaves the symmetric plateau far behind';
  const { compared, at } = leftPlateau(run.records, reference);
  const end = lastVsSymmetric(run.records, reference);
  const copies = groupsOf(run.summary.symmetry, ['conv1.out', 'conv2.out', 'fc1.out']);
  if (compared === 0)
    return {
      id: 'random-init',
      effect,
      shown: null,
      text: `With the truncated-normal init the dense network reached ${end}; no symmetric run was evaluated at the same steps to compare with.`,
    };
  return {
    id: 'random-init',
    effect,
    shown: at !== null,
    text: at
      ? `With random init (truncated normal, stddev 0.01) every copy is distinct from the start (${copies}) and the dense network is far above the plateau: ${pct(at.test)} at step ${at.step} against the symmetric network's ${pct(at.reference)}${at.step === last(run.records)!.step ? '' : `, and ${end}`}.`
      : `With random init (truncated normal) the dense network did not rise more than ${T.leftPlateauPoints} points above the symmetric network within its ${run.summary.steps} steps (${end}): this run is too short to show the difference.`,
  };
}

function twinFinding(dense: SuiteResult, twin: SuiteResult): Finding {
  const effect = 'the width-1 twin computes the constant-init dense network';
  const id = 'twin-equals-dense';
  const twinAt = new Map(twin.records.map((r) => [r.step, r.test]));
  const common = dense.records.filter((r) => twinAt.has(r.step));
  const sc = twinScales(dense.entry.config.widths);
  // No timings here: findings are compared across machines (CLI and page); ms/step is in the table.
  const timing = `(Twin lr multipliers ${sc.lrScale.join(', ')}; epsilon multipliers ${sc.epsScale.join(', ')}.)`;
  if (common.length === 0)
    return { id, effect, shown: null, text: 'The dense and twin runs have no evaluation step in common to compare.' };
  const splitAt = firstSplitStep(dense.records);
  if (splitAt !== null)
    return {
      id,
      effect,
      shown: false,
      text: `The constant-init dense network's copies split at step ${splitAt}, so from there it is no longer the twin's network.`,
    };
  const start = dense.records[0].test;
  const gapAt = (r: EvalRecord) => Math.abs(r.test - (twinAt.get(r.step) as number));
  const firstOff = common.findIndex((r) => gapAt(r) > T.twinMatchPoints / 100);
  const agreeing = firstOff < 0 ? common : common.slice(0, firstOff);
  const moved = Math.max(0, ...agreeing.map((r) => Math.abs(r.test - start)));
  const lastStep = last(common)!.step;
  const lo = Math.min(...agreeing.map((r) => r.test));
  const hi = Math.max(...agreeing.map((r) => r.test));
  if (agreeing.length === 0)
    return {
      id,
      effect,
      shown: false,
      text: `The twin and the dense network differ by ${points(gapAt(common[0]))} points already at step ${common[0].step}. ${timing}`,
    };
  if (moved < T.movedPoints / 100)
    return {
      id,
      effect,
      shown: false,
      text: `Over ${lastStep} steps the constant-init dense network stayed within ${T.movedPoints} points of its step-0 accuracy (${pct(lo)} to ${pct(hi)}): too short to show that the twin follows it, both are still at chance. ${timing}`,
    };
  const upTo = last(agreeing)!.step;
  const after =
    firstOff < 0
      ? ''
      : ` After that they drift apart by up to ${points(maxTestGap(dense.records, twin.records))} points (float32 round-off: the two sum in different orders).`;
  return {
    id,
    effect,
    shown: true,
    text: `The width-1 twin computes the constant-init dense network: at every common evaluation up to step ${upTo} (${agreeing.length} evaluations, dense test accuracy from ${pct(lo)} to ${pct(hi)}) the two were within ${points(Math.max(...agreeing.map(gapAt)))} points, and every dense copy set stayed one bitwise group.${after} ${timing}`,
  };
}

function perturbFinding(run: SuiteResult, reference: Map<number, number>): Finding {
  const x = run.entry.config.perturb;
  const id = run.entry.id.replace(/^dense-/, '');
  const first = run.records[0];
  const end = last(run.records)!;
  const splitAt0 = SYMMETRY_KEYS.some((k) => isSplit(first.symmetry, k));
  const oneAtEnd = SYMMETRY_KEYS.every((k) => !isSplit(end.symmetry, k));
  const allSplitAtEnd = SYMMETRY_KEYS.every((k) => isSplit(end.symmetry, k));
  const noise = `${x.toExponential()} * N(0,1) added to the initial weights`;
  if (first.step !== 0 || end.step === 0)
    return {
      id,
      effect: 'what a perturbation does to the copies',
      shown: null,
      text: `${noise}: at step ${end.step} ${groupsOf(end.symmetry, SYMMETRY_KEYS)} (evaluations at step 0 and after training are needed to tell whether it was absorbed).`,
    };
  if (!splitAt0)
    return {
      id,
      effect: 'a perturbation too small to change the float32 initial weights',
      shown: null,
      text: `${noise}: no copy set was split even at step 0 (the noise does not change the float32 weights), so the run is the symmetric one.`,
    };
  if (oneAtEnd) {
    const back = run.records.find((r) => r.step > 0 && SYMMETRY_KEYS.every((k) => !isSplit(r.symmetry, k)))!;
    return {
      id,
      effect: 'a perturbation below float32 resolution is absorbed',
      shown: true,
      text: `${noise} is absorbed: at step 0 the copies differ (${groupsOf(first.symmetry, ['conv1.out', 'conv2.out', 'fc1.out'])} groups), by step ${back.step} every copy set is one bitwise group again (the first Adam updates, ~1e-4, round the differences away) and the run is the symmetric one from there.`,
    };
  }
  const effect = 'a perturbation that survives float32 rounding splits every copy set and leaves the plateau';
  const fc1 = end.symmetry['fc1.out'];
  if (!allSplitAtEnd)
    return {
      id,
      effect,
      shown: false,
      text: `${noise}: at step ${end.step} only some copy sets are split (${groupsOf(end.symmetry, SYMMETRY_KEYS)}).`,
    };
  const { compared, at } = leftPlateau(run.records, reference);
  const splitText = `survives float32 rounding: at step ${end.step} every copy set is split (${groupsOf(end.symmetry, ['conv1.out', 'conv2.out', 'fc1.out'])}; fc1's units differ by up to ${fc1.maxRelDiff.toExponential(1)} of its largest weight)`;
  if (compared === 0)
    return { id, effect, shown: null, text: `${noise} ${splitText}; no symmetric run was evaluated at the same steps to compare with.` };
  return {
    id,
    effect,
    shown: at !== null,
    text: at
      ? `${noise} ${splitText}, and the network leaves the plateau: ${pct(at.test)} at step ${at.step} against the symmetric network's ${pct(at.reference)}${at.step === end.step ? '' : `; ${lastVsSymmetric(run.records, reference)}`}.`
      : `${noise} ${splitText}, but within its ${run.summary.steps} steps it did not rise more than ${T.leftPlateauPoints} points above the symmetric network (${lastVsSymmetric(run.records, reference)}): this run is too short to show it leaving the plateau.`,
  };
}

function tiesFinding(run: SuiteResult, reference: Map<number, number>): Finding {
  const rule = run.entry.config.poolTies;
  const id = `ties-${rule}`;
  const end = last(run.records)!;
  const steps = run.summary.steps;
  const accuracy =
    steps >= T.plateauMinSteps
      ? ` Test accuracy: ${lastVsSymmetric(run.records, reference)}.`
      : ` (${steps} steps: too short to say what it does to accuracy.)`;
  if (rule !== 'random') {
    const split = firstSplitStep(run.records);
    return {
      id,
      effect: `pool ties: ${rule} keeps the copies equal`,
      shown: split === null,
      text:
        split === null
          ? `Max-pool ties given to the ${rule} maximum keep every copy set one bitwise group over ${steps} steps: the rule picks the same cell in every channel.${accuracy}`
          : `Max-pool ties given to the ${rule} maximum split copy sets at step ${split} (${groupsOf(end.symmetry, SYMMETRY_KEYS)}).`,
    };
  }
  const effect = 'random pool ties split the convolution layers but not fc1';
  const convSplit = CONV_SETS.every((k) => isSplit(end.symmetry, k));
  const fc1Split = firstSplitStep(run.records, FC1_SETS);
  const convAt = run.records.find((r) => CONV_SETS.every((k) => isSplit(r.symmetry, k)));
  if (fc1Split !== null)
    return {
      id,
      effect,
      shown: false,
      text: `Random max-pool tie-breaking split fc1 too, at step ${fc1Split} (${groupsOf(end.symmetry, SYMMETRY_KEYS)}).`,
    };
  if (!convSplit)
    return {
      id,
      effect,
      shown: false,
      text: `Random max-pool tie-breaking had not split every convolution copy set by step ${end.step} (${groupsOf(end.symmetry, CONV_SETS)}): this run is too short to show it.`,
    };
  return {
    id,
    effect,
    shown: true,
    text: `Random max-pool tie-breaking (what non-deterministic GPU pooling could do) splits the convolution layers but not fc1: by step ${convAt!.step} ${groupsOf(convAt!.symmetry, CONV_SETS)}, while fc1.out and fc2.in stayed one group at every evaluation up to step ${end.step} (fc1's units see the same input vector and so get the same gradient whatever the pooling did).${accuracy}`,
  };
}

function reduceOrderFinding(run: SuiteResult, reference: Map<number, number>): Finding {
  const effect = 'bias gradients summed in a shuffled float32 order (2016 GPU atomic adds) break the symmetry';
  const end = last(run.records)!;
  const splitAt = firstSplitStep(run.records);
  if (splitAt === null)
    return {
      id: 'reduce-order',
      effect,
      shown: false,
      text: `Summing each bias gradient in a shuffled order left every copy set one bitwise group over ${run.summary.steps} steps: this run is too short to show a break, if there is one.`,
    };
  const firstRecord = run.records.find((r) => r.step === splitAt)!;
  const splitSets = (s: SymmetryReport) => SYMMETRY_KEYS.filter((k) => isSplit(s, k));
  const { compared, at } = leftPlateau(run.records, reference);
  const plateau =
    compared === 0
      ? ''
      : at
        ? ` The network left the plateau: ${pct(at.test)} at step ${at.step} against the symmetric network's ${pct(at.reference)}.`
        : ` Within its ${run.summary.steps} steps it stayed on the plateau (${lastVsSymmetric(run.records, reference)}): too short to show whether, and when, the split grows enough to leave it.`;
  return {
    id: 'reduce-order',
    effect,
    shown: true,
    text: `Summing each bias gradient in a shuffled float32 order (as 2016 GPUs' atomic adds did) breaks the exact symmetry: copies first differ at step ${splitAt} (${splitSets(firstRecord.symmetry).join(', ')}); at step ${end.step}: ${groupsOf(end.symmetry, SYMMETRY_KEYS)}.${plateau}`,
  };
}

function lossFinding(run: SuiteResult, results: SuiteResult[]): Finding {
  const base = results.find((r) => r.entry.role === (run.entry.role === 'twin-loss' ? 'symmetric-twin' : 'symmetric-dense'));
  return {
    id: `loss-${run.entry.id}`,
    effect: `the loss formula (${run.entry.config.loss})`,
    shown: null,
    text:
      `${run.entry.label}: ${pct(run.summary.final.test)} test accuracy after ${run.summary.steps} steps` +
      (base ? ` (seed loss: ${pct(base.summary.final.test)})` : '') +
      `; first NaN loss: ${run.summary.firstNanStep ?? 'none'}.`,
  };
}

function ordersFinding(orders: SuiteResult[], twin: SuiteResult | undefined): Finding {
  const steps = Math.min(...orders.map((r) => r.summary.steps));
  const effect = 'the data order changes where the symmetric network ends';
  if (steps < T.orderMinSteps)
    return {
      id: 'data-orders',
      effect,
      shown: false,
      text: `The ${orders.length} shuffled data orders ran ${steps} steps, too short to compare their outcomes (they are compared from ${T.orderMinSteps} steps on).`,
    };
  const accs = orders.map((r) => r.summary.final.test);
  return {
    id: 'data-orders',
    effect,
    shown: null,
    text:
      `Over ${orders.length} shuffled data orders the twin's test accuracy after ${steps} steps ranged from ${pct(Math.min(...accs))} to ${pct(Math.max(...accs))}` +
      (twin ? ` (file order: ${pct(twin.summary.final.test)}).` : '.'),
  };
}

/** The findings, computed from `results` alone (runs missing from the suite are skipped). */
export function suiteFindings(results: SuiteResult[]): Finding[] {
  const out: Finding[] = [];
  const byRole = (role: SuiteEntry['role']) => results.filter((r) => r.entry.role === role && r.records.length > 0);
  const reference = symmetricReference(results);
  const [twin] = byRole('symmetric-twin');
  const [dense] = byRole('symmetric-dense');
  if (twin ?? dense) out.push(plateauFinding(twin ?? dense));
  for (const r of byRole('random-init')) out.push(randomInitFinding(r, reference));
  if (dense && twin) out.push(twinFinding(dense, twin));
  if (dense?.summary.firstNanStep != null)
    out.push({
      id: 'nan',
      effect: 'the seed loss turns NaN',
      shown: null,
      text: `The constant-init dense network's loss first became NaN at step ${dense.summary.firstNanStep}.`,
    });
  for (const r of byRole('perturb')) out.push(perturbFinding(r, reference));
  for (const r of byRole('ties')) out.push(tiesFinding(r, reference));
  for (const r of byRole('reduce-order')) out.push(reduceOrderFinding(r, reference));
  for (const r of [...byRole('dense-loss'), ...byRole('twin-loss')]) out.push(lossFinding(r, results));
  const orders = byRole('twin-order');
  if (orders.length > 0) out.push(ordersFinding(orders, twin));
  return out;
}
