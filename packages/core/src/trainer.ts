// The training state of one run (parameters, Adam state, data order) and its single step:
// forward, the float32 head, backward through the wasm kernels, TensorFlow's Adam.
import * as tf from '@tensorflow/tfjs-core';
import { adamStep, initAdamState, type AdamHyper, type AdamState } from './adam';
import { BatchSampler } from './batches';
import type { ExperimentConfig } from './config';
import { ConfigError } from './errors';
import { evaluateSplit, type SplitScore } from './evaluate';
import { lossAndGradient } from './head';
import { gatherPixels, type MnistData, type Split } from './mnist';
import { forwardLogits, initialParams, paramShapes, seedModelShape, type ModelShape } from './model';
import { MT19937 } from './prng';
import { hashFloat32Arrays } from './weights-hash';

/** TensorFlow's AdamOptimizer defaults (the question passes only the learning rate). */
export const TF_ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 } as const;

/** Checks what can only be checked against the data (sizes), with one-line messages. */
export function validateAgainstData(config: ExperimentConfig, data: MnistData): void {
  if (config.batch > data.train.count) {
    throw new ConfigError(`invalid batch: ${config.batch} exceeds the train split (${data.train.count} images)`);
  }
  if (config.evalTrain !== 'all' && config.evalTrain > data.train.count) {
    throw new ConfigError(`invalid eval-train: ${config.evalTrain} exceeds the train split (${data.train.count} images)`);
  }
}

/** One run's mutable state, stepping on the wasm backend. Call dispose() when done. */
export class Trainer {
  readonly shape: ModelShape;
  readonly hyper: AdamHyper;
  params: tf.Tensor[];
  readonly adam: AdamState;
  readonly sampler: BatchSampler;
  /** Training steps done so far. */
  step = 0;
  private readonly pixels: Float32Array;

  constructor(
    readonly config: ExperimentConfig,
    readonly data: MnistData,
  ) {
    validateAgainstData(config, data);
    this.shape = seedModelShape(config.widths, data.rows, data.cols);
    this.hyper = { lr: config.lr, ...TF_ADAM };
    const init = initialParams(this.shape, config);
    const shapes = paramShapes(this.shape);
    this.params = init.map((values, i) => tf.tensor(values, shapes[i], 'float32'));
    this.adam = initAdamState(init.map((a) => a.length), this.hyper);
    this.sampler = new BatchSampler(data.train.count, config.batch, config.order, new MT19937(config.seed));
    this.pixels = new Float32Array(config.batch * data.rows * data.cols);
  }

  /** One Adam step on the next batch; returns the batch loss (NaN included) before the update. */
  trainStep(): number {
    const indices = this.sampler.next();
    const labels = new Uint8Array(indices.length);
    for (let i = 0; i < indices.length; i++) labels[i] = this.data.train.labels[indices[i]];
    gatherPixels(this.data.train, indices, this.pixels);
    const kind = this.config.loss;
    let loss = NaN;
    const x = tf.tensor2d(this.pixels, [indices.length, this.data.rows * this.data.cols]);
    // The head runs in plain float32 JS (see head.ts); its gradient enters tfjs's autodiff here.
    const head = tf.customGrad(((logits: tf.Tensor) => {
      const result = lossAndGradient(kind, logits.dataSync() as Float32Array, labels, this.shape.classes);
      loss = result.loss;
      return {
        value: tf.scalar(result.loss),
        gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.tensor(result.dlogits, logits.shape)),
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    const { value, grads } = tf.valueAndGrads((...ps: tf.Tensor[]) => head(forwardLogits(this.shape, ps, x)) as tf.Scalar)(
      this.params,
    );
    const next = adamStep(this.params, grads, this.adam, this.hyper);
    tf.dispose([value, x, ...grads, ...this.params]);
    this.params = next;
    this.step += 1;
    return loss;
  }

  /** Scores the first `count` images of a split with the current parameters. */
  evaluate(split: Split, count: number): SplitScore {
    return evaluateSplit(this.shape, this.params, split, count, this.config.loss);
  }

  /** Current parameters as float32 arrays, in PARAM_NAMES order. */
  paramValues(): Float32Array[] {
    return this.params.map((p) => p.dataSync() as Float32Array);
  }

  /** SHA-256 of the current parameters (conv1.W … fc2.b, TF layouts, float32 LE). */
  weightsSha256(): string {
    return hashFloat32Arrays(this.paramValues());
  }

  dispose(): void {
    tf.dispose(this.params);
    this.params = [];
  }
}
