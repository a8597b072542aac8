// The project's replacement wasm kernels (BatchMatMul, Conv2DBackpropFilter, Conv2DBackpropInput,
// MaxPoolGrad) checked through the public tfjs ops that dispatch to them, against
// tfjs-backend-cpu (a plain-JS implementation), against float64 finite differences, against
// hand-built tie cases, and for tensor leaks. Inputs come from a local LCG and are created afresh
// on each backend from the same Float32Arrays.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/engine';
import { setPoolTieRule } from './MaxPoolGrad';
import { lcg } from '../../../../test/lcg';

type Backend = 'cpu' | 'wasm';
type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

function randomArray(size: number, rand: () => number): Float32Array {
  return Float32Array.from({ length: size }, rand);
}

const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Runs `f` on `backend` inside a tidy, returns its outputs' values, and switches back to wasm
 * (the engine's backend) afterwards. `f` must create its own tensors from plain arrays.
 */
async function on(backend: Backend, f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  expect(await tf.setBackend(backend)).toBe(true);
  try {
    const outs = tf.tidy(() => {
      const r = f();
      return Array.isArray(r) ? r : [r];
    });
    const values = outs.map((t) => t.dataSync() as Float32Array);
    tf.dispose(outs);
    return values;
  } finally {
    await tf.setBackend('wasm');
  }
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** max_i |a_i - b_i| / max_i |b_i| (b is the yardstick); Infinity on NaN or length mismatch. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]);
    if (Number.isNaN(e)) return Infinity;
    d = Math.max(d, e);
  }
  const scale = maxAbs(b);
  return scale === 0 ? d : d / scale;
}

/** Kernel names a wasm computation dispatches to (to prove the tests reach our kernels). */
async function kernelsRun(f: () => tf.Tensor | tf.Tensor[]): Promise<string[]> {
  const info = await tf.profile(() => {
    const r = f();
    tf.dispose(r);
  });
  return info.kernelNames;
}

/** sum(conv2d(x, w) * r): its gradients are exactly Conv2DBackpropInput (x) and ...Filter (w). */
function convLoss(x: tf.Tensor4D, w: tf.Tensor4D, r: tf.Tensor4D, pad: Pad): tf.Scalar {
  return tf.sum(tf.mul(tf.conv2d(x, w, 1, pad as 'same'), r));
}

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
  setPoolTieRule('first');
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

  it('conv2dTranspose (Conv2DBackpropInput directly) agrees with cpu for the seed conv2 shape', async () => {
    const dyShape: Shape4 = [4, 14, 14, 64];
    const wShape: Shape4 = [5, 5, 32, 64];
    const rand = lcg(5);
    const dy = randomArray(sizeOf(dyShape), rand);
    const w = randomArray(sizeOf(wShape), rand);
    const run = (b: Backend) =>
      on(b, () => tf.conv2dTranspose(tf.tensor4d(dy, dyShape), tf.tensor4d(w, wShape), [4, 14, 14, 32], 1, 'same'));
    const [a] = await run('wasm');
    const [b] = await run('cpu');
    expect(relErr(a, b)).toBeLessThan(1e-5);
  });

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

