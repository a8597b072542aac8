// Checkpoint bytes: exact round trip of the trainer state, resume equality of the run loop (after a
// requested checkpoint and after a stop), refusal of corrupted, truncated, foreign and mismatched
// checkpoints. Narrow models and the small fixture keep it fast.
import { beforeAll, describe, expect, it } from 'vitest';
import { checkResumeConfig, decodeCheckpoint, encodeCheckpoint, type Checkpoint } from './checkpoint';
import { resolveConfig, type ExperimentConfig } from '../config';
import { initEngine } from '../engine/engine';
import { CheckpointError } from '../errors';
import type { MnistData } from '../data/mnist';
import { runExperiment, type EvalRecord, type RunSummary } from './run-experiment';
import { Trainer } from '../dense/trainer';
import { loadSmallMnist } from '../../../../test/small-mnist';

let data: MnistData;

beforeAll(async () => {
  await initEngine();
  data = loadSmallMnist();
});

// lr 0.01 and batch 400 make the weights move and the data order wrap an epoch (1000 images) by step 3.
const base = {
  widths: '2,3,4',
  steps: 9,
  evalEvery: 3,
  evalTrain: 50,
  lr: 0.01,
  batch: 400,
  order: 'tf1',
  init: 'truncated-normal',
  seed: 7,
};

function config(extra: Record<string, unknown> = {}): ExperimentConfig {
  return resolveConfig({ ...base, ...extra });
}

/** Records and summary without the wall-clock fields, which are the only ones allowed to differ. */
function timeless(records: EvalRecord[], summary: RunSummary) {
  return {
    records: records.map(({ elapsedMs: _e, ...r }) => r),
    summary: { ...summary, msPerStep: 0, wallMs: 0 },
  };
}

