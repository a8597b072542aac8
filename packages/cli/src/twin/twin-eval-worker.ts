// The worker side of twin/twin-eval-pool.ts: waits for an evaluation (a new sequence number), scores
// chunks from the shared counter until none is left, counts itself done, and waits again until
// told to stop.
import { workerData } from 'node:worker_threads';
import { twinGeometry, TwinChunkScorer } from '@mnist-sym-wasm/core';
import { CTL, scoreChunks, type TwinEvalWorkerData } from './twin-eval-pool';

/** Runs until the pool stops; blocking in Atomics.wait is what a worker thread is for. */
export function runTwinEvalWorker(): void {
  const d = workerData as TwinEvalWorkerData;
  const scorer = new TwinChunkScorer(twinGeometry(d.rows, d.cols));
  let seen = 0;
  for (;;) {
    Atomics.wait(d.ctl, CTL.seq, seen);
    seen = Atomics.load(d.ctl, CTL.seq);
    if (Atomics.load(d.ctl, CTL.stop) === 1) return;
    scoreChunks(d, scorer);
    Atomics.add(d.ctl, CTL.done, 1);
    Atomics.notify(d.ctl, CTL.done);
  }
}
