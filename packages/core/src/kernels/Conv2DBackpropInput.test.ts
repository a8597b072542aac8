// Conv2DBackpropInput (kernels/Conv2DBackpropInput.ts) called directly through tf.conv2dTranspose
// against tfjs-backend-cpu, and for tensor leaks. The gradient of tf.conv2d, which checks dx and dW
// together against the cpu backend, float64 loops and central differences, is tested in
// Conv2DBackpropFilter.test.ts. Inputs come from a local LCG.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/engine';
import { type Backend, convGradNoLeak, on, randomArray, relErr, type Shape4, sizeOf } from '../../test-support/kernel-test-support';
import { lcg } from '../../../../test/lcg';

beforeAll(async () => {
  await initEngine();
  expect(tf.getBackend()).toBe('wasm');
});

afterEach(async () => {
  if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
});

describe('Conv2DBackpropFilter / Conv2DBackpropInput (via Conv2D) vs tfjs-backend-cpu', () => {
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
});

describe('no leaks: 20 calls of each kernel, results disposed', () => {
  const convCases: [string, 'filter' | 'input', number[][]][] = [
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
  for (const [label, wrt, shapes] of convCases) convGradNoLeak(label, wrt, shapes);
});
