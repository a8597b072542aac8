// The symmetric training step (dense/symmetric-step.ts and its WebAssembly, on the orbit arrays of
// dense/symmetric-orbit.ts) against the full step through tfjs's autodiff and the wasm kernels:
// losses bitwise equal step by step, then the weights and Adam's state; the WebAssembly against the
// TypeScript on states no training reaches; and the fallbacks (asymmetry, non-finite values).
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig, type ExperimentConfig } from '../config';
import { initEngine } from '../engine/engine';
import type { MnistData } from '../data/mnist';
import { gatherPixels } from '../data/mnist';
import { MT19937 } from '../random/prng';
import { hashFloat32Arrays } from '../run/weights-hash';
import { seedModelShape } from './model';
import { compressToOrbit, expandOrbit, findOrbit, orbitSizes } from './symmetric-orbit';
import { symmetricGradients } from './symmetric-step';
import { SymmetricStepWasm } from './symmetric-step-wasm';
import { Trainer } from './trainer';
import { loadSmallMnist } from '../../../../test/small-mnist';

let data: MnistData;

beforeAll(async () => {
  await initEngine();
  data = loadSmallMnist();
});

const lossBits = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0];

/** Steps both trainers `steps` times, comparing every loss bitwise, then the weights and Adam state. */
function expectSameRun(on: Trainer, off: Trainer, steps: number): void {
  for (let s = 0; s < steps; s++) {
    const a = on.trainStep();
    const b = off.trainStep();
    expect(lossBits(a), `loss at step ${on.step}: ${a} vs ${b}`).toBe(lossBits(b));
  }
  expect(on.weightsSha256()).toBe(off.weightsSha256());
  const x = on.exportState();
  const y = off.exportState();
  expect(hashFloat32Arrays(x.adam.m)).toBe(hashFloat32Arrays(y.adam.m));
  expect(hashFloat32Arrays(x.adam.v)).toBe(hashFloat32Arrays(y.adam.v));
  expect([x.adam.step, x.adam.beta1Power, x.adam.beta2Power]).toEqual([y.adam.step, y.adam.beta1Power, y.adam.beta2Power]);
}

function pair(overrides: Partial<ExperimentConfig>): [Trainer, Trainer] {
  return [
    new Trainer(resolveConfig({ ...overrides, symmetricExec: 'on' }), data),
    new Trainer(resolveConfig({ ...overrides, symmetricExec: 'off' }), data),
  ];
}

/** A random orbit state no training reaches: weights of both signs and mixed magnitudes. */
function randomOrbit(widths: [number, number, number], seed: number): Float32Array[] {
  const rng = new MT19937(seed);
  const shape = seedModelShape(widths);
  return orbitSizes(shape).map((n, i) => {
    const scale = i % 2 === 1 ? 0.1 : [0.3, 0, 0.05, 0, 0.01, 0, 0.05, 0][i];
    return Float32Array.from({ length: n }, () => scale * rng.gauss() * (rng.nextDouble() < 0.1 ? 1e-3 : 1));
  });
}

