// The convolution gradients' exact zero skipping (kernels/zero-skip.ts, assembly/kernels/zero-skip.ts)
// against the full Conv2DBackpropFilter and Conv2DBackpropInput, bitwise: on mostly-zero output
// gradients as ReLU and max-pool leave them, with signed zeros, denormals, products that overflow
// and odd channel counts (the skipping kernels run, counted); with NaN or infinities in any operand
// (the full path runs, counted); and where it does not apply (one input channel).
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/engine';
import { setConvGradZeroSkip, zeroSkipCounts } from './zero-skip';
import { lcgUint32 } from '../../../../test/lcg';

beforeAll(async () => {
  await initEngine();
});

afterEach(() => {
  setConvGradZeroSkip(true);
});

type Edges = 'none' | 'finite' | 'nan' | 'inf';
const SPECIAL = { none: [], finite: [0, -0, 1e-40, -1e-42, 3e38, -2e38], nan: [NaN], inf: [Infinity, -Infinity] };

/** Values in [-1, 1) scaled by 2^(-4..4); `zeros` of them exactly 0 or -0, and about 1 in 89 special. */
function values(n: number, seed: number, zeros: number, edges: Edges = 'none'): Float32Array {
  const next = lcgUint32(seed);
  const special = SPECIAL[edges];
  return Float32Array.from({ length: n }, () => {
    const s = next();
    if (special.length > 0 && (s >>> 5) % 89 === 0) return special[s % special.length];
    if ((s >>> 8) % 1000 < zeros * 1000) return s % 2 === 0 ? 0 : -0;
    return (s / 2 ** 32 - 0.5) * 2 ** ((s % 9) - 4);
  });
}

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength)));
}

