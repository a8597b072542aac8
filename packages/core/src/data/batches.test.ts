// BatchSampler against TensorFlow's next_batch (TF 0.12 and TF >= 1.1) run under numpy: the
// fixture holds the Python reference's batches (fixtures/make-numpy-golden.py).
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { BatchSampler, type BatchOrder } from './batches';
import { DataError } from '../errors';
import { MT19937, permutation } from '../random/prng';

const golden = JSON.parse(readFileSync(new URL('../../../../fixtures/numpy-golden.json', import.meta.url), 'utf8'));

interface GoldenRun {
  order: BatchOrder;
  n: number;
  batchSize: number;
  seed: number;
  batches: Record<string, number[]>;
}

const sampler = (n: number, b: number, order: BatchOrder, seed = 0) => new BatchSampler(n, b, order, new MT19937(seed));

describe('BatchSampler matches the Python next_batch reference', () => {
  test.each(golden.batches as GoldenRun[])('$order n=$n batch=$batchSize seed=$seed', (run) => {
    const s = sampler(run.n, run.batchSize, run.order, run.seed);
    const last = Math.max(...Object.keys(run.batches).map(Number));
    for (let step = 0; step <= last; step++) {
      const batch = s.next();
      const expected = run.batches[String(step)];
      if (expected) expect(Array.from(batch), `step ${step}`).toEqual(expected);
    }
  });
});

describe("'tf0' (TF 0.11/0.12)", () => {
  test('the first 1100 batches of 55000/50 are in file order, batch 1101 is numpy shuffle #1', () => {
    const s = sampler(55000, 50, 'tf0');
    for (let step = 0; step < 1100; step++) {
      const batch = s.next();
      expect(batch[0]).toBe(step * 50);
      expect(batch[49]).toBe(step * 50 + 49);
    }
    expect(s.epochs).toBe(0);
    // np.random.seed(0); perm = np.arange(55000); np.random.shuffle(perm); perm[:50]
    const perm1 = permutation(55000, new MT19937(0));
    expect(Array.from(s.next())).toEqual(Array.from(perm1.subarray(0, 50)));
    expect(Array.from(perm1.subarray(0, 50))).toEqual(golden.shuffle55000.shuffle1Head50);
    expect(Array.from(s.next())).toEqual(Array.from(perm1.subarray(50, 100)));
    expect(s.epochs).toBe(1);
  });

  test('the third epoch sees the two shuffles composed (images = images[perm] twice)', () => {
    const s = sampler(55000, 50, 'tf0');
    for (let step = 0; step < 2200; step++) s.next();
    expect(Array.from(s.next())).toEqual(golden.shuffle55000.composedHead50);
    expect(s.epochs).toBe(2);
  });

  test('n=7, batch 3: the incomplete tail is dropped and never mixed into a batch', () => {
    const s = sampler(7, 3, 'tf0');
    expect(Array.from(s.next())).toEqual([0, 1, 2]);
    expect(Array.from(s.next())).toEqual([3, 4, 5]);
    // Index 6 is skipped: the third batch is the start of a reshuffled epoch.
    const third = Array.from(s.next());
    const rng = new MT19937(0);
    expect(third).toEqual(Array.from(permutation(7, rng).subarray(0, 3)));
    expect(s.epochs).toBe(1);
    for (let i = 0; i < 50; i++) expect(new Set(s.next()).size).toBe(3);
  });
});

describe("'tf1' (TF >= 1.1)", () => {
  test('the first epoch is already shuffled', () => {
    const s = sampler(55000, 50, 'tf1');
    const perm0 = permutation(55000, new MT19937(0));
    expect(Array.from(s.next())).toEqual(Array.from(perm0.subarray(0, 50)));
  });

  test('n=7, batch 3: an epoch end wraps (rest of old epoch + start of the new one)', () => {
    const s = sampler(7, 3, 'tf1');
    const rng = new MT19937(0);
    const first = permutation(7, rng);
    expect(Array.from(s.next())).toEqual(Array.from(first.subarray(0, 3)));
    expect(Array.from(s.next())).toEqual(Array.from(first.subarray(3, 6)));
    const second = permutation(7, rng);
    const composed = Array.from(second, (p) => first[p]);
    expect(Array.from(s.next())).toEqual([first[6], composed[0], composed[1]]);
    expect(s.epochs).toBe(1);
  });

  test('nothing is dropped: 7 batches of 3 are 3 whole epochs of 7 back to back', () => {
    const s = sampler(7, 3, 'tf1', 5);
    const stream = Array.from({ length: 7 }, () => Array.from(s.next())).flat();
    for (let epoch = 0; epoch < 3; epoch++) {
      expect(stream.slice(epoch * 7, epoch * 7 + 7).sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    }
    expect(s.epochs).toBe(2);
  });

  test('batch = count gives one shuffled epoch per batch', () => {
    const s = sampler(5, 5, 'tf1', 3);
    for (let i = 0; i < 4; i++) expect(Array.from(s.next()).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(s.epochs).toBe(3);
  });
});

describe('state and validation', () => {
  for (const order of ['tf0', 'tf1'] as const) {
    test(`${order}: a JSON round-trip mid-epoch continues identically (across reshuffles)`, () => {
      const a = sampler(1000, 30, order, 11);
      for (let i = 0; i < 45; i++) a.next(); // past the first epoch end
      const saved = JSON.parse(JSON.stringify(a.getState()));
      expect(saved.indexInEpoch).not.toBe(0);
      const b = sampler(1000, 30, order, 999);
      b.setState(saved);
      for (let i = 0; i < 100; i++) expect(Array.from(b.next())).toEqual(Array.from(a.next()));
      expect(b.getState()).toEqual(a.getState());
    });
  }

  test('next() returns a fresh array each call', () => {
    const s = sampler(10, 4, 'tf0');
    const first = s.next();
    first.fill(99);
    expect(Array.from(s.next())).toEqual([4, 5, 6, 7]);
    expect(s.getState().arrangement).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('batch size must be 1..count', () => {
    expect(() => sampler(10, 0, 'tf0')).toThrow(DataError);
    expect(() => sampler(10, 11, 'tf0')).toThrow('batch size must be between 1 and the 10 training examples, got 11');
    expect(() => sampler(10, 2.5, 'tf1')).toThrow(DataError);
    expect(() => sampler(0, 1, 'tf1')).toThrow(DataError);
    expect(() => sampler(10, 2, 'tf2' as BatchOrder)).toThrow(DataError);
  });

  test('setState rejects snapshots of another sampler or broken arrangements', () => {
    const s = sampler(6, 2, 'tf0');
    const good = s.getState();
    expect(() => sampler(6, 3, 'tf0').setState(good)).toThrow(RangeError);
    expect(() => sampler(6, 2, 'tf1').setState(good)).toThrow(RangeError);
    expect(() => s.setState({ ...good, arrangement: [0, 1, 2, 3, 4, 4] })).toThrow(RangeError);
    expect(() => s.setState({ ...good, indexInEpoch: 7 })).toThrow(RangeError);
    expect(() => s.setState({ ...good, rng: { ...good.rng, pos: -1 } })).toThrow(RangeError);
    // Nothing changed after the failed restores.
    expect(s.getState()).toEqual(good);
  });
});
