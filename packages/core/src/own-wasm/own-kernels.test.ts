// The project's own WebAssembly kernels against the TypeScript code they replace, bitwise:
// Adam (kernels/ApplyAdam.ts vs dense/adam.ts's adamStep), MaxPoolGrad's first/last rules
// (assembly/kernels/MaxPoolGrad.ts in place on the heap vs kernels/MaxPoolGrad.ts's loop) and the bias-gradient Sum
// (kernels/Sum.ts vs tfjs-backend-wasm's own Sum) and ReLU's one-pass gradient (vs tfjs's
// formula), on values built to hit the
// edges (ties, NaN, infinities, signed zeros, denormals, tails that are not a multiple of 4).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { adamStep, initAdamState, type AdamHyper } from '../dense/adam';
import { initEngine } from '../engine/engine';
import { withPoolTies } from '../kernels/MaxPoolGrad';
import { setOwnWasm } from '../kernels/own-wasm-switch';
import { RELU_GRAD } from '../kernels/ReluGrad';
import { useKernelSet } from '../kernels/register_wasm_kernels';
import { ApplyAdamKernel } from '../kernels/ApplyAdam';
import { hasWasmSimd } from './embedded-module';
import { lcgUint32 } from '../../../../test/lcg';

beforeAll(async () => {
  await initEngine();
  expect(tf.getBackend()).toBe('wasm');
  expect(hasWasmSimd()).toBe(true);
});

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength)));
}

/** A deterministic mix of ordinary values and edge cases. */
function values(n: number, seed: number, edges: boolean): Float32Array {
  const out = new Float32Array(n);
  const next = lcgUint32(seed);
  const special = [0, -0, NaN, Infinity, -Infinity, 1e-40, -1e-42, 3e38, 1e-20];
  for (let i = 0; i < n; i++) {
    const s = next();
    out[i] = edges && s % 23 === 0 ? special[s % special.length] : (s / 2 ** 32 - 0.5) * 2 ** ((s % 13) - 8);
  }
  return out;
}