describe('BatchMatMul (transposes re-expressed around the stock kernel) vs tfjs-backend-cpu', () => {
  interface MatCase {
    name: string;
    a: number[];
    b: number[];
  }
  /** Operand shapes for C = op(A) op(B) with op(A) [m,k], op(B) [k,n] and an optional batch prefix. */
  function shapesFor(batchA: number[], batchB: number[], m: number, k: number, n: number, ta: boolean, tb: boolean): MatCase {
    return {
      name: `a ${JSON.stringify([...batchA, ...(ta ? [k, m] : [m, k])])} b ${JSON.stringify([...batchB, ...(tb ? [n, k] : [k, n])])}`,
      a: [...batchA, ...(ta ? [k, m] : [m, k])],
      b: [...batchB, ...(tb ? [n, k] : [k, n])],
    };
  }
  async function compare(c: MatCase, ta: boolean, tb: boolean, seed: number): Promise<number[]> {
    const rand = lcg(seed);
    const a = randomArray(sizeOf(c.a), rand);
    const b = randomArray(sizeOf(c.b), rand);
    let shapeW: number[] = [];
    const [w] = await on('wasm', () => {
      const out = tf.matMul(tf.tensor(a, c.a), tf.tensor(b, c.b), ta, tb);
      shapeW = out.shape;
      return out;
    });
    let shapeC: number[] = [];
    const [cpu] = await on('cpu', () => {
      const out = tf.matMul(tf.tensor(a, c.a), tf.tensor(b, c.b), ta, tb);
      shapeC = out.shape;
      return out;
    });
    expect(shapeW, 'output shape').toEqual(shapeC);
    expect(relErr(w, cpu), `${c.name} ta=${ta} tb=${tb}`).toBeLessThan(1e-5);
    return shapeW;
  }
  const COMBOS: [boolean, boolean][] = [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ];

  for (const [ta, tb] of COMBOS) {
    it(`fc1-like rank 2, [50 x 3136] . [3136 x 96], transposeA=${ta} transposeB=${tb}`, async () => {
      const shape = await compare(shapesFor([], [], 50, 3136, 96, ta, tb), ta, tb, 11);
      expect(shape).toEqual([50, 96]);
    });
  }

  it('the fc1 backward products of the seed model (scaled): flat^T . dh and dh . W^T', async () => {
    // dW = flat^T dh: a [50, 3136] transposed, b [50, 128]; dx = dh W^T: a [50, 128], b [3136, 128] transposed.
    await compare({ name: 'dW', a: [50, 3136], b: [50, 128] }, true, false, 12);
    await compare({ name: 'dx', a: [50, 128], b: [3136, 128] }, false, true, 13);
  });

  it('a transposed matMul on wasm is one engine-level BatchMatMul (inner Transposes bypass the engine) with the right values', async () => {
    const a = tf.ones([4, 3]);
    const b = tf.ones([5, 3]);
    // Transpose inside our kernel goes through the registered wasm kernel directly (not the
    // engine), so the profile shows only BatchMatMul; the check is on the result's values.
    const names = await kernelsRun(() => tf.matMul(a, b, false, true));
    expect(names).toEqual(['BatchMatMul']);
    const out = tf.matMul(a, b, false, true);
    expect(out.shape).toEqual([4, 5]);
    expect(Array.from(out.dataSync())).toEqual(new Array(20).fill(3));
    tf.dispose([a, b, out]);
  });

  for (const [ta, tb] of COMBOS) {
    it(`odd sizes and degenerate rows/cols, transposeA=${ta} transposeB=${tb}`, async () => {
      // m = 1 or n = 1 make some of the kernel's transposes no-ops (identity, shared data).
      for (const [m, k, n] of [
        [7, 13, 5],
        [1, 17, 9],
        [9, 17, 1],
        [1, 5, 1],
        [6, 1, 4],
      ]) {
        await compare(shapesFor([], [], m, k, n, ta, tb), ta, tb, 100 + m * 31 + n);
      }
    });
  }

  for (const [ta, tb] of COMBOS) {
    it(`rank 3, batch 1 (our path) and batch 3 / broadcast batch (stock path), transposeA=${ta} transposeB=${tb}`, async () => {
      expect(await compare(shapesFor([1], [1], 17, 23, 11, ta, tb), ta, tb, 21)).toEqual([1, 17, 11]);
      expect(await compare(shapesFor([3], [3], 17, 23, 11, ta, tb), ta, tb, 22)).toEqual([3, 17, 11]);
      expect(await compare(shapesFor([1], [3], 17, 23, 11, ta, tb), ta, tb, 23)).toEqual([3, 17, 11]);
      expect(await compare(shapesFor([2], [1], 17, 23, 11, ta, tb), ta, tb, 24)).toEqual([2, 17, 11]);
    });
  }

  for (const [ta, tb] of COMBOS) {
    it(`mixed ranks (rank-3 batch-1 with rank 2), transposeA=${ta} transposeB=${tb}`, async () => {
      expect(await compare(shapesFor([1], [], 8, 12, 6, ta, tb), ta, tb, 31)).toEqual([1, 8, 6]);
      expect(await compare(shapesFor([], [1], 8, 12, 6, ta, tb), ta, tb, 32)).toEqual([1, 8, 6]);
    });
  }
});

