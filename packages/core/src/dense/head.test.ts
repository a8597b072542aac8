// The float32 head (softmax, the three losses, d loss / d logits): agreement with float64 math in
// the normal range, and the exact onset of the seed loss's NaN (TensorFlow flushes float32
// denormals to zero, so -sum y*log(p*1e-7) is NaN as soon as a WRONG class's p*1e-7 drops below
// FLT_MIN = 1.1754944e-38, i.e. its logit is ~71.2 below the largest).
import { describe, expect, it } from 'vitest';
import { lossAndGradient, scoreLogits, SEED_LOSS_FACTOR, softmaxRow } from './head';
import type { LossKind } from '../config';
import { lcg } from '../../../../test/lcg';

const K = 10;
const FLT_MIN = 1.1754943508222875e-38;
const f = Math.fround;

/** Float64 softmax of one row. */
function softmax64(z: ArrayLike<number>, off: number): number[] {
  let max = -Infinity;
  for (let k = 0; k < K; k++) max = Math.max(max, z[off + k]);
  const e = Array.from({ length: K }, (_, k) => Math.exp(z[off + k] - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Float64 batch-mean losses and the common exact gradient (p - y) / n. */
function exact(z: Float32Array, labels: Uint8Array) {
  const n = labels.length;
  const loss = { seed: 0, epsilon: 0, stable: 0 };
  const grad = new Float64Array(n * K);
  for (let i = 0; i < n; i++) {
    const p = softmax64(z, i * K);
    const pl = p[labels[i]];
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, z[i * K + k]);
    let se = 0;
    for (let k = 0; k < K; k++) se += Math.exp(z[i * K + k] - max);
    loss.stable += Math.log(se) - (z[i * K + labels[i]] - max);
    loss.seed += -Math.log(pl * 1e-7);
    loss.epsilon += -Math.log(pl + 1e-7);
    for (let k = 0; k < K; k++) grad[i * K + k] = (p[k] - (k === labels[i] ? 1 : 0)) / n;
  }
  return { seed: loss.seed / n, epsilon: loss.epsilon / n, stable: loss.stable / n, grad };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

/** One example whose label logit is 0 and one wrong class sits `d` below (the others at -1). */
function gapRow(d: number, label = 3, low = 7): Float32Array {
  const z = new Float32Array(K).fill(-1);
  z[label] = 0;
  z[low] = -d;
  return z;
}

describe('normal range: the float32 head agrees with float64 math', () => {
  for (const scale of [0.1, 3, 15]) {
    it(`random logits (scale ${scale}), batch 8: losses within 1e-6 relative, gradients within float32 precision`, () => {
      const rand = lcg(1000 + scale);
      const n = 8;
      const z = Float32Array.from({ length: n * K }, () => rand() * scale);
      const labels = Uint8Array.from({ length: n }, () => Math.floor(((rand() + 1) / 2) * K));
      const want = exact(z, labels);
      const got = {} as Record<LossKind, { loss: number; dlogits: Float32Array }>;
      for (const kind of ['seed', 'epsilon', 'stable'] as const) {
        got[kind] = lossAndGradient(kind, z, labels);
        expect(Number.isFinite(got[kind].loss)).toBe(true);
        expect(Math.abs(got[kind].loss - want[kind]) / Math.abs(want[kind]), kind).toBeLessThan(1e-6);
      }
      // seed = cross-entropy + ln(1e7) up to float32 rounding (the 1e-7 itself is float32).
      expect(got.seed.loss - got.stable.loss).toBeCloseTo(-Math.log(SEED_LOSS_FACTOR), 4);
      // Gradients: |g| <= 1/n; float32 leaves ~1e-7 of that. seed's path goes through
      // 1/(p*1e-7) and back, stable's is p - y: they must still agree.
      const tol = 2e-7 / n;
      expect(maxAbsDiff(got.stable.dlogits, want.grad), 'stable vs exact').toBeLessThan(tol);
      expect(maxAbsDiff(got.seed.dlogits, want.grad), 'seed vs exact').toBeLessThan(tol);
      expect(maxAbsDiff(got.seed.dlogits, got.stable.dlogits), 'seed vs stable').toBeLessThan(tol);
    });
  }

  it('uniform logits: loss ln(10) (+ ln(1e7) for seed), gradient (0.1 - y) / n', () => {
    const n = 4;
    const z = new Float32Array(n * K).fill(0.1);
    const labels = Uint8Array.from([0, 3, 9, 3]);
    const stable = lossAndGradient('stable', z, labels);
    const seed = lossAndGradient('seed', z, labels);
    expect(stable.loss).toBeCloseTo(Math.log(10), 6);
    expect(seed.loss).toBeCloseTo(Math.log(10) - Math.log(1e-7), 5);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < K; k++) {
        const want = (0.1 - (k === labels[i] ? 1 : 0)) / n;
        expect(Math.abs(seed.dlogits[i * K + k] - want)).toBeLessThan(1e-8);
        expect(Math.abs(stable.dlogits[i * K + k] - want)).toBeLessThan(1e-8);
      }
    }
  });

  it('scoreLogits: the per-example loss sum and the first-maximum argmax', () => {
    const rand = lcg(5);
    const n = 6;
    const z = Float32Array.from({ length: n * K }, () => rand() * 4);
    const labels = Uint8Array.from([0, 1, 2, 3, 4, 5]);
    // Make examples 0 and 2 correct, with a tie in example 2 won by the first (its label).
    z[0 * K + 0] = 50;
    z[2 * K + 2] = 50;
    z[2 * K + 6] = 50;
    let want = 0;
    for (let i = 0; i < n; i++) {
      const row = Array.from(z.subarray(i * K, i * K + K));
      if (row.indexOf(Math.max(...row)) === labels[i]) want++;
    }
    for (const kind of ['seed', 'epsilon', 'stable'] as const) {
      const s = scoreLogits(kind, z, labels);
      expect(s.correct).toBe(want);
      expect(s.lossSum / n).toBeCloseTo(lossAndGradient(kind, z, labels).loss, 4);
    }
  });
});

describe("the seed loss's NaN: exactly when some wrong class's p*1e-7 underflows (FTZ)", () => {
  // d* where p_low * 1e-7 = FLT_MIN for gapRow: p_low = e^-d / S, S = 1 + 8e^-1 (+ e^-d).
  const S = 1 + 8 * Math.exp(-1);
  const dStar = -Math.log((FLT_MIN / 1e-7) * S);

  it(`threshold d* = ${dStar.toFixed(4)}: finite below, NaN above (float64 margin 0.01)`, () => {
    // -ln(FLT_MIN / 1e-7) = 71.218 for a lone top class; the 8 classes at -1 take ln S = 1.372.
    expect(dStar + Math.log(S)).toBeCloseTo(71.218, 3);
    for (let d = 60; d <= 200; d += 0.25) {
      if (Math.abs(d - dStar) < 0.01) continue;
      const z = gapRow(d);
      const seed = lossAndGradient('seed', z, [3]);
      if (d < dStar) {
        expect(Number.isFinite(seed.loss), `d=${d}`).toBe(true);
        expect(seed.dlogits.every(Number.isFinite), `d=${d} grad`).toBe(true);
      } else {
        expect(seed.loss, `d=${d}`).toBeNaN();
        expect(seed.dlogits.every(Number.isNaN), `d=${d} grad`).toBe(true);
      }
      for (const kind of ['epsilon', 'stable'] as const) {
        const r = lossAndGradient(kind, z, [3]);
        expect(Number.isFinite(r.loss), `${kind} d=${d}`).toBe(true);
        expect(r.dlogits.every(Number.isFinite), `${kind} d=${d} grad`).toBe(true);
      }
    }
  });

  it('across the boundary (step 1e-4): NaN iff f32(p_k * f32(1e-7)) < FLT_MIN for a wrong class k', () => {
    // p_k from the head's own TF-ordered float32 softmax; the predicate is on the float32 product.
    const p = new Float32Array(K);
    let seenNaN = 0;
    let seenFinite = 0;
    for (let d = dStar - 0.02; d <= dStar + 0.02; d += 1e-4) {
      const z = gapRow(d);
      softmaxRow(z, 0, K, p);
      let underflow = false;
      for (let k = 0; k < K; k++) if (k !== 3 && f(p[k] * f(1e-7)) < FLT_MIN) underflow = true;
      const loss = lossAndGradient('seed', z, [3]).loss;
      expect(Number.isNaN(loss), `d=${d} p_low=${p[7]}`).toBe(underflow);
      if (underflow) seenNaN++;
      else seenFinite++;
    }
    expect(seenNaN).toBeGreaterThan(0);
    expect(seenFinite).toBeGreaterThan(0);
  });

  it('the flush of DENORMALS is what makes it NaN: gap 80 gives p ~ 1e-35 (normal), p*1e-7 ~ 1e-42 (denormal)', () => {
    const z = gapRow(80);
    const p = softmax64(z, 0);
    expect(p[7]).toBeGreaterThan(FLT_MIN); // p itself is a normal float32...
    expect(f(p[7] * 1e-7)).toBeGreaterThan(0); // ...and p*1e-7 a nonzero denormal without FTZ
    expect(f(p[7] * 1e-7)).toBeLessThan(FLT_MIN);
    expect(lossAndGradient('seed', z, [3]).loss).toBeNaN();
  });

  it('logits [0, 200, ...]: seed NaN, epsilon and stable finite and equal to their float64 values', () => {
    const z = new Float32Array(K);
    z[1] = 200;
    const labels = [1];
    expect(lossAndGradient('seed', z, labels).loss).toBeNaN();
    const eps = lossAndGradient('epsilon', z, labels);
    const stable = lossAndGradient('stable', z, labels);
    // p_1 = 1 in float32: -log(1 + 1e-7) ~ -1e-7; stable: log(1 + 9e-200) = 0.
    expect(Math.abs(eps.loss)).toBeLessThan(2e-7);
    expect(stable.loss).toBe(0);
    expect(eps.dlogits.every(Number.isFinite)).toBe(true);
    expect(Array.from(stable.dlogits)).toEqual(new Array(K).fill(0));
  });

  it('one degenerate example poisons the batch mean, but only its own gradient row', () => {
    const z = new Float32Array(2 * K);
    z.set(gapRow(100), 0);
    z.set(gapRow(5), K);
    const r = lossAndGradient('seed', z, [3, 3]);
    expect(r.loss).toBeNaN();
    expect(r.dlogits.subarray(0, K).every(Number.isNaN)).toBe(true);
    expect(r.dlogits.subarray(K).every(Number.isFinite)).toBe(true);
    // The finite row is the normal gradient (p - y) / 2.
    const p = softmax64(z, K);
    for (let k = 0; k < K; k++) expect(r.dlogits[K + k]).toBeCloseTo((p[k] - (k === 3 ? 1 : 0)) / 2, 6);
  });

  it('when only the LABEL class underflows, -y*log(0) gives +Infinity (not NaN), and NaN gradients', () => {
    // label 7 sits 100 below the others: y_7 * log(0) = -inf, the wrong classes stay finite.
    const z = gapRow(100, 3, 7);
    const r = lossAndGradient('seed', z, [7]);
    expect(r.loss).toBe(Infinity);
    // TF: Reciprocal(0) = inf, then SoftmaxGrad's sum(dp * p) = -inf * 0 = NaN.
    expect(r.dlogits.every(Number.isNaN)).toBe(true);
    // The intended losses stay finite: epsilon ~ -log(1e-7), stable = the gap (100 + log S).
    expect(lossAndGradient('epsilon', z, [7]).loss).toBeCloseTo(-Math.log(1e-7), 4);
    expect(lossAndGradient('stable', z, [7]).loss).toBeCloseTo(100 + Math.log(S), 3);
  });
});
