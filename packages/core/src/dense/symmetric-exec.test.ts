// Exact symmetric execution (dense/symmetric-exec.ts, the representative layers of dense/model.ts):
// evaluation logits bitwise those of every unit computed, for the seed model after constant-init
// steps (Winograd and direct conv2); whole runs with symmetricExec on and off give the same
// metrics.jsonl records, CSV lines and weights hash, including runs that stop being symmetric
// (random pool ties, a network made asymmetric at step k), which fall back to the full layers.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config';
import { initEngine } from '../engine/engine';
import { gatherPixels, type MnistData } from '../data/mnist';
import { type EvalRecord, type RunSummary, runExperiment } from '../run/run-experiment';
import { forwardLogits } from './model';
import { symmetricLayers } from './symmetric-exec';
import { Trainer } from './trainer';
import { loadSmallMnist } from '../../../../test/small-mnist';

let data: MnistData;

beforeAll(async () => {
  await initEngine();
  data = loadSmallMnist();
});

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength)));
}

/** Evaluation logits of the first `n` train images, with the given symmetric layers (or none). */
function logits(t: Trainer, n: number, conv: 'winograd' | 'direct', symmetric: boolean): Float32Array {
  const pixels = new Float32Array(n * 784);
  gatherPixels(
    data.train,
    Array.from({ length: n }, (_, i) => i),
    pixels,
  );
  const x = tf.tensor2d(pixels, [n, 784]);
  const out = tf.tidy(() =>
    forwardLogits(t.shape, t.params, x, { evaluation: conv, symmetric: symmetric ? t.symmetricLayers() : undefined }),
  );
  const values = out.dataSync() as Float32Array;
  tf.dispose([x, out]);
  return values;
}

describe('symmetric evaluation', () => {
  it("the seed model after 0, 10 and 30 constant-init steps: one representative per layer, the full logits' bits", () => {
    const t = new Trainer(resolveConfig({ steps: 30 }), data);
    for (const [k, next] of [
      [0, 10],
      [10, 30],
      [30, 30],
    ]) {
      expect(t.symmetricLayers()).toEqual({ conv1: true, conv2: true, fc1: true });
      expect(t.evalPath()).toBe('symmetric');
      for (const conv of ['winograd', 'direct'] as const) {
        const full = logits(t, 60, conv, false);
        // Not vacuous: once trained, the logits differ between images.
        if (k === 30) expect(new Set(full).size).toBeGreaterThan(10);
        expect(bits(logits(t, 60, conv, true))).toEqual(bits(full));
      }
      for (let i = k; i < next; i++) t.trainStep();
    }
    t.dispose();
  });

  it('random init is not symmetric: every unit is computed', () => {
    const t = new Trainer(resolveConfig({ widths: [32, 32, 32], init: 'truncated-normal' }), data);
    expect(t.symmetricLayers()).toEqual({ conv1: false, conv2: false, fc1: false });
    expect(t.evalPath()).toBe('plain');
    t.dispose();
  });

  it('symmetry is checked bitwise: one weight changed in its last bit ends it for that layer only', () => {
    const t = new Trainer(resolveConfig({ widths: [32, 32, 32] }), data);
    t.trainStep();
    const state = t.exportState();
    const w = new Uint32Array(state.params[2].buffer); // conv2.W
    w[w.length - 1] ^= 1;
    t.importState(state);
    expect(symmetricLayers(t.shape, t.paramValues())).toEqual({ conv1: true, conv2: false, fc1: true });
    expect(t.evalPath()).toBe('partly-symmetric');
    expect(bits(logits(t, 40, 'winograd', true))).toEqual(bits(logits(t, 40, 'winograd', false)));
    t.dispose();
  });
});

/** A run's metrics records (elapsed time aside), CSV lines, evaluation paths and summary. */
async function run(config: Record<string, unknown>) {
  const records: Omit<EvalRecord, 'elapsedMs'>[] = [];
  const csv: string[] = [];
  const paths: string[] = [];
  const summary: RunSummary = await runExperiment(resolveConfig(config), data, {
    // Yield to the event loop now and then: a long synchronous run starves vitest's worker RPC.
    betweenSteps: (step) => (step % 20 === 0 ? new Promise((done) => setImmediate(() => done('continue'))) : 'continue'),
    onEvent: (e) => {
      if (e.type !== 'eval') return;
      const { elapsedMs: _, ...record } = e.record;
      records.push(record);
      csv.push(e.csvLine);
      paths.push(e.path ?? 'none');
    },
  });
  return { records, csv, paths, summary };
}

