// MaxPoolGrad (kernels/MaxPoolGrad.ts, assembly/kernels/MaxPoolGrad.ts) through the gradient of
// tf.maxPool: TensorFlow's tie rule (first maximum in row-major order, or last) against
// tfjs-backend-cpu, a float64 loop and hand-built tie cases, padded cells, -Infinity and NaN
// windows, and tensor leaks; and the own WebAssembly kernel against the TypeScript loop, bitwise,
// for both rules, on values built to tie often and with NaN, signed zeros and infinities.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/engine';
import { hasWasmSimd } from '../own-wasm/embedded-module';
import {
  type Backend,
  exactBits as bits,
  kernelsRun,
  noLeak,
  on,
  randomArray,
  relErr,
  rnd,
  type Shape4,
  sizeOf,
  mixedValues as values,
} from '../../test-support/kernel-test-support';
import { setPoolTieRule, withPoolTies } from './MaxPoolGrad';
import { setOwnWasm } from './own-wasm-switch';
import { lcg } from '../../../../test/lcg';

beforeAll(async () => {
  await initEngine();
  expect(tf.getBackend()).toBe('wasm');
  expect(hasWasmSimd()).toBe(true);
});

afterEach(async () => {
  setPoolTieRule('first');
  if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
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
  noLeak(
    'MaxPoolGrad (seed pool1 shapes)',
    () => [rnd([4, 28, 28, 32], 9)],
    ([x]) => tf.grad((xx: tf.Tensor) => tf.sum(tf.maxPool(xx as tf.Tensor4D, 2, 2, 'same')))(x),
  );
});

describe('MaxPoolGrad on own WebAssembly', () => {
  /** dL/dx of sum(maxPool(x) * r) with the given pooling, on the own kernel or the TypeScript loop. */
  function grad(
    own: boolean,
    rule: 'first' | 'last',
    shape: [number, number, number, number],
    x: Float32Array,
    r: Float32Array,
    k: number,
    s: number,
    pad: 'same' | 'valid',
  ): Float32Array {
    setOwnWasm('MaxPoolGrad', own);
    try {
      return withPoolTies(
        { rule },
        () =>
          tf
            .tidy(() => {
              const xt = tf.tensor4d(x, shape);
              const rt = tf.tensor(r, tf.maxPool(xt, k, s, pad).shape);
              return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, k, s, pad), rt)))(xt);
            })
            .dataSync() as Float32Array,
      );
    } finally {
      setOwnWasm('MaxPoolGrad', true);
    }
  }

  const cases: { name: string; shape: [number, number, number, number]; k: number; s: number; pad: 'same' | 'valid' }[] = [
    { name: 'the seed pool1: 28x28x32, 2x2/2 SAME', shape: [3, 28, 28, 32], k: 2, s: 2, pad: 'same' },
    { name: 'odd sides, SAME padding: 7x9x8', shape: [2, 7, 9, 8], k: 2, s: 2, pad: 'same' },
    { name: 'VALID with a remainder: 7x7x4', shape: [2, 7, 7, 4], k: 2, s: 2, pad: 'valid' },
    { name: 'stride 3 over 2x2 windows (uncovered cells): 8x8x4', shape: [1, 8, 8, 4], k: 2, s: 3, pad: 'valid' },
  ];
  for (const c of cases) {
    for (const rule of ['first', 'last'] as const) {
      it(`matches the TypeScript loop bitwise, rule '${rule}': ${c.name}`, () => {
        const n = c.shape.reduce((a, b) => a * b, 1);
        // Few distinct values, so that windows tie often; then NaN, signed zeros and infinities.
        const x = values(n, 7, true).map((v) => (Number.isFinite(v) && v !== 0 ? Math.round(v * 2) / 2 : v));
        const outCount = tf.tidy(() => tf.maxPool(tf.zeros(c.shape) as tf.Tensor4D, c.k, c.s, c.pad).size);
        const r = values(outCount, 9, true);
        const own = grad(true, rule, c.shape, x, r, c.k, c.s, c.pad);
        const ts = grad(false, rule, c.shape, x, r, c.k, c.s, c.pad);
        expect(bits(own)).toEqual(bits(ts));
        expect(own.some((v) => v !== 0)).toBe(true);
      });
    }
  }
});
