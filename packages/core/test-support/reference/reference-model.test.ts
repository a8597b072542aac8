// Checks the float64 reference against itself and against first principles: finite differences,
// a naive re-implementation of the forward pass, hand-predicted tie, NaN and symmetry behaviour,
// and a textbook Adam. Randomness comes from a tiny LCG local to this file.

import { describe, expect, it } from 'vitest';
import { refAdamInit, refAdamStep } from './reference-adam';
import {
  REF_PARAM_KEYS,
  SEED_REF_SHAPE,
  refCloneParams,
  refDims,
  refForward,
  refInitConstant,
  refLoss,
  refLossAndGrads,
  refParamSizes,
  refZeros,
  type RefLossKind,
  type RefParams,
  type RefShape,
} from './reference-model';
import { lcgUnit } from '../../../../test/lcg';

function randomParams(shape: RefShape, rand: () => number, wScale = 0.3, bScale = 0.1): RefParams {
  const p = refZeros(shape);
  for (const key of REF_PARAM_KEYS) {
    const scale = key.endsWith('b') ? bScale : wScale;
    for (let i = 0; i < p[key].length; i++) p[key][i] = (2 * rand() - 1) * scale;
  }
  return p;
}

/** Uniform [0, 1) pixels: continuous, so no two activations tie except ReLU zeros. */
function randomImages(shape: RefShape, n: number, rand: () => number): Float64Array {
  return Float64Array.from({ length: n * shape.height * shape.width }, rand);
}

function randomLabels(n: number, classes: number, rand: () => number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(rand() * classes));
}

const TINY: RefShape = { height: 8, width: 8, c1: 2, c2: 3, f1: 4, classes: 10 };
// Odd and non-square: exercises the SAME pooling's bottom/right padding and catches H/W swaps.
const TINY_ODD: RefShape = { height: 7, width: 5, c1: 2, c2: 3, f1: 4, classes: 10 };
const LOSSES: readonly RefLossKind[] = ['seed', 'epsilon', 'stable'];

describe('refForward', () => {
  it('matches a naive index-by-index implementation of the layer definitions', () => {
    for (const shape of [TINY, TINY_ODD]) {
      const rand = lcgUnit(7);
      const n = 2;
      const params = randomParams(shape, rand);
      const x = randomImages(shape, n, rand);
      const fwd = refForward(shape, params, x, n);
      const want = naiveLogits(shape, params, x, n);
      for (let i = 0; i < want.length; i++) expect(fwd.logits[i]).toBeCloseTo(want[i], 12);
      for (let img = 0; img < n; img++) {
        const p = Array.from(fwd.probs.subarray(img * shape.classes, (img + 1) * shape.classes));
        expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
      }
    }
  });

  it('uses TF layouts: conv filter [ky][kx][in][out] with 2 rows/cols of zero padding before', () => {
    const shape: RefShape = { height: 6, width: 7, c1: 2, c2: 1, f1: 1, classes: 2 };
    const params = refZeros(shape);
    // A single tap (ky=0, kx=4) for output channel 1: a1[y][x][1] = in[y - 2][x + 2].
    params.conv1W[(0 * 5 + 4) * 2 + 1] = 1;
    const x = Float64Array.from({ length: 42 }, (_, i) => i + 1);
    const { a1 } = refForward(shape, params, x, 1);
    for (let y = 0; y < 6; y++) {
      for (let xx = 0; xx < 7; xx++) {
        const iy = y - 2,
          ix = xx + 2;
        const want = iy >= 0 && ix < 7 ? x[iy * 7 + ix] : 0;
        expect(a1[(y * 7 + xx) * 2 + 1]).toBe(want);
        expect(a1[(y * 7 + xx) * 2 + 0]).toBe(0);
      }
    }
  });

  it('pools SAME with ceil sizes (7x5 -> 4x3 -> 2x2)', () => {
    expect(refDims(TINY_ODD)).toEqual({ ph1: 4, pw1: 3, ph2: 2, pw2: 2, flat: 12 });
    expect(refDims(SEED_REF_SHAPE)).toEqual({ ph1: 14, pw1: 14, ph2: 7, pw2: 7, flat: 3136 });
    expect(refParamSizes(SEED_REF_SHAPE)).toEqual({
      conv1W: 800,
      conv1b: 32,
      conv2W: 51200,
      conv2b: 64,
      fc1W: 3136 * 1024,
      fc1b: 1024,
      fc2W: 10240,
      fc2b: 10,
    });
  });
});