describe('ApplyAdamKernel', () => {
  const hyper: AdamHyper = { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
  const shapes = [[5, 5, 1, 3], [7], [33, 10], [1]];

  for (const edges of [false, true]) {
    it(`follows adamStep bitwise over 5 steps (${edges ? 'with NaN, infinities, denormals' : 'ordinary values'}), with lr and eps scales`, () => {
      const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
      const lrScale = [1, 3, 0.5, 1024];
      const epsScale = [32, 1, 7, 1];
      const own = new ApplyAdamKernel(sizes, hyper);
      const ref = initAdamState(sizes, hyper);
      let a = shapes.map((s, i) => tf.tensor(values(sizes[i], 10 + i, edges), s));
      let b = a.map((t) => t.clone());
      for (let step = 0; step < 5; step++) {
        const grads = shapes.map((s, i) => tf.tensor(values(sizes[i], 100 * step + i, edges), s));
        const na = own.step(a, grads, hyper, lrScale, epsScale).params;
        const nb = adamStep(b, grads, ref, hyper, lrScale, epsScale);
        na.forEach((t, i) =>
          expect(bits(t.dataSync() as Float32Array), `step ${step} tensor ${i}`).toEqual(bits(nb[i].dataSync() as Float32Array)),
        );
        own.state.m.forEach((m, i) => expect(bits(m)).toEqual(bits(ref.m[i])));
        own.state.v.forEach((v, i) => expect(bits(v)).toEqual(bits(ref.v[i])));
        tf.dispose([...a, ...b, ...grads]);
        a = na;
        b = nb;
      }
      expect(own.state.step).toBe(5);
      // The transposed copy a run can ask for (fc1's layout for the forward pass).
      const withT = new ApplyAdamKernel(sizes, hyper, new Map([[2, [33, 10]]]));
      const { params, transposed } = withT.step(a, a, hyper);
      const want = tf.transpose(params[2]);
      expect(transposed.get(2)!.shape).toEqual([10, 33]);
      expect(bits(transposed.get(2)!.dataSync() as Float32Array)).toEqual(bits(want.dataSync() as Float32Array));
      tf.dispose([...params, ...transposed.values(), want]);
      expect(own.state.beta1Power).toBe(ref.beta1Power);
      tf.dispose([...a, ...b]);
    });
  }
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

describe('Sum over all axes but the last, on own WebAssembly', () => {
  const cases: { shape: number[]; axis: number[]; keepDims: boolean }[] = [
    { shape: [50, 28, 28, 32], axis: [0, 1, 2], keepDims: false }, // conv1's bias gradient
    { shape: [50, 14, 14, 64], axis: [0, 1, 2], keepDims: false },
    { shape: [50, 14, 14, 64], axis: [2, 0, 1], keepDims: false }, // another order: the stock kernel's
    { shape: [50, 1024], axis: [0], keepDims: false },
    { shape: [3, 5, 7], axis: [-3, -2], keepDims: true }, // columns not a multiple of 4
  ];
  for (const c of cases) {
    it(`matches tfjs-backend-wasm's Sum bitwise: ${JSON.stringify(c)}`, () => {
      const n = c.shape.reduce((a, b) => a * b, 1);
      const x = tf.tensor(values(n, 3, true), c.shape);
      const ordinary = tf.tensor(values(n, 4, false), c.shape);
      const run = () => [tf.sum(x, c.axis, c.keepDims), tf.sum(ordinary, c.axis, c.keepDims)];
      const own = run();
      useKernelSet('stock');
      let stock: tf.Tensor[];
      try {
        stock = run();
      } finally {
        useKernelSet('project');
      }
      own.forEach((t, i) => {
        expect(t.shape).toEqual(stock[i].shape);
        expect(bits(t.dataSync() as Float32Array)).toEqual(bits(stock[i].dataSync() as Float32Array));
      });
      tf.dispose([x, ordinary, ...own, ...stock]);
    });
  }
});

describe('ReLU gradient in one pass (kernels/ReluGrad.ts), against tfjs mul(dy, cast(step(x)))', () => {
  for (const n of [50 * 28 * 28 * 32, 1027]) {
    it(`gives the same values (NaN as NaN) on ${n} elements with edge values, as a gradient and as a kernel`, async () => {
      const x = tf.tensor(values(n, 41, true));
      const dy = tf.tensor(values(n, 42, true));
      const run = (own: boolean) => {
        setOwnWasm('ReluGrad', own);
        const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), dy)))(x);
        const r = g.dataSync() as Float32Array;
        g.dispose();
        return r;
      };
      let own: Float32Array = new Float32Array(0);
      const profile = await tf.profile(() => {
        own = run(true);
      });
      expect(profile.kernelNames).toContain(RELU_GRAD); // Relu's gradient is the one-pass kernel
      const formula = run(false);
      setOwnWasm('ReluGrad', true);
      const nanAware = (a: Float32Array) =>
        Array.from(new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength)), (v, i) => (Number.isNaN(a[i]) ? 'NaN' : v));
      expect(nanAware(own)).toEqual(nanAware(formula));
      // Every kind of input met: x positive, negative, zero and NaN; dy infinite.
      const xs = x.dataSync();
      expect([xs.some((v) => v > 0), xs.some((v) => v < 0), xs.some((v) => v === 0), xs.some(Number.isNaN)]).toEqual([
        true,
        true,
        true,
        true,
      ]);
      expect(own.some(Number.isNaN) && own.some((v) => v !== 0 && Number.isFinite(v))).toBe(true);
      const direct = tf.engine().runKernel(RELU_GRAD, { dy, x }) as tf.Tensor;
      expect(nanAware(direct.dataSync() as Float32Array)).toEqual(nanAware(formula));
      tf.dispose([x, dy, direct]);
    });
  }
});
