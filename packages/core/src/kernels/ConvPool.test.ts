// Evaluation's fused conv + bias + ReLU + pool (kernels/ConvPool.ts, assembly/kernels/ConvPool.ts):
// bitwise the four ops it replaces (conv2d, add, relu, maxPool on tfjs-backend-wasm), edge values
// included; the fallback where it does not apply; and the model's evaluation forward with it
// against the training forward, bitwise.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/engine';
import { forwardLogits, initialParams, paramShapes, seedModelShape } from '../dense/model';
import { convBiasReluPool } from './ConvPool';
import { lcgUint32 } from '../../../../test/lcg';

beforeAll(async () => {
  await initEngine();
});

type Edges = 'none' | 'finite' | 'all';
const SPECIAL = { none: [], finite: [0, -0, 1e-40, -1e-42], all: [0, -0, NaN, Infinity, -Infinity, 1e-40, -1e-42, 3e38] };
const EDGE_NAMES = { none: '', finite: ', with signed zeros and denormals', all: ', with NaN and infinities (the four ops run)' };

function values(n: number, seed: number, lo: number, hi: number, edges: Edges = 'none'): Float32Array {
  const next = lcgUint32(seed);
  const special = SPECIAL[edges];
  return Float32Array.from({ length: n }, () => {
    const s = next();
    if (special.length > 0 && (s >>> 5) % 89 === 0) return special[s % special.length];
    return lo + (hi - lo) * (s / 2 ** 32);
  });
}

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength)));
}

const CASES: { name: string; x: [number, number, number, number]; w: [number, number, number, number] }[] = [
  { name: "conv1's shape (one input channel)", x: [3, 28, 28, 1], w: [5, 5, 1, 32] },
  { name: "conv2's shape", x: [2, 14, 14, 32], w: [5, 5, 32, 64] },
  { name: 'a 3x3 filter, three channels, not square', x: [2, 6, 10, 3], w: [3, 3, 3, 16] },
  { name: 'one window (padding on every side)', x: [1, 2, 2, 2], w: [5, 5, 2, 16] },
];

describe('fused conv + bias + ReLU + pool', () => {
  for (const edges of ['none', 'finite', 'all'] as const) {
    for (const c of CASES) {
      it(`is bitwise conv2d, add, relu, maxPool: ${c.name}${EDGE_NAMES[edges]}`, () => {
        const x = tf.tensor4d(
          values(
            c.x.reduce((a, b) => a * b),
            1 + c.x[3],
            -0.3,
            1,
            edges,
          ),
          c.x,
        );
        const w = tf.tensor4d(
          values(
            c.w.reduce((a, b) => a * b),
            2 + c.x[3],
            -0.2,
            0.2,
            edges,
          ),
          c.w,
        );
        const b = tf.tensor1d(values(c.w[3], 3, -0.1, 0.1));
        let kernels = 0;
        const fused = tf.tidy(() => {
          const before = tf.engine().state.numTensors;
          const r = convBiasReluPool(x, w, b);
          kernels = tf.engine().state.numTensors - before;
          return r;
        });
        const ops = tf.tidy(() => tf.maxPool(tf.relu(tf.add(tf.conv2d(x, w, 1, 'same'), b)) as tf.Tensor4D, 2, 2, 'same'));
        // The fused kernel leaves one tensor (no intermediates); the four ops, when they run, more.
        const nonFinite = [x, w].some((t) => (t.dataSync() as Float32Array).some((v) => !Number.isFinite(v)));
        if (edges !== 'all') expect(nonFinite).toBe(false);
        if (nonFinite) expect(kernels).toBeGreaterThan(1);
        else expect(kernels).toBe(1);
        expect(fused.shape).toEqual(ops.shape);
        const f = fused.dataSync() as Float32Array;
        expect(bits(f)).toEqual(bits(ops.dataSync() as Float32Array));
        if (f.length > 64) expect(f.some((v) => v > 0) && f.some((v) => v === 0)).toBe(true);
        tf.dispose([x, w, b, fused, ops]);
      });
    }
  }

  it('falls back to the four ops where the kernel does not apply (output channels not a multiple of 16, odd sizes)', () => {
    for (const [xs, ws] of [
      [
        [2, 8, 8, 1],
        [5, 5, 1, 8],
      ],
      [
        [1, 7, 7, 4],
        [5, 5, 4, 16],
      ],
    ] as [number[], number[]][]) {
      const x = tf.tensor(
        values(
          xs.reduce((a, b) => a * b),
          4,
          -0.3,
          1,
        ),
        xs as [number, number, number, number],
      ) as tf.Tensor4D;
      const w = tf.tensor(
        values(
          ws.reduce((a, b) => a * b),
          5,
          -0.2,
          0.2,
        ),
        ws as [number, number, number, number],
      ) as tf.Tensor4D;
      const b = tf.tensor1d(values(ws[3], 6, -0.1, 0.1));
      const a = tf.tidy(() => convBiasReluPool(x, w, b).dataSync() as Float32Array);
      const e = tf.tidy(
        () => tf.maxPool(tf.relu(tf.add(tf.conv2d(x, w, 1, 'same'), b)) as tf.Tensor4D, 2, 2, 'same').dataSync() as Float32Array,
      );
      expect(bits(a)).toEqual(bits(e));
      tf.dispose([x, w, b]);
    }
  });

  it("makes the evaluation forward with direct conv2 bitwise the training forward's logits", () => {
    const shape = seedModelShape([32, 64, 64]);
    const params = initialParams(shape, { init: 'truncated-normal', seed: 3 }).map((p, i) =>
      tf.tensor(
        p.map((v) => (i % 2 === 0 ? v * 10 : v)),
        paramShapes(shape)[i],
      ),
    );
    const x = values(30 * 784, 8, 0, 1);
    const training = tf.tidy(() => forwardLogits(shape, params, tf.tensor2d(x, [30, 784])).dataSync() as Float32Array);
    const evaluation = tf.tidy(
      () => forwardLogits(shape, params, tf.tensor2d(x, [30, 784]), { evaluation: 'direct' }).dataSync() as Float32Array,
    );
    expect(bits(evaluation)).toEqual(bits(training));
    tf.dispose(params);
  });
});
