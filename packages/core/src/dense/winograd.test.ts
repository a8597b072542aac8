// Evaluation's Winograd conv + bias + ReLU + pool (dense/winograd.ts, kernels/WinogradConvPool.ts,
// assembly/kernels/WinogradConvPool.ts): the TypeScript twin against a float64 loop of the direct
// convolution, and both fused kernels against the cpu backend's ops (tolerance: Winograd rounds
// differently, not wrongly); the WebAssembly kernel and the cpu
// backend's kernel bitwise against the twin, edge values included; the evaluation with it against
// the direct one on the fixtures.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/engine';
import { evaluateSplit } from './evaluate';
import type { Split } from '../data/mnist';
import { forwardLogits, initialParams, seedModelShape } from './model';
import { convBiasReluPool } from '../kernels/ConvPool';
import { WINOGRAD_CONV_POOL, winogradConvBiasReluPool } from '../kernels/WinogradConvPool';
import { winogradConvPool, winogradFilter, winogradFits, type WinogradGeometry } from './winograd';
import { lcgUint32 } from '../../../../test/lcg';

beforeAll(async () => {
  await initEngine();
});

function values(n: number, seed: number, lo: number, hi: number, edges = false): Float32Array {
  const next = lcgUint32(seed);
  const special = [0, -0, NaN, Infinity, -Infinity, 1e-40, -1e-42, 3e38];
  return Float32Array.from({ length: n }, () => {
    const s = next();
    if (edges && (s >>> 5) % 61 === 0) return special[s % special.length];
    return lo + (hi - lo) * (s / 2 ** 32);
  });
}

/** maxPool2x2(relu(conv5x5_same(x, w) + b)) in float64, directly (the definition). */
function reference(x: Float32Array, w: Float32Array, b: Float32Array, g: WinogradGeometry): { out: Float64Array; scale: number } {
  const { batch, h, w: wd, c, co } = g;
  const conv = new Float64Array(batch * h * wd * co);
  let scale = 0;
  for (let n = 0; n < batch; n++)
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < wd; xx++)
        for (let o = 0; o < co; o++) {
          let s = 0,
            mag = 0;
          for (let ky = 0; ky < 5; ky++)
            for (let kx = 0; kx < 5; kx++) {
              const iy = y + ky - 2,
                ix = xx + kx - 2;
              if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
              for (let ci = 0; ci < c; ci++) {
                const t = x[((n * h + iy) * wd + ix) * c + ci] * w[((ky * 5 + kx) * c + ci) * co + o];
                s += t;
                mag += Math.abs(t);
              }
            }
          scale = Math.max(scale, mag);
          conv[((n * h + y) * wd + xx) * co + o] = Math.max(0, s + b[o]);
        }
  const out = new Float64Array(batch * (h / 2) * (wd / 2) * co);
  for (let n = 0; n < batch; n++)
    for (let y = 0; y < h / 2; y++)
      for (let xx = 0; xx < wd / 2; xx++)
        for (let o = 0; o < co; o++) {
          const at = (i: number, j: number) => conv[((n * h + 2 * y + i) * wd + 2 * xx + j) * co + o];
          out[((n * (h / 2) + y) * (wd / 2) + xx) * co + o] = Math.max(at(0, 0), at(0, 1), at(1, 0), at(1, 1));
        }
  return { out, scale };
}

function twin(x: Float32Array, w: Float32Array, b: Float32Array, g: WinogradGeometry): Float32Array {
  const out = new Float32Array(g.batch * (g.h / 2) * (g.w / 2) * g.co);
  winogradConvPool(x, winogradFilter(w, g.c, g.co), b, out, g);
  return out;
}

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength)));
}

const GEOMETRIES: { name: string; g: WinogradGeometry }[] = [
  { name: "conv2's shape", g: { batch: 2, h: 14, w: 14, c: 32, co: 64 } },
  { name: 'small widths (16 -> 32)', g: { batch: 3, h: 14, w: 14, c: 16, co: 32 } },
  { name: 'odd channel counts, not square', g: { batch: 2, h: 6, w: 10, c: 3, co: 5 } },
  { name: 'a single tile (padding on every side)', g: { batch: 1, h: 2, w: 2, c: 4, co: 16 } },
];