describe('whole runs with symmetric execution on and off', () => {
  for (const [name, config, expectPaths] of [
    ['constant init, widths [32,32,32], 50 steps', { widths: [32, 32, 32], steps: 50, evalEvery: 10, evalTrain: 200 }, 'symmetric'],
    [
      'constant init, widths [32,32,32], batch 10, 500 steps',
      { widths: [32, 32, 32], batch: 10, steps: 500, evalEvery: 100, evalTrain: 200 },
      'symmetric',
    ],
    ['random pool ties (the conv layers split), 30 steps', { widths: [32, 32, 32], steps: 30, evalEvery: 10, poolTies: 'random' }, 'mixed'],
    ['perturbed init, 20 steps', { widths: [32, 32, 32], steps: 20, evalEvery: 10, perturb: 1e-6 }, 'plain'],
  ] as const) {
    it(`${name}: same metrics records, CSV lines and weights hash`, async () => {
      const on = await run({ ...config, symmetricExec: 'on' });
      const off = await run({ ...config, symmetricExec: 'off' });
      expect(on.records).toEqual(off.records);
      expect(on.csv).toEqual(off.csv);
      expect(on.summary.weightsSha256).toBe(off.summary.weightsSha256);
      expect(off.paths.every((p) => p === 'plain')).toBe(true);
      if (expectPaths === 'symmetric') expect(on.paths.every((p) => p === 'symmetric')).toBe(true);
      // Training steps too: once per copy set exactly while the network is one group per copy set.
      expect(off.summary.stepPaths).toEqual({ symmetric: 0, plain: config.steps });
      if (expectPaths === 'symmetric') expect(on.summary.stepPaths).toEqual({ symmetric: config.steps, plain: 0 });
      if (expectPaths !== 'symmetric') expect(on.summary.stepPaths!.plain).toBeGreaterThan(0);
      if (expectPaths === 'plain') expect(on.paths.every((p) => p === 'plain')).toBe(true);
      if (expectPaths === 'mixed') {
        expect(on.paths[0]).toBe('symmetric');
        expect(on.paths.at(-1)).not.toBe('symmetric');
      }
      expect(on.summary.evalPaths).toEqual({
        symmetric: on.paths.filter((p) => p === 'symmetric').length,
        'partly-symmetric': on.paths.filter((p) => p === 'partly-symmetric').length,
        plain: on.paths.filter((p) => p === 'plain').length,
      });
    });
  }

  it('a network made asymmetric at step 7 falls back and still gives the plain bits', () => {
    const on = new Trainer(resolveConfig({ widths: [32, 32, 32], symmetricExec: 'on' }), data);
    const off = new Trainer(resolveConfig({ widths: [32, 32, 32], symmetricExec: 'off' }), data);
    const scores = (t: Trainer) => [t.evaluate(data.train, 300), t.evaluate(data.test, 200)];
    const paths: string[] = [];
    for (let step = 0; step < 12; step++) {
      if (step === 7) {
        // The test hook: the same change to one of fc1's weights in both runs (large enough that
        // Adam's updates do not round it away, as they would a one-bit change of a zero weight).
        for (const t of [on, off]) {
          const state = t.exportState();
          state.params[4][5] += 1e-3;
          t.importState(state);
        }
      }
      paths.push(on.evalPath());
      expect(scores(on)).toEqual(scores(off));
      const [a, b] = [on.trainStep(), off.trainStep()];
      expect(Object.is(a, b), `step ${step + 1}: ${a} vs ${b}`).toBe(true);
    }
    expect(paths.slice(0, 7).every((p) => p === 'symmetric')).toBe(true);
    expect(paths.slice(7).every((p) => p !== 'symmetric')).toBe(true);
    expect(on.weightsSha256()).toBe(off.weightsSha256());
    on.dispose();
    off.dispose();
  });
});
