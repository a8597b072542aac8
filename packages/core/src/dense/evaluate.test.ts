// evaluateSplit's fc1 activity: per unit, the images whose fc1 ReLU output is > 0. Crafted
// networks with dead and live units, and one whose units are active on part of the images,
// counted against fc1's output of the training forward pass (separate ops, not the fused kernels).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/engine';
import { gatherPixels, type MnistData } from '../data/mnist';
import { evaluateSplit } from './evaluate';
import { forwardLogits, initialParams, paramShapes, seedModelShape } from './model';
import { loadSmallMnist } from '../../../../test/small-mnist';

let data: MnistData;

beforeAll(async () => {
  await initEngine();
  data = loadSmallMnist(0); // 1100 train images: more than one 1000-image chunk
});

const shape = seedModelShape([2, 3, 4]);

function tensors(values: Float32Array[]): tf.Tensor[] {
  return values.map((v, i) => tf.tensor(v, paramShapes(shape)[i], 'float32'));
}

describe('evaluateSplit fc1 activity', () => {
  it('counts a unit whose bias is <= 0 and weights 0 as never active, one with bias > 0 as always', () => {
    const values = initialParams(shape, { init: 'constant', seed: 0 });
    values[5].set([-0.5, 0.1, 0, 0.2]); // fc1.b; fc1.W is 0
    const params = tensors(values);
    for (const conv2 of ['direct', 'winograd'] as const) {
      const score = evaluateSplit(shape, params, data.test, 150, 'seed', conv2);
      expect(score.images).toBe(150);
      expect(score.fc1Active).toEqual([0, 150, 0, 150]);
    }
    tf.dispose(params);
  });

  it('counts each unit on the images where fc1 of the training forward pass is > 0', () => {
    const values = initialParams(shape, { init: 'truncated-normal', seed: 7, perturb: 0.3 });
    for (const b of [1, 3, 5]) values[b].fill(0); // no bias: fc1's sign follows the image
    const params = tensors(values);
    const n = data.train.count;
    const score = evaluateSplit(shape, params, data.train, n, 'seed', 'direct');
    const pixels = new Float32Array(n * 784);
    gatherPixels(
      data.train,
      Array.from({ length: n }, (_, i) => i),
      pixels,
    );
    const want = [0, 0, 0, 0];
    tf.tidy(() => {
      forwardLogits(shape, params, tf.tensor2d(pixels, [n, 784]), {
        onHidden: (h3) => {
          const h = h3.dataSync();
          for (let i = 0; i < h.length; i++) if (h[i] > 0) want[i % 4]++;
        },
      });
    });
    expect(score.fc1Active).toEqual(want);
    expect(want.some((c) => c > 0 && c < n)).toBe(true);
    tf.dispose(params);
  });
});
