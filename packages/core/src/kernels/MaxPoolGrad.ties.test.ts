// The max-pool tie rules as a symmetry-breaking knob: 'random' hands each tied window's gradient
// to one of its tied maxima, drawn from the run's seeded stream; the rule is scoped to one call.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/engine';
import { deriveStream, MT19937 } from '../random/prng';
import { withPoolTies, type PoolTiePolicy } from './MaxPoolGrad';

beforeAll(async () => {
  await initEngine();
  expect(tf.getBackend()).toBe('wasm');
});

/** dL/dx of sum(maxPool2x2(x) * r) on wasm under a tie policy. */
function poolGrad(policy: PoolTiePolicy, shape: [number, number, number, number], x: Float32Array, r?: Float32Array): Float32Array {
  return withPoolTies(
    policy,
    () =>
      tf
        .tidy(() => {
          const xt = tf.tensor4d(x, shape);
          const y = tf.maxPool(xt, 2, 2, 'same');
          const rt = r ? tf.tensor(r, y.shape) : tf.onesLike(y);
          return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, 2, 2, 'same'), rt)))(xt);
        })
        .dataSync() as Float32Array,
  );
}

describe("MaxPoolGrad tie rule 'random'", () => {
  const shape: [number, number, number, number] = [4, 8, 8, 4];
  const flat = new Float32Array(4 * 8 * 8 * 4).fill(0.1);

  it('gives each window its whole gradient, at one cell, spread over the four tied cells', () => {
    const g = poolGrad({ rule: 'random', rng: deriveStream(1, 2) }, shape, flat);
    const atCorner = [0, 0, 0, 0];
    for (let n = 0; n < 4; n++) {
      for (let py = 0; py < 4; py++) {
        for (let px = 0; px < 4; px++) {
          for (let c = 0; c < 4; c++) {
            const cells = [0, 1, 2, 3].map((k) => g[((n * 8 + 2 * py + (k >> 1)) * 8 + 2 * px + (k & 1)) * 4 + c]);
            expect(cells.filter((v) => v === 1).length, 'one winner').toBe(1);
            expect(cells.filter((v) => v === 0).length).toBe(3);
            atCorner[cells.indexOf(1)]++;
          }
        }
      }
    }
    // 256 windows: each corner's count is Binomial(256, 1/4) = 64 +- 7; far from 'first' (all at 0).
    for (const count of atCorner) expect(count).toBeGreaterThan(35);
  });

  it('is deterministic for a seed, differs across seeds, and never picks a non-maximum', () => {
    const x = flat.slice();
    for (let i = 0; i < x.length; i += 3) x[i] = 0.05; // some windows have 2 or 3 tied maxima
    const a = poolGrad({ rule: 'random', rng: deriveStream(5, 2) }, shape, x);
    const b = poolGrad({ rule: 'random', rng: deriveStream(5, 2) }, shape, x);
    const c = poolGrad({ rule: 'random', rng: deriveStream(6, 2) }, shape, x);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    for (let i = 0; i < x.length; i++) if (x[i] !== Math.fround(0.1)) expect(a[i]).toBe(0);
  });

  it('draws only for windows with ties (distinct maxima consume no randomness)', () => {
    const x = Float32Array.from({ length: flat.length }, (_, i) => i);
    const rng = deriveStream(9, 2);
    const first = poolGrad({ rule: 'first' }, shape, x);
    expect(Array.from(poolGrad({ rule: 'random', rng }, shape, x))).toEqual(Array.from(first));
    expect(rng.nextUint32()).toBe(deriveStream(9, 2).nextUint32());
  });
});

describe('withPoolTies', () => {
  const shape: [number, number, number, number] = [1, 2, 2, 1];
  const tied = new Float32Array([1, 1, 1, 1]);

  it("applies 'last' inside and restores the default 'first' afterwards, also after a throw", () => {
    expect(Array.from(poolGrad({ rule: 'last' }, shape, tied))).toEqual([0, 0, 0, 1]);
    expect(() =>
      withPoolTies({ rule: 'last' }, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    const outside = tf.tidy(() => tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool(a as tf.Tensor4D, 2, 2, 'same')))(tf.tensor4d(tied, shape)));
    expect(Array.from(outside.dataSync())).toEqual([1, 0, 0, 0]);
    outside.dispose();
  });

  it("refuses 'random' without a generator", () => {
    expect(() => withPoolTies({ rule: 'random' }, () => 0)).toThrow(/needs an rng/);
    expect(() => withPoolTies({ rule: 'random', rng: new MT19937(0) }, () => 0)).not.toThrow();
  });
});