describe('Winograd F(2x2, 5x5) conv + bias + ReLU + pool', () => {
  for (const { name, g } of GEOMETRIES) {
    it(`is the direct computation up to float32 rounding: ${name}`, () => {
      const x = values(g.batch * g.h * g.w * g.c, 1 + g.c, -0.2, 1);
      const w = values(25 * g.c * g.co, 2 + g.c, -0.1, 0.1);
      const b = values(g.co, 3 + g.c, -0.05, 0.15);
      const got = twin(x, w, b, g);
      const { out, scale } = reference(x, w, b, g);
      let worst = 0;
      for (let i = 0; i < out.length; i++) worst = Math.max(worst, Math.abs(got[i] - out[i]));
      expect(out.some((v) => v > 0) && out.some((v) => v === 0)).toBe(true); // ReLU both ways
      expect(worst / scale).toBeLessThan(2e-6);
    });
  }

  it("agrees with the cpu backend's conv2d, add, relu and maxPool to float32 rounding (both fused kernels)", async () => {
    const g = { batch: 2, h: 14, w: 14, c: 32, co: 64 };
    const x = values(g.batch * g.h * g.w * g.c, 41, -0.2, 1);
    const w = values(25 * g.c * g.co, 42, -0.1, 0.1);
    const b = values(g.co, 43, -0.05, 0.15);
    const run = (f: (x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D) => tf.Tensor) =>
      tf.tidy(() => f(tf.tensor4d(x, [2, 14, 14, 32]), tf.tensor4d(w, [5, 5, 32, 64]), tf.tensor1d(b)).dataSync() as Float32Array);
    await tf.setBackend('cpu');
    const cpu = run((x, w, b) => tf.maxPool(tf.relu(tf.add(tf.conv2d(x, w, 1, 'same'), b)) as tf.Tensor4D, 2, 2, 'same'));
    await tf.setBackend('wasm');
    for (const got of [run(winogradConvBiasReluPool), run(convBiasReluPool)]) {
      let worst = 0;
      for (let i = 0; i < cpu.length; i++) worst = Math.max(worst, Math.abs(got[i] - cpu[i]));
      expect(worst).toBeLessThan(2e-6 * Math.max(...cpu));
    }
  });

  it('the shapes it covers: 5x5 filters, even height and width', () => {
    expect(winogradFits([1, 14, 14, 32], [5, 5, 32, 64])).toBe(true);
    expect(winogradFits([1, 7, 7, 32], [5, 5, 32, 64])).toBe(false);
    expect(winogradFits([1, 14, 14, 32], [3, 3, 32, 64])).toBe(false);
  });

  for (const edges of [false, true]) {
    for (const { name, g } of GEOMETRIES) {
      it(`wasm and cpu kernels give the TypeScript twin's bits: ${name}${edges ? ', with NaN, infinities, signed zeros, denormals' : ''}`, async () => {
        const x = values(g.batch * g.h * g.w * g.c, 11 + g.c, -0.2, 1, edges);
        const w = values(25 * g.c * g.co, 12 + g.c, -0.1, 0.1, edges);
        const b = values(g.co, 13 + g.c, -0.05, 0.15);
        const twinOut = new Float32Array(g.batch * (g.h / 2) * (g.w / 2) * g.co);
        const twinFinite = winogradConvPool(x, winogradFilter(w, g.c, g.co), b, twinOut, g);
        const expected = bits(twinOut);
        for (const backend of ['wasm', 'cpu']) {
          await tf.setBackend(backend);
          const inputs = { x: tf.tensor4d(x, [g.batch, g.h, g.w, g.c]), filter: tf.tensor4d(w, [5, 5, g.c, g.co]), bias: tf.tensor1d(b) };
          const [out, finite] = tf.engine().runKernel(WINOGRAD_CONV_POOL, inputs) as tf.Tensor[];
          tf.dispose(Object.values(inputs));
          expect(out.shape).toEqual([g.batch, g.h / 2, g.w / 2, g.co]);
          expect(bits(out.dataSync() as Float32Array)).toEqual(expected);
          // The second output says whether every value before ReLU was finite, as the twin does.
          expect(finite.dataSync()[0]).toBe(twinFinite ? 1 : 0);
          tf.dispose([out, finite]);
        }
        await tf.setBackend('wasm');
      });
    }
  }

  it('computes the layer with conv2d, add, relu, maxPool when a value before ReLU is not finite (NaN behaves as in training)', () => {
    for (const special of [NaN, Infinity, 3e38]) {
      const g = { batch: 2, h: 14, w: 14, c: 32, co: 64 };
      const x = values(g.batch * g.h * g.w * g.c, 31, -0.5, 1);
      x[1234] = special;
      const w = values(25 * g.c * g.co, 32, -0.5, 0.5);
      const b = values(g.co, 33, -0.05, 0.15);
      const [xt, wt, bt] = [tf.tensor4d(x, [2, 14, 14, 32]), tf.tensor4d(w, [5, 5, 32, 64]), tf.tensor1d(b)];
      const got = tf.tidy(() => winogradConvBiasReluPool(xt, wt, bt).dataSync() as Float32Array);
      const ops = tf.tidy(
        () => tf.maxPool(tf.relu(tf.add(tf.conv2d(xt, wt, 1, 'same'), bt)) as tf.Tensor4D, 2, 2, 'same').dataSync() as Float32Array,
      );
      expect(bits(got)).toEqual(bits(ops));
      // ...while the Winograd result differs there (so the check above is not vacuous).
      expect(bits(twin(x, w, b, g))).not.toEqual(bits(ops));
      tf.dispose([xt, wt, bt]);
    }
  });

  it('refuses shapes it does not cover, with the shapes in the message', () => {
    expect(() =>
      tf.tidy(() =>
        winogradConvBiasReluPool(
          tf.zeros([1, 7, 7, 4]) as tf.Tensor4D,
          tf.zeros([5, 5, 4, 16]) as tf.Tensor4D,
          tf.zeros([16]) as tf.Tensor1D,
        ),
      ),
    ).toThrow(/unsupported shapes x \[1,7,7,4\]/);
  });
});

