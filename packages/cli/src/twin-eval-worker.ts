// The worker side of twin-eval-pool.ts: waits for a job (a new sequence number), scores its share
// of the chunks, counts itself done, and waits again until told to stop.
import { workerData } from 'node:worker_threads';
import { EVAL_CHUNK, twinGeometry, TwinActivations } from '@mnist-sym-wasm/core';
import { CTL, scoreShare, type TwinEvalWorkerData } from './twin-eval-pool';

/** Runs until the pool stops; blocking in Atomics.wait is what a worker thread is for. */
export function runTwinEvalWorker(): void {
  const d = workerData as TwinEvalWorkerData;
  const act = new TwinActivations(twinGeometry(d.rows, d.cols));
  const logits = new Float32Array(EVAL_CHUNK * 10);
  let seen = 0;
  for (;;) {
    Atomics.wait(d.ctl, CTL.seq, seen);
    seen = Atomics.load(d.ctl, CTL.seq);
    if (Atomics.load(d.ctl, CTL.stop) === 1) return;
    scoreShare(d, act, logits);
    Atomics.add(d.ctl, CTL.done, 1);
    Atomics.notify(d.ctl, CTL.done);
  }
}
