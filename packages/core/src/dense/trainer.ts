// The training state of one run (parameters, Adam state, data order) and its single step:
// forward, the float32 head, backward through the wasm kernels, TensorFlow's Adam.
import * as tf from '@tensorflow/tfjs-core';
import { ApplyAdamKernel, applyAdamKernelAvailable } from '../kernels/ApplyAdam';
import {
  adamStep,
  adamTensorConstants,
  advanceAdamStep,
  applyAdam,
  copyAdamState,
  initAdamState,
  TF_ADAM,
  type AdamHyper,
  type AdamState,
} from './adam';
import { BatchSampler } from '../data/batches';
import type { EvalConvKind, ExperimentConfig } from '../config';
import { evaluateSplit, type SplitScore } from './evaluate';
import { lossAndGradient } from './head';
import { gatherPixels, type MnistData, type Split } from '../data/mnist';
import { forwardLogits, initialParams, paramShapes, seedModelShape, type ModelShape } from './model';
import { withPoolTies, type PoolTiePolicy } from '../kernels/MaxPoolGrad';
import { withReduceOrder, type ReduceOrderPolicy } from '../kernels/Sum';
import { deriveStream, MT19937 } from '../random/prng';
import { prepareRngImport, rngStates, type RngStreams, type TrainerState } from '../run/trainer-state';
import { validateAgainstData } from '../data/config-fits-data';
import { hashFloat32Arrays } from '../run/weights-hash';
import { anySymmetric, symmetricLayers, type SymmetricLayers } from './symmetric-exec';
import { compressToOrbit, expandOrbit, findOrbit, orbitFits, type SymmetricOrbit } from './symmetric-orbit';
import { evaluateOrbit, OrbitChunkScorer, orbitSplitScore, type DenseEvalJob, type DenseEvalPool } from './symmetric-eval';
import { symmetricGradients } from './symmetric-step';
import { SymmetricStepWasm, symmetricStepWasmAvailable } from './symmetric-step-wasm';

/** How an evaluation ran: every layer as one representative, some layers, or every unit. */
export type EvalPath = 'symmetric' | 'partly-symmetric' | 'plain';

/** How a training step ran: once per copy set (dense/symmetric-step.ts) or every unit. */
export type StepPath = 'symmetric' | 'plain';

/** How often a trainer off the symmetric step checks whether its network has become symmetric. */
const ORBIT_CHECK_EVERY = 100;

/** Index of fc1's weights [3136, 1024] in PARAM_NAMES. */
const FC1_WEIGHTS = 4;

/** One run's mutable state, stepping on the wasm backend. Call dispose() when done. */
export class Trainer {
  readonly shape: ModelShape;
  readonly hyper: AdamHyper;
  /** The parameters as tfjs tensors; stale while `orbit` holds newer values (see `params`). */
  private fullParams: tf.Tensor[];
  /** Adam's state; its m and v are stale while `orbit` holds newer values (see `adam`). */
  private readonly adamState: AdamState;
  /**
   * The network in orbit form while it is symmetric and the symmetric step may run
   * (symmetricExec 'on', fixed reduction order, first-maximum ties); null otherwise. While set, it
   * is the truth: fullParams and adamState's m and v are brought up to date on demand (syncFull).
   */
  private orbit: SymmetricOrbit | null = null;
  /** Whether fullParams and adamState hold the orbit's current values. */
  private fullCurrent = true;
  /** The symmetric step on the own WebAssembly, made on first use (null: the TypeScript one). */
  private stepWasm: SymmetricStepWasm | null | undefined;
  /** Evaluation once per copy set on the own WebAssembly, made on first use (null: not available). */
  private orbitScorer: OrbitChunkScorer | null | undefined;
  /** compressToOrbit of `params` (the array a step replaces), computed on first use. */
  private orbitAt: { params: tf.Tensor[]; orbit: Float32Array[] | null } | null = null;
  /** Where evaluations of the network in orbit form may run while training goes on (see beginEvaluation). */
  private readonly evalPool: DenseEvalPool | undefined;
  /** The step at which a trainer off the symmetric step next looks for symmetry. */
  private orbitCheckAt = 0;
  /** How many steps ran each way (this trainer's own steps, not a resumed run's earlier ones). */
  readonly stepPaths: Record<StepPath, number> = { symmetric: 0, plain: 0 };
  /** How the last step ran (null before the first). */
  lastStepPath: StepPath | null = null;
  readonly sampler: BatchSampler;
  /** This run's max-pool tie rule; 'random' draws from its own stream (deriveStream(seed, 2)). */
  readonly poolTies: PoolTiePolicy;
  /** The gradients' summation order (which ones: config.reduceShuffle); 'shuffled' draws from its own stream (deriveStream(seed, 4)). */
  readonly reduceOrder: ReduceOrderPolicy;
  /** Training steps done so far. */
  step = 0;
  private readonly pixels: Float32Array;