describe('refLossAndGrads: finite differences', () => {
  // Fourth-order central difference, h = 1e-4: its truncation error (~h^4) is negligible and its
  // rounding error (~1e-16 * loss / h) stays near 1e-11 even with the seed loss's +16 offset, so
  // the 1e-6 bound has a wide margin. (Plain central differences at h = 1e-6 sit near 1e-7.)
  const H = 1e-4;
  for (const shape of [TINY, TINY_ODD]) {
    for (const kind of LOSSES) {
      it(`${kind} loss, ${shape.height}x${shape.width}: every tensor within 1e-6 relative`, () => {
        const rand = lcgUnit(12345);
        const n = 3;
        const params = randomParams(shape, rand);
        const x = randomImages(shape, n, rand);
        const labels = randomLabels(n, shape.classes, rand);
        const { grads } = refLossAndGrads(shape, params, x, labels, n, kind);
        const lossAt = (key: keyof RefParams, i: number, delta: number): number => {
          const saved = params[key][i];
          params[key][i] = saved + delta;
          const l = refLoss(refForward(shape, params, x, n), labels, kind);
          params[key][i] = saved;
          return l;
        };
        const pick = lcgUnit(99);
        for (const key of REF_PARAM_KEYS) {
          const size = params[key].length;
          const coords = key.endsWith('b')
            ? Array.from({ length: size }, (_, i) => i)
            : Array.from({ length: 20 }, () => Math.floor(pick() * size));
          let nonzero = 0;
          for (const i of coords) {
            const fd = (8 * (lossAt(key, i, H) - lossAt(key, i, -H)) - (lossAt(key, i, 2 * H) - lossAt(key, i, -2 * H))) / (12 * H);
            const an = grads[key][i];
            // Relative error, with a floor so coordinates whose gradient is ~0 (dead ReLU) are
            // judged by the absolute error the difference quotient can resolve (~1e-10).
            const rel = Math.abs(fd - an) / Math.max(Math.abs(fd), Math.abs(an), 1e-4);
            expect(rel, `${key}[${i}]: fd ${fd} vs analytic ${an}`).toBeLessThan(1e-6);
            if (an !== 0) nonzero++;
          }
          expect(nonzero, `${key}: the sampled coordinates should not all be dead`).toBeGreaterThan(0);
        }
      });
    }
  }

  it('seed and stable gradients agree to 1e-12; the loss differs by log(1e7); epsilon differs', () => {
    const rand = lcgUnit(2024);
    const n = 3;
    const params = randomParams(TINY, rand);
    const x = randomImages(TINY, n, rand);
    const labels = randomLabels(n, TINY.classes, rand);
    const seed = refLossAndGrads(TINY, params, x, labels, n, 'seed');
    const stable = refLossAndGrads(TINY, params, x, labels, n, 'stable');
    const eps = refLossAndGrads(TINY, params, x, labels, n, 'epsilon');
    expect(seed.loss - stable.loss).toBeCloseTo(Math.log(1e7), 12);
    for (const key of REF_PARAM_KEYS) {
      expect(maxRelDiff(seed.grads[key], stable.grads[key]), key).toBeLessThan(1e-12);
    }
    // + 1e-7 inside the log shrinks the label's gradient by p / (p + 1e-7): small but visible.
    const d = maxRelDiff(eps.grads.fc2b, stable.grads.fc2b);
    expect(d).toBeGreaterThan(1e-9);
    expect(d).toBeLessThan(1e-4);
  });
});

