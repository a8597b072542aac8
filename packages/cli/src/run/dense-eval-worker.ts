// The worker side of run/dense-eval-pool.ts: waits for an evaluation (a new sequence number), scores
// chunks from the shared counter until none is left, counts itself done, and waits again until
// told to stop.
import { workerData } from 'node:worker_threads';
import { OrbitChunkScorer, seedModelShape } from '@mnist-sym-wasm/core';
import { DENSE_CTL, scoreDenseChunks, type DenseEvalWorkerData } from './dense-eval-pool';

/** Runs until the pool stops; blocking in Atomics.wait is what a worker thread is for. */
export function runDenseEvalWorker(): void {
  const d = workerData as DenseEvalWorkerData;
  const scorer = new OrbitChunkScorer(seedModelShape(d.widths, d.rows, d.cols));
  let seen = 0;
  for (;;) {
    Atomics.wait(d.ctl, DENSE_CTL.seq, seen);
    seen = Atomics.load(d.ctl, DENSE_CTL.seq);
    if (Atomics.load(d.ctl, DENSE_CTL.stop) === 1) return;
    scoreDenseChunks(d, scorer);
    Atomics.add(d.ctl, DENSE_CTL.done, 1);
    Atomics.notify(d.ctl, DENSE_CTL.done);
  }
}
