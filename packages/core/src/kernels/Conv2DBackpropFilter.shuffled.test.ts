// The shuffled filter gradients (Conv2DBackpropFilter under withReduceOrder('shuffled') with shuffle
// 'filter' or 'all'): per-image partial sums in row order, then the partials added one at a time in
// float32 in an order drawn per output; equal to plain loops with numpy's permutation, on the own
// convolution and without it; on a crafted input different from the fixed order in the last bits;
// the other reductions keep their order unless the policy names them.
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/engine';
import { deriveStream, permutation } from '../random/prng';
import { filterPartialsLoop, sumPartialsShuffled, type FilterGradGeometry } from './Conv2DBackpropFilter';
import { setOwnWasm } from './own-wasm-switch';
import { withReduceOrder, type ReduceOrderPolicy } from './Sum';
import { setConvGradZeroSkip } from './zero-skip';
import { bitsNaNAsOne, convGemmValues, convLoss, exactBits, kernelsRun, type Pad } from '../../test-support/kernel-test-support';

beforeAll(async () => {
  await initEngine();
  expect(tf.getBackend()).toBe('wasm');
});

afterEach(() => setOwnWasm('Conv2D', true));

const shuffled = (seed: number, shuffle: ReduceOrderPolicy['shuffle']): ReduceOrderPolicy => ({
  order: 'shuffled',
  shuffle,
  rng: deriveStream(seed, 4),
});

/** dW[kh][kw][ci][co] by plain loops: each output's n partials (filterPartialsLoop) added in float32 in a fresh permutation, output after output. */
function reference(parts: Float32Array, g: FilterGradGeometry, seed: number): Float32Array {
  const rng = deriveStream(seed, 4);
  const size = g.ci * g.kh * g.kw * g.co;
  const out: number[] = [];
  const acc = new Float32Array(1);
  for (let ky = 0; ky < g.kh; ky++)
    for (let kx = 0; kx < g.kw; kx++)
      for (let c = 0; c < g.ci; c++)
        for (let d = 0; d < g.co; d++) {
          const p = permutation(g.n, rng);
          acc[0] = 0;
          for (let r = 0; r < g.n; r++) acc[0] += parts[p[r] * size + ((c * g.kh + ky) * g.kw + kx) * g.co + d];
          out.push(acc[0]);
        }
  return Float32Array.from(out);
}

/** dW of sum(conv2d(x, w) * dy) on the wasm backend under `policy` (dy is the filter gradient's dy). */
function filterGrad(x: Float32Array, dy: Float32Array, g: FilterGradGeometry, pad: Pad, policy?: ReduceOrderPolicy): Float32Array {
  const run = () =>
    tf.tidy(() => {
      const xs = tf.tensor4d(x, [g.n, g.h, g.w, g.ci]);
      const dys = tf.tensor4d(dy, [g.n, g.oh, g.ow, g.co]);
      const grad = tf.grad((w: tf.Tensor) => convLoss(xs, w as tf.Tensor4D, dys, pad));
      return grad(tf.zeros([g.kh, g.kw, g.ci, g.co])).dataSync() as Float32Array;
    });
  return policy ? withReduceOrder(policy, run) : run();
}

const geometries: [string, FilterGradGeometry, Pad][] = [
  ['conv1-like: one input channel, same padding', { n: 5, h: 9, w: 8, ci: 1, oh: 9, ow: 8, co: 16, kh: 5, kw: 5, pt: 2, pl: 2 }, 'same'],
  [
    'conv2-like: 3 input channels, 32 outputs, same padding',
    { n: 4, h: 7, w: 7, ci: 3, oh: 7, ow: 7, co: 32, kh: 5, kw: 5, pt: 2, pl: 2 },
    'same',
  ],
  [
    'valid padding, output channels not a multiple of 16 (the loop)',
    { n: 3, h: 6, w: 7, ci: 2, oh: 4, ow: 5, co: 5, kh: 3, kw: 3, pt: 0, pl: 0 },
    'valid',
  ],
];

