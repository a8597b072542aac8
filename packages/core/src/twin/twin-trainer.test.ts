// The plain-TypeScript twin (TwinTrainer) against (a) the float64 reference twin and (b) the dense
// wasm engine from the constant init, expanded back to dense: small widths and the seed's widths.
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchSampler } from '../data/batches';
import { resolveConfig } from '../config';
import { initEngine } from '../engine/engine';
import { gatherPixels, type MnistData } from '../data/mnist';
import { MT19937 } from '../random/prng';
import { refAdamInit, refAdamStep } from '../../test-support/reference/reference-adam';
import { REF_PARAM_KEYS, refLossAndGrads, type RefParams, type RefShape } from '../../test-support/reference/reference-model';
import { refTwinAdamScales } from '../../test-support/reference/reference-twin';
import { runExperiment } from '../run/run-experiment';
import { SYMMETRY_KEYS } from '../science/symmetry';
import { Trainer } from '../dense/trainer';
import { twinToDense } from './twin';
import type { Checkpoint } from '../run/checkpoint';
import { EVAL_CHUNK } from '../dense/evaluate';
import type { RunEvent } from '../run/run-experiment';
import { TwinChunkScorer, TwinTrainer, type TwinEvalJob, type TwinEvalPool } from './twin-trainer';
import { sparseImages, twinGeometry, twinParams } from './twin-net';
import { loadSmallMnist } from '../../../../test/small-mnist';

let data: MnistData;

beforeAll(async () => {
  await initEngine();
  data = loadSmallMnist();
});

/** max over tensors t of max|a - b| / unit[t]: differences in units of one Adam step of that tensor. */
function stepDiff(a: ArrayLike<number>[], b: ArrayLike<number>[], unit: number[]): number[] {
  return b.map((want, t) => {
    let d = 0;
    for (let i = 0; i < want.length; i++) d = Math.max(d, Math.abs(a[t][i] - want[i]));
    return d / unit[t];
  });
}

/** max over tensors of max|a - b| / max|b| (0/0 = 0). */
function relDiff(a: ArrayLike<number>[], b: ArrayLike<number>[]): number {
  let worst = 0;
  b.forEach((want, t) => {
    let d = 0;
    let s = 0;
    for (let i = 0; i < want.length; i++) {
      d = Math.max(d, Math.abs(a[t][i] - want[i]));
      s = Math.max(s, Math.abs(want[i]));
    }
    worst = Math.max(worst, s === 0 ? d : d / s);
  });
  return worst;
}

