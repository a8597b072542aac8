// Identity (kernels/Identity.ts): tf.clone shares the data, counted by reference, instead of
// copying it; string tensors keep the stock kernel.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/engine';

beforeAll(async () => {
  await initEngine();
  expect(tf.getBackend()).toBe('wasm');
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
