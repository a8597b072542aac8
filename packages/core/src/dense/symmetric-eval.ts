// Evaluation of the seed network in its symmetric state once per copy set, on the symmetric step's
// WebAssembly (dense/symmetric-step-wasm.ts): conv1, conv2 (Winograd or direct, as the config
// says) and fc1 computed for one channel or unit, with the operations the full evaluation
// (dense/evaluate.ts) runs for every one of them, so the scores are the same bits. fc2 and the head
// as there. Null where it does not apply (then the full evaluation runs).
import type { EvalConvKind, LossKind } from '../config';
import type { Split } from '../data/mnist';
import { EVAL_CHUNK, splitScoreOfChunks, type ChunkTotals, type SplitScore } from './evaluate';
import { scoreLogits } from './head';
import type { ModelShape } from './model';
import type { OrbitArrays } from './symmetric-orbit';
import { SymmetricStepWasm } from './symmetric-step-wasm';
import { winogradFilter } from './winograd';

/** The 36 transformed values of conv2's copy set (winograd.ts's U for one input and output channel). */
export function winogradOrbitFilter(w2: Float32Array): Float32Array {
  const u = winogradFilter(w2, 1, 1);
  return Float32Array.from({ length: 36 }, (_, xi) => u[xi * 16]);
}

/**
 * One chunk's scores: correct predictions, the loss sum (float64, in image order), images whose
 * fc1 unit was active, and images whose conv1 and conv2 channels were.
 */
export interface OrbitChunkScore {
  correct: number;
  lossSum: number;
  active: number;
  convActive: [number, number];
}

/**
 * Images the module computes at once: a chunk goes through in parts this large, so that each
 * part's activations stay in the core's cache (the logits of the whole chunk are then scored as one).
 */
const EVAL_PART = 100;

/** Scores evaluation chunks (up to EVAL_CHUNK images) from orbit parameters on this thread. */
export class OrbitChunkScorer {
  private readonly wasm: SymmetricStepWasm;
  private readonly logits: Float32Array;
  private uFor: Float32Array | null = null;
  private u: Float32Array | null = null;

  constructor(private readonly shape: ModelShape) {
    this.wasm = new SymmetricStepWasm(shape, EVAL_PART);
    this.logits = new Float32Array(EVAL_CHUNK * shape.classes);
  }

  /** Images start .. start + size - 1 (size <= EVAL_CHUNK) of `split`; null when a value on the way is not finite. */
  score(params: OrbitArrays, split: Split, start: number, size: number, loss: LossKind, conv2: EvalConvKind): OrbitChunkScore | null {
    const { shape } = this;
    if (size > EVAL_CHUNK) throw new RangeError(`symmetric evaluation: chunks of at most ${EVAL_CHUNK} images`);
    // evaluate.ts takes Winograd for a 5x5 conv2 over an even-sided input (winogradFits): always so here.
    let u: Float32Array | null = null;
    if (conv2 === 'winograd' && shape.kernel === 5) {
      if (this.uFor !== params[2]) {
        this.u = winogradOrbitFilter(params[2]);
        this.uFor = params[2];
      }
      u = this.u;
    }
    // The chunk's images are consecutive: their bytes go to the module as they are.
    const pixelsPerImage = shape.height * shape.width;
    if (split.images.length !== split.count * pixelsPerImage) throw new RangeError('symmetric evaluation: images do not fit the model');
    let active = 0;
    const convActive: [number, number] = [0, 0];
    for (let part = 0; part < size; part += EVAL_PART) {
      const n = Math.min(EVAL_PART, size - part);
      const first = start + part;
      const out = this.wasm.evalForwardBytes(params, split.images.subarray(first * pixelsPerImage, (first + n) * pixelsPerImage), n, u);
      if (!out) return null;
      for (let i = 0; i < n; i++) {
        if (out.hidden[i] > 0) active++;
        convActive[0] += out.conv1Active[i];
        convActive[1] += out.conv2Active[i];
      }
      this.logits.set(out.logits, part * shape.classes);
    }
    const score = scoreLogits(
      loss,
      this.logits.subarray(0, size * shape.classes),
      split.labels.subarray(start, start + size),
      shape.classes,
    );
    return { correct: score.correct, lossSum: score.lossSum, active, convActive };
  }
}

/** One split's chunk scores, summed as evaluateSplit sums them (losses in chunk order). */
export function orbitSplitScore(shape: ModelShape, n: number, chunks: ChunkTotals): SplitScore {
  return splitScoreOfChunks(n, chunks, shape.widths);
}

/**
 * Scores the first `count` images of `split` as evaluateSplit does, from the orbit parameters, in
 * chunks of EVAL_CHUNK on `scorer`; null when a value is not finite.
 */
export function evaluateOrbit(
  shape: ModelShape,
  params: OrbitArrays,
  split: Split,
  count: number,
  loss: LossKind,
  conv2: EvalConvKind,
  scorer: OrbitChunkScorer,
): SplitScore | null {
  const n = Math.min(count, split.count);
  const chunks = { correct: 0, lossSums: [] as number[], active: 0, convActive: [0, 0] as [number, number] };
  for (let start = 0; start < n; start += EVAL_CHUNK) {
    const score = scorer.score(params, split, start, Math.min(EVAL_CHUNK, n - start), loss, conv2);
    if (!score) return null;
    chunks.correct += score.correct;
    chunks.active += score.active;
    chunks.convActive[0] += score.convActive[0];
    chunks.convActive[1] += score.convActive[1];
    chunks.lossSums.push(score.lossSum);
  }
  return orbitSplitScore(shape, n, chunks);
}

/** One split to score: the first `count` images of the train or test split. */
export interface DenseEvalJob {
  split: 'train' | 'test';
  count: number;
}

/**
 * Scores a symmetric network's evaluation chunks elsewhere (e.g. worker threads), each with an
 * OrbitChunkScorer, so the result is bitwise what one thread gets. begin() copies the orbit
 * parameters, starts the work and returns at once (the caller may go on training); finish() helps
 * with what is left, waits, and returns each job's chunk scores, or null for a job where a chunk
 * met a non-finite value. One evaluation at a time: begin, finish, begin, ...
 */
export interface DenseEvalPool {
  begin(jobs: DenseEvalJob[], params: OrbitArrays): void;
  finish(): (ChunkTotals | null)[];
}
