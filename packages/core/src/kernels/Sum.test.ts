// Sum (kernels/Sum.ts, assembly/kernels/Sum.ts) over all axes but the last (the bias gradients)
// against tfjs-backend-wasm's own Sum, bitwise, with edge values and with column counts that are
// not a multiple of 4; other axis orders keep the stock kernel. The shuffled order is tested in
// Sum.shuffled.test.ts.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/engine';
import { hasWasmSimd } from '../own-wasm/embedded-module';
import { exactBits as bits, mixedValues as values } from '../../test-support/kernel-test-support';
import { useKernelSet } from './register_wasm_kernels';

beforeAll(async () => {
  await initEngine();
  expect(tf.getBackend()).toBe('wasm');
  expect(hasWasmSimd()).toBe(true);
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