describe('refLossAndGrads: max-pool ties and ReLU at 0', () => {
  // conv1 = a scaled copy of the input (+0.1), so two equal pixels give two exactly equal
  // activations. Image 0's pool1 window (0,0) gets the tie: pixels (0,0) and (0,1) both 2, above
  // the random [0,1) rest, so they are that window's maximum in every channel.
  const shape = TINY;
  const n = 2;
  function setup(x00: number, x01: number) {
    const rand = lcgUnit(31337);
    const params = randomParams(shape, rand);
    params.conv1W.fill(0);
    params.conv1W[(2 * 5 + 2) * shape.c1 + 0] = 0.5;
    params.conv1W[(2 * 5 + 2) * shape.c1 + 1] = 1.5;
    params.conv1b.fill(0.1);
    params.conv2b.fill(0.3); // keep the path from the tied window to the loss alive
    params.fc1b.fill(1);
    const x = randomImages(shape, n, rand);
    x[0] = x00;
    x[1] = x01;
    const labels = randomLabels(n, shape.classes, rand);
    return { params, x, labels };
  }

  it("gives a tied window's gradient to the first (or last) maximum, as predicted", () => {
    const { params, x, labels } = setup(2, 2);
    const { forward, grads: first } = refLossAndGrads(shape, params, x, labels, n, 'stable');
    const { grads: last } = refLossAndGrads(shape, params, x, labels, n, 'stable', { poolTies: 'last' });
    for (let c = 0; c < shape.c1; c++) expect(forward.a1[0 * shape.c1 + c]).toBe(forward.a1[1 * shape.c1 + c]);

    // Everything above pool1 sees the same forward values: identical gradients.
    for (const key of ['conv2W', 'conv2b', 'fc1W', 'fc1b', 'fc2W', 'fc2b'] as const) expect(first[key]).toEqual(last[key]);
    expect(maxRelDiff(first.conv1b, last.conv1b)).toBeLessThan(1e-14); // same terms, another order

    // conv1's weight gradient sees the winner's 5x5 input patch: (0,0)'s for first, (0,1)'s for
    // last. So diff[ky][kx][c] = g_c * (in(ky-2, kx-2) - in(ky-2, kx-1)), zero outside the image,
    // with g_c the gradient reaching the window. Read g_c off tap (2,3), predict the other 24.
    const px = (r: number, col: number) => (r >= 0 && r < 8 && col >= 0 && col < 8 ? x[r * 8 + col] : 0);
    for (let c = 0; c < shape.c1; c++) {
      const diff = (ky: number, kx: number) => first.conv1W[(ky * 5 + kx) * shape.c1 + c] - last.conv1W[(ky * 5 + kx) * shape.c1 + c];
      const g = diff(2, 3) / (px(0, 1) - px(0, 2));
      expect(Math.abs(g), 'the tied window must receive some gradient').toBeGreaterThan(1e-6);
      for (let ky = 0; ky < 5; ky++) {
        for (let kx = 0; kx < 5; kx++) {
          const want = g * (px(ky - 2, kx - 2) - px(ky - 2, kx - 1));
          expect(Math.abs(diff(ky, kx) - want), `tap ${ky},${kx} channel ${c}`).toBeLessThan(1e-13);
        }
      }
    }

    // And each rule is the limit of the untied case where its cell wins by a hair.
    const delta = 1e-9;
    const a = setup(2 + delta, 2);
    const b = setup(2, 2 + delta);
    const firstWins = refLossAndGrads(shape, a.params, a.x, a.labels, n, 'stable').grads;
    const lastWins = refLossAndGrads(shape, b.params, b.x, b.labels, n, 'stable').grads;
    for (const key of REF_PARAM_KEYS) {
      expect(maxRelDiff(first[key], firstWins[key], 1e-3), key).toBeLessThan(1e-6);
      expect(maxRelDiff(last[key], lastWins[key], 1e-3), key).toBeLessThan(1e-6);
    }
    expect(maxRelDiff(first.conv1W, last.conv1W, 1e-3)).toBeGreaterThan(1e-3);
  });

  it('passes no gradient through a ReLU whose output is exactly 0', () => {
    const rand = lcgUnit(5);
    const params = randomParams(TINY, rand);
    params.conv1W.fill(0);
    params.conv1b.fill(0); // conv1 pre-activation exactly 0 everywhere
    params.conv2b.fill(0.3); // while conv2 and fc1 stay alive
    params.fc1b.fill(1);
    const x = randomImages(TINY, n, rand);
    const labels = randomLabels(n, TINY.classes, rand);
    const { grads } = refLossAndGrads(TINY, params, x, labels, n, 'stable');
    expect(grads.conv1W.every((g) => g === 0)).toBe(true);
    expect(grads.conv1b.every((g) => g === 0)).toBe(true);
    expect(grads.conv2b.some((g) => g !== 0)).toBe(true);
  });
});

