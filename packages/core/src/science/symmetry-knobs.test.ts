// What breaks the symmetry, on tiny runs of the real engine: the tie rules 'first'/'last' keep every
// copy set at one group, 'random' (seeded, deterministic) splits them; --perturb splits them from
// step 0 and is recorded in the config; perturb 0 is exactly the seed's init.
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config';
import { initEngine } from '../engine/engine';
import type { MnistData } from '../data/mnist';
import { initialParams, seedModelShape } from '../dense/model';
import { deriveStream } from '../random/prng';
import { runExperiment, type EvalRecord } from '../run/run-experiment';
import { SYMMETRY_KEYS } from './symmetry';
import { loadSmallMnist } from '../../../../test/small-mnist';

let data: MnistData;

beforeAll(async () => {
  await initEngine();
  data = loadSmallMnist();
});

const QUICK = { widths: '3,4,6', steps: 3, evalEvery: 3, evalTrain: 0, batch: 20, loss: 'stable' };

async function run(extra: Record<string, unknown>) {
  const records: EvalRecord[] = [];
  const summary = await runExperiment(resolveConfig({ ...QUICK, ...extra }), data, {
    onEvent: (e) => e.type === 'eval' && records.push(e.record),
  });
  return { summary, records };
}

const groups = (s: EvalRecord['symmetry']) => SYMMETRY_KEYS.map((k) => s[k].groups);

describe('symmetry-breaking knobs', () => {
  it("pool ties 'first' and 'last' keep one group per copy set; 'last' is a different run", async () => {
    const first = await run({ poolTies: 'first' });
    const last = await run({ poolTies: 'last' });
    expect(groups(first.summary.symmetry)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(groups(last.summary.symmetry)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(last.summary.weightsSha256).not.toBe(first.summary.weightsSha256);
    expect(last.summary.config.poolTies).toBe('last');
  });

  it("pool ties 'random' splits the conv copies, reproducibly for a seed", async () => {
    // Gradients reach conv2 at step 3 and conv1 at step 4 (every weight downstream starts at 0).
    const a = await run({ poolTies: 'random', seed: 3, steps: 5, evalEvery: 1 });
    const seq = a.records.map((r) => groups(r.symmetry));
    for (let step = 0; step < 3; step++) expect(seq[step]).toEqual([1, 1, 1, 1, 1, 1]);
    expect(seq[3][1]).toBeGreaterThan(1); // conv2.out after step 3
    expect(seq[5][0]).toBeGreaterThan(1); // conv1.out after step 4
    expect(seq[5][2]).toBeGreaterThan(1); // conv2.in
    expect(seq[5][3]).toBeGreaterThan(1); // fc1.in
    // fc1's units see identical inputs and get identical gradients whatever the pooling did.
    for (const g of seq) expect([g[4], g[5]]).toEqual([1, 1]);
    const b = await run({ poolTies: 'random', seed: 3, steps: 5, evalEvery: 1 });
    const c = await run({ poolTies: 'random', seed: 4, steps: 5, evalEvery: 1 });
    expect(b.summary.weightsSha256).toBe(a.summary.weightsSha256);
    expect(c.summary.weightsSha256).not.toBe(a.summary.weightsSha256);
  });

  it('perturb X adds X * N(0,1) from stream 3 to every weight; 0 is the seed init bitwise', async () => {
    const shape = seedModelShape([3, 4, 6]);
    const plain = initialParams(shape, { init: 'constant', seed: 2 });
    expect(initialParams(shape, { init: 'constant', seed: 2, perturb: 0 })).toEqual(plain);
    const noisy = initialParams(shape, { init: 'constant', seed: 2, perturb: 1e-3 });
    const rng = deriveStream(2, 3);
    for (let i = 0; i < 8; i += 2) for (let j = 0; j < noisy[i].length; j++) expect(noisy[i][j]).toBe(Math.fround(1e-3 * rng.gauss()));
    for (let i = 1; i < 8; i += 2) expect(noisy[i]).toEqual(plain[i]); // biases untouched
    const r = await run({ perturb: 1e-3, seed: 2 });
    expect(r.summary.config.perturb).toBe(1e-3);
    expect(groups(r.records[0].symmetry)).toEqual([3, 4, 3, 4, 6, 6]);
    expect(r.records[0].symmetry['conv1.out'].maxRelDiff).toBeGreaterThan(0.01);
  });
});
