// Spreads the dense network's evaluations over worker threads (Node's worker_threads) while it is
// symmetric: its training step then runs once per copy set in a few milliseconds, so evaluating
// 65,000 images every 100 steps is most of the protocol. The images sit in SharedArrayBuffers.
// begin() publishes the orbit parameters and the jobs and returns: the workers take 1000-image
// chunks from a shared counter while the main thread trains on. finish() takes chunks too until
// none is left, then blocks on Atomics until the workers are done. Each chunk is scored exactly as
// on one thread and the loss sums are added in chunk order: bitwise the same results, whoever
// scored what.
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

/** Control words in the shared Int32Array (job j's split and count at JOBS + 2j, JOBS + 2j + 1). */
export const DENSE_CTL = { seq: 0, done: 1, next: 2, jobs: 3, stop: 4, JOBS: 8 } as const;

/** Jobs one evaluation may hold (train and test). */
const MAX_JOBS = 2;

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
  ctl: Int32Array;
  params: Float32Array;
  correct: Int32Array;
  lossSums: Float64Array;
  active: Int32Array;
  /** Per chunk: 1 when it met a non-finite value. */
  failed: Int32Array;
  splits: Split[];
}

function shareSplit(s: Split): Split {
  const images = new Uint8Array(new SharedArrayBuffer(s.images.byteLength));
  images.set(s.images);
  const labels = new Uint8Array(new SharedArrayBuffer(s.labels.byteLength));
  labels.set(s.labels);
  return { count: s.count, images, labels };
}

/** The current job list as chunk ranges: job j's chunks are firstChunk[j] .. firstChunk[j + 1] - 1. */
function jobChunks(ctl: Int32Array): number[] {
  const firstChunk = [0];
  const jobs = Atomics.load(ctl, DENSE_CTL.jobs);
  for (let j = 0; j < jobs; j++) firstChunk.push(firstChunk[j] + Math.ceil(Atomics.load(ctl, DENSE_CTL.JOBS + 2 * j + 1) / EVAL_CHUNK));
  return firstChunk;
}

/** Takes chunks of the current evaluation from the shared counter and scores them until none is left. */
export function scoreDenseChunks(d: DenseEvalWorkerData, scorer: OrbitChunkScorer): void {
  const firstChunk = jobChunks(d.ctl);
  const total = firstChunk[firstChunk.length - 1];
  let params: Float32Array[] | null = null;
  for (let c = Atomics.add(d.ctl, DENSE_CTL.next, 1); c < total; c = Atomics.add(d.ctl, DENSE_CTL.next, 1)) {
    if (!params) {
      params = [];
      let off = 0;
      for (const n of orbitSizes(seedModelShape(d.widths, d.rows, d.cols))) {
        params.push(d.params.slice(off, off + n));
        off += n;
      }
    }
    let j = 0;
    while (c >= firstChunk[j + 1]) j++;
    const split = d.splits[Atomics.load(d.ctl, DENSE_CTL.JOBS + 2 * j)];
    const count = Atomics.load(d.ctl, DENSE_CTL.JOBS + 2 * j + 1);
    const start = (c - firstChunk[j]) * EVAL_CHUNK;
    const r = scorer.score(params, split, start, Math.min(EVAL_CHUNK, count - start), d.loss, d.evalConv);
    d.failed[c] = r ? 0 : 1;
    d.correct[c] = r?.correct ?? 0;
    d.lossSums[c] = r?.lossSum ?? 0;
    d.active[c] = r?.active ?? 0;
  }
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
  const paramCount = orbitSizes(shape).reduce((a, b) => a + b, 0);
  const base: Omit<DenseEvalWorkerData, 'id'> = {
    kind: 'dense-eval',
    rows: data.rows,
    cols: data.cols,
    widths: config.widths,
    loss: config.loss,
    evalConv: config.evalConv,
    ctl: new Int32Array(new SharedArrayBuffer((DENSE_CTL.JOBS + 2 * MAX_JOBS) * 4)),
    params: new Float32Array(new SharedArrayBuffer(paramCount * 4)),
    correct: new Int32Array(new SharedArrayBuffer(maxChunks * 4)),
    lossSums: new Float64Array(new SharedArrayBuffer(maxChunks * 8)),
    active: new Int32Array(new SharedArrayBuffer(maxChunks * 4)),
    failed: new Int32Array(new SharedArrayBuffer(maxChunks * 4)),
    splits: [shareSplit(data.train), shareSplit(data.test)],
  };
  const threads = Array.from({ length: workers }, (_, i) => new Worker(entry, { workerData: { ...base, id: i + 1 } }));
  const mine: DenseEvalWorkerData = { ...base, id: 0 };
  let scorer: OrbitChunkScorer | null = null;
  let failure: Error | null = null;
  for (const t of threads) t.on('error', (e) => (failure = e));
  let running: number[] | null = null; // the chunk ranges of the evaluation begun and not finished
  return {
    begin(jobs, params) {
      if (failure) throw failure;
      if (running) throw new Error('dense evaluation pool: begin() before finish()');
      if (jobs.length > MAX_JOBS) throw new RangeError(`dense evaluation pool: at most ${MAX_JOBS} jobs`);
      let off = 0;
      for (const a of params) {
        base.params.set(a, off);
        off += a.length;
      }
      const { ctl } = base;
      jobs.forEach((job, j) => {
        Atomics.store(ctl, DENSE_CTL.JOBS + 2 * j, job.split === 'train' ? 0 : 1);
        Atomics.store(ctl, DENSE_CTL.JOBS + 2 * j + 1, job.count);
      });
      Atomics.store(ctl, DENSE_CTL.jobs, jobs.length);
      Atomics.store(ctl, DENSE_CTL.next, 0);
      Atomics.store(ctl, DENSE_CTL.done, 0);
      running = jobChunks(ctl);
      Atomics.add(ctl, DENSE_CTL.seq, 1);
      Atomics.notify(ctl, DENSE_CTL.seq);
    },
    finish() {
      if (!running) throw new Error('dense evaluation pool: finish() without begin()');
      const { ctl } = base;
      scorer ??= new OrbitChunkScorer(shape);
      scoreDenseChunks(mine, scorer);
      for (let done = Atomics.load(ctl, DENSE_CTL.done); done < workers; done = Atomics.load(ctl, DENSE_CTL.done)) {
        if (Atomics.wait(ctl, DENSE_CTL.done, done, 60_000) === 'timed-out' && failure) throw failure;
      }
      const firstChunk = running;
      running = null;
      const out: ({ correct: number; lossSums: number[]; active: number } | null)[] = [];
      for (let j = 0; j + 1 < firstChunk.length; j++) {
        let correct = 0;
        let active = 0;
        let failed = false;
        const lossSums: number[] = [];
        for (let c = firstChunk[j]; c < firstChunk[j + 1]; c++) {
          correct += base.correct[c];
          active += base.active[c];
          failed ||= base.failed[c] === 1;
          lossSums.push(base.lossSums[c]);
        }
        out.push(failed ? null : { correct, lossSums, active });
      }
      return out;
    },
    async close() {
      Atomics.store(base.ctl, DENSE_CTL.stop, 1);
      Atomics.add(base.ctl, DENSE_CTL.seq, 1);
      Atomics.notify(base.ctl, DENSE_CTL.seq);
      await Promise.all(threads.map((t) => t.terminate()));
    },
  };
}