  /** Adam on the project's own WebAssembly (bitwise the same as adamStep), when SIMD is there. */
  private readonly adamKernel: ApplyAdamKernel | null;
  /** fc1's weights transposed, which that Adam also writes, for the forward pass (see dense/model.ts). */
  private fc1T: tf.Tensor | null = null;
  /** The symmetric layers of `params` (the array a step replaces), computed on first use. */
  private symmetricAt: { params: tf.Tensor[]; layers: SymmetricLayers } | null = null;

  constructor(
    readonly config: ExperimentConfig,
    readonly data: MnistData,
    /**
     * ownWasm: false keeps this trainer's Adam in TypeScript and fc1's forward product plain (the
     * same bits, slower). The own kernels (MaxPoolGrad, Sum) are switched for the whole engine:
     * setOwnWasm, useKernelSet.
     */
    options: { ownWasm?: boolean; evalPool?: DenseEvalPool } = {},
  ) {
    this.evalPool = options.evalPool;
    validateAgainstData(config, data);
    this.shape = seedModelShape(config.widths, data.rows, data.cols);
    this.hyper = { lr: config.lr, ...TF_ADAM };
    const init = initialParams(this.shape, config);
    const shapes = paramShapes(this.shape);
    this.fullParams = init.map((values, i) => tf.tensor(values, shapes[i], 'float32'));
    const sizes = init.map((a) => a.length);
    const fc1Shape = shapes[FC1_WEIGHTS] as [number, number];
    this.adamKernel =
      options.ownWasm !== false && applyAdamKernelAvailable()
        ? new ApplyAdamKernel(sizes, this.hyper, new Map([[FC1_WEIGHTS, fc1Shape]]))
        : null;
    this.adamState = this.adamKernel ? this.adamKernel.state : initAdamState(sizes, this.hyper);
    if (this.adamKernel) this.fc1T = tf.transpose(this.fullParams[FC1_WEIGHTS]);
    this.sampler = new BatchSampler(data.train.count, config.batch, config.order, new MT19937(config.seed));
    this.pixels = new Float32Array(config.batch * data.rows * data.cols);
    this.poolTies = { rule: config.poolTies, rng: config.poolTies === 'random' ? deriveStream(config.seed, 2) : undefined };
    this.reduceOrder = {
      order: config.reduceOrder,
      shuffle: config.reduceShuffle,
      rng: config.reduceOrder === 'shuffled' ? deriveStream(config.seed, 4) : undefined,
    };
  }

  /** The RNG streams checkpoints carry (TrainerState.rngs). */
  private rngStreams(): RngStreams {
    return { poolTies: this.poolTies.rng, reduceOrder: this.reduceOrder.rng };
  }

  /**
   * The parameters as tfjs tensors, up to date (engine-internal: read them with paramValues()).
   * @internal
   */
  get params(): tf.Tensor[] {
    this.syncFull();
    return this.fullParams;
  }

  /** Adam's state, up to date (checkpoints read its m and v). */
  get adam(): AdamState {
    this.syncFull();
    return this.adamState;
  }

  /** One Adam step on the next batch; returns the batch loss (NaN included) before the update. */
  trainStep(): number {
    const indices = this.sampler.next();
    const labels = new Uint8Array(indices.length);
    for (let i = 0; i < indices.length; i++) labels[i] = this.data.train.labels[indices[i]];
    gatherPixels(this.data.train, indices, this.pixels);
    const orbit = this.symmetricStepOrbit();
    if (orbit) {
      const loss = this.symmetricStep(orbit, labels);
      if (loss !== null) return loss;
      // Something on the way was not finite: this step, and what follows, on every unit.
      this.syncFull();
      this.orbit = null;
      this.orbitCheckAt = this.step + ORBIT_CHECK_EVERY;
    }
    return this.plainStep(labels);
  }

