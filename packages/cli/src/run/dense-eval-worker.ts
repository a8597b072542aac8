// The worker side of run/dense-eval-pool.ts: scores chunks of each evaluation until told to stop
// (run/chunk-pool.ts).
import { workerData } from 'node:worker_threads';
import { OrbitChunkScorer, seedModelShape } from '@mnist-sym-wasm/core';
import { runChunkWorker } from './chunk-pool';
import { scoreDenseChunks, type DenseEvalWorkerData } from './dense-eval-pool';

/** Runs until the pool stops; blocking in Atomics.wait is what a worker thread is for. */
export function runDenseEvalWorker(): void {
  const d = workerData as DenseEvalWorkerData;
  const scorer = new OrbitChunkScorer(seedModelShape(d.widths, d.rows, d.cols));
  runChunkWorker(d.shared.ctl, () => scoreDenseChunks(d, scorer));
}
