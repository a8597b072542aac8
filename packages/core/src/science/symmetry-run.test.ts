// Symmetry diagnostics end to end on wasm: runExperiment records them at every evaluation and in
// the summary; the constant init keeps one group per copy set, the truncated-normal init does not.
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config';
import { initEngine } from '../engine/engine';
import type { MnistData } from '../data/mnist';
import { runExperiment, type EvalRecord } from '../run/run-experiment';
import { SYMMETRY_KEYS } from './symmetry';
import { loadSmallMnist } from '../../../../test/small-mnist';

let data: MnistData;

beforeAll(async () => {
  await initEngine();
  data = loadSmallMnist();
});

const QUICK = { widths: '2,3,4', steps: 4, evalEvery: 2, evalTrain: 100, batch: 20 };

describe('symmetry in runExperiment', () => {
  it('records one group per copy set at every evaluation of a constant-init run', async () => {
    const records: EvalRecord[] = [];
    const summary = await runExperiment(resolveConfig(QUICK), data, {
      onEvent: (e) => e.type === 'eval' && records.push(e.record),
    });
    expect(records.map((r) => r.step)).toEqual([0, 2, 4]);
    for (const r of [...records.map((x) => x.symmetry), summary.symmetry]) {
      expect(SYMMETRY_KEYS.map((k) => [r[k].groups, r[k].groupsTol, r[k].maxRelDiff])).toEqual(SYMMETRY_KEYS.map(() => [1, 1, 0]));
    }
    expect(SYMMETRY_KEYS.map((k) => summary.symmetry[k].copies)).toEqual([2, 3, 2, 3, 4, 4]);
  });

  it('sees every copy distinct from the start with the truncated-normal init', async () => {
    const summary = await runExperiment(resolveConfig({ ...QUICK, init: 'truncated-normal' }), data);
    for (const k of SYMMETRY_KEYS) expect(summary.symmetry[k].groups).toBe(summary.symmetry[k].copies);
    expect(summary.symmetry['conv1.out'].maxRelDiff).toBeGreaterThan(0.1);
  });
});
