// TensorFlow's ApplyAdam on plain Float32Arrays, op for op as dense/adam.ts does it on the wasm heap, for
// models that live outside tfjs (the width-1 twin). Same float32 rounding order, same beta powers.
import { adamTensorConstants, advanceAdamStep, applyAdam, type AdamHyper, type AdamState } from '../dense/adam';

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
  for (let i = 0; i < params.length; i++) {
    const c = adamTensorConstants(state, hyper, lrScale?.[i], epsScale?.[i]);
    applyAdam(params[i], grads[i], state.m[i], state.v[i], params[i], c);
  }
  advanceAdamStep(state, hyper);
}