describe('sumPartialsShuffled', () => {
  it('equals a plain float32 loop over a numpy permutation per output, in dW order', () => {
    const g: FilterGradGeometry = { n: 50, h: 1, w: 1, ci: 3, oh: 1, ow: 1, co: 4, kh: 2, kw: 3, pt: 0, pl: 0 };
    const parts = convGemmValues(50 * 3 * 2 * 3 * 4, 11, false);
    expect(exactBits(sumPartialsShuffled(parts, g, deriveStream(3, 4)))).toEqual(exactBits(reference(parts, g, 3)));
  });

  it('is a float32 sequential sum: neither float64 nor a pairwise tree gives these bits', () => {
    // One output, partials 1 and 49 x 2^-24: a float32 running sum keeps the small ones added before
    // the 1 and loses (or rounds to even) those after it.
    const g: FilterGradGeometry = { n: 50, h: 1, w: 1, ci: 1, oh: 1, ow: 1, co: 1, kh: 1, kw: 1, pt: 0, pl: 0 };
    const parts = Float32Array.from({ length: 50 }, (_, i) => (i === 0 ? 1 : 2 ** -24));
    const tree = (v: number[]): number =>
      v.length === 1 ? v[0] : Math.fround(tree(v.slice(0, v.length >> 1)) + tree(v.slice(v.length >> 1)));
    let notF64 = 0;
    let notTree = 0;
    for (let seed = 0; seed < 10; seed++) {
      const p = permutation(50, deriveStream(seed, 4));
      const got = sumPartialsShuffled(parts, g, deriveStream(seed, 4))[0];
      const acc = new Float32Array(1);
      for (const i of p) acc[0] += parts[i];
      expect(got).toBe(acc[0]);
      if (got !== Math.fround(1 + 49 * 2 ** -24)) notF64++;
      if (got !== tree(Array.from(p, (i) => parts[i]))) notTree++;
    }
    expect(notF64).toBeGreaterThanOrEqual(8);
    expect(notTree).toBeGreaterThanOrEqual(8);
  });
});