async function run(cfg: ExperimentConfig, hooks: Parameters<typeof runExperiment>[2] = {}, resume?: Checkpoint) {
  const records: EvalRecord[] = [];
  const summary = await runExperiment(cfg, data, { ...hooks, onEvent: (e) => e.type === 'eval' && records.push(e.record) }, resume);
  return { records, summary };
}

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('checkpoint bytes', () => {
  it('round-trips a trainer state exactly, and the restored trainer continues bitwise', () => {
    const cfg = config();
    const a = new Trainer(cfg, data);
    for (let i = 0; i < 4; i++) a.trainStep();
    const bytes = encodeCheckpoint({
      engineVersion: '0.1.0',
      config: cfg,
      data: 'x',
      trainer: a.exportState(),
      run: { firstNanStep: null, lastLoss: NaN, stepMs: 1.5, elapsedMs: -0, lastEval: null },
    });
    const back = decodeCheckpoint(bytes);
    expect(back.config).toEqual(cfg);
    expect(back.run.lastLoss).toBeNaN();
    expect(Object.is(back.run.elapsedMs, -0)).toBe(true);
    expect(back.trainer.sampler).toEqual(a.sampler.getState());
    const b = new Trainer(cfg, data);
    b.importState(back.trainer);
    expect(b.weightsSha256()).toBe(a.weightsSha256());
    for (let i = 0; i < 3; i++) expect(Object.is(b.trainStep(), a.trainStep())).toBe(true);
    expect(b.weightsSha256()).toBe(a.weightsSha256());
    expect(Array.from(b.adam.v[0])).toEqual(Array.from(a.adam.v[0]));
    a.dispose();
    b.dispose();
  });

  it('carries the random pool-tie stream, so --pool-ties random resumes bitwise', async () => {
    const cfg = config({ poolTies: 'random', init: 'constant', steps: 6 });
    let saved: Uint8Array | null = null;
    const full = await run(cfg, { checkpointAt: (s) => s === 3, onCheckpoint: (c) => void (saved = encodeCheckpoint(c)) });
    const ckpt = decodeCheckpoint(saved!);
    const fresh = new Trainer(cfg, data);
    expect(Object.keys(ckpt.trainer.rngs!)).toEqual(['poolTies']);
    expect(ckpt.trainer.rngs!.poolTies.key).not.toEqual(fresh.poolTies.rng!.getState().key); // it was drawn from
    expect(() => fresh.importState({ ...ckpt.trainer, rngs: {} })).toThrow(/RNG streams \[\] do not match this run's \[poolTies\]/);
    fresh.dispose();
    const resumed = await run(cfg, {}, ckpt);
    expect(resumed.summary.weightsSha256).toBe(full.summary.weightsSha256);
  });

  it('a run resumed from a requested checkpoint, or from a stop, equals the uninterrupted run', async () => {
    const cfg = config();
    const saved = new Map<number, Uint8Array>();
    const full = await run(cfg, {
      checkpointAt: (s) => s === 4 || s === 6,
      onCheckpoint: (c) => void saved.set(c.trainer.step, encodeCheckpoint(c)),
    });
    expect([...saved.keys()]).toEqual([4, 6]);
    const expected = timeless(full.records, full.summary);

    for (const step of [4, 6]) {
      const resumed = await run(cfg, {}, decodeCheckpoint(saved.get(step)!));
      const got = timeless(resumed.records, resumed.summary);
      expect(got.summary).toEqual(expected.summary);
      // The resumed run emits only the evaluations after the checkpoint.
      expect(got.records).toEqual(expected.records.filter((r) => r.step > step));
    }

    let stopped: Checkpoint | null = null;
    await expect(
      run(cfg, { betweenSteps: (s) => (s === 3 ? 'stop' : 'continue'), onCheckpoint: (c) => void (stopped = c) }),
    ).rejects.toThrow('run stopped after step 3');
    const fromStop = await run(cfg, {}, decodeCheckpoint(encodeCheckpoint(stopped!)));
    expect(timeless(fromStop.records, fromStop.summary)).toEqual({
      records: expected.records.filter((r) => r.step > 3),
      summary: expected.summary,
    });

    // More steps from a checkpoint: equals a longer uninterrupted run.
    const longer = await run(config({ steps: 11 }));
    const extended = await run(config({ steps: 11, threads: 1 }), {}, decodeCheckpoint(saved.get(6)!));
    expect(extended.summary.weightsSha256).toBe(longer.summary.weightsSha256);
    expect(timeless(extended.records, extended.summary).records).toEqual(
      timeless(longer.records, longer.summary).records.filter((r) => r.step > 6),
    );
  });

  it('carries every evaluation so far (the page rebuilds its CSV/metrics from them); betweenSteps can snapshot', async () => {
    const cfg = config();
    const saved = new Map<number, Checkpoint>();
    const full = await run(cfg, {
      checkpointAt: (s) => s === 6,
      onCheckpoint: (c) => void saved.set(c.trainer.step, decodeCheckpoint(encodeCheckpoint(c))),
      betweenSteps: (s, snapshot) => {
        if (s === 4) saved.set(4, snapshot());
        return 'continue';
      },
    });
    expect(saved.get(6)!.run.evals).toEqual(full.records.filter((r) => r.step <= 6));
    expect(saved.get(4)!.run.evals).toEqual(full.records.filter((r) => r.step <= 4));
    // A snapshot taken between steps resumes like a requested checkpoint.
    const resumed = await run(cfg, {}, decodeCheckpoint(encodeCheckpoint(saved.get(4)!)));
    expect(resumed.summary.weightsSha256).toBe(full.summary.weightsSha256);
    // Resumed with more steps: the old final evaluation (step 8) is off the new schedule and dropped.
    let extended: Checkpoint | null = null;
    const short = await run(config({ steps: 8 }), { checkpointAt: (s) => s === 8, onCheckpoint: (c) => void (extended = c) });
    expect(short.records.map((r) => r.step)).toEqual([0, 3, 6, 8]);
    const from8 = decodeCheckpoint(encodeCheckpoint(extended!));
    await run(config({ steps: 12 }), { checkpointAt: (s) => s === 10, onCheckpoint: (c) => void (extended = c) }, from8);
    expect(extended!.run.evals!.map((r) => r.step)).toEqual([0, 3, 6, 9]);
    // A checkpoint without the history (an older build) resumes, and its checkpoints stay without one.
    const old = decodeCheckpoint(encodeCheckpoint(saved.get(4)!));
    delete old.run.evals;
    let after: Checkpoint | null = null;
    await run(cfg, { checkpointAt: (s) => s === 6, onCheckpoint: (c) => void (after = c) }, old);
    expect(after!.run.evals).toBeUndefined();
  });

  it('refuses foreign, truncated, corrupted and unsupported bytes with one-line CheckpointErrors', () => {
    const cfg = config();
    const t = new Trainer(cfg, data);
    const bytes = encodeCheckpoint({
      engineVersion: '0.1.0',
      config: cfg,
      data: 'x',
      trainer: t.exportState(),
      run: { firstNanStep: null, lastLoss: null, stepMs: 0, elapsedMs: 0, lastEval: null },
    });
    t.dispose();
    const cases: [string, Uint8Array, RegExp][] = [
      ['foreign', new TextEncoder().encode('{"config": {}}\n'), /not a mnist-sym-wasm checkpoint/],
      ['png', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]), /not a mnist-sym-wasm checkpoint/],
      ['empty', new Uint8Array(0), /truncated/],
      ['truncated', bytes.subarray(0, bytes.length - 100), /truncated \(\d+ of \d+ bytes\)/],
      ['header only', bytes.subarray(0, 30), /truncated/],
      ['trailing', Uint8Array.from([...bytes, 0]), /corrupted/],
    ];
    for (const at of [9 * 1, 40, Math.floor(bytes.length / 2), bytes.length - 1]) {
      const flipped = bytes.slice();
      flipped[at] ^= 0x10;
      cases.push([`flip ${at}`, flipped, at === 9 ? /format version/ : /checksum mismatch/]);
    }
    for (const [name, b, pattern] of cases) {
      const e = errorOf(() => decodeCheckpoint(b));
      expect(e, name).toBeInstanceOf(CheckpointError);
      expect(e.message, name).toMatch(pattern);
      expect(e.message, name).not.toContain('\n');
    }
  });

  it('accepts only steps, threads and symmetricExec as config changes on resume', () => {
    const cfg = config();
    const t = new Trainer(cfg, data);
    t.trainStep();
    const ckpt: Checkpoint = {
      engineVersion: '0.1.0',
      config: cfg,
      data: 'x',
      trainer: t.exportState(),
      run: { firstNanStep: null, lastLoss: 1, stepMs: 0, elapsedMs: 0, lastEval: null },
    };
    t.dispose();
    expect(() => checkResumeConfig(ckpt, config({ steps: 50, threads: 2, symmetricExec: 'off' }))).not.toThrow();
    expect(() => checkResumeConfig(ckpt, config({ lr: 0.02 }))).toThrow(
      /different config \(lr 0.01 -> 0.02\); only steps, threads and symmetricExec/,
    );
    expect(() => checkResumeConfig(ckpt, config({ widths: '2,3,5', evalTrain: 10 }))).toThrow(/widths 2,3,4 -> 2,3,5, evalTrain 50 -> 10/);
    expect(() => checkResumeConfig(ckpt, config({ steps: 0 }))).toThrow(/already at step 1/);
    expect(() => checkResumeConfig({ ...ckpt, engineVersion: '9.9.9' }, cfg)).toThrow(/engine 9.9.9/);
    const other = new Trainer(config({ widths: '2,3,5' }), data);
    expect(() => other.importState(ckpt.trainer)).toThrow(RangeError);
    other.dispose();
  });
});
