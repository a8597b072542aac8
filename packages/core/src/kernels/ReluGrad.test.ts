// ReluGrad (kernels/ReluGrad.ts, assembly/kernels/ReluGrad.ts): ReLU's gradient in one pass against
// tfjs's formula mul(dy, cast(step(x))), NaN as NaN, on inputs with every kind of x (positive,
// negative, zero, NaN) and infinite dy, as the gradient of tf.relu and as a kernel called directly.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/engine';
import { hasWasmSimd } from '../own-wasm/embedded-module';
import { mixedValues as values } from '../../test-support/kernel-test-support';
import { setOwnWasm } from './own-wasm-switch';
import { RELU_GRAD } from './ReluGrad';

beforeAll(async () => {
  await initEngine();
  expect(tf.getBackend()).toBe('wasm');
  expect(hasWasmSimd()).toBe(true);
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
