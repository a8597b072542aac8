// The question's CNN, top to bottom: conv5x5-relu-maxpool, conv5x5-relu-maxpool, fc-relu, fc.
// Parameters are plain tensors in TensorFlow layouts; functional tfjs ops, and for evaluation the
// project's fused conv + bias + ReLU + pool kernels (kernels/ConvPool.ts, kernels/WinogradConvPool.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { EvalConvKind, ExperimentConfig } from '../config';
import { broadcastFirstChannel } from '../kernels/BroadcastFirstChannel';
import { convBiasReluPool, convBiasReluPoolOps } from '../kernels/ConvPool';
import { winogradConvBiasReluPool } from '../kernels/WinogradConvPool';
import { winogradFits } from './winograd';
import { deriveStream, truncatedNormal } from '../random/prng';

/** Parameter names in the order used everywhere (hash, checkpoints, optimiser state). */
export const PARAM_NAMES = ['conv1.W', 'conv1.b', 'conv2.W', 'conv2.b', 'fc1.W', 'fc1.b', 'fc2.W', 'fc2.b'] as const;
export type ParamName = (typeof PARAM_NAMES)[number];

/** The model's fixed geometry. */
export interface ModelShape {
  height: number;
  width: number;
  /** conv1, conv2, fc1 widths. */
  widths: [number, number, number];
  classes: number;
  kernel: number;
}

/** Weight shapes in TensorFlow layouts: filters [kh, kw, in, out], dense [in, out]. */
export function paramShapes(shape: ModelShape): number[][] {
  const [c1, c2, f1] = shape.widths;
  const k = shape.kernel;
  const flat = Math.ceil(shape.height / 4) * Math.ceil(shape.width / 4) * c2;
  return [[k, k, 1, c1], [c1], [k, k, c1, c2], [c2], [flat, f1], [f1], [f1, shape.classes], [shape.classes]];
}

/** The seed's geometry for the given widths. */
export function seedModelShape(widths: [number, number, number], height = 28, width = 28): ModelShape {
  return { height, width, widths, classes: 10, kernel: 5 };
}

/**
 * Initial parameter values: W = 0 or truncated normal (stddev 0.01), b = 0.1; as float32 arrays.
 * With `perturb` > 0, every weight (not bias) then gets perturb * N(0, 1) added, drawn from its own
 * stream so the perturbation is the same whichever init it is added to.
 */
export function initialParams(
  shape: ModelShape,
  config: Pick<ExperimentConfig, 'init' | 'seed'> & Partial<Pick<ExperimentConfig, 'perturb'>>,
): Float32Array[] {
  const rng = deriveStream(config.seed, 1);
  const perturb = config.perturb ?? 0;
  const noise = perturb > 0 ? deriveStream(config.seed, 3) : null;
  return paramShapes(shape).map((s, i) => {
    const size = s.reduce((a, b) => a * b, 1);
    const isBias = i % 2 === 1;
    if (isBias) return new Float32Array(size).fill(0.1);
    const w = config.init === 'truncated-normal' ? truncatedNormal(rng, size, 0.01) : new Float32Array(size);
    if (noise) for (let j = 0; j < size; j++) w[j] += perturb * noise.gauss();
    return w;
  });
}

/**
 * flat x w3 computed as (w3T x flat^T)^T from w3T = w3 transposed (kept by the trainer): XNNPACK then
 * takes the large weight matrix as its left operand as it is, instead of repacking it for every
 * step's new weights. Each output is the same sum over k in the same order, so the bits are those
 * of matMul(flat, w3) (tested: dense/trainer.test.ts); the gradients are matMul's own.
 */
