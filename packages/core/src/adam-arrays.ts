// TensorFlow's ApplyAdam on plain Float32Arrays, op for op as adam.ts does it on the wasm heap, for
// models that live outside tfjs (the width-1 twin). Same float32 rounding order, same beta powers.
import type { AdamHyper, AdamState } from './adam';

const f = Math.fround;

/**
 * One Adam step in place on `params` (and on m, v and the beta powers in `state`); `lrScale` and
 * `epsScale` multiply lr and epsilon per tensor, exactly as adamStep's arguments of the same names.
 */
export function adamStepArrays(
  params: Float32Array[],
  grads: Float32Array[],
  state: AdamState,
  hyper: AdamHyper,
  lrScale?: number[],
  epsScale?: number[],
): void {
  const oneMinusB1 = f(1 - f(hyper.beta1));
  const oneMinusB2 = f(1 - f(hyper.beta2));
  for (let i = 0; i < params.length; i++) {
    const lr = f(f(hyper.lr) * (lrScale?.[i] ?? 1));
    const eps = f(f(hyper.epsilon) * (epsScale?.[i] ?? 1));
    const alpha = f(f(lr * f(Math.sqrt(f(1 - state.beta2Power)))) / f(1 - state.beta1Power));
    const w = params[i];
    const g = grads[i];
    const m = state.m[i];
    const v = state.v[i];
    for (let j = 0; j < w.length; j++) {
      const gj = g[j];
      const mj = f(m[j] + f(f(gj - m[j]) * oneMinusB1));
      const vj = f(v[j] + f(f(f(gj * gj) - v[j]) * oneMinusB2));
      m[j] = mj;
      v[j] = vj;
      w[j] = f(w[j] - f(f(mj * alpha) / f(f(Math.sqrt(vj)) + eps)));
    }
  }
  state.step += 1;
  state.beta1Power = f(state.beta1Power * f(hyper.beta1));
  state.beta2Power = f(state.beta2Power * f(hyper.beta2));
}
