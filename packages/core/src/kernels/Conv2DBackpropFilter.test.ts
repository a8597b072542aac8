// Conv2DBackpropFilter (kernels/Conv2DBackpropFilter.ts), reached through the gradient of tf.conv2d,
// against tfjs-backend-cpu (a plain-JS implementation), float64 loops and float64 central
// differences, and for tensor leaks. The gradient tests check dW and dx of the same conv2d
// together, so Conv2DBackpropInput is checked here with it (its own tests are in
// Conv2DBackpropInput.test.ts). Inputs come from a local LCG and are created afresh on each
// backend from the same Float32Arrays.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/engine';
import {
  type Backend,
  convLoss,
  kernelsRun,
  maxAbs,
  convGradNoLeak,
  on,
  type Pad,
  randomArray,
  relErr,
  type Shape4,
  sizeOf,
} from '../../test-support/kernel-test-support';
import { lcg } from '../../../../test/lcg';

interface ConvCase {
  name: string;
  x: Shape4;
  w: Shape4;
  pad: Pad;
}

/** Output shape of a stride-1 conv (for r). */
function convOutShape(c: ConvCase): Shape4 {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.w, 1, 1, c.pad as 'same');
  return [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
}

/** Random x, w, r for a conv case, as plain arrays. */
function convInputs(c: ConvCase, seed: number) {
  const rand = lcg(seed);
  return {
    x: randomArray(sizeOf(c.x), rand),
    w: randomArray(sizeOf(c.w), rand),
    r: randomArray(sizeOf(convOutShape(c)), rand),
  };
}

/** [dL/dx, dL/dw] of convLoss on one backend. */
async function convGrads(backend: Backend, c: ConvCase, v: ReturnType<typeof convInputs>, only?: 'x'): Promise<Float32Array[]> {
  return on(backend, () => {
    const x = tf.tensor4d(v.x, c.x);
    const w = tf.tensor4d(v.w, c.w);
    const r = tf.tensor4d(v.r, convOutShape(c));
    if (only === 'x') return [tf.grad((a: tf.Tensor) => convLoss(a as tf.Tensor4D, w, r, c.pad))(x)];
    return tf.grads((a: tf.Tensor, b: tf.Tensor) => convLoss(a as tf.Tensor4D, b as tf.Tensor4D, r, c.pad))([x, w]);
  });
}

/**
 * [dL/dx, dL/dw] of sum(conv(x, w) * r) in float64 with explicit loops (stride 1, TF padding):
 * dx[n,iy,ix,c] = sum r[n,oy,ox,o] w[ky,kx,c,o], dw[ky,kx,c,o] = sum x[n,iy,ix,c] r[n,oy,ox,o],
 * with iy = oy + ky - top, ix = ox + kx - left.
 */
function convGradsF64(c: ConvCase, v: ReturnType<typeof convInputs>): Float64Array[] {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.w, 1, 1, c.pad as 'same');
  const { top, left } = info.padInfo;
  const [n, H, W, C] = c.x;
  const [KH, KW, , O] = c.w;
  const OH = info.outHeight;
  const OW = info.outWidth;
  const dx = new Float64Array(v.x.length);
  const dw = new Float64Array(v.w.length);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const rOff = ((b * OH + oy) * OW + ox) * O;
        for (let ky = 0; ky < KH; ky++) {
          const iy = oy + ky - top;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < KW; kx++) {
            const ix = ox + kx - left;
            if (ix < 0 || ix >= W) continue;
            const xOff = ((b * H + iy) * W + ix) * C;
            for (let ch = 0; ch < C; ch++) {
              const xv = v.x[xOff + ch];
              const wOff = ((ky * KW + kx) * C + ch) * O;
              let acc = 0;
              for (let o = 0; o < O; o++) {
                const g = v.r[rOff + o];
                acc += g * v.w[wOff + o];
                dw[wOff + o] += xv * g;
              }
              dx[xOff + ch] += acc;
            }
          }
        }
      }
    }
  }
  return [dx, dw];
}

