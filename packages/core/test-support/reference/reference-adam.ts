// TensorFlow's ApplyAdam (core/kernels/training_ops.cc, non-Nesterov) in float64, for the
// reference model: the exact update form the seed's AdamOptimizer(1e-4) ran, eps placement included.

import { REF_PARAM_KEYS, refZerosLike, type RefParams } from './reference-model';

/** Adam slots and the beta powers, as TF keeps them (powers start at beta1, beta2 for t = 1). */
export interface RefAdamState {
  /** First moments, one per parameter tensor. */
  m: RefParams;
  /** Second moments. */
  v: RefParams;
  /** beta1^t for the NEXT step. */
  beta1Power: number;
  /** beta2^t for the NEXT step. */
  beta2Power: number;
  /** Steps taken so far. */
  t: number;
  /** The betas the powers were started with; every step must use the same. */
  beta1: number;
  beta2: number;
}

/** Options of {@link refAdamStep}; defaults are TF's and the seed's (lr has none: seed 1e-4). */
export interface RefAdamOptions {
  lr: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8 (TF's; tfjs's own optimizer uses 1e-7, elsewhere in the formula). */
  eps?: number;
  /** Per-tensor learning-rate multiplier (default 1), e.g. for a width-1 twin network. */
  lrScale?: Partial<Record<keyof RefParams, number>>;
  /** Per-tensor epsilon multiplier (default 1). */
  epsScale?: Partial<Record<keyof RefParams, number>>;
}

/** Zero slots shaped like `params`, beta powers at beta1 and beta2. */
export function refAdamInit(params: RefParams, betas: { beta1?: number; beta2?: number } = {}): RefAdamState {
  const beta1 = betas.beta1 ?? 0.9;
  const beta2 = betas.beta2 ?? 0.999;
  return {
    m: refZerosLike(params),
    v: refZerosLike(params),
    beta1Power: beta1,
    beta2Power: beta2,
    t: 0,
    beta1,
    beta2,
  };
}

/**
 * One Adam step, in place on `params` and `state`, in TF's form:
 * alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t); m += (g - m) * (1 - beta1);
 * v += (g*g - v) * (1 - beta2); w -= m * alpha / (sqrt(v) + eps).
 */
export function refAdamStep(params: RefParams, grads: RefParams, state: RefAdamState, options: RefAdamOptions): void {
  const { lr, eps = 1e-8, lrScale = {}, epsScale = {} } = options;
  const beta1 = options.beta1 ?? state.beta1;
  const beta2 = options.beta2 ?? state.beta2;
  if (beta1 !== state.beta1 || beta2 !== state.beta2) {
    throw new Error(`Adam betas (${beta1}, ${beta2}) differ from the ones the state was started with (${state.beta1}, ${state.beta2})`);
  }
  for (const key of Object.keys({ ...lrScale, ...epsScale })) {
    if (!(REF_PARAM_KEYS as readonly string[]).includes(key)) throw new Error(`unknown parameter tensor in Adam scale: ${key}`);
  }
  for (const key of REF_PARAM_KEYS) {
    const w = params[key];
    const g = grads[key];
    const m = state.m[key];
    const v = state.v[key];
    if (g.length !== w.length || m.length !== w.length || v.length !== w.length) {
      throw new Error(`Adam: ${key} has mismatched lengths (w ${w.length}, g ${g.length}, m ${m.length}, v ${v.length})`);
    }
    const alpha = (lr * (lrScale[key] ?? 1) * Math.sqrt(1 - state.beta2Power)) / (1 - state.beta1Power);
    const epsilon = eps * (epsScale[key] ?? 1);
    for (let i = 0; i < w.length; i++) {
      m[i] += (g[i] - m[i]) * (1 - beta1);
      v[i] += (g[i] * g[i] - v[i]) * (1 - beta2);
      w[i] -= (m[i] * alpha) / (Math.sqrt(v[i]) + epsilon);
    }
  }
  // TF's _finish: the powers are updated after all variables have used them.
  state.beta1Power *= beta1;
  state.beta2Power *= beta2;
  state.t += 1;
}
