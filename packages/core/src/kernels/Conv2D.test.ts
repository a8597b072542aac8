// Conv2D on the own convolution (own-wasm/heap-kernels.ts's conv2D, assembly/kernels/Conv2D.ts)
// against XNNPACK's (the stock tfjs-backend-wasm kernel), bitwise (NaN as NaN), on the model's
// shapes, on the shapes the convolution-gradient kernels give Conv2D and inside the filter gradient
// (Conv2DBackpropFilter runs as a Conv2D), with edge values (NaN, infinities, signed zeros,
// denormals); and against a float64 loop for the arithmetic itself.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/engine';
import { bitsNaNAsOne as bits, convGemmValues as values } from '../../test-support/kernel-test-support';
import { setOwnWasm } from './own-wasm-switch';

beforeAll(async () => {
  await initEngine();
});

afterAll(() => {
  setOwnWasm('Conv2D', true);
});

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** conv2d with the own kernel and with XNNPACK's, as float32 arrays. */
function both(xShape: number[], wShape: number[], pad: 'same' | 'valid' | number, seed: number, edges: boolean) {
  // About one special value per four outputs' worth of terms: outputs both NaN and finite.
  const every = 4 * wShape[0] * wShape[1] * wShape[2];
  const x = tf.tensor4d(values(size(xShape), seed, edges, every), xShape as [number, number, number, number]);
  const w = tf.tensor4d(values(size(wShape), seed + 1, edges, every), wShape as [number, number, number, number]);
  setOwnWasm('Conv2D', true);
  const own = tf.conv2d(x, w, 1, pad);
  setOwnWasm('Conv2D', false);
  const stock = tf.conv2d(x, w, 1, pad);
  setOwnWasm('Conv2D', true);
  const r = { own: own.dataSync() as Float32Array, stock: stock.dataSync() as Float32Array, shape: own.shape, x, w };
  tf.dispose([own, stock]);
  return r;
}

const CASES: { name: string; x: number[]; w: number[]; pad: 'same' | 'valid' | number }[] = [
  { name: 'conv2 forward', x: [6, 14, 14, 32], w: [5, 5, 32, 64], pad: 'same' },
  { name: 'conv2 dW as a convolution', x: [32, 14, 14, 7], w: [14, 14, 7, 64], pad: 2 },
  { name: 'conv2 dx as a convolution', x: [3, 14, 14, 64], w: [5, 5, 64, 32], pad: 2 },
  { name: 'conv1 dW as a convolution', x: [1, 28, 28, 5], w: [28, 28, 5, 32], pad: 2 },
  { name: 'odd pixel count, valid padding', x: [1, 7, 9, 5], w: [3, 2, 5, 16], pad: 'valid' },
  { name: 'conv1 forward (one input channel)', x: [3, 28, 28, 1], w: [5, 5, 1, 32], pad: 'same' },
  { name: 'three input channels, odd pixel count', x: [1, 9, 7, 3], w: [3, 3, 3, 16], pad: 'same' },
];

describe('own Conv2D', () => {
  for (const edges of [false, true]) {
    for (const c of CASES) {
      it(`is bitwise XNNPACK's: ${c.name}${edges ? ', with edge values' : ''}`, () => {
        const r = both(c.x, c.w, c.pad, 7 + c.x[3], edges);
        expect(r.own.length).toBeGreaterThan(0);
        if (edges) expect(r.stock.some(Number.isNaN) && r.stock.some(Number.isFinite)).toBe(true);
        expect(bits(r.own)).toEqual(bits(r.stock));
        tf.dispose([r.x, r.w]);
      });
    }
  }

  it('computes the convolution (float64 loop, ordinary values)', () => {
    const xs = [2, 6, 5, 8],
      ws = [3, 3, 8, 16];
    const r = both(xs, ws, 'same', 3, false);
    const x = r.x.dataSync(),
      w = r.w.dataSync();
    const [n, h, wd, c] = xs,
      co = ws[3];
    let worst = 0;
    for (let b = 0; b < n; b++)
      for (let oy = 0; oy < h; oy++)
        for (let ox = 0; ox < wd; ox++)
          for (let o = 0; o < co; o++) {
            let s = 0;
            for (let ky = 0; ky < 3; ky++)
              for (let kx = 0; kx < 3; kx++) {
                const iy = oy + ky - 1,
                  ix = ox + kx - 1;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                for (let k = 0; k < c; k++) s += x[((b * h + iy) * wd + ix) * c + k] * w[((ky * 3 + kx) * c + k) * co + o];
              }
            worst = Math.max(worst, Math.abs(s - r.own[((b * h + oy) * wd + ox) * co + o]));
          }
    expect(worst).toBeLessThan(1e-4);
    tf.dispose([r.x, r.w]);
  });
});

describe('own convolution inside the filter gradient (Conv2DBackpropFilter as a Conv2D)', () => {
  const GRADS: { name: string; x: number[]; w: number[]; pad: 'same' | 'valid' }[] = [
    { name: 'conv2 (seed shapes, batch 6)', x: [6, 14, 14, 32], w: [5, 5, 32, 64], pad: 'same' },
    { name: 'conv1 (one input channel, batch 8)', x: [8, 28, 28, 1], w: [5, 5, 1, 32], pad: 'same' },
    { name: 'valid padding, odd sizes', x: [5, 9, 7, 3], w: [3, 2, 3, 16], pad: 'valid' },
  ];
  for (const edges of [false, true]) {
    for (const c of GRADS) {
      it(`gives the bits of XNNPACK's: ${c.name}${edges ? ', with edge values' : ''}`, () => {
        const every = 200; // specials in x and dy often enough that some outputs are NaN
        const x = tf.tensor4d(values(size(c.x), 31, edges, every), c.x as [number, number, number, number]);
        const w = tf.tensor4d(values(size(c.w), 32, edges, every), c.w as [number, number, number, number]);
        const dy = tf.tensor(values(size(tf.conv2d(x, w, 1, c.pad).shape), 33, edges, every), tf.conv2d(x, w, 1, c.pad).shape);
        const dW = (own: boolean) => {
          setOwnWasm('Conv2D', own);
          const g = tf.grad((f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, f as tf.Tensor4D, 1, c.pad), dy)))(w);
          const r = g.dataSync() as Float32Array;
          g.dispose();
          return r;
        };
        const own = dW(true);
        const stock = dW(false);
        setOwnWasm('Conv2D', true);
        if (edges) expect(stock.some(Number.isNaN)).toBe(true); // the edge values reach the outputs
        expect(bits(own)).toEqual(bits(stock));
        tf.dispose([x, w, dy]);
      });
    }
  }
});
