// The worker side of twin/twin-eval-pool.ts: scores chunks of each evaluation until told to stop
// (run/chunk-pool.ts).
import { workerData } from 'node:worker_threads';
import { twinGeometry, TwinChunkScorer } from '@mnist-sym-wasm/core';
import { runChunkWorker } from '../run/chunk-pool';
import { scoreChunks, type TwinEvalWorkerData } from './twin-eval-pool';

/** Runs until the pool stops; blocking in Atomics.wait is what a worker thread is for. */
export function runTwinEvalWorker(): void {
  const d = workerData as TwinEvalWorkerData;
  const scorer = new TwinChunkScorer(twinGeometry(d.rows, d.cols));
  runChunkWorker(d.shared.ctl, () => scoreChunks(d, scorer));
}
