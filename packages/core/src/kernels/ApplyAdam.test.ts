// ApplyAdam (kernels/ApplyAdam.ts, assembly/kernels/ApplyAdam.ts) against dense/adam.ts's adamStep,
// bitwise, over 5 steps with per-tensor lr and epsilon scales, on ordinary values and with NaN,
// infinities and denormals; and the transposed copy of a parameter it can write.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { adamStep, initAdamState, type AdamHyper } from '../dense/adam';
import { initEngine } from '../engine/engine';
import { hasWasmSimd } from '../own-wasm/embedded-module';
import { ApplyAdamKernel } from './ApplyAdam';
import { exactBits as bits, mixedValues as values } from '../../test-support/kernel-test-support';

beforeAll(async () => {
  await initEngine();
  expect(tf.getBackend()).toBe('wasm');
  expect(hasWasmSimd()).toBe(true);
});

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
