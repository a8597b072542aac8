// adamStep (TensorFlow's ApplyAdam in float32 on the wasm heap) against a float64 textbook Adam
// written here: m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2,
// w -= lr sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps). Also: float32 beta powers, fresh output
// tensors, untouched inputs, no leaks.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { adamStep, initAdamState, type AdamHyper } from './adam';
import { initEngine } from '../engine/engine';
import { lcg } from '../../../../test/lcg';

const f = Math.fround;

const SHAPES = [[3, 4], [17], [5, 5, 2, 3], [1]];
const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Gradients over many magnitudes: large, ordinary, comparable to eps, zero, negative zero. */
function gradValues(size: number, rand: () => number, step: number): Float32Array {
  const g = new Float32Array(size);
  for (let j = 0; j < size; j++) {
    const kind = (j + step) % 6;
    const u = rand();
    g[j] = kind === 0 ? u * 100 : kind === 1 ? u : kind === 2 ? u * 1e-3 : kind === 3 ? u * 1e-8 : kind === 4 ? 0 : u * 1e-5;
  }
  if (size > 1) g[size - 1] = -0;
  return g;
}

/**
 * Float64 textbook Adam on plain arrays. The hyper-parameters are taken as the float32 constants
 * TensorFlow's graph holds (beta1, beta2, lr, eps are float32 tensors there) unless `exactConstants`:
 * 1 - f32(0.999) = 0.000999987 is 1.3e-5 away from 0.001, far more than float32 rounding.
 */
class TextbookAdam {
  m: Float64Array[];
  v: Float64Array[];
  t = 0;
  constructor(
    public w: Float64Array[],
    readonly h: AdamHyper & { lrScale?: number[]; epsScale?: number[] },
    readonly exactConstants = false,
  ) {
    this.m = w.map((a) => new Float64Array(a.length));
    this.v = w.map((a) => new Float64Array(a.length));
  }
  step(g: Float32Array[]): void {
    this.t += 1;
    const c = this.exactConstants ? (x: number) => x : f;
    const b1 = c(this.h.beta1);
    const b2 = c(this.h.beta2);
    for (let i = 0; i < this.w.length; i++) {
      const lr = c(this.h.lr) * (this.h.lrScale?.[i] ?? 1);
      const eps = c(this.h.epsilon) * (this.h.epsScale?.[i] ?? 1);
      const alpha = (lr * Math.sqrt(1 - b2 ** this.t)) / (1 - b1 ** this.t);
      for (let j = 0; j < this.w[i].length; j++) {
        this.m[i][j] = b1 * this.m[i][j] + (1 - b1) * g[i][j];
        this.v[i][j] = b2 * this.v[i][j] + (1 - b2) * g[i][j] * g[i][j];
        this.w[i][j] -= (alpha * this.m[i][j]) / (Math.sqrt(this.v[i][j]) + eps);
      }
    }
  }
}