describe('MaxPoolGrad (TensorFlow tie rule)', () => {
  /** dL/dx of sum(maxPool(x) * r) on a backend. */
  async function poolGrad(
    backend: Backend,
    xs: Shape4,
    x: Float32Array,
    r: Float32Array,
    filter: number,
    stride: number,
    pad: 'same' | 'valid',
  ): Promise<Float32Array> {
    const [g] = await on(backend, () => {
      const xt = tf.tensor4d(x, xs);
      const y = tf.maxPool(xt, filter, stride, pad);
      const rt = tf.tensor(r, y.shape);
      return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, filter, stride, pad), rt)))(xt);
    });
    return g;
  }

  function poolOutShape(xs: Shape4, filter: number, stride: number, pad: 'same' | 'valid'): Shape4 {
    const info = tf.backend_util.computePool2DInfo(xs, filter, stride, 1, pad);
    return [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
  }

  /**
   * Expected gradient: each window's r goes to its first (or last) maximum in row-major order,
   * padded cells excluded. Windows follow TF's SAME/VALID geometry.
   */
  function expectedPoolGrad(
    xs: Shape4,
    x: Float32Array,
    r: Float32Array,
    filter: number,
    stride: number,
    pad: 'same' | 'valid',
    rule: 'first' | 'last',
  ): Float64Array {
    const info = tf.backend_util.computePool2DInfo(xs, filter, stride, 1, pad);
    const [n, H, W, C] = xs;
    const dx = new Float64Array(x.length);
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < info.outHeight; oy++) {
        for (let ox = 0; ox < info.outWidth; ox++) {
          for (let c = 0; c < C; c++) {
            let best = -1;
            for (let y = oy * stride - info.padInfo.top; y < oy * stride - info.padInfo.top + filter; y++) {
              for (let xx = ox * stride - info.padInfo.left; xx < ox * stride - info.padInfo.left + filter; xx++) {
                if (y < 0 || y >= H || xx < 0 || xx >= W) continue;
                const i = ((b * H + y) * W + xx) * C + c;
                if (best < 0 || x[i] > x[best] || (rule === 'last' && x[i] === x[best])) best = i;
              }
            }
            dx[best] += r[((b * info.outHeight + oy) * info.outWidth + ox) * C + c];
          }
        }
      }
    }
    return dx;
  }

  it('the gradient of maxPool reaches MaxPoolGrad on wasm', async () => {
    const x = tf.ones([1, 4, 4, 1]) as tf.Tensor4D;
    const names = await kernelsRun(() => tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool(a as tf.Tensor4D, 2, 2, 'same')))(x));
    x.dispose();
    expect(names).toContain('MaxPoolGrad');
  });

  it('constant input: each window gives its gradient to its top-left cell (and bottom-right with "last")', async () => {
    const xs: Shape4 = [2, 6, 6, 3];
    const x = new Float32Array(sizeOf(xs)).fill(0.1);
    const rand = lcg(3);
    const rs = poolOutShape(xs, 2, 2, 'same');
    const r = Float32Array.from({ length: sizeOf(rs) }, () => 1 + Math.abs(rand())); // nonzero
    const first = await poolGrad('wasm', xs, x, r, 2, 2, 'same');
    setPoolTieRule('last');
    let last: Float32Array;
    try {
      last = await poolGrad('wasm', xs, x, r, 2, 2, 'same');
    } finally {
      setPoolTieRule('first');
    }
    for (let b = 0; b < 2; b++) {
      for (let y = 0; y < 6; y++) {
        for (let xx = 0; xx < 6; xx++) {
          for (let c = 0; c < 3; c++) {
            const i = ((b * 6 + y) * 6 + xx) * 3 + c;
            const g = r[((b * 3 + (y >> 1)) * 3 + (xx >> 1)) * 3 + c];
            expect(first[i]).toBe(y % 2 === 0 && xx % 2 === 0 ? g : 0);
            expect(last[i]).toBe(y % 2 === 1 && xx % 2 === 1 ? g : 0);
          }
        }
      }
    }
    // And 'first' is back in force.
    expect(Array.from(await poolGrad('wasm', xs, x, r, 2, 2, 'same'))).toEqual(Array.from(first));
  });

  it('chosen ties: equal maxima at chosen positions, per channel, go to the first (or last) one', async () => {
    // One 4x4 image, 2 channels, 2x2 windows. Window (wy, wx), channel c: maxima at listed cells.
    const xs: Shape4 = [1, 4, 4, 2];
    const x = new Float32Array(sizeOf(xs));
    const at = (y: number, xx: number, c: number) => (y * 4 + xx) * 2 + c;
    const rand = lcg(9);
    for (let i = 0; i < x.length; i++) x[i] = -1 - Math.abs(rand()); // all below the maxima
    // [window y, window x, channel, list of (dy, dx) cells holding the max value 5]
    const ties: [number, number, number, [number, number][]][] = [
      [
        0,
        0,
        0,
        [
          [0, 1],
          [1, 0],
        ],
      ], // first: (0,1); last: (1,0)
      [
        0,
        0,
        1,
        [
          [1, 0],
          [1, 1],
        ],
      ], // first: (1,0); last: (1,1)
      [
        0,
        1,
        0,
        [
          [0, 0],
          [1, 1],
        ],
      ], // diagonal
      [
        0,
        1,
        1,
        [
          [0, 0],
          [0, 1],
          [1, 0],
          [1, 1],
        ],
      ], // all four
      [
        1,
        0,
        0,
        [
          [0, 1],
          [1, 0],
          [1, 1],
        ],
      ], // three
      [1, 0, 1, [[1, 1]]], // single max
      [
        1,
        1,
        0,
        [
          [0, 0],
          [0, 1],
        ],
      ], // top row
      [
        1,
        1,
        1,
        [
          [0, 1],
          [1, 1],
        ],
      ], // right column
    ];
    for (const [wy, wx, c, cells] of ties) for (const [dy, dx] of cells) x[at(2 * wy + dy, 2 * wx + dx, c)] = 5;
    const r = Float32Array.from({ length: 8 }, (_, i) => i + 1);
    const want = (rule: 'first' | 'last') => {
      const g = new Float32Array(x.length);
      for (const [wy, wx, c, cells] of ties) {
        const [dy, dx] = rule === 'first' ? cells[0] : cells[cells.length - 1];
        g[at(2 * wy + dy, 2 * wx + dx, c)] = r[(wy * 2 + wx) * 2 + c];
      }
      return Array.from(g);
    };
    // The lists above are written in row-major order, so cells[0] is the first maximum.
    expect(Array.from(await poolGrad('wasm', xs, x, r, 2, 2, 'same'))).toEqual(want('first'));
    expect(Array.from(await poolGrad('cpu', xs, x, r, 2, 2, 'same'))).toEqual(want('first'));
    setPoolTieRule('last');
    try {
      expect(Array.from(await poolGrad('wasm', xs, x, r, 2, 2, 'same'))).toEqual(want('last'));
    } finally {
      setPoolTieRule('first');
    }
  });

  it('SAME padding with odd sizes (7x7 -> 4x4): padded cells never win, ties go first/last', async () => {
    const xs: Shape4 = [2, 7, 7, 3];
    const rs = poolOutShape(xs, 2, 2, 'same');
    expect(rs).toEqual([2, 4, 4, 3]);
    const rand = lcg(17);
    const r = randomArray(sizeOf(rs), rand);
    // All negative: a padded zero would beat them if padding took part.
    const neg = Float32Array.from({ length: sizeOf(xs) }, () => -1 - Math.abs(rand()));
    for (const [label, x] of [
      ['constant -0.5', new Float32Array(sizeOf(xs)).fill(-0.5)],
      ['random negative', neg],
      ['coarse values (many ties)', Float32Array.from({ length: sizeOf(xs) }, () => Math.round(rand() * 2))],
    ] as const) {
      const got = await poolGrad('wasm', xs, x, r, 2, 2, 'same');
      expect(relErr(got, expectedPoolGrad(xs, x, r, 2, 2, 'same', 'first')), `${label} first`).toBe(0);
      expect(relErr(got, await poolGrad('cpu', xs, x, r, 2, 2, 'same')), `${label} vs cpu`).toBe(0);
      setPoolTieRule('last');
      try {
        const gotLast = await poolGrad('wasm', xs, x, r, 2, 2, 'same');
        expect(relErr(gotLast, expectedPoolGrad(xs, x, r, 2, 2, 'same', 'last')), `${label} last`).toBe(0);
      } finally {
        setPoolTieRule('first');
      }
    }
  });

  const POOL_CASES: { name: string; xs: Shape4; filter: number; stride: number; pad: 'same' | 'valid' }[] = [
    { name: 'pool1 of the seed model: [3,28,28,32] 2x2/2 SAME', xs: [3, 28, 28, 32], filter: 2, stride: 2, pad: 'same' },
    { name: 'pool2 of the seed model: [3,14,14,64] 2x2/2 SAME', xs: [3, 14, 14, 64], filter: 2, stride: 2, pad: 'same' },
    { name: 'odd 7x5, 2x2/2 SAME', xs: [2, 7, 5, 3], filter: 2, stride: 2, pad: 'same' },
    { name: 'overlapping 3x3/1 SAME', xs: [2, 6, 7, 2], filter: 3, stride: 1, pad: 'same' },
    { name: 'overlapping 3x3/2 VALID', xs: [2, 9, 8, 2], filter: 3, stride: 2, pad: 'valid' },
  ];
  for (const c of POOL_CASES) {
    it(`${c.name}: equals the cpu backend on random and on tie-heavy inputs`, async () => {
      const rand = lcg(23);
      const rs = poolOutShape(c.xs, c.filter, c.stride, c.pad);
      const r = randomArray(sizeOf(rs), rand);
      const random = randomArray(sizeOf(c.xs), rand);
      // Mostly ties: 3 levels, as after a ReLU on blank background.
      const ties = Float32Array.from({ length: sizeOf(c.xs) }, () => Math.max(0, Math.round(rand() * 2)) * 0.1);
      for (const x of [random, ties]) {
        const w = await poolGrad('wasm', c.xs, x, r, c.filter, c.stride, c.pad);
        const cpu = await poolGrad('cpu', c.xs, x, r, c.filter, c.stride, c.pad);
        // Overlapping windows accumulate in different orders: allow float32 rounding there.
        expect(relErr(w, cpu)).toBeLessThanOrEqual(c.stride >= c.filter ? 0 : 1e-6);
        expect(relErr(w, expectedPoolGrad(c.xs, x, r, c.filter, c.stride, c.pad, 'first'))).toBeLessThan(1e-6);
      }
    });
  }

  it('windows of -Infinity or starting with NaN give their gradient to the first cell (as TF)', async () => {
    const xs: Shape4 = [1, 2, 4, 1];
    // Window 0: all -Infinity; window 1: NaN first then finite values.
    const x = Float32Array.from([-Infinity, -Infinity, NaN, 1, -Infinity, -Infinity, 3, 2]);
    const r = Float32Array.from([10, 20]);
    const got = await poolGrad('wasm', xs, x, r, 2, 2, 'valid');
    expect(Array.from(got)).toEqual([10, 0, 20, 0, 0, 0, 0, 0]);
  });
});