type Shape4 = [number, number, number, number];
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** dW and dx of conv2d(x, w) for the output gradient dy, with zero skipping on or off. */
function grads(x: tf.Tensor4D, w: tf.Tensor4D, dy: tf.Tensor4D, pad: 'same' | 'valid', skip: boolean) {
  setConvGradZeroSkip(skip);
  const attrs = { strides: 1, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, dilations: 1 };
  const dw = tf
    .engine()
    .runKernel(tf.Conv2DBackpropFilter, { x, dy }, { ...attrs, filterShape: w.shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
  const dx = tf
    .engine()
    .runKernel(tf.Conv2DBackpropInput, { dy, filter: w }, { ...attrs, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
  const out = { dw: dw.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array };
  tf.dispose([dw, dx]);
  setConvGradZeroSkip(true);
  return out;
}

const CASES: { name: string; x: Shape4; w: Shape4; pad: 'same' | 'valid'; zeros?: number }[] = [
  { name: "conv2's shape", x: [3, 14, 14, 32], w: [5, 5, 32, 64], pad: 'same' },
  { name: "conv2's shape, no zero in dy (full term lists)", x: [3, 14, 14, 32], w: [5, 5, 32, 64], pad: 'same', zeros: 0 },
  { name: 'twelve channels each way (groups of 4 only), valid padding', x: [2, 7, 9, 12], w: [3, 2, 12, 12], pad: 'valid' },
  { name: 'twenty channels in, 36 out (groups of 16 and of 4), not square', x: [2, 6, 11, 20], w: [5, 3, 20, 36], pad: 'same' },
];

describe('convolution gradients with zero skipping', () => {
  for (const c of CASES) {
    for (const edges of ['none', 'finite'] as const) {
      it(`skip zeros and give the full path's bits: ${c.name}${edges === 'finite' ? ', signed zeros, denormals, overflow' : ''}`, () => {
        const dyShape: Shape4 = [
          c.x[0],
          c.pad === 'same' ? c.x[1] : c.x[1] - c.w[0] + 1,
          c.pad === 'same' ? c.x[2] : c.x[2] - c.w[1] + 1,
          c.w[3],
        ];
        const x = tf.tensor4d(values(size(c.x), 1 + c.x[3], 0.02, edges), c.x);
        const w = tf.tensor4d(values(size(c.w), 2 + c.x[3], 0.02, edges), c.w);
        const dy = tf.tensor4d(values(size(dyShape), 3 + c.x[3], c.zeros ?? 0.8, edges), dyShape);
        const before = { ...zeroSkipCounts };
        const skipped = grads(x, w, dy, c.pad, true);
        expect(zeroSkipCounts.filterSkipped - before.filterSkipped).toBe(1);
        expect(zeroSkipCounts.inputSkipped - before.inputSkipped).toBe(1);
        const full = grads(x, w, dy, c.pad, false);
        expect(zeroSkipCounts.filterFull - before.filterFull).toBe(1);
        expect(zeroSkipCounts.inputFull - before.inputFull).toBe(1);
        // Not vacuous: most of the filter gradient is nonzero.
        expect(full.dw.filter((v) => v !== 0).length).toBeGreaterThan(full.dw.length / 2);
        expect(bits(skipped.dw)).toEqual(bits(full.dw));
        expect(bits(skipped.dx)).toEqual(bits(full.dx));
        tf.dispose([x, w, dy]);
      });
    }
  }

  for (const [where, edges] of [
    ['x', 'nan'],
    ['dy', 'inf'],
    ['w', 'inf'],
    ['dy', 'nan'],
  ] as const) {
    it(`take the full path when ${where} holds ${edges === 'nan' ? 'NaN' : 'infinities'}`, () => {
      const c = CASES[0];
      const x = tf.tensor4d(values(size(c.x), 11, 0.02, where === 'x' ? edges : 'finite'), c.x);
      const w = tf.tensor4d(values(size(c.w), 12, 0.02, where === 'w' ? edges : 'finite'), c.w);
      const dyShape: Shape4 = [c.x[0], c.x[1], c.x[2], c.w[3]];
      const dy = tf.tensor4d(values(size(dyShape), 13, 0.8, where === 'dy' ? edges : 'finite'), dyShape);
      const before = { ...zeroSkipCounts };
      const a = grads(x, w, dy, c.pad, true);
      const b = grads(x, w, dy, c.pad, false);
      // x's non-finite values only concern dW, w's only dx: the other gradient may still skip.
      const filterSkips = where === 'w' ? 1 : 0;
      const inputSkips = where === 'x' ? 1 : 0;
      expect(zeroSkipCounts.filterSkipped - before.filterSkipped).toBe(filterSkips);
      expect(zeroSkipCounts.inputSkipped - before.inputSkipped).toBe(inputSkips);
      expect(a.dw.some((v) => Number.isNaN(v)) || a.dx.some((v) => Number.isNaN(v))).toBe(true);
      expect(bits(a.dw)).toEqual(bits(b.dw));
      expect(bits(a.dx)).toEqual(bits(b.dx));
      tf.dispose([x, w, dy]);
    });
  }

  it("leave conv1's filter gradient (one input channel) to the full path", () => {
    const x = tf.tensor4d(values(2 * 28 * 28, 21, 0.5), [2, 28, 28, 1]);
    const dy = tf.tensor4d(values(2 * 28 * 28 * 32, 22, 0.8), [2, 28, 28, 32]);
    const w = tf.zeros([5, 5, 1, 32]) as tf.Tensor4D;
    const before = { ...zeroSkipCounts };
    setConvGradZeroSkip(true);
    const dw = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, {
      strides: 1,
      pad: 'same',
      dataFormat: 'NHWC',
      dilations: 1,
      filterShape: w.shape,
    } as unknown as tf.NamedAttrMap) as tf.Tensor;
    expect(zeroSkipCounts.filterFull - before.filterFull).toBe(1);
    expect(zeroSkipCounts.filterSkipped - before.filterSkipped).toBe(0);
    tf.dispose([x, dy, w, dw]);
  });
});
