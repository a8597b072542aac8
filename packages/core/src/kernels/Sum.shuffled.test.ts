// The shuffled bias-gradient sums (Sum under withReduceOrder('shuffled')): each output is a float32
// sequential sum in a drawn order, equal to a plain loop over numpy's permutation; on a crafted
// input it differs from the fixed order in the last bits; 'fixed' keeps the row-order kernel's bits.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/engine';
import { deriveStream, permutation } from '../random/prng';
import { sumColumnsShuffled, withReduceOrder } from './Sum';
import { lcgUint32 } from '../../../../test/lcg';

beforeAll(async () => {
  await initEngine();
  expect(tf.getBackend()).toBe('wasm');
});

/** A float32 column sum of a rows x cols matrix in the given row order, from +0, one term at a time. */
function loopSum(x: Float32Array, cols: number, c: number, order: ArrayLike<number>): number {
  const acc = new Float32Array(1);
  for (let i = 0; i < order.length; i++) acc[0] += x[order[i] * cols + c];
  return acc[0];
}

/** Column 0: 1 then 63 x 2^-24 (each lost after the 1, kept before it); column 1: ordinary values. */
function crafted(): Float32Array {
  const rows = 64;
  const x = new Float32Array(rows * 2);
  const next = lcgUint32(3);
  for (let r = 0; r < rows; r++) {
    x[r * 2] = r === 0 ? 1 : 2 ** -24;
    x[r * 2 + 1] = (next() / 2 ** 32 - 0.5) * 2 ** ((next() % 9) - 4);
  }
  return x;
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength)));
const rowOrder = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('sumColumnsShuffled', () => {
  it('equals a plain float32 loop in the drawn order (one numpy permutation per column, in turn)', () => {
    const x = crafted();
    const got = sumColumnsShuffled(x, 64, 2, deriveStream(1, 4));
    const rng = deriveStream(1, 4);
    const want = [0, 1].map((c) => loopSum(x, 2, c, permutation(64, rng)));
    expect(bits(got)).toEqual(bits(Float32Array.from(want)));
  });

  it('differs from the fixed order in the last bits on a crafted input, and never by more', () => {
    const x = crafted();
    const fixed = loopSum(x, 2, 0, rowOrder(64));
    expect(fixed).toBe(1); // every 2^-24 added after the 1 rounds away (ties to even)
    let differs = 0;
    for (let seed = 0; seed < 20; seed++) {
      const s = sumColumnsShuffled(x, 64, 2, deriveStream(seed, 4));
      if (s[0] !== fixed) differs++;
      expect(Math.abs(s[0] - 1)).toBeLessThan(64 * 2 ** -24);
    }
    expect(differs).toBeGreaterThanOrEqual(18); // equal only when the 1 is drawn first (p = 1/64)
  });
});

describe('the Sum kernel under a reduce order', () => {
  const x = crafted();
  const sum = () => tf.tidy(() => tf.sum(tf.tensor2d(x, [64, 2]), 0).dataSync() as Float32Array);

  it("'fixed' (and no policy) is the row-order sum; 'shuffled' is sumColumnsShuffled with the same stream", () => {
    const plain = Float32Array.from([0, 1].map((c) => loopSum(x, 2, c, rowOrder(64))));
    expect(bits(sum())).toEqual(bits(plain));
    expect(bits(withReduceOrder({ order: 'fixed' }, sum))).toEqual(bits(plain));
    const shuffled = withReduceOrder({ order: 'shuffled', rng: deriveStream(2, 4) }, sum);
    expect(bits(shuffled)).toEqual(bits(sumColumnsShuffled(x, 64, 2, deriveStream(2, 4))));
    expect(bits(sum())).toEqual(bits(plain)); // the policy ends with its call
  });

  it('on the own WebAssembly: the bits of sumColumnsShuffled and the same stream state after, across blocks of the stream', () => {
    const next = lcgUint32(5);
    for (const [rows, cols, skip] of [
      [1, 3, 0],
      [2, 1, 623],
      [5, 7, 624],
      [700, 3, 17],
      [2000, 33, 400],
      [64, 130, 1],
    ] as const) {
      const m = Float32Array.from({ length: rows * cols }, () => (next() / 2 ** 32 - 0.5) * 2 ** ((next() % 17) - 8));
      const kernelRng = deriveStream(rows, 4);
      const referenceRng = deriveStream(rows, 4);
      // Start both streams part-way through a block of 624 words.
      for (let i = 0; i < skip; i++) {
        kernelRng.nextUint32();
        referenceRng.nextUint32();
      }
      const got = withReduceOrder({ order: 'shuffled', rng: kernelRng }, () =>
        tf.tidy(() => tf.sum(tf.tensor2d(m, [rows, cols]), 0).dataSync() as Float32Array),
      );
      const want = sumColumnsShuffled(m, rows, cols, referenceRng);
      expect(bits(got), `${rows}x${cols}`).toEqual(bits(want));
      expect(kernelRng.getState(), `${rows}x${cols}`).toEqual(referenceRng.getState());
    }
  });

  it("shuffles the bias gradient of add(conv, bias): each channel's dy summed over batch and positions", () => {
    const shape: [number, number, number, number] = [2, 5, 5, 3];
    const next = lcgUint32(9);
    const dy = Float32Array.from({ length: 2 * 5 * 5 * 3 }, () => (next() / 2 ** 32 - 0.5) * 2 ** ((next() % 9) - 4));
    const grad = () =>
      tf.tidy(() => {
        const conv = tf.zeros(shape);
        const g = tf.grad((b: tf.Tensor) => tf.sum(tf.mul(tf.add(conv, b), tf.tensor4d(dy, shape))));
        return g(tf.zeros([3])).dataSync() as Float32Array;
      });
    // The outer tf.sum (of a rank-4 tensor over every axis) is not a bias-gradient Sum: only dy's is shuffled.
    const got = withReduceOrder({ order: 'shuffled', rng: deriveStream(4, 4) }, grad);
    expect(bits(got)).toEqual(bits(sumColumnsShuffled(dy, 50, 3, deriveStream(4, 4))));
  });
});