describe('refLossAndGrads: the seed loss underflow', () => {
  // fc2W = 0, so the logits are fc2b: class 1 at `spread`, the other nine at 0.
  function run(spread: number, label: number, kind: RefLossKind) {
    const rand = lcgUnit(77);
    const n = 2;
    const params = randomParams(TINY, rand);
    params.fc2W.fill(0);
    params.fc2b.fill(0);
    params.fc2b[1] = spread;
    const x = randomImages(TINY, n, rand);
    return refLossAndGrads(TINY, params, x, Uint8Array.of(label, 1), n, kind);
  }
  const allFinite = (p: RefParams) => REF_PARAM_KEYS.every((k) => p[k].every(Number.isFinite));

  it('is exactly NaN once p_k * 1e-7 underflows to 0, for a wrong class too (0 * -inf)', () => {
    // exp(-740) ~ 4e-322 is a nonzero denormal, but times 1e-7 it rounds to 0; exp(-800) is 0.
    expect(Math.exp(-740)).toBeGreaterThan(0);
    expect(Math.exp(-740) * 1e-7).toBe(0);
    for (const spread of [740, 800]) {
      for (const label of [1, 4]) {
        const r = run(spread, label, 'seed');
        expect(r.loss).toBeNaN();
        expect(r.grads.fc2b.every(Number.isNaN)).toBe(true);
        expect(r.grads.fc2W.every(Number.isNaN)).toBe(true);
        for (const kind of ['epsilon', 'stable'] as const) {
          const ok = run(spread, label, kind);
          expect(Number.isFinite(ok.loss), `${kind} loss`).toBe(true);
          expect(allFinite(ok.grads), `${kind} grads`).toBe(true);
        }
      }
    }
  });

  it('has NaN gradients first: 1/(p * 1e-7) overflows once p < ~5.6e-302 (spread > ~693.6)', () => {
    // TF's LogGrad multiplies by reciprocal(x); 1 / 9.9e-312 = inf, and the wrong classes' -0 * inf
    // is NaN, while the loss itself (0 * log(9.9e-312) = -0) is still finite.
    const r700 = run(700, 4, 'seed'); // image 0 has label 4 (a tiny class), image 1 label 1
    expect(r700.loss).toBeCloseTo((700 + Math.log(1e7) + Math.log(1e7)) / 2, 9);
    expect(r700.grads.fc2b.every(Number.isNaN)).toBe(true);
    const r690 = run(690, 4, 'seed');
    expect(r690.loss).toBeCloseTo((690 + Math.log(1e7) + Math.log(1e7)) / 2, 9);
    expect(allFinite(r690.grads)).toBe(true);
  });
});

