// The training state of one width-1 twin run (`--model twin`), with the Trainer's surface so the
// run loop treats both alike: plain-TypeScript forward/backward (twin/twin-net.ts), the seed's float32
// head (dense/head.ts), TensorFlow's Adam with the twin's lr/epsilon multipliers (twin/twin.ts).
import { copyAdamState, initAdamState, type AdamHyper, type AdamState } from '../dense/adam';
import { adamStepArrays } from './adam-arrays';
import { BatchSampler } from '../data/batches';
import type { ExperimentConfig } from '../config';
import { ConfigError } from '../errors';
import { type ChunkTotals, type SplitScore, EVAL_CHUNK, splitScoreOfChunks } from '../dense/evaluate';
import { lossAndGradient, scoreLogits } from '../dense/head';
import type { MnistData, Split } from '../data/mnist';
import { initialParams, paramShapes, seedModelShape, type ModelShape } from '../dense/model';
import { deriveStream, MT19937 } from '../random/prng';
import { TF_ADAM } from '../dense/adam';
import { validateAgainstData } from '../data/config-fits-data';
import { prepareRngImport, rngStates, type TrainerState } from '../run/trainer-state';
import { twinScales, type TwinScales } from './twin';
import {
  sparseImages,
  twinBackward,
  twinForward,
  twinGeometry,
  twinParams,
  TwinActivations,
  type SparseImages,
  type TwinGeometry,
  type TwinParams,
  type TwinPoolTies,
} from './twin-net';
import { TwinEvalWasm, twinEvalWasmFits } from './twin-eval-wasm';
import { hashFloat32Arrays } from '../run/weights-hash';

/** One split of an evaluation: its first `count` images. */
export interface TwinEvalJob {
  split: 'train' | 'test';
  count: number;
}

/**
 * A job's scores: the correct count, each 1000-image chunk's loss sum, in chunk order, and the
 * images on which the fc1 unit, and the conv1 and conv2 channels, were active (absent from pools
 * that do not count them).
 */
export type TwinChunkScores = ChunkTotals;

/**
 * Scores evaluation chunks elsewhere (e.g. worker threads), each with scoreTwinChunk, so the
 * result is bitwise what one thread gets. begin() copies the parameters, starts the work and
 * returns at once (the caller may go on training); finish() helps with what is left, waits, and
 * returns each job's scores. One evaluation at a time: begin, finish, begin, ...
 */
export interface TwinEvalPool {
  begin(jobs: TwinEvalJob[], params: Float32Array[]): void;
  finish(): TwinChunkScores[];
}

/**
 * Scores the twin's evaluation chunks on one thread: with the project's WebAssembly pass
 * (twin-eval-wasm.ts) when it fits the image size and the runtime has WebAssembly SIMD, else with
 * twinForward; both give bitwise the same logits.
 */
export class TwinChunkScorer {
  private readonly wasm: TwinEvalWasm | null;
  private readonly act: TwinActivations;
  private readonly logits: Float32Array;

  constructor(
    private readonly g: TwinGeometry,
    options: { wasm?: boolean } = {},
  ) {
    this.act = new TwinActivations(g);
    this.logits = new Float32Array(EVAL_CHUNK * g.classes);
    let wasm: TwinEvalWasm | null = null;
    if (options.wasm !== false && twinEvalWasmFits(g)) {
      try {
        wasm = new TwinEvalWasm(g, EVAL_CHUNK);
      } catch {
        wasm = null; // no WebAssembly SIMD here: the TypeScript pass computes the same bits
      }
    }
    this.wasm = wasm;
  }

  /** True when chunks are scored by the WebAssembly pass. */
  get usesWasm(): boolean {
    return this.wasm !== null;
  }

  /**
   * Correct count, loss sum and fc1-active count (images whose fc1 ReLU output is > 0) of images
   * start .. start + size - 1 (size <= EVAL_CHUNK).
   */
  score(
    p: TwinParams,
    images: SparseImages,
    labels: Uint8Array,
    start: number,
    size: number,
    loss: ExperimentConfig['loss'],
  ): { correct: number; lossSum: number; active: number; convActive: [number, number] } {
    const K = this.g.classes;
    let logits: Float32Array;
    let active = 0;
    let convActive: [number, number] = [0, 0];
    if (this.wasm) {
      logits = this.wasm.logitsOf(p, images, start, size);
      active = this.wasm.active;
      convActive = this.wasm.convActive;
    } else {
      for (let i = 0; i < size; i++) {
        twinForward(this.g, p, images, start + i, this.act, this.logits, i * K, null);
        if (this.act.h > 0) active++;
        if (this.act.conv1Active) convActive[0]++;
        if (this.act.conv2Active) convActive[1]++;
      }
      logits = this.logits.subarray(0, size * K);
    }
    return { ...scoreLogits(loss, logits, labels.subarray(start, start + size), K), active, convActive };
  }
}