  /**
   * The orbit to take a symmetric step from, or null for a plain step. A trainer off the symmetric
   * step looks for symmetry again every ORBIT_CHECK_EVERY steps (a tiny perturbation can round away).
   */
  private symmetricStepOrbit(): SymmetricOrbit | null {
    const c = this.config;
    if (c.symmetricExec !== 'on' || c.reduceOrder !== 'fixed' || c.poolTies === 'random' || !orbitFits(this.shape)) return null;
    if (!this.orbit && this.step >= this.orbitCheckAt) {
      this.orbitCheckAt = this.step + ORBIT_CHECK_EVERY;
      const adam = this.adamState;
      this.orbit = findOrbit(this.shape, this.paramValues(), adam.m, adam.v);
      if (this.orbit) this.fullCurrent = true;
    }
    return this.orbit;
  }

  /**
   * One step once per copy set (dense/symmetric-step.ts) with TensorFlow's Adam on the orbit arrays;
   * returns the loss, or null (nothing changed) when a value on the way, or a new one, is not finite.
   */
  private symmetricStep(orbit: SymmetricOrbit, labels: Uint8Array): number | null {
    if (this.stepWasm === undefined) {
      this.stepWasm = symmetricStepWasmAvailable() ? new SymmetricStepWasm(this.shape, this.config.batch) : null;
    }
    // symmetricStepOrbit gives no orbit under random ties.
    const ties = this.config.poolTies === 'last' ? 'last' : 'first';
    const result = this.stepWasm
      ? this.stepWasm.gradients(orbit.params, this.pixels, labels, this.config.loss, ties)
      : symmetricGradients(this.shape, orbit.params, this.pixels, labels, this.config.loss, ties);
    if (!result) return null;
    const adam = this.adamState;
    const next = { params: orbit.params.map((a) => a.slice()), m: orbit.m.map((a) => a.slice()), v: orbit.v.map((a) => a.slice()) };
    const constants = adamTensorConstants(adam, this.hyper);
    for (let i = 0; i < next.params.length; i++) {
      applyAdam(next.params[i], result.grads[i], next.m[i], next.v[i], next.params[i], constants);
    }
    const finite = (arrays: Float32Array[]) => arrays.every((a) => a.every(Number.isFinite));
    if (!finite(next.params) || !finite(next.m) || !finite(next.v)) return null;
    advanceAdamStep(adam, this.hyper);
    this.orbit = next;
    this.fullCurrent = false;
    this.step += 1;
    this.stepPaths.symmetric += 1;
    this.lastStepPath = 'symmetric';
    return result.loss;
  }

  /** Writes the orbit's values into the full tensors and Adam's m and v, when they are behind. */
  private syncFull(): void {
    if (!this.orbit || this.fullCurrent) return;
    const shapes = paramShapes(this.shape);
    // Kept: a caller may read `params` inside tf.tidy, which would otherwise dispose them at its end.
    const next = expandOrbit(this.shape, this.orbit.params).map((values, i) => tf.keep(tf.tensor(values, shapes[i], 'float32')));
    tf.dispose(this.fullParams);
    this.fullParams = next;
    if (this.fc1T) {
      tf.dispose(this.fc1T);
      this.fc1T = tf.keep(tf.transpose(next[FC1_WEIGHTS]));
    }
    const m = expandOrbit(this.shape, this.orbit.m);
    const v = expandOrbit(this.shape, this.orbit.v);
    const adam = this.adamState;
    const mViews = adam.m;
    const vViews = adam.v;
    m.forEach((a, i) => mViews[i].set(a));
    v.forEach((a, i) => vViews[i].set(a));
    this.fullCurrent = true;
  }