describe('constant init: every copy of a unit gets the same gradient', () => {
  /** Asserts (bitwise) that the copies of each unit are equal: the width-1 symmetry. */
  function expectSymmetric(shape: RefShape, p: RefParams, what: string): void {
    const { c1, c2, f1, classes } = shape;
    const { flat } = refDims(shape);
    const allSame = (a: Float64Array, from: number, len: number, label: string) => {
      for (let i = from; i < from + len; i++) {
        if (!Object.is(a[i], a[from])) throw new Error(`${what}: ${label} differs at ${i}: ${a[i]} vs ${a[from]}`);
      }
    };
    for (let tap = 0; tap < 25; tap++) allSame(p.conv1W, tap * c1, c1, 'conv1 filters');
    allSame(p.conv1b, 0, c1, 'conv1 biases');
    // conv2: all filters equal, and within a filter all input channels (they are copies too)
    for (let tap = 0; tap < 25; tap++) allSame(p.conv2W, tap * c1 * c2, c1 * c2, 'conv2 filters');
    allSame(p.conv2b, 0, c2, 'conv2 biases');
    // fc1 row (y, x, c) for every c and every unit j
    for (let yx = 0; yx < flat / c2; yx++) allSame(p.fc1W, yx * c2 * f1, c2 * f1, 'fc1 units');
    allSame(p.fc1b, 0, f1, 'fc1 biases');
    for (let k = 0; k < classes; k++) {
      for (let j = 0; j < f1; j++) {
        if (!Object.is(p.fc2W[j * classes + k], p.fc2W[k])) throw new Error(`${what}: fc2 rows differ at unit ${j}, class ${k}`);
      }
    }
  }

  it('stays symmetric under Adam; gradients reach one layer deeper per step', () => {
    const shape: RefShape = { height: 8, width: 8, c1: 3, c2: 4, f1: 5, classes: 10 };
    const rand = lcgUnit(4242);
    const n = 4;
    const x = randomImages(shape, n, rand);
    const labels = randomLabels(n, shape.classes, rand);
    const params = refInitConstant(shape);
    const state = refAdamInit(params);
    const firstNonzero: Partial<Record<keyof RefParams, number>> = {};
    for (let step = 1; step <= 6; step++) {
      const { grads } = refLossAndGrads(shape, params, x, labels, n, 'seed');
      expectSymmetric(shape, grads, `grads at step ${step}`);
      for (const key of REF_PARAM_KEYS) if (firstNonzero[key] === undefined && grads[key].some((g) => g !== 0)) firstNonzero[key] = step;
      refAdamStep(params, grads, state, { lr: 1e-3 });
      expectSymmetric(shape, params, `params after step ${step}`);
    }
    // W = 0 blocks the gradient below it, and each step unblocks one more layer.
    expect(firstNonzero).toEqual({ fc2W: 1, fc2b: 1, fc1W: 2, fc1b: 2, conv2W: 3, conv2b: 3, conv1W: 4, conv1b: 4 });
  });

  it('holds at the seed shape too, where only the softmax layer moves at step 1', () => {
    const rand = lcgUnit(1);
    const n = 2;
    const x = randomImages(SEED_REF_SHAPE, n, rand);
    const params = refInitConstant(SEED_REF_SHAPE);
    const { grads, loss } = refLossAndGrads(SEED_REF_SHAPE, params, x, Uint8Array.of(3, 8), n, 'seed');
    expectSymmetric(SEED_REF_SHAPE, grads, 'seed-shape grads');
    // All logits equal (every unit is 0.1 and W = 0): p = 1/10, loss = log(10) + log(1e7).
    expect(loss).toBeCloseTo(Math.log(10) + Math.log(1e7), 12);
    for (const key of ['conv1W', 'conv1b', 'conv2W', 'conv2b', 'fc1W', 'fc1b'] as const) {
      expect(
        grads[key].every((g) => g === 0),
        key,
      ).toBe(true);
    }
    expect(grads.fc2b[3]).toBeCloseTo(-0.4, 12); // batch mean of p - y: (0.1 - 1 + 0.1) / 2
  });
});