describe('TwinTrainer', () => {
  it('follows the float64 reference twin (same batches, lr/eps multipliers) to float32 precision', () => {
    const config = resolveConfig({ model: 'twin', widths: '32,64,1024', batch: 20, lr: 1e-3, loss: 'stable' });
    const twin = new TwinTrainer(config, data);
    const shape: RefShape = { height: 28, width: 28, c1: 1, c2: 1, f1: 1, classes: 10 };
    const ref = {} as RefParams;
    REF_PARAM_KEYS.forEach((k, i) => (ref[k] = Float64Array.from(twin.params[i])));
    const state = refAdamInit(ref);
    const scales = refTwinAdamScales({ ...shape, c1: 32, c2: 64, f1: 1024 });
    const sampler = new BatchSampler(data.train.count, 20, 'tf0', new MT19937(0));
    const pixels = new Float32Array(20 * 784);
    let worst = 0;
    let worstSteps = 0;
    for (let step = 0; step < 40; step++) {
      const idx = sampler.next();
      gatherPixels(data.train, idx, pixels);
      const labels = Uint8Array.from(idx, (i) => data.train.labels[i]);
      const r = refLossAndGrads(shape, ref, Float64Array.from(pixels), labels, 20, 'stable');
      const loss = twin.trainStep();
      expect(Math.abs(loss - r.loss) / r.loss).toBeLessThan(1e-5);
      refAdamStep(ref, r.grads, state, { lr: 1e-3, ...scales });
      worst = Math.max(
        worst,
        relDiff(
          twin.params,
          REF_PARAM_KEYS.map((k) => ref[k]),
        ),
      );
      const steps = stepDiff(
        twin.params,
        REF_PARAM_KEYS.map((k) => ref[k]),
        twin.scales.lrScale.map((x) => x * 1e-3),
      );
      worstSteps = Math.max(worstSteps, ...steps);
    }
    console.log(
      `TwinTrainer (float32) vs float64 reference twin, 40 steps lr 1e-3: max rel diff ${worst.toExponential(2)}, max diff ${worstSteps.toExponential(2)} Adam steps`,
    );
    // Adam turns float32 round-off in a gradient that cancels to ~0 (e.g. a class seen exactly 1/10
    // of the time at the uniform start) into a visible fraction of one step; nothing else differs.
    expect(worstSteps).toBeLessThan(0.05);
    expect(worst).toBeLessThan(1e-2);
  });

  for (const [widths, steps] of [
    ['2,3,4', 40],
    ['32,64,1024', 8],
  ] as const) {
    it(`reproduces the dense wasm network of widths ${widths} from the constant init (${steps} steps)`, () => {
      const config = resolveConfig({ widths, batch: 50, lr: 1e-3 });
      const dense = new Trainer(config, data);
      const twin = new TwinTrainer({ ...config, model: 'twin' }, data);
      let worst = 0;
      let worstSteps = 0;
      let lossGap = 0;
      for (let step = 0; step < steps; step++) {
        const a = dense.trainStep();
        const b = twin.trainStep();
        lossGap = Math.max(lossGap, Math.abs(a - b) / Math.abs(a));
        const expanded = twinToDense(twin.params, config.widths, 49, 10);
        worst = Math.max(worst, relDiff(expanded, dense.paramValues()));
        worstSteps = Math.max(worstSteps, ...stepDiff(expanded, dense.paramValues(), Array(8).fill(1e-3)));
      }
      const da = dense.evaluate(data.test, 200);
      const tw = twin.evaluate(data.test, 200);
      console.log(
        `dense ${widths} vs twin on wasm/TS, ${steps} steps lr 1e-3: params ${worst.toExponential(2)} rel, ${worstSteps.toExponential(2)} Adam steps, loss ${lossGap.toExponential(2)}, test acc ${da.accuracy} vs ${tw.accuracy}`,
      );
      // Both are float32 with different summation orders; the gap stays a fraction of one Adam step.
      expect(worstSteps).toBeLessThan(0.25);
      expect(lossGap).toBeLessThan(1e-4);
      expect(tw.accuracy).toBe(da.accuracy);
      dense.dispose();
    });
  }

  it('runs the protocol with one copy per set, and resumes bitwise from an exported state', async () => {
    const config = resolveConfig({ model: 'twin', steps: 6, evalEvery: 3, evalTrain: 100, batch: 20 });
    const summary = await runExperiment(config, data);
    expect(summary.config.model).toBe('twin');
    for (const k of SYMMETRY_KEYS) expect(summary.symmetry[k]).toEqual({ copies: 1, groups: 1, groupsTol: 1, maxRelDiff: 0 });
    expect(new TwinTrainer(config, data).exportState().rngs).toEqual({});
    const a = new TwinTrainer(config, data);
    for (let i = 0; i < 3; i++) a.trainStep();
    const b = new TwinTrainer(config, data);
    b.importState(a.exportState());
    for (let i = 0; i < 3; i++) {
      a.trainStep();
      b.trainStep();
    }
    expect(b.weightsSha256()).toBe(a.weightsSha256());
    expect(a.weightsSha256()).toBe(summary.weightsSha256);
    // With random pool ties the tie stream travels with the state too.
    const random = { ...config, poolTies: 'random' as const };
    const c = new TwinTrainer(random, data);
    for (let i = 0; i < 3; i++) c.trainStep();
    const d = new TwinTrainer(random, data);
    d.importState(c.exportState());
    expect(() => new TwinTrainer(config, data).importState(c.exportState())).toThrow(RangeError);
    for (let i = 0; i < 3; i++) {
      c.trainStep();
      d.trainStep();
    }
    expect(d.weightsSha256()).toBe(c.weightsSha256());
  });

  it('overlapped evaluations (a pool scoring while training goes on) give the same events, in order, and checkpoints hold them', async () => {
    const config = resolveConfig({ model: 'twin', steps: 12, evalEvery: 4, evalTrain: 300, batch: 20 });
    // An in-process pool that defers the work to finish(), as worker threads effectively do.
    const g = twinGeometry(data.rows, data.cols);
    const scorer = new TwinChunkScorer(g);
    const images = { train: sparseImages(data.train, data.rows, data.cols), test: sparseImages(data.test, data.rows, data.cols) };
    const log: string[] = [];
    let pending: { jobs: TwinEvalJob[]; params: Float32Array[] } | null = null;
    const pool: TwinEvalPool = {
      begin(jobs, params) {
        expect(pending).toBeNull();
        pending = { jobs, params: params.map((a) => a.slice()) };
        log.push('begin');
      },
      finish() {
        const { jobs, params } = pending!;
        pending = null;
        log.push('finish');
        const p = twinParams(g, params);
        return jobs.map(({ split, count }) => {
          const lossSums: number[] = [];
          let correct = 0;
          let active = 0;
          const convActive: [number, number] = [0, 0];
          for (let start = 0; start < count; start += EVAL_CHUNK) {
            const r = scorer.score(p, images[split], data[split].labels, start, Math.min(EVAL_CHUNK, count - start), config.loss);
            correct += r.correct;
            active += r.active;
            convActive[0] += r.convActive[0];
            convActive[1] += r.convActive[1];
            lossSums.push(r.lossSum);
          }
          return { correct, lossSums, active, convActive };
        });
      },
    };
    const events = async (withPool: boolean, checkpointAt?: number) => {
      const out: RunEvent[] = [];
      const checkpoints: Checkpoint[] = [];
      const summary = await runExperiment(config, data, {
        twinEvalPool: withPool ? pool : undefined,
        onEvent: (e) => {
          out.push(e);
          if (e.type === 'eval') log.push(`eval ${e.record.step}`);
          if (e.type === 'step') log.push(`step ${e.step}`);
        },
        checkpointAt: (step) => step === checkpointAt,
        onCheckpoint: (c) => {
          checkpoints.push(c);
        },
      });
      return { out, checkpoints, summary };
    };
    const plain = await events(false);
    log.length = 0;
    const overlapped = await events(true, 6);
    const evals = (r: { out: RunEvent[] }) => r.out.flatMap((e) => (e.type === 'eval' ? [{ ...e.record, elapsedMs: 0 }] : []));
    expect(evals(overlapped)).toEqual(evals(plain));
    expect(evals(plain)[0].activity?.fc1.groups).toEqual([{ units: [[0, 0]], active: 1 }]);
    expect(evals(overlapped).map((r) => r.step)).toEqual([0, 4, 8, 12]);
    expect(overlapped.summary.weightsSha256).toBe(plain.summary.weightsSha256);
    // After step 4: step 0's evaluation is settled, step 4's begun; steps 5 and 6 train meanwhile,
    // and the checkpoint at 6 settles it first.
    const at4 = log.indexOf('eval 4');
    expect(log.slice(log.indexOf('step 4'), at4 + 1)).toEqual([
      'step 4',
      'finish',
      'eval 0',
      'begin',
      'step 5',
      'step 6',
      'finish',
      'eval 4',
    ]);
    expect(overlapped.checkpoints).toHaveLength(1);
    expect(overlapped.checkpoints[0].run.lastEval?.step).toBe(4);
    expect(overlapped.checkpoints[0].run.evals?.map((r) => r.step)).toEqual([0, 4]);
    // The last evaluation is settled before the run ends.
    expect(log.slice(-3)).toEqual(['begin', 'finish', 'eval 12']);
  });
});
