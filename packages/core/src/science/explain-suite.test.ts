// explain's plan: the quick suite gives each run the length its effect needs, the user's --steps or
// --eval-every give every run one length, and --full is the seed's protocol with losses and orders.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config';
import { explainSuite, QUICK_LENGTHS, QUICK_TEST_IMAGES } from './explain-suite';

const lengths = (plan: ReturnType<typeof explainSuite>) =>
  Object.fromEntries(plan.entries.map((e) => [e.id, [e.config.steps, e.config.evalEvery]]));

describe('explainSuite', () => {
  it('quick: each run at its own length, a 2000-image test subset, no train evaluation', () => {
    const plan = explainSuite();
    expect(plan.uniform).toBe(false);
    expect(plan.testImages).toBe(QUICK_TEST_IMAGES);
    const L = QUICK_LENGTHS;
    const len = (x: { steps: number; evalEvery: number }) => [x.steps, x.evalEvery];
    expect(lengths(plan)).toEqual({
      'dense-constant': len(L.symmetricDense),
      'twin-constant': len(L.twin),
      'dense-truncated-normal': len(L.randomInit),
      'dense-perturb-1e-10': len(L.perturb),
      'dense-perturb-1e-30': len(L.tinyPerturb),
      'dense-ties-last': len(L.ties),
      'dense-ties-random': len(L.ties),
      'dense-reduce-shuffled': len(L.reduceOrder),
    });
    for (const e of plan.entries) expect(e.config.evalTrain).toBe(0);
    // The twin evaluates at every step the dense runs evaluate (the findings compare at equal steps).
    const twinSteps = new Set<number>();
    const twin = plan.entries.find((e) => e.id === 'twin-constant')!.config;
    for (let s = 0; s <= twin.steps; s += twin.evalEvery) twinSteps.add(s);
    for (const e of plan.entries.filter((x) => x.role !== 'ties' && !(x.role === 'perturb' && x.config.perturb <= 1e-20)))
      for (let s = 0; s <= e.config.steps; s += e.config.evalEvery) expect(twinSteps.has(s)).toBe(true);
    // A tiny perturbation's run evaluates conv2 by direct sums (Winograd meets subnormal products there).
    for (const e of plan.entries) expect([e.id, e.config.evalConv]).toEqual([e.id, e.id === 'dense-perturb-1e-30' ? 'direct' : 'winograd']);
    const shuffled = plan.entries.find((e) => e.id === 'dense-reduce-shuffled')!.config;
    expect([shuffled.reduceOrder, shuffled.reduceShuffle]).toEqual(['shuffled', 'bias']);
  });

  it('given --steps or --eval-every, every run has that length; other values apply to every run', () => {
    const plan = explainSuite({ overrides: { steps: '6', evalEvery: '3', widths: '4,8,16', evalTrain: '100' } });
    expect(plan.uniform).toBe(true);
    for (const e of plan.entries) {
      expect([e.config.steps, e.config.evalEvery, e.config.evalTrain]).toEqual([6, 3, 100]);
      expect(e.config.widths).toEqual([4, 8, 16]);
    }
  });

  it('--full: the seed protocol, all test images, the other losses and four data orders', () => {
    const plan = explainSuite({ full: true });
    expect(plan.testImages).toBe(Number.POSITIVE_INFINITY);
    for (const e of plan.entries) expect([e.config.steps, e.config.evalEvery, e.config.evalTrain]).toEqual([20000, 100, 'all']);
    const ids = plan.entries.map((e) => e.id);
    expect(ids).toContain('dense-loss-stable');
    expect(ids).toContain('twin-loss-epsilon');
    expect(ids.filter((id) => id.startsWith('twin-order-'))).toHaveLength(4);
    expect(plan.entries.find((e) => e.id === 'dense-constant')!.config).toEqual({ ...DEFAULT_CONFIG, widths: [32, 64, 1024] });
  });

  it('refuses bad config values through core', () => {
    expect(() => explainSuite({ overrides: { steps: 'x' } })).toThrow(/invalid steps/);
  });
});
