// Spreads the dense network's evaluations over worker threads (run/chunk-pool.ts) while it is
// symmetric: its training step then runs once per copy set in a few milliseconds, so evaluating
// 65,000 images every 100 steps is most of the protocol. The images sit in SharedArrayBuffers;
// each chunk is scored as on one thread (OrbitChunkScorer), and a chunk that meets a non-finite
// value marks its job for the trainer to score in full.
import { Worker } from 'node:worker_threads';
import {
  EVAL_CHUNK,
  OrbitChunkScorer,
  orbitSizes,
  seedModelShape,
  type DenseEvalPool,
  type ExperimentConfig,
  type MnistData,
  type Split,
} from '@mnist-sym-wasm/core';
import { chunkPool, chunkPoolShared, shared, sharedParams, takeChunks, type ChunkPoolShared } from './chunk-pool';

/** What a worker receives (all views over SharedArrayBuffers). */
export interface DenseEvalWorkerData {
  kind: 'dense-eval';
  /** Worker number (the main thread is 0). */
  id: number;
  rows: number;
  cols: number;
  widths: [number, number, number];
  loss: ExperimentConfig['loss'];
  evalConv: ExperimentConfig['evalConv'];
  shared: ChunkPoolShared;
  splits: Split[];
}

function shareSplit(s: Split): Split {
  return { count: s.count, images: shared(s.images), labels: shared(s.labels) };
}

/** Takes chunks of the current evaluation from the shared counter and scores them until none is left. */
export function scoreDenseChunks(d: DenseEvalWorkerData, scorer: OrbitChunkScorer): void {
  let params: Float32Array[] | null = null;
  takeChunks(d.shared, (split, start, size) => {
    params ??= sharedParams(d.shared, orbitSizes(seedModelShape(d.widths, d.rows, d.cols)));
    return scorer.score(params, d.splits[split], start, size, d.loss, d.evalConv);
  });
}

/** A running pool; close() ends its workers. */
export interface ClosableDenseEvalPool extends DenseEvalPool {
  close(): Promise<void>;
}

/**
 * Starts `workers` evaluation threads for a dense run on `data` (the CLI entry file runs them: see
 * index.ts). The main thread also scores chunks, in finish().
 */
export function startDenseEvalPool(data: MnistData, config: ExperimentConfig, workers: number, entry: string): ClosableDenseEvalPool {
  const shape = seedModelShape(config.widths, data.rows, data.cols);
  const maxChunks = Math.ceil(data.train.count / EVAL_CHUNK) + Math.ceil(data.test.count / EVAL_CHUNK);
  const base: Omit<DenseEvalWorkerData, 'id'> = {
    kind: 'dense-eval',
    rows: data.rows,
    cols: data.cols,
    widths: config.widths,
    loss: config.loss,
    evalConv: config.evalConv,
    shared: chunkPoolShared(
      orbitSizes(shape).reduce((a, b) => a + b, 0),
      maxChunks,
    ),
    splits: [shareSplit(data.train), shareSplit(data.test)],
  };
  const threads = Array.from({ length: workers }, (_, i) => new Worker(entry, { workerData: { ...base, id: i + 1 } }));
  const mine: DenseEvalWorkerData = { ...base, id: 0 };
  let scorer: OrbitChunkScorer | null = null;
  return chunkPool('dense evaluation pool', base.shared, threads, () => scoreDenseChunks(mine, (scorer ??= new OrbitChunkScorer(shape))));
}
