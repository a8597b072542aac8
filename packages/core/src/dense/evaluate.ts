// Accuracy, mean loss and the per-unit active counts of fc1 and of the convolutions' channels (ReLU
// output > 0) of the model on (the first `count` images of) a split, in chunks of 1000
// as the question's eval_network does; the softmax/argmax/loss are the head's float32 code. conv2
// (with its bias, ReLU and pool) by Winograd's F(2x2, 5x5) unless the config says 'direct'; layers
// whose units are bitwise copies as one representative when `symmetric` says so (same bits).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { addressOf, heapKernelsOf } from '../own-wasm/heap-kernels';
import type { EvalConvKind, LossKind } from '../config';
import { scoreLogits } from './head';
import type { Split } from '../data/mnist';
import { gatherPixels } from '../data/mnist';
import { forwardLogits, representativeParams, type ModelShape } from './model';
import type { SymmetricLayers } from './symmetric-exec';

/** Result of evaluating one split. */
export interface SplitScore {
  images: number;
  accuracy: number;
  /** Mean per-example loss (NaN once any example's loss is NaN, as with the seed loss). */
  loss: number;
  /** Per fc1 unit, the images on which its ReLU output was > 0 (absent when not counted). */
  fc1Active?: number[];
  /**
   * Per output channel of conv1 and of conv2, the images on which its ReLU output was > 0 at some
   * position (absent when not counted).
   */
  convActive?: [number[], number[]];
}

/**
 * The images (of a batch [n, h, w, c] after ReLU and max-pool) on which each channel is > 0
 * somewhere, added to `counts`: in place on the own WebAssembly, else by tfjs ops.
 */
export function addActiveChannels(pooled: tf.Tensor4D, counts: number[]): void {
  const [n, h, w, c] = pooled.shape;
  const backend = tf.backend() as BackendWasm;
  const kernels = tf.getBackend() === 'wasm' && pooled.dtype === 'float32' ? heapKernelsOf(backend) : null;
  if (kernels) {
    kernels.countPositiveChannels(addressOf(backend, pooled), n, h * w, c, counts);
    return;
  }
  const perChannel = tf.tidy(() => tf.sum(tf.cast(tf.greater(tf.max(pooled, [1, 2]), 0), 'int32'), 0));
  const values = perChannel.dataSync();
  perChannel.dispose();
  for (let k = 0; k < c; k++) counts[k] += values[k];
}

/** The question's chunk size. */
export const EVAL_CHUNK = 1000;

/** A split's chunk scores added up: correct predictions, each chunk's loss sum, active images (fc1; conv1 and conv2). */
export interface ChunkTotals {
  correct: number;
  lossSums: number[];
  active?: number;
  convActive?: [number, number];
}

/**
 * A split's accuracy and mean loss from its chunks' scores, the loss sums added in chunk order as
 * evaluateSplit adds them; with `active`, each of fc1's units active on that many images, and with
 * `convActive`, each channel of conv1 and of conv2 (a symmetric network or the twin: copies agree).
 */
export function splitScoreOfChunks(n: number, chunks: ChunkTotals, widths: [number, number, number]): SplitScore {
  let lossSum = 0;
  for (const s of chunks.lossSums) lossSum += s;
  const [c1, c2, f1] = widths;
  const { active, convActive } = chunks;
  return {
    images: n,
    accuracy: n === 0 ? NaN : chunks.correct / n,
    loss: n === 0 ? NaN : lossSum / n,
    ...(active !== undefined ? { fc1Active: new Array<number>(f1).fill(active) } : {}),
    ...(convActive ? { convActive: [new Array<number>(c1).fill(convActive[0]), new Array<number>(c2).fill(convActive[1])] } : {}),
  };
}

/** Evaluates the first `count` images of `split` (all when count >= split.count). */
export function evaluateSplit(
  shape: ModelShape,
  params: tf.Tensor[],
  split: Split,
  count: number,
  loss: LossKind,
  conv2: EvalConvKind = 'winograd',
  symmetric?: SymmetricLayers,
): SplitScore {
  const n = Math.min(count, split.count);
  const pixelsPerImage = shape.height * shape.width;
  const buffer = new Float32Array(Math.min(EVAL_CHUNK, n) * pixelsPerImage);
  const indices = new Uint32Array(Math.min(EVAL_CHUNK, n));
  let correct = 0;
  let lossSum = 0;
  const f1 = shape.widths[2];
  const fc1Active = new Array<number>(f1).fill(0);
  const countActive = (h3: tf.Tensor2D) => {
    const h = h3.dataSync() as Float32Array;
    for (let i = 0; i < h.length; i += f1) for (let u = 0; u < f1; u++) if (h[i + u] > 0) fc1Active[u]++;
  };
  const convActive: [number[], number[]] = [new Array<number>(shape.widths[0]).fill(0), new Array<number>(shape.widths[1]).fill(0)];
  const countChannels = (p1: tf.Tensor4D, p2: tf.Tensor4D) => {
    addActiveChannels(p1, convActive[0]);
    addActiveChannels(p2, convActive[1]);
  };
  // The symmetric layers' representative weights, cut once for all chunks.
  const representatives = symmetric && n > 0 ? representativeParams(params, symmetric) : undefined;
  for (let start = 0; start < n; start += EVAL_CHUNK) {
    const size = Math.min(EVAL_CHUNK, n - start);
    for (let i = 0; i < size; i++) indices[i] = start + i;
    const idx = indices.subarray(0, size);
    const pixels = buffer.subarray(0, size * pixelsPerImage);
    gatherPixels(split, idx, pixels);
    const logits = tf.tidy(() =>
      forwardLogits(shape, params, tf.tensor2d(pixels, [size, pixelsPerImage]), {
        evaluation: conv2,
        symmetric,
        representatives,
        onHidden: countActive,
        onPooled: countChannels,
      }),
    );
    const values = logits.dataSync() as Float32Array;
    logits.dispose();
    const labels = split.labels.subarray(start, start + size);
    const score = scoreLogits(loss, values, labels, shape.classes);
    correct += score.correct;
    lossSum += score.lossSum;
  }
  if (representatives) tf.dispose(representatives.filter((t) => !params.includes(t)));
  return { images: n, accuracy: n === 0 ? NaN : correct / n, loss: n === 0 ? NaN : lossSum / n, fc1Active, convActive };
}