// The seed model's two convolutions (batch reduced), plus odd/non-square/even-kernel variants.
const SEED_CONV_CASES: ConvCase[] = [
  { name: 'conv2 of the seed model: x [4,14,14,32], w [5,5,32,64], SAME', x: [4, 14, 14, 32], w: [5, 5, 32, 64], pad: 'same' },
  { name: 'conv1 of the seed model: x [3,28,28,1], w [5,5,1,32], SAME', x: [3, 28, 28, 1], w: [5, 5, 1, 32], pad: 'same' },
];
const OTHER_CONV_CASES: ConvCase[] = [
  { name: 'batch 1, 1 channel in and out (no-op transposes), SAME', x: [1, 9, 7, 1], w: [5, 5, 1, 1], pad: 'same' },
  { name: 'non-square image and kernel 3x5, SAME', x: [2, 9, 6, 3], w: [3, 5, 3, 4], pad: 'same' },
  { name: 'even kernel 4x4 (SAME pads 1 before, 2 after)', x: [2, 7, 8, 3], w: [4, 4, 3, 2], pad: 'same' },
  { name: 'VALID padding, 5x5', x: [2, 10, 9, 3], w: [5, 5, 3, 4], pad: 'valid' },
  { name: 'explicit numeric padding 1 with a 3x3 kernel', x: [2, 6, 7, 2], w: [3, 3, 2, 3], pad: 1 },
  {
    name: 'explicit asymmetric padding [[0,0],[1,2],[0,1],[0,0]]',
    x: [2, 6, 7, 2],
    w: [3, 3, 2, 3],
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  },
];

beforeAll(async () => {
  await initEngine();
  expect(tf.getBackend()).toBe('wasm');
});

afterEach(async () => {
  if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
});

describe('Conv2DBackpropFilter / Conv2DBackpropInput (via Conv2D) vs tfjs-backend-cpu', () => {
  it('the gradients of conv2d reach the replacement kernels on wasm', async () => {
    const c = OTHER_CONV_CASES[1];
    const v = convInputs(c, 1);
    const x = tf.tensor4d(v.x, c.x);
    const w = tf.tensor4d(v.w, c.w);
    const r = tf.tensor4d(v.r, convOutShape(c));
    const names = await kernelsRun(() =>
      tf.grads((a: tf.Tensor, b: tf.Tensor) => convLoss(a as tf.Tensor4D, b as tf.Tensor4D, r, c.pad))([x, w]),
    );
    tf.dispose([x, w, r]);
    expect(names).toContain('Conv2DBackpropFilter');
    expect(names).toContain('Conv2DBackpropInput');
  });

  for (const c of [...SEED_CONV_CASES, ...OTHER_CONV_CASES]) {
    it(`${c.name}: dx and dW within 1e-5 of max |value| (cpu backend and float64 loops)`, async () => {
      const v = convInputs(c, 42);
      const [dxW, dwW] = await convGrads('wasm', c, v);
      expect(dxW.length).toBe(sizeOf(c.x));
      expect(dwW.length).toBe(sizeOf(c.w));
      const [dx64, dw64] = convGradsF64(c, v);
      expect(maxAbs(dw64)).toBeGreaterThan(0);
      expect(relErr(dwW, dw64), 'dW (Conv2DBackpropFilter) vs float64').toBeLessThan(1e-5);
      expect(relErr(dxW, dx64), 'dx (Conv2DBackpropInput) vs float64').toBeLessThan(1e-5);
      // tfjs-backend-cpu's Conv2DBackpropFilter takes ~10 s for the conv2 shape on this machine,
      // so there dW is checked against the float64 loops only.
      const cpuFilterTooSlow = sizeOf(c.x) * sizeOf(c.w) > 1e8;
      const cpu = await convGrads('cpu', c, v, cpuFilterTooSlow ? 'x' : undefined);
      expect(relErr(dxW, cpu[0]), 'dx (Conv2DBackpropInput) vs cpu').toBeLessThan(1e-5);
      if (!cpuFilterTooSlow) expect(relErr(dwW, cpu[1]), 'dW (Conv2DBackpropFilter) vs cpu').toBeLessThan(1e-5);
    });
  }

  it('rejects stride 2 with a clear message (only stride 1 is implemented)', async () => {
    const x = tf.ones([1, 8, 8, 2]) as tf.Tensor4D;
    const w = tf.ones([3, 3, 2, 2]) as tf.Tensor4D;
    expect(() => tf.grad((ww: tf.Tensor) => tf.sum(tf.conv2d(x, ww as tf.Tensor4D, 2, 'same')))(w)).toThrow(
      /Conv2DBackpropFilter \(wasm\): only NHWC, stride 1/,
    );
    expect(() => tf.grad((xx: tf.Tensor) => tf.sum(tf.conv2d(xx as tf.Tensor4D, w, 2, 'same')))(x)).toThrow(
      /Conv2DBackpropInput \(wasm\): only NHWC, stride 1/,
    );
    tf.dispose([x, w]);
  });
});