describe('symmetric training step', () => {
  it('the seed model: 30 constant-init steps once per copy set equal every unit computed', () => {
    const [on, off] = pair({});
    expectSameRun(on, off, 30);
    expect(on.stepPaths).toEqual({ symmetric: 30, plain: 0 });
    expect(off.stepPaths).toEqual({ symmetric: 0, plain: 30 });
    on.dispose();
    off.dispose();
  }, 120_000);

  it("pool ties 'last': 30 constant-init steps once per copy set equal every unit computed, and differ from 'first'", () => {
    const [on, off] = pair({ poolTies: 'last' });
    expectSameRun(on, off, 30);
    expect(on.stepPaths).toEqual({ symmetric: 30, plain: 0 });
    const [first] = pair({});
    for (let s = 0; s < 30; s++) first.trainStep();
    // Not vacuous: tied maxima (conv1's blank background, relu(b1) in every cell) get the gradient.
    expect(on.weightsSha256()).not.toBe(first.weightsSha256());
    // The WebAssembly against the TypeScript under both rules, on the state reached.
    const orbit = compressToOrbit(on.shape, on.paramValues())!;
    const indices = Array.from({ length: 50 }, (_, i) => i);
    const pixels = new Float32Array(50 * 784);
    gatherPixels(data.train, indices, pixels);
    const labels = Uint8Array.from(indices, (i) => data.train.labels[i]);
    const wasm = new SymmetricStepWasm(on.shape, 50);
    for (const ties of ['first', 'last'] as const) {
      const ts = symmetricGradients(on.shape, orbit, pixels, labels, 'seed', ties)!;
      const got = wasm.gradients(orbit, pixels, labels, 'seed', ties)!;
      expect(
        got.grads.map((g) => hashFloat32Arrays([g])),
        ties,
      ).toEqual(ts.grads.map((g) => hashFloat32Arrays([g])));
    }
    for (const t of [on, off, first]) t.dispose();
  }, 120_000);

  it('widths that are not multiples of 16 (the stock kernels) and batch 7: 40 steps', () => {
    const [on, off] = pair({ widths: [4, 8, 12], batch: 7 });
    expectSameRun(on, off, 40);
    expect(on.stepPaths.symmetric).toBe(40);
    on.dispose();
    off.dispose();
  });

  it('a random symmetric state (weights of both signs): the same step as every unit computed, and WebAssembly = TypeScript', () => {
    const widths: [number, number, number] = [16, 32, 48];
    const shape = seedModelShape(widths);
    for (const seed of [1, 2, 3]) {
      const orbit = randomOrbit(widths, seed);
      const full = expandOrbit(shape, orbit);
      expect(compressToOrbit(shape, full)).toEqual(orbit);
      const [on, off] = pair({ widths, seed });
      for (const t of [on, off]) {
        const state = t.exportState();
        state.params = full.map((a) => a.slice());
        t.importState(state);
      }
      // The same batch through the TypeScript and the WebAssembly step, bitwise.
      const indices = Array.from({ length: 50 }, (_, i) => (i * 7 + seed) % data.train.count);
      const pixels = new Float32Array(50 * 784);
      gatherPixels(data.train, indices, pixels);
      const labels = Uint8Array.from(indices, (i) => data.train.labels[i]);
      const ts = symmetricGradients(shape, orbit, pixels, labels, 'seed');
      const wasm = new SymmetricStepWasm(shape, 50).gradients(orbit, pixels, labels, 'seed');
      expect(ts).not.toBeNull();
      expect(wasm!.grads.map((g) => hashFloat32Arrays([g]))).toEqual(ts!.grads.map((g) => hashFloat32Arrays([g])));
      expect(lossBits(wasm!.loss)).toBe(lossBits(ts!.loss));
      // Not vacuous: every gradient tensor has nonzero entries.
      expect(ts!.grads.every((g) => g.some((v) => v !== 0))).toBe(true);
      expectSameRun(on, off, 3);
      expect(on.stepPaths.symmetric).toBe(3);
      on.dispose();
      off.dispose();
    }
  });

  it('signed zeros, denormals and tiny weights: the same step as every unit computed, WebAssembly = TypeScript', () => {
    const widths: [number, number, number] = [16, 32, 48];
    const shape = seedModelShape(widths);
    const special = [-0, 0, 1e-40, -3e-42, 1.1754942e-38, -1e-45];
    const orbit = randomOrbit(widths, 9).map((a, i) => (i === 7 ? a : a.map((v, j) => (j % 3 === 0 ? special[j % special.length] : v))));
    expect(orbit[0].some((v) => Object.is(v, -0))).toBe(true);
    expect(orbit[4].some((v) => v !== 0 && Math.abs(v) < 1.1754943508222875e-38)).toBe(true); // a denormal
    const [on, off] = pair({ widths });
    for (const t of [on, off]) {
      const state = t.exportState();
      state.params = expandOrbit(shape, orbit);
      t.importState(state);
    }
    const indices = Array.from({ length: 50 }, (_, i) => i);
    const pixels = new Float32Array(50 * 784);
    gatherPixels(data.train, indices, pixels);
    const labels = Uint8Array.from(indices, (i) => data.train.labels[i]);
    const ts = symmetricGradients(shape, orbit, pixels, labels, 'seed')!;
    const wasm = new SymmetricStepWasm(shape, 50).gradients(orbit, pixels, labels, 'seed')!;
    expect(wasm.grads.map((g) => hashFloat32Arrays([g]))).toEqual(ts.grads.map((g) => hashFloat32Arrays([g])));
    expectSameRun(on, off, 3);
    expect(on.stepPaths.symmetric).toBe(3);
    on.dispose();
    off.dispose();
  });

  it('resumed mid-run from a checkpointed state, the symmetric step continues bitwise', () => {
    const widths: [number, number, number] = [16, 16, 16];
    const [on, off] = pair({ widths });
    expectSameRun(on, off, 8);
    const resumed = new Trainer(resolveConfig({ widths, symmetricExec: 'on' }), data);
    resumed.importState(on.exportState());
    on.dispose();
    expectSameRun(resumed, off, 8);
    expect(resumed.stepPaths).toEqual({ symmetric: 8, plain: 0 });
    resumed.dispose();
    off.dispose();
  });

  it('a network made asymmetric at step 5 (test hook) falls back to every unit and stays equal', () => {
    const widths: [number, number, number] = [16, 16, 16];
    const [on, off] = pair({ widths });
    expectSameRun(on, off, 5);
    for (const t of [on, off]) {
      const state = t.exportState();
      state.params[2][3] += 1e-3; // one conv2 weight
      t.importState(state);
    }
    expectSameRun(on, off, 6);
    expect(on.stepPaths).toEqual({ symmetric: 5, plain: 6 });
    on.dispose();
    off.dispose();
  });

  it('an asymmetric Adam moment alone keeps the full step (parameters still symmetric)', () => {
    const widths: [number, number, number] = [16, 16, 16];
    const shape = seedModelShape(widths);
    const t = new Trainer(resolveConfig({ widths }), data);
    t.trainStep();
    const state = t.exportState();
    expect(findOrbit(shape, state.params, state.adam.m, state.adam.v)).not.toBeNull();
    state.adam.v[4][7] = 0.5;
    expect(findOrbit(shape, state.params, state.adam.m, state.adam.v)).toBeNull();
    t.importState(state);
    t.trainStep();
    expect(t.stepPaths).toEqual({ symmetric: 1, plain: 1 });
    t.dispose();
  });

  it('a learning rate that overflows: the step whose values stop being finite runs in full, bitwise as the plain run', () => {
    const [on, off] = pair({ widths: [16, 16, 16], lr: 1e30 });
    expectSameRun(on, off, 6);
    // The first steps are symmetric; the overflow sends the rest to the full step.
    expect(on.stepPaths.symmetric).toBeGreaterThan(0);
    expect(on.stepPaths.plain).toBeGreaterThan(0);
    on.dispose();
    off.dispose();
  });
});
