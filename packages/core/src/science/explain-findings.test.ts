// The explain findings on crafted run records: runs that show an effect must be reported as showing
// it, runs that do not (or are too short) must not claim it, and the thresholds decide which.
import { describe, expect, it } from 'vitest';
import { resolveConfig, type ExperimentConfig } from '../config';
import type { EvalRecord, RunSummary } from '../run/run-experiment';
import { EXPLAIN_THRESHOLDS, leftPlateau, suiteFindings } from './explain-findings';
import type { Finding, SuiteResult, SuiteRole } from './explain-types';
import { SYMMETRY_KEYS, type SymmetryKey, type SymmetryReport } from './symmetry';

const COPIES: Record<SymmetryKey, number> = {
  'conv1.out': 32,
  'conv2.out': 64,
  'conv2.in': 32,
  'fc1.in': 64,
  'fc1.out': 1024,
  'fc2.in': 1024,
};

/** Copy sets with the given group counts (others: 1 group, i.e. symmetric). */
function sym(groups: Partial<Record<SymmetryKey, number>> | 'all-split' = {}, maxRelDiff = 0): SymmetryReport {
  const g = (k: SymmetryKey) => (groups === 'all-split' ? COPIES[k] : (groups[k] ?? 1));
  return Object.fromEntries(
    SYMMETRY_KEYS.map((k) => [k, { copies: COPIES[k], groups: g(k), groupsTol: g(k), maxRelDiff: g(k) > 1 ? maxRelDiff || 1e-3 : 0 }]),
  ) as SymmetryReport;
}

function rec(step: number, test: number, symmetry: SymmetryReport = sym()): EvalRecord {
  return { step, train: null, test, trainLoss: null, testLoss: 1, batchLoss: null, trainImages: 0, elapsedMs: 0, symmetry };
}

function run(id: string, role: SuiteRole, config: Partial<ExperimentConfig>, records: EvalRecord[]): SuiteResult {
  const c = resolveConfig({ ...config, steps: records[records.length - 1].step });
  const end = records[records.length - 1];
  const summary = {
    steps: c.steps,
    final: { step: end.step, train: null, test: end.test, loss: 1 },
    firstNanStep: null,
    msPerStep: 1,
    weightsSha256: '',
    symmetry: end.symmetry,
    evaluations: records.length,
    wallMs: 0,
    config: c,
  } as unknown as RunSummary;
  return { entry: { id, label: id, role, config: c }, records, summary };
}

/** A symmetric run: chance, then ~11.7% to step 250, then a plateau near 19-20%. */
function symmetricCurve(steps: number, every: number): EvalRecord[] {
  const out: EvalRecord[] = [];
  for (let s = 0; s <= steps; s += every) out.push(rec(s, s === 0 ? 0.0875 : s < 300 ? 0.117 : 0.19 + 0.01 * ((s / every) % 2)));
  return out;
}

const twin = (steps = 5000, every = 50) => run('twin-constant', 'symmetric-twin', { model: 'twin' }, symmetricCurve(steps, every));
const dense = (records: EvalRecord[]) => run('dense-constant', 'symmetric-dense', { model: 'dense' }, records);
const find = (fs: Finding[], id: string) => {
  const f = fs.find((x) => x.id === id);
  if (!f) throw new Error(`no finding ${id} in ${fs.map((x) => x.id).join(', ')}`);
  return f;
};

describe('plateau', () => {
  it('a long symmetric run within the band shows the plateau, with its range', () => {
    const f = find(suiteFindings([twin()]), 'plateau');
    expect(f.shown).toBe(true);
    expect(f.text).toContain('between 19.00% and 20.00%');
    expect(f.text).toContain('from step 500 to step 5000');
  });

  it('a short symmetric run says it is too short instead of reporting a plateau', () => {
    const f = find(suiteFindings([twin(300, 50)]), 'plateau');
    expect(f.shown).toBe(false);
    expect(f.text).toMatch(/too short to show its plateau/);
  });

  it('a symmetric run that keeps climbing is not called a plateau', () => {
    const climbing = Array.from({ length: 21 }, (_, i) => rec(i * 100, 0.1 + 0.04 * i));
    const f = find(suiteFindings([run('twin-constant', 'symmetric-twin', { model: 'twin' }, climbing)]), 'plateau');
    expect(f.shown).toBe(false);
    expect(f.text).toMatch(/did not stay on a plateau/);
  });
});