describe('no leaks: 20 calls of each kernel, results disposed', () => {
  function counts() {
    return { tensors: tf.memory().numTensors, dataIds: (tf.backend() as unknown as { numDataIds(): number }).numDataIds() };
  }
  function noLeak(label: string, setup: () => tf.Tensor[], call: (inputs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]) {
    it(label, () => {
      expect(tf.getBackend()).toBe('wasm');
      const inputs = setup();
      tf.dispose(call(inputs)); // warm-up (lazy constants, kernel setup)
      const before = counts();
      for (let i = 0; i < 20; i++) tf.dispose(call(inputs));
      expect(counts()).toEqual(before);
      tf.dispose(inputs);
    });
  }
  const rnd = (shape: number[], seed: number) => tf.tensor(randomArray(sizeOf(shape), lcg(seed)), shape);
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
    [
      'Conv2DBackpropInput (seed conv2 shapes)',
      'input',
      [
        [4, 14, 14, 32],
        [5, 5, 32, 64],
        [4, 14, 14, 64],
      ],
    ],
    [
      'Conv2DBackpropInput, 1 channel in and out',
      'input',
      [
        [1, 9, 9, 1],
        [5, 5, 1, 1],
        [1, 9, 9, 1],
      ],
    ],
  ];
  for (const [label, wrt, shapes] of convCases) {
    noLeak(
      label,
      () => shapes.map((shape, i) => rnd(shape, i + 1)),
      ([x, w, r]) => {
        const loss = (xx: tf.Tensor, ww: tf.Tensor) => convLoss(xx as tf.Tensor4D, ww as tf.Tensor4D, r as tf.Tensor4D, 'same');
        return wrt === 'filter' ? tf.grad((ww: tf.Tensor) => loss(x, ww))(w) : tf.grad((xx: tf.Tensor) => loss(xx, w))(x);
      },
    );
  }
  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    noLeak(
      `BatchMatMul transposeA=${ta} transposeB=${tb} (rank 2, and m = 1)`,
      () => [rnd(ta ? [300, 50] : [50, 300], 4), rnd(tb ? [64, 300] : [300, 64], 5), rnd(ta ? [300, 1] : [1, 300], 6)],
      ([a, b, v]) => [tf.matMul(a, b, ta, tb), tf.matMul(v, b, ta, tb)],
    );
  }
  noLeak(
    'BatchMatMul rank 3 batch 3 (stock path)',
    () => [rnd([3, 7, 9], 7), rnd([3, 5, 9], 8)],
    ([a, b]) => tf.matMul(a, b, false, true),
  );
  noLeak(
    'MaxPoolGrad (seed pool1 shapes)',
    () => [rnd([4, 28, 28, 32], 9)],
    ([x]) => tf.grad((xx: tf.Tensor) => tf.sum(tf.maxPool(xx as tf.Tensor4D, 2, 2, 'same')))(x),
  );
});

describe('Identity shares the data (reference counted) instead of copying it', () => {
  it('a clone reads the same values, outlives its source, and frees the data with the last holder', () => {
    const dataIds = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    const start = dataIds();
    const x = tf.tensor([1, -0, NaN, 3.5], [2, 2]);
    const y = tf.clone(x);
    expect(dataIds()).toBe(start + 1); // one buffer for both
    expect(y.shape).toEqual([2, 2]);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, -0, NaN, 3.5]);
    const sum = tf.tidy(() => tf.add(y, 1));
    expect(sum.dataSync()[0]).toBe(2);
    sum.dispose();
    y.dispose();
    expect(dataIds()).toBe(start);
    const s = tf.clone(tf.tensor(['a', 'b'])); // strings keep the stock kernel
    expect(s.dataSync()).toEqual(['a', 'b']);
  });
});
