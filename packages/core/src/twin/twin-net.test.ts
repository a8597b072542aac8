// The twin's evaluation shortcut (conv1/pool1 only around each digit's bounding box) gives bitwise
// the logits of the full computation, on real images and parameters far from the constant init.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadMnist } from '../data/mnist';
import { initialParams, seedModelShape } from '../dense/model';
import { sparseImages, twinForward, twinGeometry, twinParams, TwinActivations } from './twin-net';

const FIXTURE = fileURLToPath(new URL('../../../../fixtures/mnist-small/', import.meta.url));

describe('twinForward', () => {
  it('evaluates inside the bounding box exactly as over the whole image', () => {
    const read = (name: string) => new Uint8Array(readFileSync(FIXTURE + name));
    const data = loadMnist(
      {
        trainImages: read('train-images-idx3-ubyte.gz'),
        trainLabels: read('train-labels-idx1-ubyte.gz'),
        testImages: read('t10k-images-idx3-ubyte.gz'),
        testLabels: read('t10k-labels-idx1-ubyte.gz'),
      },
      100,
    );
    const g = twinGeometry(28, 28);
    const images = sparseImages(data.test, 28, 28);
    const act = new TwinActivations(g);
    for (const [b1, seed] of [
      [0.1, 1],
      [-0.05, 2],
    ] as const) {
      const params = initialParams(seedModelShape([1, 1, 1]), { init: 'truncated-normal', seed, perturb: 0.3 });
      params[1][0] = b1; // background relu(b1) > 0, then 0
      const p = twinParams(g, params);
      const n = data.test.count;
      const fast = new Float32Array(n * 10);
      const full = new Float32Array(n * 10);
      for (let i = 0; i < n; i++) {
        twinForward(g, p, images, i, act, fast, i * 10, null);
        twinForward(g, p, images, i, act, full, i * 10, { rule: 'first' });
      }
      expect(Array.from(fast)).toEqual(Array.from(full));
      expect(new Set(Array.from(full)).size).toBeGreaterThan(n); // the logits do depend on the image
    }
  });
});
