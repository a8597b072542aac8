// Evaluation of the seed network in its symmetric state once per copy set, on the symmetric step's
// WebAssembly (dense/symmetric-step-wasm.ts): conv1, conv2 (Winograd or direct, as the config
// says) and fc1 computed for one channel or unit, with the operations the full evaluation
// (dense/evaluate.ts) runs for every one of them, so the scores are the same bits. fc2 and the head
// as there. Null where it does not apply (then the full evaluation runs).
import type { EvalConvKind, LossKind } from '../config';
import type { Split } from '../data/mnist';
import { gatherPixels } from '../data/mnist';
import { EVAL_CHUNK, type SplitScore } from './evaluate';
import { scoreLogits } from './head';
import type { ModelShape } from './model';
import type { OrbitArrays } from './symmetric-orbit';
import type { SymmetricStepWasm } from './symmetric-step-wasm';
import { winogradFilter } from './winograd';

/** The 36 transformed values of conv2's copy set (winograd.ts's U for one input and output channel). */
export function winogradOrbitFilter(w2: Float32Array): Float32Array {
  const u = winogradFilter(w2, 1, 1);
  return Float32Array.from({ length: 36 }, (_, xi) => u[xi * 16]);
}

/**
 * Scores the first `count` images of `split` as evaluateSplit does, from the orbit parameters, in
 * chunks of EVAL_CHUNK on `wasm` (built for EVAL_CHUNK images); null when a value is not finite.
 */
export function evaluateOrbit(
  shape: ModelShape,
  params: OrbitArrays,
  split: Split,
  count: number,
  loss: LossKind,
  conv2: EvalConvKind,
  wasm: SymmetricStepWasm,
): SplitScore | null {
  const n = Math.min(count, split.count);
  const pixelsPerImage = shape.height * shape.width;
  const buffer = new Float32Array(Math.min(EVAL_CHUNK, n) * pixelsPerImage);
  const indices = new Uint32Array(Math.min(EVAL_CHUNK, n));
  // evaluate.ts takes Winograd for a 5x5 conv2 over an even-sided input (winogradFits): always so here.
  const u = conv2 === 'winograd' && shape.kernel === 5 ? winogradOrbitFilter(params[2]) : null;
  let correct = 0;
  let lossSum = 0;
  let active = 0;
  for (let start = 0; start < n; start += EVAL_CHUNK) {
    const size = Math.min(EVAL_CHUNK, n - start);
    for (let i = 0; i < size; i++) indices[i] = start + i;
    const pixels = buffer.subarray(0, size * pixelsPerImage);
    gatherPixels(split, indices.subarray(0, size), pixels);
    const out = wasm.evalForward(params, pixels, size, u);
    if (!out) return null;
    for (let i = 0; i < size; i++) if (out.hidden[i] > 0) active++;
    const score = scoreLogits(loss, out.logits, split.labels.subarray(start, start + size), shape.classes);
    correct += score.correct;
    lossSum += score.lossSum;
  }
  return {
    images: n,
    accuracy: n === 0 ? NaN : correct / n,
    loss: n === 0 ? NaN : lossSum / n,
    fc1Active: new Array<number>(shape.widths[2]).fill(active),
  };
}
