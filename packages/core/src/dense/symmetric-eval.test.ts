// Evaluation once per copy set (dense/symmetric-eval.ts on the symmetric step's WebAssembly)
// against the full evaluation's forward pass (dense/model.ts, every channel and unit): logits bitwise
// equal with conv2 by Winograd and by direct sums, on trained constant-init states and on random
// symmetric states; the split scores equal evaluateSplit's.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config';
import { initEngine } from '../engine/engine';
import { EVAL_CHUNK } from './evaluate';
import { gatherPixels, PIXEL_LUT, type MnistData } from '../data/mnist';
import { MT19937 } from '../random/prng';
import { evaluateSplit } from './evaluate';
import { forwardLogits, paramShapes, seedModelShape, type ModelShape } from './model';
import { evaluateOrbit, OrbitChunkScorer, winogradOrbitFilter, type DenseEvalJob, type DenseEvalPool } from './symmetric-eval';
import { compressToOrbit, expandOrbit, orbitSizes } from './symmetric-orbit';
import { SymmetricStepWasm } from './symmetric-step-wasm';
import { Trainer } from './trainer';
import { loadSmallMnist } from '../../../../test/small-mnist';

let data: MnistData;

beforeAll(async () => {
  await initEngine();
  data = loadSmallMnist();
});

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.slice().buffer));

/** The float32 pixels of the first n train images. */
function firstTrainPixels(n: number): Float32Array {
  const pixels = new Float32Array(n * 784);
  gatherPixels(
    data.train,
    Array.from({ length: n }, (_, i) => i),
    pixels,
  );
  return pixels;
}

/** The full evaluation's logits of the first n train images from full parameter arrays. */
function fullLogits(shape: ModelShape, full: Float32Array[], n: number, conv: 'winograd' | 'direct'): Float32Array {
  return logitsOfPixels(shape, full, firstTrainPixels(n), n, conv);
}

/** The full evaluation's logits of n images' float32 pixels. */
function logitsOfPixels(
  shape: ModelShape,
  full: Float32Array[],
  pixels: Float32Array,
  n: number,
  conv: 'winograd' | 'direct',
): Float32Array {
  const shapes = paramShapes(shape);
  const params = full.map((a, i) => tf.tensor(a, shapes[i], 'float32'));
  const x = tf.tensor2d(pixels, [n, shape.height * shape.width]);
  const out = tf.tidy(() => forwardLogits(shape, params, x, { evaluation: conv }));
  const values = out.dataSync().slice() as Float32Array;
  tf.dispose([...params, x, out]);
  return values;
}

function orbitLogits(shape: ModelShape, orbit: Float32Array[], n: number, conv: 'winograd' | 'direct'): Float32Array {
  const wasm = new SymmetricStepWasm(shape, 64);
  const bytes = data.train.images.subarray(0, n * 784);
  const out = wasm.evalForwardBytes(orbit, bytes, n, conv === 'winograd' ? winogradOrbitFilter(orbit[2]) : null);
  expect(out).not.toBeNull();
  return out!.logits.slice();
}

