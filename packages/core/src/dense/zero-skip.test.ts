// Whole training runs with the convolution gradients' zero skipping (kernels/zero-skip.ts) and
// without, stepped side by side: every loss, the weights hash and Adam's state are the same bits,
// for random init, a perturbed constant init, random pool ties with shuffled bias sums, the seed
// model's constant init, and a run whose seed loss turns NaN (the full path then takes over).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config';
import { initEngine } from '../engine/engine';
import { setConvGradZeroSkip, zeroSkipCounts } from '../kernels/zero-skip';
import type { MnistData } from '../data/mnist';
import { Trainer } from './trainer';
import { loadSmallMnist } from '../../../../test/small-mnist';

let data: MnistData;

beforeAll(async () => {
  await initEngine();
  data = loadSmallMnist();
});

afterEach(() => {
  setConvGradZeroSkip(true);
});

/** Steps a skipping and a full trainer of `config` side by side; returns their losses. */
function sideBySide(config: Record<string, unknown>, steps: number) {
  // The full step's kernels are the subject: a constant-init run would otherwise step once per copy set.
  const skipping = new Trainer(resolveConfig({ ...config, symmetricExec: 'off' }), data);
  const full = new Trainer(resolveConfig({ ...config, symmetricExec: 'off' }), data);
  const before = { ...zeroSkipCounts };
  const losses: [number, number][] = [];
  for (let i = 0; i < steps; i++) {
    setConvGradZeroSkip(true);
    const a = skipping.trainStep();
    setConvGradZeroSkip(false);
    const b = full.trainStep();
    losses.push([a, b]);
  }
  setConvGradZeroSkip(true);
  const skipped = zeroSkipCounts.filterSkipped - before.filterSkipped + zeroSkipCounts.inputSkipped - before.inputSkipped;
  const result = {
    losses,
    skipped,
    hashes: [skipping.weightsSha256(), full.weightsSha256()],
    m: [skipping.adam.m.map((a) => Array.from(a)), full.adam.m.map((a) => Array.from(a))],
  };
  skipping.dispose();
  full.dispose();
  return result;
}

describe('training with zero skipping gives the full path bits', () => {
  for (const [name, config, steps] of [
    ['random init, widths [4,8,16], batch 10', { widths: [4, 8, 16], batch: 10, init: 'truncated-normal', seed: 5 }, 30],
    ['perturbed constant init, widths [8,16,32]', { widths: [8, 16, 32], batch: 20, perturb: 1e-3 }, 20],
    [
      'random pool ties and shuffled bias sums, widths [4,8,16]',
      { widths: [4, 8, 16], batch: 10, poolTies: 'random', reduceOrder: 'shuffled' },
      20,
    ],
    ["the seed model's widths and constant init, batch 50", { widths: [32, 64, 128] }, 6],
  ] as const) {
    it(`${name}: same losses, weights hash and Adam state`, () => {
      const r = sideBySide(config, steps);
      // Every step's two convolution-gradient calls (conv2's dW and dx) skipped zeros.
      expect(r.skipped).toBe(2 * steps);
      for (const [a, b] of r.losses) expect(Object.is(a, b), `${a} vs ${b}`).toBe(true);
      expect(r.hashes[0]).toBe(r.hashes[1]);
      expect(r.m[0]).toEqual(r.m[1]);
    });
  }

  it('a run whose seed loss turns NaN: the full path takes over, same bits', () => {
    const r = sideBySide({ widths: [4, 4, 8], batch: 8, lr: 100 }, 4);
    expect(r.losses[0][0]).toBeCloseTo(Math.log(10) - Math.log(1e-7), 4);
    expect(r.losses[1][0]).toBeNaN();
    // Step 1 skipped zeros (finite), step 2's NaN gradient and the NaN weights after it did not.
    expect(r.skipped).toBe(2);
    for (const [a, b] of r.losses) expect(Object.is(a, b)).toBe(true);
    expect(r.hashes[0]).toBe(r.hashes[1]);
  });
});
