// Dead units end to end: runExperiment records fc1's activity at every evaluation and reports in
// the summary the units that died and when. A run is stopped after its step-0 evaluation, its fc1
// is made dead (bias < 0, weights 0: ReLU output 0 on every image, so no gradient ever revives it)
// and the run resumed; the unchanged run is the live control. On the twin and the dense model.
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig, type ExperimentConfig } from '../config';
import { initEngine } from '../engine/engine';
import type { MnistData } from '../data/mnist';
import type { Checkpoint } from './checkpoint';
import { runExperiment, type EvalRecord } from './run-experiment';
import { loadSmallMnist } from '../../../../test/small-mnist';

let data: MnistData;

beforeAll(async () => {
  await initEngine();
  data = loadSmallMnist();
});

async function run(config: ExperimentConfig, resume?: Checkpoint) {
  const records: EvalRecord[] = [];
  let atZero: Checkpoint | null = null;
  const summary = await runExperiment(
    config,
    data,
    {
      onEvent: (e) => e.type === 'eval' && records.push(e.record),
      betweenSteps: (step, snapshot) => {
        if (step === 0) atZero = snapshot();
        return 'continue';
      },
    },
    resume,
  );
  return { records, summary, atZero: atZero as Checkpoint | null };
}

for (const model of ['twin', 'dense'] as const) {
  describe(`dead fc1 units (${model})`, () => {
    const config = resolveConfig({ model, widths: '2,3,4', steps: 6, evalEvery: 2, evalTrain: 100, batch: 20 });
    const units = model === 'twin' ? 1 : 4;

    it('records a live unit as active and reports no dead unit', async () => {
      const { records, summary } = await run(config);
      expect(records.map((r) => r.step)).toEqual([0, 2, 4, 6]);
      for (const r of records) {
        // The constant init: every copy equal, one group, active on every image (fc1 = its bias 0.1 at first).
        expect(r.activity!.fc1.images).toBe(100 + data.test.count);
        expect(r.activity!.fc1.groups.map((g) => g.units)).toEqual([[[0, units - 1]]]);
        expect(r.activity!.fc1.groups[0].active).toBeGreaterThan(0);
        // conv1's and conv2's channels: one group each (the dense copies, or the twin's one channel
        // standing for them), active on every image at first (every output is its bias 0.1).
        const convWidth = (layer: 0 | 1) => (model === 'twin' ? 1 : [2, 3][layer]);
        for (const layer of [0, 1] as const) {
          const a = r.activity![layer === 0 ? 'conv1' : 'conv2']!;
          expect(a.images).toBe(100 + data.test.count);
          expect(a.groups.map((g) => g.units)).toEqual([[[0, convWidth(layer) - 1]]]);
        }
        if (r.step === 0) expect([r.activity!.conv1!.groups[0].active, r.activity!.conv2!.groups[0].active]).toEqual([1, 1]);
      }
      expect(records[0].activity!.fc1.groups[0].active).toBe(1);
      const channels = (layer: 0 | 1) => (model === 'twin' ? 1 : [2, 3][layer]);
      expect(summary.deadUnits).toEqual({
        fc1: { units, dead: 0, died: [] },
        conv1: { units: channels(0), dead: 0, died: [] },
        conv2: { units: channels(1), dead: 0, died: [] },
      });
    });

    it('reports a unit made dead after step 0 as dead from the next evaluation', async () => {
      const { atZero } = await run(config);
      const ckpt = atZero!;
      ckpt.trainer.params[4].fill(0); // fc1.W
      ckpt.trainer.params[5].fill(-0.1); // fc1.b
      const { records, summary } = await run(config, ckpt);
      expect(records.map((r) => [r.step, r.activity!.fc1.groups.map((g) => g.active)])).toEqual([
        [2, [0]],
        [4, [0]],
        [6, [0]],
      ]);
      expect(summary.deadUnits!.fc1).toEqual({ units, dead: units, died: [{ step: 2, units: [[0, units - 1]] }] });
    });

    it('reports conv1 channels made dead after step 0 (zero filter, negative bias) as dead conv1 channels', async () => {
      const { atZero } = await run(config);
      const ckpt = atZero!;
      const c1 = model === 'twin' ? 1 : 2;
      // The last conv1 channel (the twin's only one): filter 0, bias -0.1, so its ReLU output is 0 everywhere.
      const w1 = ckpt.trainer.params[0];
      for (let t = 0; t < w1.length; t += c1) w1[t + c1 - 1] = 0;
      ckpt.trainer.params[1][c1 - 1] = -0.1;
      const { records, summary } = await run(config, ckpt);
      const dead = model === 'twin' ? [[0, 0]] : [[1, 1]];
      expect(records[0].activity!.conv1!.groups.find((g) => g.active === 0)?.units).toEqual(dead);
      expect(summary.deadUnits!.conv1).toEqual({ units: c1, dead: 1, died: [{ step: 2, units: dead }] });
    });

    // The dense model only: the twin has one unit.
    it.skipIf(model === 'twin')('tells a dead copy from its live copies once they differ', async () => {
      const { atZero } = await run(config);
      const ckpt = atZero!;
      const w3 = ckpt.trainer.params[4];
      for (let r = 0; r < w3.length; r += 4) w3[r + 2] = 0; // unit 2's column
      ckpt.trainer.params[5][2] = -0.1;
      const { records, summary } = await run(config, ckpt);
      expect(records[0].activity!.fc1.groups.map((g) => [g.units, g.active])).toEqual([
        [
          [
            [0, 1],
            [3, 3],
          ],
          1,
        ],
        [[[2, 2]], 0],
      ]);
      expect(summary.deadUnits!.fc1).toEqual({ units: 4, dead: 1, died: [{ step: 2, units: [[2, 2]] }] });
    });
  });
}