describe('evaluation with the Winograd conv2', () => {
  it('gives the direct forward logits up to rounding, and falls back to direct on odd sizes', () => {
    const shape = seedModelShape([16, 32, 32]);
    const params = initialParams(shape, { init: 'truncated-normal', seed: 5 }).map((p, i) => {
      // Larger weights than the init's, so that every layer's values are far from 0.
      const s = i % 2 === 0 ? 8 : 1;
      return p.map((v) => v * s);
    });
    const tensors = params.map((p, i) => tf.tensor(p, [[5, 5, 1, 16], [16], [5, 5, 16, 32], [32], [1568, 32], [32], [32, 10], [10]][i]));
    const x = values(20 * 784, 9, 0, 1);
    const direct = tf.tidy(() => forwardLogits(shape, tensors, tf.tensor2d(x, [20, 784])).dataSync() as Float32Array);
    const wino = tf.tidy(
      () => forwardLogits(shape, tensors, tf.tensor2d(x, [20, 784]), { evaluation: 'winograd' }).dataSync() as Float32Array,
    );
    let worst = 0,
      scale = 0;
    for (let i = 0; i < direct.length; i++) {
      worst = Math.max(worst, Math.abs(direct[i] - wino[i]));
      scale = Math.max(scale, Math.abs(direct[i]));
    }
    expect(scale).toBeGreaterThan(0);
    expect(worst).toBeGreaterThan(0); // a different rounding, really used
    expect(worst / scale).toBeLessThan(1e-5);
    // 26x26 images: conv2 sees 13x13, which the Winograd kernel does not cover.
    const odd = seedModelShape([16, 32, 32], 26, 26);
    const oddParams = initialParams(odd, { init: 'truncated-normal', seed: 5 }).map((p, i) =>
      tf.tensor(p, i === 4 ? [1568, 32] : tensors[i].shape),
    );
    const y = values(3 * 676, 10, 0, 1);
    const a = tf.tidy(() => forwardLogits(odd, oddParams, tf.tensor2d(y, [3, 676])).dataSync() as Float32Array);
    const c = tf.tidy(() => forwardLogits(odd, oddParams, tf.tensor2d(y, [3, 676]), { evaluation: 'winograd' }).dataSync() as Float32Array);
    expect(bits(c)).toEqual(bits(a));
    tf.dispose([...tensors, ...oddParams]);
  });

  it('scores a split like the direct evaluation (accuracy equal, loss to 1e-5)', () => {
    const shape = seedModelShape([32, 64, 64]);
    const params = initialParams(shape, { init: 'truncated-normal', seed: 2 }).map((p, i) => p.map((v) => (i % 2 === 0 ? v * 10 : v)));
    const shapes = [[5, 5, 1, 32], [32], [5, 5, 32, 64], [64], [3136, 64], [64], [64, 10], [10]];
    const tensors = params.map((p, i) => tf.tensor(p, shapes[i]));
    const count = 300;
    const split: Split = {
      count,
      images: Uint8Array.from(values(count * 784, 4, 0, 255), Math.floor),
      labels: Uint8Array.from(values(count, 6, 0, 10), Math.floor),
    };
    const w = evaluateSplit(shape, tensors, split, count, 'stable', 'winograd');
    const d = evaluateSplit(shape, tensors, split, count, 'stable', 'direct');
    expect(w.images).toBe(count);
    expect(w.accuracy).toBe(d.accuracy);
    expect(Math.abs(w.loss - d.loss) / d.loss).toBeLessThan(1e-5);
    // No tensor left behind, by either kind, nor when a NaN weight sends both layers to the ops.
    const before = tf.memory().numTensors;
    evaluateSplit(shape, tensors, split, count, 'stable', 'winograd');
    evaluateSplit(shape, tensors, split, count, 'stable', 'direct');
    const nanW1 = tf.tensor(
      params[0].map((v, i) => (i === 7 ? NaN : v)),
      shapes[0],
    );
    const nan = evaluateSplit(shape, [nanW1, ...tensors.slice(1)], split, count, 'stable', 'winograd');
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(nan.loss).toBeNaN();
    // A network gone NaN scores exactly as with direct sums (the layers fall back to the ops).
    expect(evaluateSplit(shape, [nanW1, ...tensors.slice(1)], split, count, 'stable', 'direct')).toEqual(nan);
    tf.dispose([nanW1, ...tensors]);
  });
});