function matMulViaTransposed(flat: tf.Tensor2D, w3: tf.Tensor2D, w3T: tf.Tensor2D): tf.Tensor2D {
  const op = tf.customGrad(((a: tf.Tensor2D, b: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([a, b]);
    return {
      value: tf.transpose(tf.matMul(w3T, tf.transpose(a))),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => [
        tf.matMul(dy, saved[1] as tf.Tensor2D, false, true),
        tf.matMul(saved[0] as tf.Tensor2D, dy, true, false),
      ],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(flat, w3) as tf.Tensor2D;
}

/** Per layer (dense/symmetric-exec.ts decides): are its output units bitwise copies (conv1's and conv2's channels, fc1's units)? */
export interface SymmetricLayers {
  conv1: boolean;
  conv2: boolean;
  fc1: boolean;
}

/** How forwardLogits computes the model (never what it computes, up to float32 rounding). */
export interface ForwardOptions {
  /** fc1's weights transposed (kept by the trainer): only changes how fc1's product is computed, not its value. */
  w3T?: tf.Tensor;
  /**
   * Set for evaluation (no gradients): conv1 + bias + ReLU + pool then run as one fused kernel (the
   * same bits as the four ops), and conv2 + bias + ReLU + pool by this kind: 'direct' (the same
   * bits as training's forward, fused like conv1) or 'winograd' (F(2x2, 5x5), faster (docs/BENCHMARKS.md),
   * rounding differently). Shapes a kernel does not cover (odd sizes) run as separate ops.
   */
  evaluation?: EvalConvKind;
  /** Called with fc1's output (after ReLU), e.g. to count active units; does not change the logits. */
  onHidden?: (h3: tf.Tensor2D) => void;
  /**
   * Called with each convolution's output after ReLU and max-pool ([n, h, w, channels], every
   * channel), e.g. to count active channels; does not change the logits.
   */
  onPooled?: (p1: tf.Tensor4D, p2: tf.Tensor4D) => void;
  /**
   * With evaluation: the layers whose units are bitwise copies (dense/symmetric-exec.ts), computed
   * as one representative and broadcast. The bits are the full layer's: a convolution is computed
   * for one panel of 16 output channels (the kernels' lanes are independent) and its first channel
   * copied; fc1 for one column; everything after a layer still sees its full, broadcast output.
   */
  symmetric?: SymmetricLayers;
  /** representativeParams(params, symmetric), when the caller keeps them across calls (evaluation's chunks). */
  representatives?: tf.Tensor[];
}

/** The first `width` output channels (last axis) of a filter or bias. */
function firstChannels(t: tf.Tensor, width: number): tf.Tensor {
  const begin = t.shape.map(() => 0);
  const size = t.shape.map((d, i) => (i === t.shape.length - 1 ? width : d));
  return tf.slice(t, begin, size);
}

/** The output channels a symmetric layer computes: one panel of the own kernels, when that is fewer. */
function representativeWidth(width: number): number {
  return width > 16 && width % 16 === 0 ? 16 : width;
}

/**
 * The parameters a symmetric evaluation computes with: each symmetric layer's weights and biases
 * cut to its representative output units (conv: representativeWidth channels, fc1: one unit); the
 * others as they are (the same tensors). The caller disposes the new ones.
 */
export function representativeParams(params: tf.Tensor[], symmetric: SymmetricLayers): tf.Tensor[] {
  const out = [...params];
  const cut = (i: number, width: number) => {
    out[i] = firstChannels(params[i], width);
    out[i + 1] = firstChannels(params[i + 1], width);
  };
  if (symmetric.conv1) cut(0, representativeWidth(params[0].shape[3] as number));
  if (symmetric.conv2) cut(2, representativeWidth(params[2].shape[3] as number));
  if (symmetric.fc1) cut(4, 1);
  return out;
}

/** Logits [n, classes] for images x [n, height*width] (float32 pixels in [0, 1]). */
export function forwardLogits(shape: ModelShape, params: tf.Tensor[], x: tf.Tensor2D, options: ForwardOptions = {}): tf.Tensor2D {
  const [w1, b1, w2, b2, w3, b3, w4, b4] = params;
  const { w3T, evaluation } = options;
  const symmetric = evaluation ? options.symmetric : undefined;
  const reps = symmetric ? (options.representatives ?? representativeParams(params, symmetric)) : params;
  const n = x.shape[0];
  const image = tf.reshape(x, [n, shape.height, shape.width, 1]) as tf.Tensor4D;
  const fused = (input: tf.Tensor4D, w: tf.Tensor, b: tf.Tensor, winograd: boolean): tf.Tensor4D => {
    if (winograd && winogradFits(input.shape, w.shape)) return winogradConvBiasReluPool(input, w as tf.Tensor4D, b as tf.Tensor1D);
    if (evaluation) return convBiasReluPool(input, w as tf.Tensor4D, b as tf.Tensor1D);
    return convBiasReluPoolOps(input, w, b);
  };
  // A layer from its full weights w, or from its representative ones (wr, br) and broadcast.
  const layer = (input: tf.Tensor4D, w: tf.Tensor, b: tf.Tensor, wr: tf.Tensor, br: tf.Tensor, winograd: boolean): tf.Tensor4D => {
    const width = w.shape[3] as number;
    if (wr === w) return fused(input, w, b, winograd);
    return broadcastFirstChannel(fused(input, wr, br, winograd), width);
  };
  const p1 = layer(image, w1, b1, reps[0], reps[1], false);
  const p2 = layer(p1, w2, b2, reps[2], reps[3], evaluation === 'winograd');
  options.onPooled?.(p1, p2);
  const flat = tf.reshape(p2, [n, -1]) as tf.Tensor2D;
  let h3: tf.Tensor2D;
  if (reps[4] !== w3) {
    const unit = tf.relu(tf.add(tf.matMul(flat, reps[4] as tf.Tensor2D), reps[5]));
    h3 = broadcastFirstChannel(unit, w3.shape[1] as number) as tf.Tensor2D;
  } else {
    const fc1 = w3T ? matMulViaTransposed(flat, w3 as tf.Tensor2D, w3T as tf.Tensor2D) : tf.matMul(flat, w3 as tf.Tensor2D);
    h3 = tf.relu(tf.add(fc1, b3)) as tf.Tensor2D;
  }
  options.onHidden?.(h3);
  return tf.add(tf.matMul(h3, w4 as tf.Tensor2D), b4) as tf.Tensor2D;
}
