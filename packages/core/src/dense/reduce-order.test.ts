// --reduce-order shuffled on the real engine: the bias and filter gradients' random summation orders
// replay bitwise from the seed, resume bitwise from a checkpoint (the stream travels in `rngs`),
// split copy sets that the fixed order keeps whole, and are refused where they cannot apply.
import { beforeAll, describe, expect, it } from 'vitest';
import { checkResumeConfig, decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../run/checkpoint';
import { resolveConfig, type ExperimentConfig } from '../config';
import { initEngine } from '../engine/engine';
import { ConfigError } from '../errors';
import type { MnistData } from '../data/mnist';
import { runExperiment, type EvalRecord } from '../run/run-experiment';
import { SYMMETRY_KEYS } from '../science/symmetry';
import { Trainer } from './trainer';
import { TwinTrainer } from '../twin/twin-trainer';
import { loadSmallMnist } from '../../../../test/small-mnist';

let data: MnistData;

beforeAll(async () => {
  await initEngine();
  data = loadSmallMnist();
});

// lr 0.01 makes the weights move within a few steps; constant init keeps every copy set whole
// unless something separates the copies.
const base = {
  widths: '3,4,6',
  steps: 6,
  evalEvery: 1,
  evalTrain: 0,
  batch: 20,
  lr: 0.01,
  loss: 'stable',
  reduceOrder: 'shuffled',
  seed: 5,
};

function config(extra: Record<string, unknown> = {}): ExperimentConfig {
  return resolveConfig({ ...base, ...extra });
}

async function run(cfg: ExperimentConfig, hooks: Parameters<typeof runExperiment>[2] = {}, resume?: Checkpoint) {
  const records: EvalRecord[] = [];
  const summary = await runExperiment(cfg, data, { ...hooks, onEvent: (e) => e.type === 'eval' && records.push(e.record) }, resume);
  return { records, summary };
}

const groups = (r: EvalRecord) => SYMMETRY_KEYS.map((k) => r.symmetry[k].groups);

describe("reduce order 'shuffled'", () => {
  it('replays bitwise for a seed, differs across seeds, and splits copy sets the fixed order keeps whole', async () => {
    // Adam hides the first steps' last-bit differences (its early update is about lr * sign(g)).
    const long = { steps: 20, evalEvery: 10 };
    const a = await run(config(long));
    const b = await run(config(long));
    const c = await run(config({ ...long, seed: 6 }));
    const fixed = await run(config({ ...long, reduceOrder: 'fixed' }));
    expect(b.summary.weightsSha256).toBe(a.summary.weightsSha256);
    expect(b.records.map(groups)).toEqual(a.records.map(groups));
    expect(c.summary.weightsSha256).not.toBe(a.summary.weightsSha256);
    expect(fixed.summary.weightsSha256).not.toBe(a.summary.weightsSha256);
    expect(a.summary.config.reduceOrder).toBe('shuffled');
    expect(a.summary.config.reduceShuffle).toBe('bias');
    for (const r of fixed.records) expect(groups(r)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(groups(a.records[0])).toEqual([1, 1, 1, 1, 1, 1]); // the init is untouched
    expect(Math.max(...groups(a.records[a.records.length - 1]))).toBeGreaterThan(1);
  });

  // lr 0.01 above kills fc1 within a few steps, so no gradient reaches the convolutions; at the
  // seed's lr 1e-4 (and widths whose conv outputs take the own convolution) they move from step 2.
  const convMoves = { widths: '16,32,32', lr: 1e-4, steps: 6, evalEvery: 3 };

  it("'filter' and 'all' (conv filter gradients, and both) replay bitwise, differ from 'bias' and split the conv copy sets", async () => {
    const hashes = [(await run(config(convMoves))).summary.weightsSha256];
    for (const reduceShuffle of ['filter', 'all']) {
      const a = await run(config({ ...convMoves, reduceShuffle }));
      const b = await run(config({ ...convMoves, reduceShuffle }));
      expect(b.summary.weightsSha256).toBe(a.summary.weightsSha256);
      expect(b.records.map(groups)).toEqual(a.records.map(groups));
      expect(a.summary.config.reduceShuffle).toBe(reduceShuffle);
      expect(groups(a.records[0])).toEqual([1, 1, 1, 1, 1, 1]);
      const last = a.records[a.records.length - 1].symmetry;
      expect(last['conv1.out'].groups).toBeGreaterThan(1);
      expect(last['conv2.out'].groups).toBeGreaterThan(1);
      // Filter gradients alone cannot split fc1: its units see one input vector and get bitwise
      // equal gradients whatever the convolutions compute (as with random pool ties).
      if (reduceShuffle === 'filter')
        for (const r of a.records) expect([r.symmetry['fc1.out'].groups, r.symmetry['fc2.in'].groups]).toEqual([1, 1]);
      hashes.push(a.summary.weightsSha256);
    }
    const fixed = await run(config({ ...convMoves, reduceOrder: 'fixed' }));
    expect(new Set([...hashes, fixed.summary.weightsSha256]).size).toBe(4);
    for (const r of fixed.records) expect(groups(r)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('resumes bitwise from a checkpoint mid-run: the stream is saved under rngs.reduceOrder', async () => {
    for (const extra of [{}, { poolTies: 'random' }, { ...convMoves, reduceShuffle: 'all' }]) {
      const cfg = config(extra);
      let saved: Uint8Array | null = null;
      const full = await run(cfg, { checkpointAt: (s) => s === 3, onCheckpoint: (ck) => void (saved = encodeCheckpoint(ck)) });
      const ckpt = decodeCheckpoint(saved!);
      const fresh = new Trainer(cfg, data);
      expect(Object.keys(ckpt.trainer.rngs!).sort()).toEqual('poolTies' in extra ? ['poolTies', 'reduceOrder'] : ['reduceOrder']);
      expect(ckpt.trainer.rngs!.reduceOrder.key).not.toEqual(fresh.reduceOrder.rng!.getState().key); // it was drawn from
      expect(() => fresh.importState({ ...ckpt.trainer, rngs: {} })).toThrow(/RNG streams \[\] do not match this run's \[.*reduceOrder\]/);
      fresh.dispose();
      const resumed = await run(cfg, {}, ckpt);
      expect(resumed.summary.weightsSha256).toBe(full.summary.weightsSha256);
      expect(resumed.records.map(groups)).toEqual(full.records.filter((r) => r.step > 3).map(groups));
    }
  });

  it("a checkpoint written before the field existed resumes as 'fixed'; a change of order is refused", async () => {
    const cfg = config({ reduceOrder: 'fixed', steps: 2 });
    let saved: Checkpoint | null = null;
    await run(cfg, { checkpointAt: (s) => s === 1, onCheckpoint: (ck) => void (saved = ck) });
    const { reduceOrder: _o, reduceShuffle: _s, ...older } = saved!.config;
    const old = { ...saved!, config: older as ExperimentConfig };
    expect(() => checkResumeConfig(old, cfg)).not.toThrow();
    expect(() => checkResumeConfig(old, config({ steps: 2 }))).toThrow(/reduceOrder fixed -> shuffled/);
  });

  it("'fixed', the default, keeps the weights of the build before reduce orders existed", async () => {
    // node packages/cli/bin/mnist-sym-wasm.js train --data fixtures/mnist-small --steps 20 --eval-every 10
    //   --eval-train 200 --validation-size 100 --widths 16,32,32 --json, before this field was added.
    const cfg = resolveConfig({ widths: '16,32,32', steps: 20, evalEvery: 0, evalTrain: 0, validationSize: 100 });
    expect(cfg.reduceOrder).toBe('fixed');
    const { summary } = await run(cfg);
    expect(summary.weightsSha256).toBe('efde21fbb2404e06d6954519597b0e4782b53478034d7035270385fe4852446f');
  });

  it('is refused for the twin; unknown orders and reductions are refused', () => {
    expect(() => new TwinTrainer(config({ model: 'twin' }), data)).toThrow(ConfigError);
    expect(() => new TwinTrainer(config({ model: 'twin' }), data)).toThrow(/use --model dense/);
    expect(() => resolveConfig({ reduceShuffle: 'weights' })).toThrow(/invalid reduce-shuffle: .*expected bias\|filter\|all/);
    expect(() => resolveConfig({ reduceOrder: 'random' })).toThrow(/expected fixed\|shuffled/);
  });
});
