// TensorFlow's ApplyAdam (training_ops.cc), element by element in float32 on the WebAssembly heap:
//   alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//   m += (g - m) * (1 - beta1);  v += (g^2 - v) * (1 - beta2);  w -= m * alpha / (sqrt(v) + eps)
// This is the textbook m = b1*m + (1-b1)*g form rearranged as TensorFlow evaluates it; the beta
// powers are float32 variables multiplied once per step, as in the optimizer's _finish().
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

const f = Math.fround;

/** TensorFlow's AdamOptimizer defaults (the question passes only the learning rate). */
export const TF_ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;

/** Adam hyper-parameters (TensorFlow's defaults except lr). */
export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** Serializable optimizer state. */
export interface AdamState {
  step: number;
  beta1Power: number;
  beta2Power: number;
  m: Float32Array[];
  v: Float32Array[];
}

/** Fresh state for parameters of the given sizes. */
export function initAdamState(sizes: number[], hyper: AdamHyper): AdamState {
  return {
    step: 0,
    beta1Power: f(hyper.beta1),
    beta2Power: f(hyper.beta2),
    m: sizes.map((n) => new Float32Array(n)),
    v: sizes.map((n) => new Float32Array(n)),
  };
}

/** The wasm backend when it is the current one (Adam then works on its heap), else null. */
export function wasmBackend(): BackendWasm | null {
  return tf.getBackend() === 'wasm' ? (tf.backend() as BackendWasm) : null;
}

/** A float32 tensor's values: a view of the wasm heap (valid until the heap grows), else a copy. */
function floatsOf(backend: BackendWasm | null, t: tf.Tensor): Float32Array {
  return (backend ? backend.typedArrayFromHeap(t) : t.dataSync()) as Float32Array;
}

/**
 * One Adam step: returns NEW weight tensors (fresh data ids, so XNNPACK never reuses stale packed
 * weights) and updates m, v and the beta powers in place. `lrScale`/`epsScale` multiply lr and eps
 * per parameter tensor (1 for the seed's model).
 */
export function adamStep(
  params: tf.Tensor[],
  grads: tf.Tensor[],
  state: AdamState,
  hyper: AdamHyper,
  lrScale?: number[],
  epsScale?: number[],
): tf.Tensor[] {
  // On wasm, read and write the heap in place; other backends (the cpu benchmark baseline) copy.
  const backend = wasmBackend();
  const out: tf.Tensor[] = [];
  for (let i = 0; i < params.length; i++) {
    const info = backend ? backend.makeOutput(params[i].shape, 'float32') : null;
    // Views after the allocation: growing the heap detaches older views.
    const w = floatsOf(backend, params[i]);
    const g = floatsOf(backend, grads[i]);
    const next = info ? (backend!.typedArrayFromHeap(info) as Float32Array) : new Float32Array(w.length);
    applyAdam(w, g, state.m[i], state.v[i], next, adamTensorConstants(state, hyper, lrScale?.[i], epsScale?.[i]));
    out.push(info ? tf.engine().makeTensorFromTensorInfo(info) : tf.tensor(next, params[i].shape, 'float32'));
  }
  advanceAdamStep(state, hyper);
  return out;
}

/** The float32 constants of one tensor's update at the current step. */
export interface AdamTensorConstants {
  alpha: number;
  eps: number;
  oneMinusB1: number;
  oneMinusB2: number;
}

/** alpha = lr*sqrt(1-beta2^t)/(1-beta1^t) and eps for one tensor (lr, eps times its scales). */
export function adamTensorConstants(state: AdamState, hyper: AdamHyper, lrScale = 1, epsScale = 1): AdamTensorConstants {
  const lr = f(f(hyper.lr) * lrScale);
  return {
    alpha: f(f(lr * f(Math.sqrt(f(1 - state.beta2Power)))) / f(1 - state.beta1Power)),
    eps: f(f(hyper.epsilon) * epsScale),
    oneMinusB1: f(1 - f(hyper.beta1)),
    oneMinusB2: f(1 - f(hyper.beta2)),
  };
}

/** ApplyAdam element by element: updates m and v in place, writes the new weights to `next` (may be `w`). */
export function applyAdam(
  w: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  next: Float32Array,
  c: AdamTensorConstants,
): void {
  const { alpha, eps, oneMinusB1, oneMinusB2 } = c;
  for (let j = 0; j < w.length; j++) {
    const gj = g[j];
    const mj = f(m[j] + f(f(gj - m[j]) * oneMinusB1));
    const vj = f(v[j] + f(f(f(gj * gj) - v[j]) * oneMinusB2));
    m[j] = mj;
    v[j] = vj;
    next[j] = f(w[j] - f(f(mj * alpha) / f(f(Math.sqrt(vj)) + eps)));
  }
}

/** Counts the step and multiplies the float32 beta powers, as the optimizer's _finish() does. */
export function advanceAdamStep(state: AdamState, hyper: AdamHyper): void {
  state.step += 1;
  state.beta1Power = f(state.beta1Power * f(hyper.beta1));
  state.beta2Power = f(state.beta2Power * f(hyper.beta2));
}

/** Overwrites `into` with `from` (same tensor sizes), e.g. when a checkpoint is restored. */
export function copyAdamState(from: AdamState, into: AdamState): void {
  into.step = from.step;
  into.beta1Power = from.beta1Power;
  into.beta2Power = from.beta2Power;
  from.m.forEach((a, i) => into.m[i].set(a));
  from.v.forEach((a, i) => into.v[i].set(a));
}