/** A split's accuracy, mean loss (loss sums added in chunk order) and activity (fc1, conv1, conv2) from its chunk scores. */
function splitScore(n: number, r: TwinChunkScores): SplitScore {
  return splitScoreOfChunks(n, r, [1, 1, 1]);
}

/** A width-1 twin of the dense network of config.widths. Nothing to dispose, but dispose() exists. */
export class TwinTrainer {
  /** The twin's own shape (widths 1, 1, 1); config.widths are the dense widths it stands for. */
  readonly shape: ModelShape;
  readonly hyper: AdamHyper;
  readonly scales: TwinScales;
  params: Float32Array[];
  readonly adam: AdamState;
  readonly sampler: BatchSampler;
  readonly poolTies: TwinPoolTies;
  step = 0;
  private readonly geometry: TwinGeometry;
  private readonly sparse = new Map<Split, SparseImages>();
  private readonly acts: TwinActivations[];
  private readonly scratch: { dp1: Float64Array; dz1: Float64Array };
  private scorer: TwinChunkScorer | null = null;

  constructor(
    readonly config: ExperimentConfig,
    readonly data: MnistData,
    /** Where evaluations of the train and test splits run (default: here, one chunk after another). */
    private readonly pool?: TwinEvalPool,
  ) {
    validateAgainstData(config, data);
    if (config.reduceOrder !== 'fixed') {
      // Each copy of a dense unit gets its own summation order, so copies part; one twin unit cannot follow.
      throw new ConfigError("invalid reduce-order: 'shuffled' separates the copies the twin merges; use --model dense");
    }
    this.shape = seedModelShape([1, 1, 1], data.rows, data.cols);
    this.geometry = twinGeometry(data.rows, data.cols, this.shape.classes);
    this.hyper = { lr: config.lr, ...TF_ADAM };
    this.scales = twinScales(config.widths);
    // The twin of a dense init whose copies all equal a width-1 draw: weights times paramScale.
    this.params = initialParams(this.shape, config).map((a, i) => a.map((v) => v * this.scales.paramScale[i]));
    this.adam = initAdamState(
      this.params.map((a) => a.length),
      this.hyper,
    );
    this.sampler = new BatchSampler(data.train.count, config.batch, config.order, new MT19937(config.seed));
    this.poolTies = { rule: config.poolTies, rng: config.poolTies === 'random' ? deriveStream(config.seed, 2) : undefined };
    this.acts = Array.from({ length: config.batch }, () => new TwinActivations(this.geometry));
    const g = this.geometry;
    // dz1 with twinBackward's 2-cell margin; all zero between images.
    this.scratch = { dp1: new Float64Array(g.H1 * g.W1), dz1: new Float64Array((g.H + 4) * (g.W + 4)) };
  }

  private images(split: Split): SparseImages {
    let s = this.sparse.get(split);
    if (!s) this.sparse.set(split, (s = sparseImages(split, this.data.rows, this.data.cols)));
    return s;
  }