describe('symmetric evaluation on the own WebAssembly', () => {
  it('after 0, 20 and 60 constant-init steps of the seed model: the full logits, Winograd and direct', () => {
    const t = new Trainer(resolveConfig({ steps: 60 }), data);
    for (const target of [0, 20, 60]) {
      while (t.step < target) t.trainStep();
      const full = t.paramValues().map((a) => a.slice());
      const orbit = compressToOrbit(t.shape, full)!;
      expect(orbit).not.toBeNull();
      for (const conv of ['winograd', 'direct'] as const) {
        const want = fullLogits(t.shape, full, 60, conv);
        if (target === 60) expect(new Set(want).size).toBeGreaterThan(10);
        expect(bits(orbitLogits(t.shape, orbit, 60, conv))).toEqual(bits(want));
      }
    }
    t.dispose();
  }, 120_000);

  it('random symmetric states (weights of both signs): the full logits, Winograd and direct', () => {
    for (const [seed, widths] of [
      [1, [16, 32, 48]],
      [2, [4, 8, 12]],
    ] as const) {
      const shape = seedModelShape([...widths]);
      const rng = new MT19937(seed);
      const orbit = orbitSizes(shape).map((n, i) =>
        Float32Array.from({ length: n }, () => [0.3, 0.1, 0.05, 0.1, 0.01, 0.1, 0.05, 0.1][i] * rng.gauss()),
      );
      const full = expandOrbit(shape, orbit);
      for (const conv of ['winograd', 'direct'] as const) {
        expect(bits(orbitLogits(shape, orbit, 37, conv)), `${widths} ${conv}`).toEqual(bits(fullLogits(shape, full, 37, conv)));
      }
    }
  });

  it('signed zeros, denormals and tiny weights: the full logits, Winograd and direct', () => {
    const shape = seedModelShape([16, 32, 48]);
    const rng = new MT19937(4);
    const special = [-0, 0, 1e-40, -3e-42, 1.1754942e-38, -1e-45];
    const orbit = orbitSizes(shape).map((n, i) =>
      Float32Array.from({ length: n }, (_, j) =>
        j % 3 === 0 && i !== 7 ? special[j % special.length] : [0.3, 0.1, 0.05, 0.1, 0.01, 0.1, 0.05, 0.1][i] * rng.gauss(),
      ),
    );
    const full = expandOrbit(shape, orbit);
    for (const conv of ['winograd', 'direct'] as const) {
      expect(bits(orbitLogits(shape, orbit, 40, conv)), conv).toEqual(bits(fullLogits(shape, full, 40, conv)));
    }
  });

  it('other image sizes (tile rows of 1 to 6 tiles, blank rows and columns): the full logits, Winograd and direct', () => {
    for (const [seed, height, width] of [
      [5, 8, 8],
      [6, 12, 20],
      [7, 24, 16],
      [8, 20, 12],
    ] as const) {
      const shape = seedModelShape([8, 12, 20], height, width);
      const rng = new MT19937(seed);
      const n = 21;
      // Ink in a band: the first and last rows and columns of every image stay blank, like MNIST's.
      const bytes = Uint8Array.from({ length: n * height * width }, (_, i) => {
        const y = Math.floor(i / width) % height;
        const x = i % width;
        return y < 2 || y >= height - 2 || x < 1 || rng.nextDouble() < 0.4 ? 0 : Math.floor(rng.nextDouble() * 256);
      });
      const orbit = orbitSizes(shape).map((size, i) =>
        Float32Array.from({ length: size }, () => [0.3, 0.1, 0.05, 0.1, 0.01, 0.1, 0.05, 0.1][i] * rng.gauss()),
      );
      const full = expandOrbit(shape, orbit);
      const pixels = Float32Array.from(bytes, (u) => PIXEL_LUT[u]);
      for (const conv of ['winograd', 'direct'] as const) {
        const want = logitsOfPixels(shape, full, pixels, n, conv);
        const wasm = new SymmetricStepWasm(shape, 32);
        const got = wasm.evalForwardBytes(orbit, bytes, n, conv === 'winograd' ? winogradOrbitFilter(orbit[2]) : null);
        expect(got, `${height}x${width} ${conv}`).not.toBeNull();
        expect(bits(got!.logits.slice()), `${height}x${width} ${conv}`).toEqual(bits(want));
      }
    }
  });

  it('an infinite conv1 tap: no symmetric result (the full evaluation then runs), blank input rows or not', () => {
    const shape = seedModelShape([16, 32, 48]);
    const rng = new MT19937(9);
    const orbit = orbitSizes(shape).map((size, i) =>
      Float32Array.from({ length: size }, () => [0.3, 0.1, 0.05, 0.1, 0.01, 0.1, 0.05, 0.1][i] * rng.gauss()),
    );
    orbit[0][12] = Number.POSITIVE_INFINITY;
    for (const conv of ['winograd', 'direct'] as const) {
      const wasm = new SymmetricStepWasm(shape, 8);
      const bytes = data.train.images.subarray(0, 8 * 784);
      expect(wasm.evalForwardBytes(orbit, bytes, 8, conv === 'winograd' ? winogradOrbitFilter(orbit[2]) : null), conv).toBeNull();
    }
  });

  it('conv channel activity: the full evaluation against unfused tfjs ops, the symmetric one against the full one', () => {
    const n = 120;
    const split = { count: n, images: data.train.images.subarray(0, n * 784), labels: data.train.labels.subarray(0, n) };
    const mixed = (counts: number[]) => counts.some((c) => c > 0 && c < n);
    // Dense, every channel its own: positive taps and biases from -4 to 0 (active on some images only).
    const shape = seedModelShape([8, 16, 16]);
    const rng = new MT19937(12);
    const full = paramShapes(shape).map((s, i) => {
      const size = s.reduce((a, b) => a * b, 1);
      if (i === 1 || i === 3) return Float32Array.from({ length: size }, (_, c) => (i === 1 ? -4 : -40) * (c / (size - 1)));
      return Float32Array.from({ length: size }, () => Math.abs([0.3, 0, 0.05, 0, 0.01, 0, 0.05, 0.1][i] * rng.gauss()));
    });
    const tensors = full.map((a, i) => tf.tensor(a, paramShapes(shape)[i], 'float32'));
    const want = tf.tidy(() => {
      const x = tf.reshape(tf.tensor2d(firstTrainPixels(n), [n, 784]), [n, 28, 28, 1]) as tf.Tensor4D;
      const a1 = tf.relu(tf.add(tf.conv2d(x, tensors[0] as tf.Tensor4D, 1, 'same'), tensors[1])) as tf.Tensor4D;
      const p1 = tf.maxPool(a1, 2, 2, 'valid');
      const a2 = tf.relu(tf.add(tf.conv2d(p1, tensors[2] as tf.Tensor4D, 1, 'same'), tensors[3])) as tf.Tensor4D;
      const count = (a: tf.Tensor4D) => Array.from(tf.sum(tf.cast(tf.greater(tf.max(a, [1, 2]), 0), 'int32'), 0).dataSync());
      return [count(a1), count(a2)];
    });
    const got = evaluateSplit(shape, tensors, split, n, 'seed', 'direct');
    expect(got.convActive).toEqual(want);
    expect(mixed(want[0]) && mixed(want[1])).toBe(true);
    tf.dispose(tensors);
    // Symmetric: one value per copy set, conv2 active on some images only.
    const sym = seedModelShape([16, 32, 48]);
    const orbit = orbitSizes(sym).map((size, i) =>
      Float32Array.from({ length: size }, () =>
        i === 1 ? -3 : i === 3 ? -1 : Math.abs([0.3, 0, 0.002, 0, 0.01, 0.1, 0.05, 0.1][i] * rng.gauss()),
      ),
    );
    const symTensors = expandOrbit(sym, orbit).map((a, i) => tf.tensor(a, paramShapes(sym)[i], 'float32'));
    for (const conv of ['winograd', 'direct'] as const) {
      const fullScore = evaluateSplit(sym, symTensors, split, n, 'seed', conv);
      expect(mixed(fullScore.convActive![1]), conv).toBe(true);
      expect(evaluateOrbit(sym, orbit, split, n, 'seed', conv, new OrbitChunkScorer(sym)), conv).toEqual(fullScore);
    }
    tf.dispose(symTensors);
  });

  it('split scores equal evaluateSplit (every unit), fc1 activity included, over several chunks', () => {
    const t = new Trainer(resolveConfig({ widths: [16, 16, 16] }), data);
    for (let i = 0; i < 15; i++) t.trainStep();
    const orbit = compressToOrbit(t.shape, t.paramValues())!;
    const scorer = new OrbitChunkScorer(t.shape);
    // 2500 images (the fixture's train split repeated): two full chunks and a partial one.
    const { train } = data;
    const split = {
      count: 2500,
      images: Uint8Array.from({ length: 2500 * 784 }, (_, i) => train.images[i % train.images.length]),
      labels: Uint8Array.from({ length: 2500 }, (_, i) => train.labels[i % train.count]),
    };
    for (const conv of ['winograd', 'direct'] as const) {
      const want = evaluateSplit(t.shape, t.params, split, 2500, 'seed', conv);
      expect(want.images).toBe(2500);
      expect(evaluateOrbit(t.shape, orbit, split, 2500, 'seed', conv, scorer)).toEqual(want);
    }
    t.dispose();
  });

  /** A pool that scores on this thread when finish() is called (what the CLI's workers compute). */
  function inlinePool(shape: ModelShape): DenseEvalPool & { begun: number; failedJobs: number } {
    const scorer = new OrbitChunkScorer(shape);
    let pending: { jobs: DenseEvalJob[]; params: Float32Array[] } | null = null;
    return {
      begun: 0,
      failedJobs: 0,
      begin(jobs, params) {
        pending = { jobs, params };
        this.begun++;
      },
      finish() {
        const { jobs, params } = pending!;
        pending = null;
        const out = jobs.map((job) => {
          const split = job.split === 'train' ? data.train : data.test;
          const out = { correct: 0, lossSums: [] as number[], active: 0, convActive: [0, 0] as [number, number] };
          for (let start = 0; start < job.count; start += EVAL_CHUNK) {
            const r = scorer.score(params, split, start, Math.min(EVAL_CHUNK, job.count - start), 'seed', 'winograd');
            if (!r) return null;
            out.correct += r.correct;
            out.active += r.active;
            out.convActive[0] += r.convActive[0];
            out.convActive[1] += r.convActive[1];
            out.lossSums.push(r.lossSum);
          }
          return out;
        });
        this.failedJobs += out.filter((r) => r === null).length;
        return out;
      },
    };
  }

  it('with a pool: scored from the parameters of the evaluation step while training goes on, the same scores', () => {
    const widths: [number, number, number] = [16, 16, 16];
    const pool = inlinePool(seedModelShape(widths));
    const t = new Trainer(resolveConfig({ widths }), data, { evalPool: pool });
    const ref = new Trainer(resolveConfig({ widths, symmetricExec: 'off' }), data);
    for (let i = 0; i < 10; i++) [t, ref].forEach((x) => x.trainStep());
    expect(t.evaluatesInBackground).toBe(true);
    const scores = t.beginEvaluation(300);
    const want = { train: ref.evaluate(data.train, 300), test: ref.evaluate(data.test, data.test.count) };
    for (let i = 0; i < 5; i++) t.trainStep();
    expect(scores()).toEqual(want);
    expect(pool.begun).toBe(1);
    t.dispose();
    ref.dispose();
  });

  it('with a pool, a network whose values overflow in evaluation: scored in full from the parameters of its step', () => {
    const widths: [number, number, number] = [16, 16, 16];
    const pool = inlinePool(seedModelShape(widths));
    const t = new Trainer(resolveConfig({ widths }), data, { evalPool: pool });
    const ref = new Trainer(resolveConfig({ widths, symmetricExec: 'off' }), data);
    for (const x of [t, ref]) {
      const state = x.exportState();
      state.params[4].fill(3e38); // fc1's weights: finite, but their sums overflow
      x.importState(state);
    }
    const scores = t.beginEvaluation(300);
    const want = { train: ref.evaluate(data.train, 300), test: ref.evaluate(data.test, data.test.count) };
    t.trainStep();
    const got = scores();
    expect(pool.begun).toBe(1);
    expect(pool.failedJobs).toBe(2); // the pool met the overflow in both splits
    expect(got).toEqual(want);
    t.dispose();
    ref.dispose();
  });
});