describe('full seed shape', () => {
  it('runs forward + backward for n = 2 within a few seconds', () => {
    const rand = lcgUnit(2016);
    const n = 2;
    const params = randomParams(SEED_REF_SHAPE, rand, 0.02, 0.1);
    const x = randomImages(SEED_REF_SHAPE, n, rand);
    const labels = Uint8Array.of(7, 2);
    const times: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      const t0 = performance.now();
      const { loss, grads } = refLossAndGrads(SEED_REF_SHAPE, params, x, labels, n, 'seed');
      times.push(performance.now() - t0);
      expect(Number.isFinite(loss)).toBe(true);
      expect(grads.conv1W.some((g) => g !== 0)).toBe(true);
    }
    console.log(`reference forward+backward, seed shape, n=2: ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
    expect(Math.min(...times)).toBeLessThan(5000);
  });
});

describe('refAdamStep', () => {
  // Textbook Adam with TF's epsilon placement, written independently of the implementation.
  function textbook(w: number, gs: number[], lr: number, eps: number, b1 = 0.9, b2 = 0.999): number[] {
    let m = 0,
      v = 0;
    const out: number[] = [];
    gs.forEach((g, i) => {
      const t = i + 1;
      m = b1 * m + (1 - b1) * g;
      v = b2 * v + (1 - b2) * g * g;
      const alpha = (lr * Math.sqrt(1 - Math.pow(b2, t))) / (1 - Math.pow(b1, t));
      w = w - (alpha * m) / (Math.sqrt(v) + eps);
      out.push(w);
    });
    return out;
  }
  const scalars = (vals: number[]): RefParams => {
    const p = {} as RefParams;
    REF_PARAM_KEYS.forEach((k, i) => (p[k] = Float64Array.of(vals[i])));
    return p;
  };
  const w0 = [0.5, -0.25, 0, 1, 2, -3, 0.125, 0.1];
  const g1 = [0.3, -0.02, 1e-3, -4, 0.5, 0, 2e-6, -0.7];
  const g2 = [-0.1, -0.05, 2e-3, 1, 0.25, 3, -1e-6, 0.2];

  it('matches a hand-computed 2-step scalar example', () => {
    const lr = 1e-2,
      eps = 1e-3;
    const params = scalars(w0);
    const state = refAdamInit(params);
    refAdamStep(params, scalars(g1), state, { lr, eps });
    refAdamStep(params, scalars(g2), state, { lr, eps });
    REF_PARAM_KEYS.forEach((k, i) => {
      const want = textbook(w0[i], [g1[i], g2[i]], lr, eps)[1];
      expect(Math.abs(params[k][0] - want), k).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want)));
    });
    expect(state.t).toBe(2);
    expect(state.beta1Power).toBe(0.9 * 0.9 * 0.9); // ready for t = 3
    expect(state.beta2Power).toBe(0.999 * 0.999 * 0.999);
    // eps outside the bias correction (TF) is not Kingma's m_hat / (sqrt(v_hat) + eps): with a
    // tiny gradient the two differ, so the test above would catch the other placement.
    const kingma = (w: number, g: number) => w - (lr * g) / (Math.abs(g) + eps);
    expect(Math.abs(textbook(w0[6], [g1[6]], lr, eps)[0] - kingma(w0[6], g1[6]))).toBeGreaterThan(1e-6);
  });

  it('applies per-tensor learning-rate and epsilon multipliers', () => {
    const lr = 1e-2,
      eps = 1e-3;
    const params = scalars(w0);
    const state = refAdamInit(params);
    const opts = { lr, eps, lrScale: { fc1W: 32, conv2b: 0.5 }, epsScale: { fc1W: 4, fc2W: 1e3 } };
    refAdamStep(params, scalars(g1), state, opts);
    refAdamStep(params, scalars(g2), state, opts);
    REF_PARAM_KEYS.forEach((k, i) => {
      const lrK = lr * ((opts.lrScale as Record<string, number>)[k] ?? 1);
      const epsK = eps * ((opts.epsScale as Record<string, number>)[k] ?? 1);
      const want = textbook(w0[i], [g1[i], g2[i]], lrK, epsK)[1];
      expect(Math.abs(params[k][0] - want), k).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want)));
    });
  });

  it("rejects betas that differ from the state's, and unknown tensors", () => {
    const params = scalars(w0);
    const state = refAdamInit(params);
    expect(() => refAdamStep(params, scalars(g1), state, { lr: 1e-3, beta1: 0.8 })).toThrow(/betas/);
    expect(() => refAdamStep(params, scalars(g1), state, { lr: 1e-3, lrScale: { nope: 2 } as never })).toThrow(/unknown/);
    expect(refCloneParams(params)).toEqual(scalars(w0)); // nothing was applied
  });
});

/** max_i |a_i - b_i| / max(|a_i|, |b_i|, floor). */
function maxRelDiff(a: Float64Array, b: Float64Array, floor = 1e-300): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / Math.max(Math.abs(a[i]), Math.abs(b[i]), floor);
    if (!(d <= worst)) worst = d; // NaN counts as worst
  }
  return worst;
}

/** The network from its definition, one output element at a time, on nested arrays. */
function naiveLogits(shape: RefShape, p: RefParams, x: Float64Array, n: number): number[] {
  const { height: H, width: W, c1, c2, f1, classes } = shape;
  type Map3 = number[][][]; // [y][x][c]
  const conv = (inp: Map3, C: number, w: Float64Array, b: Float64Array, O: number): Map3 =>
    inp.map((row, y) =>
      row.map((_, xx) =>
        Array.from({ length: O }, (_, o) => {
          let s = 0;
          for (let ky = 0; ky < 5; ky++) {
            for (let kx = 0; kx < 5; kx++) {
              const iy = y + ky - 2,
                ix = xx + kx - 2;
              if (iy < 0 || iy >= inp.length || ix < 0 || ix >= row.length) continue;
              for (let c = 0; c < C; c++) s += inp[iy][ix][c] * w[((ky * 5 + kx) * C + c) * O + o];
            }
          }
          return Math.max(0, s + b[o]);
        }),
      ),
    );
  const pool = (a: Map3): Map3 => {
    const h = a.length,
      w = a[0].length;
    return Array.from({ length: Math.ceil(h / 2) }, (_, py) =>
      Array.from({ length: Math.ceil(w / 2) }, (_, px) =>
        a[0][0].map((_, c) => {
          const cells = [a[2 * py]?.[2 * px], a[2 * py]?.[2 * px + 1], a[2 * py + 1]?.[2 * px], a[2 * py + 1]?.[2 * px + 1]];
          return Math.max(...cells.filter((v) => v !== undefined).map((v) => v![c]));
        }),
      ),
    );
  };
  const out: number[] = [];
  for (let img = 0; img < n; img++) {
    const image: Map3 = Array.from({ length: H }, (_, y) => Array.from({ length: W }, (_, xx) => [x[(img * H + y) * W + xx]]));
    const flat = pool(conv(pool(conv(image, 1, p.conv1W, p.conv1b, c1)), c1, p.conv2W, p.conv2b, c2)).flat(2);
    const hidden = Array.from({ length: f1 }, (_, j) => Math.max(0, flat.reduce((s, v, i) => s + v * p.fc1W[i * f1 + j], 0) + p.fc1b[j]));
    for (let k = 0; k < classes; k++) out.push(hidden.reduce((s, v, j) => s + v * p.fc2W[j * classes + k], 0) + p.fc2b[k]);
  }
  return out;
}