describe('left the plateau (random init, perturbations)', () => {
  const reference = new Map([
    [0, 0.0875],
    [100, 0.117],
    [200, 0.117],
  ]);

  it('counts a rise only beyond the threshold above the symmetric run at the same step', () => {
    const m = EXPLAIN_THRESHOLDS.leftPlateauPoints / 100;
    expect(leftPlateau([rec(100, 0.117 + m - 0.001)], reference).at).toBeNull();
    expect(leftPlateau([rec(100, 0.117 + m + 0.001)], reference).at?.step).toBe(100);
    expect(leftPlateau([rec(150, 0.9)], reference)).toEqual({ compared: 0, at: null });
  });

  it('random init far above the symmetric run is shown; one no higher than it is not claimed', () => {
    const high = run('dense-truncated-normal', 'random-init', { init: 'truncated-normal' }, [
      rec(0, 0.1, sym('all-split')),
      rec(100, 0.525, sym('all-split')),
      rec(200, 0.8, sym('all-split')),
    ]);
    const f = find(suiteFindings([twin(), high]), 'random-init');
    expect(f.shown).toBe(true);
    expect(f.text).toContain("52.50% at step 100 against the symmetric network's 11.70%");
    const flat = run('dense-truncated-normal', 'random-init', { init: 'truncated-normal' }, [
      rec(0, 0.1, sym('all-split')),
      rec(100, 0.12, sym('all-split')),
    ]);
    const g = find(suiteFindings([twin(), flat]), 'random-init');
    expect(g.shown).toBe(false);
    expect(g.text).toMatch(/too short to show the difference/);
    expect(g.text).not.toMatch(/far above/);
  });
});

describe('twin equal to dense', () => {
  it('is shown when the dense run moved off chance, stayed symmetric and matched the twin', () => {
    const f = find(suiteFindings([dense(symmetricCurve(300, 50)), twin()]), 'twin-equals-dense');
    expect(f.shown).toBe(true);
    expect(f.text).toContain('up to step 300');
    expect(f.text).toContain('within 0.00 points');
  });

  it('is too short to tell while both are still near their step-0 accuracy', () => {
    const f = find(suiteFindings([dense(symmetricCurve(100, 50).map((r) => rec(r.step, 0.0875))), twin(100, 50)]), 'twin-equals-dense');
    expect(f.shown).toBe(false);
    expect(f.text).toMatch(/too short to show that the twin follows it/);
  });

  it('is not claimed when the two differ beyond the threshold from the start, or when dense copies split', () => {
    const off = symmetricCurve(300, 50).map((r) => rec(r.step, r.test + 0.02));
    expect(find(suiteFindings([dense(off), twin()]), 'twin-equals-dense').shown).toBe(false);
    const split = symmetricCurve(300, 50).map((r) => rec(r.step, r.test, r.step >= 100 ? sym({ 'conv2.out': 2 }) : sym()));
    const f = find(suiteFindings([dense(split), twin()]), 'twin-equals-dense');
    expect(f.shown).toBe(false);
    expect(f.text).toContain('split at step 100');
  });

  it('says where a long pair drifts apart', () => {
    const long = symmetricCurve(1000, 50).map((r) => rec(r.step, r.step > 600 ? r.test + 0.03 : r.test));
    const f = find(suiteFindings([dense(long), twin()]), 'twin-equals-dense');
    expect(f.shown).toBe(true);
    expect(f.text).toContain('up to step 600');
    expect(f.text).toContain('drift apart by up to 3.00 points');
  });
});

describe('perturbations', () => {
  const perturb = (x: number, records: EvalRecord[]) =>
    run(`dense-perturb-${x.toExponential()}`, 'perturb', { model: 'dense', perturb: x }, records);

  it('absorbed: split at step 0, every copy set one group at the end', () => {
    const f = find(
      suiteFindings([twin(), perturb(1e-30, [rec(0, 0.0875, sym('all-split', 5e-29)), rec(5, 0.0875), rec(10, 0.0875)])]),
      'perturb-1e-30',
    );
    expect(f.shown).toBe(true);
    expect(f.text).toContain('is absorbed');
    expect(f.text).toContain('by step 5 every copy set is one bitwise group again');
  });

  it('a perturbation that stays split but does not rise is not said to leave the plateau', () => {
    const f = find(
      suiteFindings([
        twin(),
        perturb(1e-10, [rec(0, 0.0875, sym('all-split')), rec(100, 0.117, sym('all-split')), rec(200, 0.117, sym('all-split'))]),
      ]),
      'perturb-1e-10',
    );
    expect(f.shown).toBe(false);
    expect(f.text).toContain('every copy set is split');
    expect(f.text).toMatch(/too short to show it leaving the plateau/);
    expect(f.text).not.toMatch(/is absorbed/);
  });

  it('a surviving perturbation that rises above the symmetric run is shown leaving the plateau', () => {
    const f = find(
      suiteFindings([
        twin(),
        perturb(1e-10, [rec(0, 0.0875, sym('all-split')), rec(300, 0.2, sym('all-split')), rec(500, 0.5, sym('all-split'))]),
      ]),
      'perturb-1e-10',
    );
    expect(f.shown).toBe(true);
    expect(f.text).toContain("50.00% at step 500 against the symmetric network's 19.00%");
  });

  it('a perturbation still split in only some copy sets is not called a full break', () => {
    const f = find(suiteFindings([perturb(1e-6, [rec(0, 0.1, sym('all-split')), rec(10, 0.1, sym({ 'conv1.out': 3 }))])]), 'perturb-1e-6');
    expect(f.shown).toBe(false);
    expect(f.text).toContain('only some copy sets are split');
  });
});

