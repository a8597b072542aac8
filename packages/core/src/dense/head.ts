// The network's head (softmax, the three losses, and their gradient w.r.t. the logits) in plain
// float32 arithmetic, op by op in TensorFlow's order, with TensorFlow's flush-to-zero of denormals.
// It is tiny (batch x 10) and decides when the seed's loss turns NaN, so it is written out exactly.
import type { LossKind } from '../config';

const f = Math.fround;
const FLT_MIN = 1.1754943508222875e-38; // smallest normal float32

/** Flush-to-zero, as TensorFlow's CPU kernels run (denormal results and inputs become 0). */
function ftz(v: number): number {
  return v > -FLT_MIN && v < FLT_MIN ? 0 : v;
}

/** The question's `10**-7`, a float32 constant in the graph. */
export const SEED_LOSS_FACTOR = f(1e-7);

/** Softmax as TensorFlow's Eigen kernel computes it: p = exp(l - max) * (1 / sum). */
export function softmaxRow(logits: ArrayLike<number>, offset: number, classes: number, out: Float32Array): { max: number; sum: number } {
  let max = logits[offset];
  for (let k = 1; k < classes; k++) if (logits[offset + k] > max) max = logits[offset + k];
  let sum = 0;
  for (let k = 0; k < classes; k++) {
    const e = ftz(f(Math.exp(ftz(f(logits[offset + k] - max)))));
    out[k] = e;
    sum = f(sum + e);
  }
  const inv = ftz(f(1 / sum));
  for (let k = 0; k < classes; k++) out[k] = ftz(f(out[k] * inv));
  return { max, sum };
}

/** Index of the first maximum (tf.argmax's tie rule); NaN rows give 0. */
export function argmaxFirst(values: ArrayLike<number>, offset: number, count: number): number {
  let best = 0;
  for (let k = 1; k < count; k++) if (values[offset + k] > values[offset + best]) best = k;
  return best;
}

/** Per-example loss, and optionally its gradient w.r.t. the logits scaled by `gradScale`. */
function exampleLoss(
  kind: LossKind,
  logits: ArrayLike<number>,
  offset: number,
  classes: number,
  label: number,
  p: Float32Array,
  dlogits: Float32Array | null,
  gradScale: number,
): number {
  const { max, sum } = softmaxRow(logits, offset, classes, p);
  if (kind === 'stable') {
    // softmax_cross_entropy_with_logits: sum_k y_k (log(sum e) - shifted_k); backprop = p - y.
    const logSum = f(Math.log(sum));
    const loss = f(logSum - ftz(f(logits[offset + label] - max)));
    if (dlogits) {
      for (let k = 0; k < classes; k++) dlogits[offset + k] = ftz(f(f(p[k] - (k === label ? 1 : 0)) * gradScale));
    }
    return loss;
  }
  // seed: -sum_k y_k * log(p_k * 1e-7); epsilon: -sum_k y_k * log(p_k + 1e-7). Every class takes
  // part: y_k = 0 times log(0) = -inf is NaN, which is how the question's run broke.
  let s = 0;
  const q = new Float32Array(classes);
  for (let k = 0; k < classes; k++) {
    q[k] = kind === 'seed' ? ftz(f(p[k] * SEED_LOSS_FACTOR)) : ftz(f(p[k] + SEED_LOSS_FACTOR));
    const y = k === label ? 1 : 0;
    s = f(s + f(y * f(Math.log(q[k]))));
  }
  if (dlogits) {
    // TF autodiff, op by op: d(-sum) = -g; Mul: g * y; Log: g * reciprocal(q); then the Mul/Add by
    // the constant; then _SoftmaxGrad: (dp - sum(dp * p)) * p.
    const ds = f(-gradScale);
    const dp = new Float32Array(classes);
    let dot = 0;
    for (let k = 0; k < classes; k++) {
      const y = k === label ? 1 : 0;
      const dlog = f(ds * y);
      const dq = ftz(f(dlog * ftz(f(1 / q[k]))));
      dp[k] = kind === 'seed' ? ftz(f(dq * SEED_LOSS_FACTOR)) : dq;
      dot = f(dot + ftz(f(dp[k] * p[k])));
    }
    for (let k = 0; k < classes; k++) dlogits[offset + k] = ftz(f(ftz(f(dp[k] - dot)) * p[k]));
  }
  return f(-s);
}

/** Mean loss of a batch and d(loss)/d(logits), as the seed's TensorFlow graph computes them. */
export function lossAndGradient(
  kind: LossKind,
  logits: Float32Array,
  labels: ArrayLike<number>,
  classes = 10,
): { loss: number; dlogits: Float32Array } {
  const n = labels.length;
  const dlogits = new Float32Array(n * classes);
  const p = new Float32Array(classes);
  const gradScale = f(1 / n); // _MeanGrad: grad / n
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum = f(sum + exampleLoss(kind, logits, i * classes, classes, labels[i], p, dlogits, gradScale));
  }
  return { loss: f(sum / n), dlogits };
}

/** Per-example losses and correctness (argmax of the softmax vs the label), for evaluation. */
export function scoreLogits(
  kind: LossKind,
  logits: Float32Array,
  labels: ArrayLike<number>,
  classes = 10,
): { correct: number; lossSum: number } {
  const p = new Float32Array(classes);
  let correct = 0;
  let lossSum = 0;
  for (let i = 0; i < labels.length; i++) {
    lossSum += exampleLoss(kind, logits, i * classes, classes, labels[i], p, null, 1);
    if (argmaxFirst(p, 0, classes) === labels[i]) correct++;
  }
  return { correct, lossSum };
}
