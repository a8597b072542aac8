// Spreads the width-1 twin's evaluations over worker threads (Node's worker_threads): the twin's
// training step is tiny, so evaluating 65,000 images every 100 steps is most of its protocol. The
// images (sparse) sit in SharedArrayBuffers. begin() publishes the parameters and the jobs and
// returns: the workers take 1000-image chunks from a shared counter while the main thread trains
// on. finish() takes chunks too until none is left, then blocks on Atomics until the workers are
// done. Each chunk is scored exactly as on one thread and the loss sums are added in chunk order:
// bitwise the same results, whoever scored what.
import { Worker } from 'node:worker_threads';
import {
  EVAL_CHUNK,
  sparseImages,
  twinGeometry,
  twinParams,
  TwinChunkScorer,
  type ExperimentConfig,
  type MnistData,
  type SparseImages,
  type TwinChunkScores,
  type TwinEvalPool,
} from '@mnist-sym-wasm/core';

/** Control words in the shared Int32Array (job j's split and count at JOBS + 2j, JOBS + 2j + 1). */
export const CTL = { seq: 0, done: 1, next: 2, jobs: 3, stop: 4, JOBS: 8 } as const;

/** Jobs one evaluation may hold (train and test). */
const MAX_JOBS = 2;

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
  ctl: Int32Array;
  params: Float32Array;
  correct: Int32Array;
  lossSums: Float64Array;
  /** Per chunk: images whose fc1 unit was active. */
  active: Int32Array;
  splits: SharedSplit[];
}

function share<T extends Uint32Array | Uint16Array | Float32Array | Uint8Array>(a: T): T {
  const ctor = a.constructor as new (buffer: SharedArrayBuffer) => T;
  const out = new ctor(new SharedArrayBuffer(a.byteLength));
  out.set(a as never);
  return out;
}

function shareSplit(s: SparseImages, labels: Uint8Array): SharedSplit {
  return { offsets: share(s.offsets), index: share(s.index), value: share(s.value), box: share(s.box), labels: share(labels) };
}

/** The current job list as chunk ranges: job j's chunks are firstChunk[j] .. firstChunk[j + 1] - 1. */
function jobChunks(ctl: Int32Array): { firstChunk: number[]; total: number } {
  const firstChunk = [0];
  const jobs = Atomics.load(ctl, CTL.jobs);
  for (let j = 0; j < jobs; j++) firstChunk.push(firstChunk[j] + Math.ceil(Atomics.load(ctl, CTL.JOBS + 2 * j + 1) / EVAL_CHUNK));
  return { firstChunk, total: firstChunk[jobs] };
}

/** Takes chunks of the current evaluation from the shared counter and scores them until none is left. */
export function scoreChunks(d: TwinEvalWorkerData, scorer: TwinChunkScorer): void {
  const g = twinGeometry(d.rows, d.cols);
  const { firstChunk, total } = jobChunks(d.ctl);
  let p: ReturnType<typeof twinParams> | null = null;
  for (let c = Atomics.add(d.ctl, CTL.next, 1); c < total; c = Atomics.add(d.ctl, CTL.next, 1)) {
    if (!p) {
      const params: Float32Array[] = [];
      let off = 0;
      for (const n of d.paramSizes) {
        params.push(d.params.subarray(off, off + n));
        off += n;
      }
      p = twinParams(g, params);
    }
    let j = 0;
    while (c >= firstChunk[j + 1]) j++;
    const split = d.splits[Atomics.load(d.ctl, CTL.JOBS + 2 * j)];
    const count = Atomics.load(d.ctl, CTL.JOBS + 2 * j + 1);
    const start = (c - firstChunk[j]) * EVAL_CHUNK;
    const r = scorer.score(p, split, split.labels, start, Math.min(EVAL_CHUNK, count - start), d.loss);
    d.correct[c] = r.correct;
    d.lossSums[c] = r.lossSum;
    d.active[c] = r.active;
  }
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
    ctl: new Int32Array(new SharedArrayBuffer((CTL.JOBS + 2 * MAX_JOBS) * 4)),
    params: new Float32Array(new SharedArrayBuffer(paramSizes.reduce((a, b) => a + b, 0) * 4)),
    correct: new Int32Array(new SharedArrayBuffer(maxChunks * 4)),
    lossSums: new Float64Array(new SharedArrayBuffer(maxChunks * 8)),
    active: new Int32Array(new SharedArrayBuffer(maxChunks * 4)),
    splits: [
      shareSplit(sparseImages(data.train, data.rows, data.cols), data.train.labels),
      shareSplit(sparseImages(data.test, data.rows, data.cols), data.test.labels),
    ],
  };
  const threads = Array.from({ length: workers }, (_, i) => new Worker(entry, { workerData: { ...base, id: i + 1 } }));
  const mine: TwinEvalWorkerData = { ...base, id: 0 };
  const g = twinGeometry(data.rows, data.cols);
  const scorer = new TwinChunkScorer(g);
  let failure: Error | null = null;
  for (const t of threads) t.on('error', (e) => (failure = e));
  let running: number[] | null = null; // the chunk ranges of the evaluation begun and not finished
  return {
    begin(jobs, params) {
      if (failure) throw failure;
      if (running) throw new Error('twin evaluation pool: begin() before finish()');
      if (jobs.length > MAX_JOBS) throw new RangeError(`twin evaluation pool: at most ${MAX_JOBS} jobs`);
      let off = 0;
      for (const a of params) {
        base.params.set(a, off);
        off += a.length;
      }
      const { ctl } = base;
      jobs.forEach((job, j) => {
        Atomics.store(ctl, CTL.JOBS + 2 * j, job.split === 'train' ? 0 : 1);
        Atomics.store(ctl, CTL.JOBS + 2 * j + 1, job.count);
      });
      Atomics.store(ctl, CTL.jobs, jobs.length);
      Atomics.store(ctl, CTL.next, 0);
      Atomics.store(ctl, CTL.done, 0);
      running = jobChunks(ctl).firstChunk;
      Atomics.add(ctl, CTL.seq, 1);
      Atomics.notify(ctl, CTL.seq);
    },
    finish() {
      if (!running) throw new Error('twin evaluation pool: finish() without begin()');
      const { ctl } = base;
      scoreChunks(mine, scorer);
      for (let done = Atomics.load(ctl, CTL.done); done < workers; done = Atomics.load(ctl, CTL.done)) {
        if (Atomics.wait(ctl, CTL.done, done, 60_000) === 'timed-out' && failure) throw failure;
      }
      const firstChunk = running;
      running = null;
      const out: TwinChunkScores[] = [];
      for (let j = 0; j + 1 < firstChunk.length; j++) {
        let correct = 0;
        let active = 0;
        const lossSums: number[] = [];
        for (let c = firstChunk[j]; c < firstChunk[j + 1]; c++) {
          correct += base.correct[c];
          active += base.active[c];
          lossSums.push(base.lossSums[c]);
        }
        out.push({ correct, lossSums, active });
      }
      return out;
    },
    async close() {
      Atomics.store(base.ctl, CTL.stop, 1);
      Atomics.add(base.ctl, CTL.seq, 1);
      Atomics.notify(base.ctl, CTL.seq);
      await Promise.all(threads.map((t) => t.terminate()));
    },
  };
}