  /** One step through tfjs's autodiff and the wasm kernels, every unit computed. */
  private plainStep(labels: Uint8Array): number {
    const kind = this.config.loss;
    let loss = NaN;
    const x = tf.tensor2d(this.pixels, [labels.length, this.data.rows * this.data.cols]);
    // The head runs in plain float32 JS (see dense/head.ts); its gradient enters tfjs's autodiff here.
    const head = tf.customGrad(((logits: tf.Tensor) => {
      const result = lossAndGradient(kind, logits.dataSync() as Float32Array, labels, this.shape.classes);
      loss = result.loss;
      return {
        value: tf.scalar(result.loss),
        gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.tensor(result.dlogits, logits.shape)),
      };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    const params = this.fullParams;
    const { value, grads } = withReduceOrder(this.reduceOrder, () =>
      withPoolTies(this.poolTies, () =>
        tf.valueAndGrads((...ps: tf.Tensor[]) => head(forwardLogits(this.shape, ps, x, { w3T: this.fc1T ?? undefined })) as tf.Scalar)(
          params,
        ),
      ),
    );
    let next: tf.Tensor[];
    if (this.adamKernel) {
      // The forward pass is done with fc1's transposed weights (gradients need only fc1's own), so
      // they are freed before Adam allocates their successor: one 12.8 MB block fewer held at once,
      // which keeps the heap's malloc from running out of room for it (it grew the heap once, at
      // step 4693 of the seed run, when this was freed after Adam).
      tf.dispose(this.fc1T!);
      this.fc1T = null;
      const result = this.adamKernel.step(params, grads, this.hyper);
      next = result.params;
      this.fc1T = result.transposed.get(FC1_WEIGHTS)!;
    } else {
      next = adamStep(params, grads, this.adamState, this.hyper);
    }
    tf.dispose([value, x, ...grads, ...params]);
    this.fullParams = next;
    this.step += 1;
    this.stepPaths.plain += 1;
    this.lastStepPath = 'plain';
    return loss;
  }

  /**
   * Scores the first `count` images of a split with the current parameters (conv2 as the config
   * says, unless `conv2` is given); layers whose units are bitwise copies as one representative
   * unless symmetricExec is 'off' (the same bits either way).
   */
  evaluate(split: Split, count: number, conv2: EvalConvKind = this.config.evalConv): SplitScore {
    const orbit = this.config.symmetricExec === 'on' ? this.orbitParams() : null;
    const scorer = orbit && this.scorer();
    if (orbit && scorer) {
      const score = evaluateOrbit(this.shape, orbit, split, count, this.config.loss, conv2, scorer);
      if (score) return score;
    }
    const symmetric = this.config.symmetricExec === 'on' ? this.symmetricLayers() : undefined;
    return evaluateSplit(this.shape, this.params, split, count, this.config.loss, conv2, symmetric);
  }

  /** The evaluation scorer for the network in orbit form (null without WebAssembly SIMD). */
  private scorer(): OrbitChunkScorer | null {
    if (this.orbitScorer === undefined) this.orbitScorer = symmetricStepWasmAvailable() ? new OrbitChunkScorer(this.shape) : null;
    return this.orbitScorer;
  }

  /** True when evaluations may run on the pool's threads while training goes on (see beginEvaluation). */
  get evaluatesInBackground(): boolean {
    return this.evalPool !== undefined && this.config.symmetricExec === 'on';
  }

  /**
   * Starts evaluating the current parameters on the first `trainCount` train images (skipped when 0)
   * and all test images; the returned function gives the scores. A network in orbit form is scored
   * on the pool's threads (when there is a pool) until then, so training may go on in between;
   * otherwise the work is done here at once. The same scores either way.
   */
  beginEvaluation(trainCount: number): () => { train: SplitScore | null; test: SplitScore } {
    const { train, test } = this.data;
    const nTrain = Math.min(trainCount, train.count);
    const orbit = this.evaluatesInBackground && this.scorer() ? this.orbitParams() : null;
    const pool = this.evalPool;
    if (!orbit || !pool || test.count === 0) {
      const now = { train: nTrain > 0 ? this.evaluate(train, nTrain) : null, test: this.evaluate(test, test.count) };
      return () => now;
    }
    const params = orbit.map((a) => a.slice());
    const jobs: DenseEvalJob[] = [
      ...(nTrain > 0 ? [{ split: 'train' as const, count: nTrain }] : []),
      { split: 'test', count: test.count },
    ];
    pool.begin(jobs, params);
    return () => {
      const r = pool.finish();
      if (r.every((x) => x !== null)) {
        return {
          train: nTrain > 0 ? orbitSplitScore(this.shape, nTrain, r[0]!) : null,
          test: orbitSplitScore(this.shape, test.count, r[r.length - 1]!),
        };
      }
      // A chunk met a non-finite value: every unit, from the parameters of the evaluation step.
      const full = expandOrbit(this.shape, params);
      const shapes = paramShapes(this.shape);
      const tensors = full.map((a, i) => tf.tensor(a, shapes[i], 'float32'));
      const layers = symmetricLayers(this.shape, full);
      const score = (split: Split, n: number) =>
        evaluateSplit(this.shape, tensors, split, n, this.config.loss, this.config.evalConv, layers);
      const out = { train: nTrain > 0 ? score(train, nTrain) : null, test: score(test, test.count) };
      tf.dispose(tensors);
      return out;
    };
  }

  /**
   * True when every copy set is one finite value (orbit form) and symmetricExec is 'on': the
   * diagnostics may then take their values from that instead of reading every weight.
   */
  inOrbitForm(): boolean {
    return this.config.symmetricExec === 'on' && this.orbitParams() !== null;
  }

  /** The parameters in orbit form when every copy set is one finite value (checked once per step), else null. */
  private orbitParams(): Float32Array[] | null {
    if (!orbitFits(this.shape)) return null;
    if (this.orbit) return this.orbit.params;
    if (this.orbitAt?.params !== this.fullParams)
      this.orbitAt = { params: this.fullParams, orbit: compressToOrbit(this.shape, this.paramValues()) };
    return this.orbitAt.orbit;
  }

  /** Which layers are bitwise copy sets now (checked on the parameters, once per step). */
  symmetricLayers(): SymmetricLayers {
    if (this.symmetricAt?.params !== this.params)
      this.symmetricAt = { params: this.params, layers: symmetricLayers(this.shape, this.paramValues()) };
    return this.symmetricAt.layers;
  }

  /** How evaluate() runs with the current parameters. */
  evalPath(): EvalPath {
    if (this.config.symmetricExec === 'off') return 'plain';
    const s = this.symmetricLayers();
    return s.conv1 && s.conv2 && s.fc1 ? 'symmetric' : anySymmetric(s) ? 'partly-symmetric' : 'plain';
  }

  /** Current parameters as float32 arrays, in PARAM_NAMES order. */
  paramValues(): Float32Array[] {
    return this.params.map((p) => p.dataSync() as Float32Array);
  }

  /** SHA-256 of the current parameters (conv1.W … fc2.b, TF layouts, float32 LE). */
  weightsSha256(): string {
    return hashFloat32Arrays(this.paramValues());
  }

  /** Exact snapshot (copies); {@link importState} on a Trainer of the same config continues bitwise. */
  exportState(): TrainerState {
    return {
      step: this.step,
      params: this.paramValues().map((a) => a.slice()),
      adam: { ...this.adam, m: this.adam.m.map((a) => a.slice()), v: this.adam.v.map((a) => a.slice()) },
      sampler: this.sampler.getState(),
      rngs: rngStates(this.rngStreams()),
    };
  }

  /**
   * Restores an {@link exportState} snapshot taken with the same config. Validates sizes and the
   * sampler state before changing anything; throws RangeError when they do not fit this model.
   */
  importState(state: TrainerState): void {
    const sizes = paramShapes(this.shape).map((s) => s.reduce((a, b) => a * b, 1));
    if (!Number.isSafeInteger(state.step) || state.step < 0) throw new RangeError(`trainer state: bad step ${state.step}`);
    const { adam } = state;
    if (!Number.isSafeInteger(adam.step) || adam.step !== state.step) {
      throw new RangeError(`trainer state: Adam step ${adam.step} differs from the training step ${state.step}`);
    }
    if (!Number.isFinite(adam.beta1Power) || !Number.isFinite(adam.beta2Power)) throw new RangeError('trainer state: bad Adam beta powers');
    for (const [what, arrays] of [
      ['params', state.params],
      ['Adam m', adam.m],
      ['Adam v', adam.v],
    ] as const) {
      if (arrays.length !== sizes.length || arrays.some((a, i) => !(a instanceof Float32Array) || a.length !== sizes[i])) {
        throw new RangeError(`trainer state: ${what} do not fit a model of widths ${this.shape.widths.join(',')}`);
      }
    }
    const applyRngs = prepareRngImport(this.rngStreams(), state);
    this.sampler.setState(state.sampler); // validates fully before changing anything
    applyRngs();
    const shapes = paramShapes(this.shape);
    const next = state.params.map((values, i) => tf.tensor(values.slice(), shapes[i], 'float32'));
    tf.dispose(this.fullParams);
    this.fullParams = next;
    if (this.fc1T) {
      tf.dispose(this.fc1T);
      this.fc1T = tf.transpose(this.fullParams[FC1_WEIGHTS]);
    }
    this.step = state.step;
    copyAdamState(adam, this.adamState);
    // The restored network is looked at afresh: symmetric or not, it says at the next step.
    this.orbit = null;
    this.fullCurrent = true;
    this.orbitCheckAt = state.step;
  }

  dispose(): void {
    tf.dispose(this.fullParams);
    this.fullParams = [];
    this.orbit = null;
    if (this.fc1T) tf.dispose(this.fc1T);
    this.fc1T = null;
    this.adamKernel?.dispose();
  }
}