  /** One Adam step on the next batch; returns the batch loss (NaN included) before the update. */
  trainStep(): number {
    const g = this.geometry;
    const K = g.classes;
    const indices = this.sampler.next();
    const n = indices.length;
    const images = this.images(this.data.train);
    const p = twinParams(g, this.params);
    const logits = new Float32Array(n * K);
    const labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = this.data.train.labels[indices[i]];
      twinForward(g, p, images, indices[i], this.acts[i], logits, i * K, this.poolTies);
    }
    const { loss, dlogits } = lossAndGradient(this.config.loss, logits, labels, K);
    const grads = this.params.map((a) => new Float64Array(a.length));
    for (let i = 0; i < n; i++) twinBackward(g, p, images, indices[i], this.acts[i], dlogits, i * K, grads, this.scratch);
    adamStepArrays(
      this.params,
      grads.map((a) => Float32Array.from(a)),
      this.adam,
      this.hyper,
      this.scales.lrScale,
      this.scales.epsScale,
    );
    this.step += 1;
    return loss;
  }

  /** Scores the first `count` images of a split, in chunks of 1000 like evaluateSplit. */
  evaluate(split: Split, count: number): SplitScore {
    const name = split === this.data.train ? 'train' : split === this.data.test ? 'test' : null;
    const n = Math.min(count, split.count);
    if (this.pool && name && n > 0) {
      this.pool.begin([{ split: name, count: n }], this.params);
      return splitScore(n, this.pool.finish()[0]);
    }
    return this.scoreHere(split, n);
  }

  /** True when evaluations run on the pool's threads while training goes on (see beginEvaluation). */
  get evaluatesInBackground(): boolean {
    return this.pool !== undefined;
  }

  /**
   * Starts evaluating the current parameters on the first `trainCount` train images (skipped when 0)
   * and all test images; the returned function gives the scores. With a pool the work runs on its
   * threads until then, so training may go on in between; without, it is done here at once.
   */
  beginEvaluation(trainCount: number): () => { train: SplitScore | null; test: SplitScore } {
    const { train, test } = this.data;
    const nTrain = Math.min(trainCount, train.count);
    if (!this.pool || test.count === 0) {
      const scores = { train: nTrain > 0 ? this.scoreHere(train, nTrain) : null, test: this.scoreHere(test, test.count) };
      return () => scores;
    }
    const jobs: TwinEvalJob[] = [...(nTrain > 0 ? [{ split: 'train' as const, count: nTrain }] : []), { split: 'test', count: test.count }];
    const pool = this.pool;
    pool.begin(jobs, this.params);
    return () => {
      const r = pool.finish();
      return { train: nTrain > 0 ? splitScore(nTrain, r[0]) : null, test: splitScore(test.count, r[r.length - 1]) };
    };
  }

  /** Scores images 0 .. n-1 of a split on this thread, chunk after chunk. */
  private scoreHere(split: Split, n: number): SplitScore {
    const images = this.images(split);
    const p = twinParams(this.geometry, this.params);
    this.scorer ??= new TwinChunkScorer(this.geometry);
    let correct = 0;
    let active = 0;
    const convActive: [number, number] = [0, 0];
    const lossSums: number[] = [];
    for (let start = 0; start < n; start += EVAL_CHUNK) {
      const size = Math.min(EVAL_CHUNK, n - start);
      const score = this.scorer.score(p, images, split.labels, start, size, this.config.loss);
      correct += score.correct;
      active += score.active;
      convActive[0] += score.convActive[0];
      convActive[1] += score.convActive[1];
      lossSums.push(score.lossSum);
    }
    return splitScore(n, { correct, lossSums, active, convActive });
  }

  /** Current twin parameters (widths 1, 1, 1; PARAM_NAMES order), as copies. */
  paramValues(): Float32Array[] {
    return this.params.map((a) => a.slice());
  }

  /** SHA-256 of the twin's parameters (conv1.W … fc2.b, TF layouts, float32 LE). */
  weightsSha256(): string {
    return hashFloat32Arrays(this.params);
  }

  /** Exact snapshot, in the Trainer's format (the twin's own sizes). */
  exportState(): TrainerState {
    return {
      step: this.step,
      params: this.paramValues(),
      adam: { ...this.adam, m: this.adam.m.map((a) => a.slice()), v: this.adam.v.map((a) => a.slice()) },
      sampler: this.sampler.getState(),
      rngs: rngStates({ poolTies: this.poolTies.rng }),
    };
  }

  /** Restores an exportState snapshot of a twin run with the same config; RangeError if it does not fit. */
  importState(state: TrainerState): void {
    const sizes = paramShapes(this.shape).map((s) => s.reduce((a, b) => a * b, 1));
    const { adam } = state;
    if (!Number.isSafeInteger(state.step) || state.step < 0 || adam.step !== state.step) {
      throw new RangeError(`trainer state: bad step ${state.step}`);
    }
    for (const arrays of [state.params, adam.m, adam.v]) {
      if (arrays.length !== sizes.length || arrays.some((a, i) => !(a instanceof Float32Array) || a.length !== sizes[i])) {
        throw new RangeError('trainer state: arrays do not fit a width-1 twin');
      }
    }
    const applyRngs = prepareRngImport({ poolTies: this.poolTies.rng }, state);
    this.sampler.setState(state.sampler);
    applyRngs();
    this.params = state.params.map((a) => a.slice());
    this.step = state.step;
    copyAdamState(adam, this.adam);
  }

  dispose(): void {}
}