describe('the Conv2DBackpropFilter kernel, shuffled', () => {
  for (const [label, g, pad] of geometries) {
    it(`${label}: the per-image partials (row order) added in the drawn order, with and without the own convolution`, async () => {
      const x = convGemmValues(g.n * g.h * g.w * g.ci, 21, true, 61);
      const dy = convGemmValues(g.n * g.oh * g.ow * g.co, 22, true, 61);
      const want = bitsNaNAsOne(reference(filterPartialsLoop(x, dy, g), g, 7));
      expect(bitsNaNAsOne(filterGrad(x, dy, g, pad, shuffled(7, 'filter')))).toEqual(want);
      expect(bitsNaNAsOne(filterGrad(x, dy, g, pad, shuffled(7, 'all')))).toEqual(want);
      setOwnWasm('Conv2D', false);
      expect(bitsNaNAsOne(filterGrad(x, dy, g, pad, shuffled(7, 'filter')))).toEqual(want);
    });
  }

  it('input channels a multiple of 4, finite values: per-image partials that skip dy = 0 (zero skipping on and off), the same bits', () => {
    const g: FilterGradGeometry = { n: 6, h: 8, w: 7, ci: 8, oh: 8, ow: 7, co: 16, kh: 5, kw: 5, pt: 2, pl: 2 };
    // Signed zeros and subnormals in x; dy three quarters zeros (of both signs), as after ReLU and max-pool.
    const x = convGemmValues(g.n * g.h * g.w * g.ci, 41, false).map((v, i) => (i % 13 === 0 ? -0 : i % 17 === 0 ? 1e-41 : v));
    const dy = convGemmValues(g.n * g.oh * g.ow * g.co, 42, false).map((v, i) => (i % 4 === 0 ? v : i % 8 === 1 ? -0 : 0));
    const want = exactBits(reference(filterPartialsLoop(x, dy, g), g, 9));
    expect(exactBits(filterGrad(x, dy, g, 'same', shuffled(9, 'filter')))).toEqual(want);
    setConvGradZeroSkip(false);
    try {
      expect(exactBits(filterGrad(x, dy, g, 'same', shuffled(9, 'filter')))).toEqual(want);
    } finally {
      setConvGradZeroSkip(true);
    }
  });

  it('the own convolution gives the loop partials bitwise, edge values included (one input channel per image)', () => {
    const [, g, pad] = geometries[1];
    const x = convGemmValues(g.n * g.h * g.w * g.ci, 31, true, 13);
    const dy = convGemmValues(g.n * g.oh * g.ow * g.co, 32, true, 13);
    setOwnWasm('Conv2D', true);
    const own = filterGrad(x, dy, g, pad, shuffled(8, 'filter'));
    setOwnWasm('Conv2D', false);
    expect(bitsNaNAsOne(own)).toEqual(bitsNaNAsOne(filterGrad(x, dy, g, pad, shuffled(8, 'filter'))));
    expect(own.some(Number.isNaN)).toBe(true);
  });

  it('differs from the fixed order in the last bits on a crafted input, and never by more', () => {
    // 1x1 images: image 0 gives 1 to every output, images 1..63 give 2^-24, lost after the 1.
    const g: FilterGradGeometry = { n: 64, h: 1, w: 1, ci: 1, oh: 1, ow: 1, co: 16, kh: 1, kw: 1, pt: 0, pl: 0 };
    const x = new Float32Array(64).fill(1);
    const dy = Float32Array.from({ length: 64 * 16 }, (_, i) => (i < 16 ? 1 : 2 ** -24));
    const fixed = filterGrad(x, dy, g, 'valid');
    expect(Array.from(fixed)).toEqual(new Array(16).fill(1));
    const got = filterGrad(x, dy, g, 'valid', shuffled(1, 'filter'));
    expect(exactBits(got)).toEqual(exactBits(reference(filterPartialsLoop(x, dy, g), g, 1)));
    expect(got.filter((v) => v !== 1).length).toBeGreaterThanOrEqual(12); // equal only when image 0 is drawn first (p = 1/64)
    for (const v of got) expect(Math.abs(v - 1)).toBeLessThan(64 * 2 ** -24);
  });

  it("keeps the fixed order unless the policy names filters; 'filter' leaves the bias gradients in order", async () => {
    const [, g, pad] = geometries[0];
    const x = convGemmValues(g.n * g.h * g.w * g.ci, 41, false);
    const dy = convGemmValues(g.n * g.oh * g.ow * g.co, 42, false);
    const fixed = exactBits(filterGrad(x, dy, g, pad));
    expect(exactBits(filterGrad(x, dy, g, pad, { order: 'fixed' }))).toEqual(fixed);
    expect(exactBits(filterGrad(x, dy, g, pad, shuffled(2, 'bias')))).toEqual(fixed);
    expect(exactBits(filterGrad(x, dy, g, pad, shuffled(2, 'filter')))).not.toEqual(fixed);
    expect(exactBits(filterGrad(x, dy, g, pad))).toEqual(fixed); // the policy ends with its call
    const biasGrad = (policy?: ReduceOrderPolicy) => {
      const run = () => tf.tidy(() => tf.sum(tf.tensor2d(dy, [g.n * g.oh * g.ow, g.co]), 0).dataSync() as Float32Array);
      return exactBits(policy ? withReduceOrder(policy, run) : run());
    };
    expect(biasGrad(shuffled(2, 'filter'))).toEqual(biasGrad());
    expect(biasGrad(shuffled(2, 'all'))).not.toEqual(biasGrad());
    expect(
      await kernelsRun(() =>
        tf.grad((w: tf.Tensor) => convLoss(tf.ones([1, 3, 3, 1]), w as tf.Tensor4D, tf.ones([1, 3, 3, 16]), 'same'))(
          tf.zeros([3, 3, 1, 16]),
        ),
      ),
    ).toContain('Conv2DBackpropFilter');
  });
});