describe('pool ties and shuffled bias sums', () => {
  const ties = (rule: 'last' | 'random', records: EvalRecord[]) =>
    run(`dense-ties-${rule}`, 'ties', { model: 'dense', poolTies: rule }, records);
  const conv = { 'conv1.out': 32, 'conv2.out': 64, 'conv2.in': 32, 'fc1.in': 64 };

  it('random ties splitting conv but not fc1 is shown; short runs make no accuracy claim', () => {
    const f = find(suiteFindings([ties('random', [rec(0, 0.0875), rec(5, 0.0875, sym(conv)), rec(10, 0.0875, sym(conv))])]), 'ties-random');
    expect(f.shown).toBe(true);
    expect(f.text).toContain('by step 5 conv1.out 32/32, conv2.out 64/64');
    expect(f.text).toContain('too short to say what it does to accuracy');
    expect(f.text).not.toMatch(/\d%/);
  });

  it('random ties that split nothing (too short) or fc1 too are not claimed', () => {
    const none = find(suiteFindings([ties('random', [rec(0, 0.0875), rec(2, 0.0875)])]), 'ties-random');
    expect(none.shown).toBe(false);
    expect(none.text).toMatch(/too short to show it/);
    const fc1 = find(suiteFindings([ties('random', [rec(0, 0.0875), rec(5, 0.0875, sym({ ...conv, 'fc1.out': 2 }))])]), 'ties-random');
    expect(fc1.shown).toBe(false);
    expect(fc1.text).toContain('split fc1 too');
  });

  it("'last' ties keeping every copy equal is shown; a split is reported", () => {
    expect(find(suiteFindings([ties('last', [rec(0, 0.0875), rec(10, 0.0875)])]), 'ties-last').shown).toBe(true);
    expect(find(suiteFindings([ties('last', [rec(0, 0.0875), rec(10, 0.0875, sym({ 'conv2.out': 2 }))])]), 'ties-last').shown).toBe(false);
  });

  it('shuffled bias sums: a split is reported with where it happened; none is not claimed', () => {
    const shuffled = (records: EvalRecord[]) =>
      run('dense-reduce-shuffled', 'reduce-order', { model: 'dense', reduceOrder: 'shuffled' }, records);
    const split = find(
      suiteFindings([
        twin(),
        shuffled([
          rec(0, 0.0875),
          rec(50, 0.117, sym({ 'conv2.out': 4, 'fc1.in': 4 })),
          rec(100, 0.117, sym({ 'conv2.out': 4, 'fc1.in': 4 })),
        ]),
      ]),
      'reduce-order',
    );
    expect(split.shown).toBe(true);
    expect(split.text).toContain('copies first differ at step 50 (conv2.out, fc1.in)');
    expect(split.text).toMatch(/stayed on the plateau .*too short to show whether/);
    const none = find(suiteFindings([shuffled([rec(0, 0.0875), rec(50, 0.117)])]), 'reduce-order');
    expect(none.shown).toBe(false);
    expect(none.text).toMatch(/too short to show a break/);
  });
});

describe('data orders', () => {
  const order = (seed: number, steps: number, test: number) =>
    run(`twin-order-tf1-seed-${seed}`, 'twin-order', { model: 'twin', order: 'tf1', seed }, [rec(0, 0.0875), rec(steps, test)]);

  it('short runs are not compared; long ones give the range', () => {
    const short = find(suiteFindings([order(1, 100, 0.094), order(2, 100, 0.151)]), 'data-orders');
    expect(short.shown).toBe(false);
    expect(short.text).not.toMatch(/ranged/);
    const long = find(suiteFindings([order(1, 5000, 0.19), order(2, 5000, 0.21)]), 'data-orders');
    expect(long.text).toContain('ranged from 19.00% to 21.00%');
  });
});