describe('conv gradients vs float64 central differences', () => {
  /** sum(conv(x, w) * r) in float64 with explicit loops (NHWC, filters [kh,kw,ci,co], stride 1). */
  function lossF64(
    x: Float64Array,
    w: Float64Array,
    r: Float64Array,
    xs: Shape4,
    ws: Shape4,
    top: number,
    left: number,
    oh: number,
    ow: number,
  ): number {
    const [n, H, W, C] = xs;
    const [KH, KW, , O] = ws;
    let total = 0;
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          for (let o = 0; o < O; o++) {
            let acc = 0;
            for (let ky = 0; ky < KH; ky++) {
              const iy = oy + ky - top;
              if (iy < 0 || iy >= H) continue;
              for (let kx = 0; kx < KW; kx++) {
                const ix = ox + kx - left;
                if (ix < 0 || ix >= W) continue;
                for (let c = 0; c < C; c++) acc += x[((b * H + iy) * W + ix) * C + c] * w[((ky * KW + kx) * C + c) * O + o];
              }
            }
            total += acc * r[((b * oh + oy) * ow + ox) * O + o];
          }
        }
      }
    }
    return total;
  }

  const TINY: ConvCase[] = [
    { name: '5x5 SAME, x [2,6,5,2], w [5,5,2,3]', x: [2, 6, 5, 2], w: [5, 5, 2, 3], pad: 'same' },
    { name: '4x4 SAME (asymmetric pad), x [2,5,6,2], w [4,4,2,2]', x: [2, 5, 6, 2], w: [4, 4, 2, 2], pad: 'same' },
    { name: '3x3 VALID, x [1,6,6,3], w [3,3,3,2]', x: [1, 6, 6, 3], w: [3, 3, 3, 2], pad: 'valid' },
    { name: '5x5 SAME conv1-like, x [2,7,7,1], w [5,5,1,4]', x: [2, 7, 7, 1], w: [5, 5, 1, 4], pad: 'same' },
  ];
  for (const c of TINY) {
    it(`${c.name}: every element of dx and dW matches the difference quotient`, async () => {
      const v = convInputs(c, 7);
      const [dx, dw] = await convGrads('wasm', c, v);
      const info = tf.backend_util.computeConv2DInfo(c.x, c.w, 1, 1, c.pad as 'same');
      const { top, left } = info.padInfo;
      const x = Float64Array.from(v.x);
      const w = Float64Array.from(v.w);
      const r = Float64Array.from(v.r);
      const L = () => lossF64(x, w, r, c.x, c.w, top, left, info.outHeight, info.outWidth);
      // L is bilinear, so the central difference is exact up to float64 rounding (~1e-14 here).
      const h = 1e-3;
      const check = (arr: Float64Array, grad: Float32Array, what: string) => {
        const fd = new Float64Array(arr.length);
        for (let i = 0; i < arr.length; i++) {
          const s = arr[i];
          arr[i] = s + h;
          const up = L();
          arr[i] = s - h;
          const down = L();
          arr[i] = s;
          fd[i] = (up - down) / (2 * h);
        }
        // float32 accumulation of at most a few hundred terms of size <= 1.
        expect(relErr(grad, fd), what).toBeLessThan(2e-6);
      };
      check(w, dw, 'dW');
      check(x, dx, 'dx');
    });
  }
});

describe('no leaks: 20 calls of each kernel, results disposed', () => {
  const convCases: [string, 'filter' | 'input', number[][]][] = [
    [
      'Conv2DBackpropFilter (seed conv2 shapes)',
      'filter',
      [
        [4, 14, 14, 32],
        [5, 5, 32, 64],
        [4, 14, 14, 64],
      ],
    ],
    [
      'Conv2DBackpropFilter, batch 1 and 1 channel (identity transposes)',
      'filter',
      [
        [1, 9, 9, 1],
        [5, 5, 1, 4],
        [1, 9, 9, 4],
      ],
    ],
  ];
  for (const [label, wrt, shapes] of convCases) convGradNoLeak(label, wrt, shapes);
});