const TF_HYPER: AdamHyper = { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

beforeAll(async () => {
  await initEngine();
  expect(tf.getBackend()).toBe('wasm');
});

describe('adamStep vs a float64 textbook Adam', () => {
  for (const [label, hyper, lrScale, epsScale] of [
    ["TF's defaults, lr 1e-3", TF_HYPER, undefined, undefined],
    ['lr 0.05, beta1 0.5, beta2 0.99, eps 1e-4', { lr: 0.05, beta1: 0.5, beta2: 0.99, epsilon: 1e-4 }, undefined, undefined],
    ['per-tensor lr and eps scales', TF_HYPER, [1, 0.5, 32, 1], [1, 4, 1, 1 / 64]],
  ] as [string, AdamHyper, number[] | undefined, number[] | undefined][]) {
    it(`${label}: 5 steps, weights, updates and moments at float32 precision`, () => {
      const rand = lcg(2024);
      const w0 = SHAPES.map((s) => Float32Array.from({ length: sizeOf(s) }, () => rand() * 2));
      let params = w0.map((a, i) => tf.tensor(a, SHAPES[i]));
      const state = initAdamState(
        w0.map((a) => a.length),
        hyper,
      );
      const ref = new TextbookAdam(
        w0.map((a) => Float64Array.from(a)),
        { ...hyper, lrScale, epsScale },
      );
      for (let t = 1; t <= 5; t++) {
        const gv = SHAPES.map((s) => gradValues(sizeOf(s), rand, t));
        const grads = gv.map((a, i) => tf.tensor(a, SHAPES[i]));
        const next = adamStep(params, grads, state, hyper, lrScale, epsScale);
        ref.step(gv);
        tf.dispose([...grads, ...params]);
        params = next;
        expect(state.step).toBe(t);
        for (let i = 0; i < SHAPES.length; i++) {
          const got = params[i].dataSync();
          expect(params[i].shape).toEqual(SHAPES[i]);
          for (let j = 0; j < got.length; j++) {
            const want = ref.w[i][j];
            const where = `step ${t} tensor ${i} [${j}] g=${gv[i][j]}`;
            // The weight itself: one float32 rounding per step (<= 2^-24 relative each) and
            // the updates' own rounding (~1e-7 of a step of size <= a few lr).
            const lr = hyper.lr * (lrScale?.[i] ?? 1);
            const scale = Math.max(Math.abs(want), Math.abs(w0[i][j]));
            expect(Math.abs(got[j] - want), where).toBeLessThanOrEqual(2 ** -23 * (t + 1) * scale + 1e-5 * lr * t);
            // The accumulated update w_t - w_0, relative to the largest step lr_i * t.
            expect(Math.abs(got[j] - w0[i][j] - (want - w0[i][j])), `${where} update`).toBeLessThanOrEqual(
              1e-4 * lr * t + 2 ** -23 * (t + 1) * scale,
            );
            // Moments (float32 slots): relative to their own size.
            expect(Math.abs(state.m[i][j] - ref.m[i][j])).toBeLessThanOrEqual(1e-6 * Math.abs(ref.m[i][j]) + 1e-30);
            expect(Math.abs(state.v[i][j] - ref.v[i][j])).toBeLessThanOrEqual(1e-6 * Math.abs(ref.v[i][j]) + 1e-30);
          }
        }
      }
      tf.dispose(params);
    });
  }

  it('with the exact (float64) constants instead, v is off by the float32 rounding of 1 - beta2 (1.3e-5)', () => {
    const w = tf.tensor([1, 1]);
    const g = tf.tensor([2, -3]);
    const state = initAdamState([2], TF_HYPER);
    const next = adamStep([w], [g], state, TF_HYPER);
    const exactRef = new TextbookAdam([Float64Array.from([1, 1])], TF_HYPER, true);
    exactRef.step([Float32Array.from([2, -3])]);
    const rel = Math.abs(state.v[0][0] - exactRef.v[0][0]) / exactRef.v[0][0];
    expect(rel).toBeGreaterThan(1.2e-5);
    expect(rel).toBeLessThan(1.4e-5);
    // The weights hardly notice: the step m / sqrt(v) moves by ~6.5e-6 of lr = 6.5e-9, below
    // one float32 ulp of w (6e-8 at 0.999).
    expect(Math.abs(next[0].dataSync()[0] - exactRef.w[0][0])).toBeLessThan(6e-8);
    tf.dispose([w, g, ...next]);
  });

  it('a gradient that is always 0 leaves the weight exactly unchanged; the first step moves others by ~lr', () => {
    const w = tf.tensor([0.5, -0.25, 3]);
    const g = tf.tensor([0, 1e-2, -7]);
    const state = initAdamState([3], TF_HYPER);
    const [next] = adamStep([w], [g], state, TF_HYPER);
    const v = next.dataSync();
    expect(v[0]).toBe(0.5);
    // Step 1: m/(sqrt v) = sign(g) * (1-b1)/sqrt(1-b2), alpha = lr sqrt(1-b2)/(1-b1): a step of lr.
    expect(v[1]).toBeCloseTo(-0.25 - 1e-3, 6);
    expect(v[2]).toBeCloseTo(3 + 1e-3, 6);
    tf.dispose([w, g, next]);
  });
});

describe('adamStep bookkeeping', () => {
  it('beta powers are float32 products, starting at f32(beta) and multiplied by f32(beta) each step', () => {
    const state = initAdamState([2], TF_HYPER);
    expect(state.beta1Power).toBe(f(0.9));
    expect(state.beta2Power).toBe(f(0.999));
    let p1 = f(0.9);
    let p2 = f(0.999);
    let w = tf.tensor([1, 2]);
    for (let t = 1; t <= 6; t++) {
      const g = tf.tensor([0.1, -0.2]);
      const next = adamStep([w], [g], state, TF_HYPER)[0];
      tf.dispose([w, g]);
      w = next;
      p1 = f(p1 * f(0.9));
      p2 = f(p2 * f(0.999));
      expect(state.beta1Power).toBe(p1);
      expect(state.beta2Power).toBe(p2);
      expect(state.beta1Power).toBe(f(state.beta1Power)); // representable in float32
      expect(Math.abs(state.beta2Power - 0.999 ** (t + 1))).toBeLessThan(1e-6);
    }
    // Not the float64 powers: at t = 7, f32 products differ from 0.9^7 in the low bits.
    expect(state.beta1Power).not.toBe(0.9 ** 7);
    w.dispose();
  });

  it('returns fresh tensors (new data ids), leaves params and grads untouched, and leaks nothing', () => {
    const rand = lcg(77);
    const wv = SHAPES.map((s) => Float32Array.from({ length: sizeOf(s) }, rand));
    const gv = SHAPES.map((s) => Float32Array.from({ length: sizeOf(s) }, rand));
    const params = wv.map((a, i) => tf.tensor(a, SHAPES[i]));
    const grads = gv.map((a, i) => tf.tensor(a, SHAPES[i]));
    const state = initAdamState(
      wv.map((a) => a.length),
      TF_HYPER,
    );
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const before = { tensors: tf.memory().numTensors, ids: backend.numDataIds() };
    const next = adamStep(params, grads, state, TF_HYPER);
    expect(next.length).toBe(params.length);
    expect(tf.memory().numTensors).toBe(before.tensors + params.length);
    expect(backend.numDataIds()).toBe(before.ids + params.length);
    const ids = new Set([...params, ...grads].map((t) => t.dataId));
    for (let i = 0; i < next.length; i++) {
      expect(ids.has(next[i].dataId)).toBe(false);
      expect(next[i].id).not.toBe(params[i].id);
      expect(next[i].dtype).toBe('float32');
      expect(next[i].shape).toEqual(SHAPES[i]);
      expect(Array.from(params[i].dataSync())).toEqual(Array.from(wv[i]));
      expect(Array.from(grads[i].dataSync())).toEqual(Array.from(gv[i]));
      // and the output did move
      expect(Array.from(next[i].dataSync())).not.toEqual(Array.from(wv[i]));
    }
    expect(new Set(next.map((t) => t.dataId)).size).toBe(next.length);
    tf.dispose([...params, ...grads, ...next]);
    expect(tf.memory().numTensors).toBe(before.tensors - 2 * params.length);
    expect(backend.numDataIds()).toBe(before.ids - 2 * params.length);
  });

  it('20 steps with disposal keep tensor and data-id counts flat', () => {
    let params = SHAPES.map((s) => tf.ones(s));
    const grads = SHAPES.map((s) => tf.fill(s, 0.5));
    const state = initAdamState(SHAPES.map(sizeOf), TF_HYPER);
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const before = { tensors: tf.memory().numTensors, ids: backend.numDataIds() };
    for (let t = 0; t < 20; t++) {
      const next = adamStep(params, grads, state, TF_HYPER);
      tf.dispose(params);
      params = next;
    }
    expect({ tensors: tf.memory().numTensors, ids: backend.numDataIds() }).toEqual(before);
    tf.dispose([...params, ...grads]);
  });
});
