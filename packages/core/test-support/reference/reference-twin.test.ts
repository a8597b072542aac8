// The twin equivalence in float64: a dense reference network (widths 2, 3, 4) from the constant init
// and its width-1 twin, trained on the same real MNIST batches with the seed's Adam, agree after
// hundreds of steps to ~1e-9 relative (the twin expanded back to dense). Dropping the epsilon
// multipliers breaks the agreement, which shows they are needed.
import { beforeAll, describe, expect, it } from 'vitest';
import { gatherPixels, type MnistData } from '../../src/data/mnist';
import { refAdamInit, refAdamStep } from './reference-adam';
import { REF_PARAM_KEYS, refInitConstant, refLossAndGrads, type RefParams, type RefShape } from './reference-model';
import { refDenseToTwin, refTwinAdamScales, refTwinShape, refTwinToDense } from './reference-twin';
import { loadSmallMnist } from '../../../../test/small-mnist';

const DENSE: RefShape = { height: 28, width: 28, c1: 2, c2: 3, f1: 4, classes: 10 };
const BATCH = 10;
let data: MnistData;

beforeAll(() => {
  data = loadSmallMnist();
});

/** max over tensors of max|a - b| / max|b|. */
function relDiff(a: RefParams, b: RefParams): number {
  let worst = 0;
  for (const k of REF_PARAM_KEYS) {
    let d = 0;
    let s = 0;
    for (let i = 0; i < b[k].length; i++) {
      d = Math.max(d, Math.abs(a[k][i] - b[k][i]));
      s = Math.max(s, Math.abs(b[k][i]));
    }
    worst = Math.max(worst, s === 0 ? d : d / s);
  }
  return worst;
}

/** Trains dense and twin side by side; returns the worst relative parameter and loss gaps. */
function sideBySide(steps: number, lr: number, withEps: boolean, loss: 'seed' | 'stable') {
  const dense = refInitConstant(DENSE);
  const twinShape = refTwinShape(DENSE);
  const twin = refDenseToTwin(dense, DENSE);
  const denseAdam = refAdamInit(dense);
  const twinAdam = refAdamInit(twin);
  const { lrScale, epsScale } = refTwinAdamScales(DENSE);
  const pixels = new Float32Array(BATCH * 784);
  let worstParams = 0;
  let worstLoss = 0;
  let moved = 0;
  for (let step = 0; step < steps; step++) {
    const start = (step * BATCH) % (data.train.count - BATCH);
    const idx = Uint32Array.from({ length: BATCH }, (_, i) => start + i);
    gatherPixels(data.train, idx, pixels);
    const x = Float64Array.from(pixels);
    const labels = Uint8Array.from(idx, (i) => data.train.labels[i]);
    const d = refLossAndGrads(DENSE, dense, x, labels, BATCH, loss);
    const t = refLossAndGrads(twinShape, twin, x, labels, BATCH, loss);
    worstLoss = Math.max(worstLoss, Math.abs(d.loss - t.loss) / Math.abs(d.loss));
    refAdamStep(dense, d.grads, denseAdam, { lr });
    refAdamStep(twin, t.grads, twinAdam, { lr, lrScale, ...(withEps ? { epsScale } : {}) });
    worstParams = Math.max(worstParams, relDiff(refTwinToDense(twin, DENSE), dense));
  }
  for (const k of REF_PARAM_KEYS) for (const v of dense[k]) moved = Math.max(moved, Math.abs(v - (k.endsWith('b') ? 0.1 : 0)));
  return { worstParams, worstLoss, moved };
}

describe('width-1 twin vs dense, float64 reference', () => {
  it('maps a dense set with equal copies to the twin and back exactly', () => {
    const p = refInitConstant(DENSE, 0.25, 0.1);
    expect(relDiff(refTwinToDense(refDenseToTwin(p, DENSE), DENSE), p)).toBe(0);
    expect(refDenseToTwin(p, DENSE).conv2W[0]).toBe(0.25 * 2); // a twin conv2 weight sums c1 = 2 copies
    expect(refDenseToTwin(p, DENSE).fc2W[0]).toBe(0.25 * 4);
  });

  it('agrees to ~1e-9 relative over 300 Adam steps of the seed (lr 1e-4, the seed loss)', () => {
    const r = sideBySide(300, 1e-4, true, 'seed');
    console.log(
      `float64 dense(2,3,4) vs twin, 300 steps lr 1e-4: params ${r.worstParams.toExponential(2)}, loss ${r.worstLoss.toExponential(2)}, moved ${r.moved.toExponential(2)}`,
    );
    expect(r.moved).toBeGreaterThan(1e-3);
    expect(r.worstParams).toBeLessThan(1e-9);
    expect(r.worstLoss).toBeLessThan(1e-9);
  });

  it('agrees with a larger learning rate too (lr 1e-3, stable loss, 200 steps); without epsScale it does not', () => {
    const r = sideBySide(200, 1e-3, true, 'stable');
    const noEps = sideBySide(200, 1e-3, false, 'stable');
    console.log(`lr 1e-3: params ${r.worstParams.toExponential(2)}; without epsScale ${noEps.worstParams.toExponential(2)}`);
    expect(r.worstParams).toBeLessThan(1e-9);
    expect(noEps.worstParams).toBeGreaterThan(100 * Math.max(r.worstParams, 1e-12));
  });
});
