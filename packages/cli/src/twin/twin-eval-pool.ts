// Spreads the width-1 twin's evaluations over worker threads (run/chunk-pool.ts): the twin's
// training step is tiny, so evaluating 65,000 images every 100 steps is most of its protocol. The
// images (sparse) sit in SharedArrayBuffers; each chunk is scored as on one thread.
import { Worker } from 'node:worker_threads';
import {
  sparseImages,
  twinGeometry,
  twinParams,
  TwinChunkScorer,
  EVAL_CHUNK,
  type ExperimentConfig,
  type MnistData,
  type SparseImages,
  type TwinEvalPool,
} from '@mnist-sym-wasm/core';
import { chunkPool, chunkPoolShared, shared, sharedParams, takeChunks, type ChunkPoolShared } from '../run/chunk-pool';

/** One split's sparse images and labels, in shared memory. */
export interface SharedSplit {
  offsets: Uint32Array;
  index: Uint16Array;
  value: Float32Array;
  box: Uint16Array;
  labels: Uint8Array;
}

/** What a worker receives (all views over SharedArrayBuffers). */
export interface TwinEvalWorkerData {
  kind: 'twin-eval';
  /** Worker number (the main thread is 0). */
  id: number;
  rows: number;
  cols: number;
  loss: ExperimentConfig['loss'];
  paramSizes: number[];
  shared: ChunkPoolShared;
  splits: SharedSplit[];
}

function shareSplit(s: SparseImages, labels: Uint8Array): SharedSplit {
  return { offsets: shared(s.offsets), index: shared(s.index), value: shared(s.value), box: shared(s.box), labels: shared(labels) };
}

/** Takes chunks of the current evaluation from the shared counter and scores them until none is left. */
export function scoreChunks(d: TwinEvalWorkerData, scorer: TwinChunkScorer): void {
  const g = twinGeometry(d.rows, d.cols);
  let p: ReturnType<typeof twinParams> | null = null;
  takeChunks(d.shared, (split, start, size) => {
    p ??= twinParams(g, sharedParams(d.shared, d.paramSizes));
    const s = d.splits[split];
    return scorer.score(p, s, s.labels, start, size, d.loss);
  });
}

/** A running pool; close() ends its workers. */
export interface ClosableTwinEvalPool extends TwinEvalPool {
  close(): Promise<void>;
}

/**
 * Starts `workers` evaluation threads for a twin run on `data` (the CLI entry file runs them:
 * see index.ts). The main thread also scores chunks, in finish().
 */
export function startTwinEvalPool(data: MnistData, config: ExperimentConfig, workers: number, entry: string): ClosableTwinEvalPool {
  const maxChunks = Math.ceil(data.train.count / EVAL_CHUNK) + Math.ceil(data.test.count / EVAL_CHUNK);
  const paramSizes = [25, 1, 25, 1, Math.ceil(data.rows / 4) * Math.ceil(data.cols / 4), 1, 10, 10];
  const base: Omit<TwinEvalWorkerData, 'id'> = {
    kind: 'twin-eval',
    rows: data.rows,
    cols: data.cols,
    loss: config.loss,
    paramSizes,
    shared: chunkPoolShared(
      paramSizes.reduce((a, b) => a + b, 0),
      maxChunks,
    ),
    splits: [
      shareSplit(sparseImages(data.train, data.rows, data.cols), data.train.labels),
      shareSplit(sparseImages(data.test, data.rows, data.cols), data.test.labels),
    ],
  };
  const threads = Array.from({ length: workers }, (_, i) => new Worker(entry, { workerData: { ...base, id: i + 1 } }));
  const mine: TwinEvalWorkerData = { ...base, id: 0 };
  const scorer = new TwinChunkScorer(twinGeometry(data.rows, data.cols));
  const pool = chunkPool('twin evaluation pool', base.shared, threads, () => scoreChunks(mine, scorer));
  return {
    begin: (jobs, params) => pool.begin(jobs, params),
    // The twin's chunks always score (no non-finite fallback): every job has its scores.
    finish: () => pool.finish().map((r) => r!),
    close: () => pool.close(),
  };
}
