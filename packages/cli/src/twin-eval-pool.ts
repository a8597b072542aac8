// Spreads the width-1 twin's evaluations over worker threads (Node's worker_threads): the twin's
// training step is tiny, so evaluating 65,000 images every 100 steps is most of its protocol. The
// images (sparse) sit in SharedArrayBuffers; each evaluation hands out 1000-image chunks by index,
// the main thread takes its share too, and blocks on Atomics until the workers are done. Chunks
// are scored exactly as on one thread and their loss sums added in chunk order: bitwise the same.
import { Worker } from 'node:worker_threads';
import {
  EVAL_CHUNK,
  scoreTwinChunk,
  sparseImages,
  twinGeometry,
  twinParams,
  TwinActivations,
  type ExperimentConfig,
  type MnistData,
  type SparseImages,
  type TwinEvalPool,
} from '@mnist-sym-wasm/core';

/** Control words in the shared Int32Array. */
export const CTL = { seq: 0, done: 1, split: 2, count: 3, stop: 4 } as const;

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
  /** Participant number (the main thread is 0). */
  id: number;
  participants: number;
  rows: number;
  cols: number;
  loss: ExperimentConfig['loss'];
  paramSizes: number[];
  ctl: Int32Array;
  params: Float32Array;
  correct: Int32Array;
  lossSums: Float64Array;
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

/** Scores participant `id`'s chunks (c % participants === id) of the current job. */
export function scoreShare(d: TwinEvalWorkerData, act: TwinActivations, logits: Float32Array): void {
  const g = twinGeometry(d.rows, d.cols);
  const split = d.splits[Atomics.load(d.ctl, CTL.split)];
  const count = Atomics.load(d.ctl, CTL.count);
  const params: Float32Array[] = [];
  let off = 0;
  for (const n of d.paramSizes) {
    params.push(d.params.subarray(off, off + n));
    off += n;
  }
  const p = twinParams(g, params);
  const images: SparseImages = split;
  for (let c = d.id; c * EVAL_CHUNK < count; c += d.participants) {
    const start = c * EVAL_CHUNK;
    const r = scoreTwinChunk(g, p, images, split.labels, start, Math.min(EVAL_CHUNK, count - start), d.loss, act, logits);
    d.correct[c] = r.correct;
    d.lossSums[c] = r.lossSum;
  }
}

/** A running pool; close() ends its workers. */
export interface ClosableTwinEvalPool extends TwinEvalPool {
  close(): Promise<void>;
}

/**
 * Starts `workers` evaluation threads for a twin run on `data` (the CLI entry file runs them:
 * see index.ts). The main thread scores its share as participant 0.
 */
export function startTwinEvalPool(data: MnistData, config: ExperimentConfig, workers: number, entry: string): ClosableTwinEvalPool {
  const participants = workers + 1;
  const maxChunks = Math.ceil(Math.max(data.train.count, data.test.count) / EVAL_CHUNK);
  const paramSizes = [25, 1, 25, 1, Math.ceil(data.rows / 4) * Math.ceil(data.cols / 4), 1, 10, 10];
  const base: Omit<TwinEvalWorkerData, 'id'> = {
    kind: 'twin-eval',
    participants,
    rows: data.rows,
    cols: data.cols,
    loss: config.loss,
    paramSizes,
    ctl: new Int32Array(new SharedArrayBuffer(8 * 4)),
    params: new Float32Array(new SharedArrayBuffer(paramSizes.reduce((a, b) => a + b, 0) * 4)),
    correct: new Int32Array(new SharedArrayBuffer(maxChunks * 4)),
    lossSums: new Float64Array(new SharedArrayBuffer(maxChunks * 8)),
    splits: [
      shareSplit(sparseImages(data.train, data.rows, data.cols), data.train.labels),
      shareSplit(sparseImages(data.test, data.rows, data.cols), data.test.labels),
    ],
  };
  const threads = Array.from({ length: workers }, (_, i) => new Worker(entry, { workerData: { ...base, id: i + 1 } }));
  const mine: TwinEvalWorkerData = { ...base, id: 0 };
  const g = twinGeometry(data.rows, data.cols);
  const act = new TwinActivations(g);
  const logits = new Float32Array(EVAL_CHUNK * 10);
  let failure: Error | null = null;
  for (const t of threads) t.on('error', (e) => (failure = e));
  return {
    score(split, count, params) {
      if (failure) throw failure;
      let off = 0;
      for (const a of params) {
        base.params.set(a, off);
        off += a.length;
      }
      const { ctl } = base;
      Atomics.store(ctl, CTL.split, split === 'train' ? 0 : 1);
      Atomics.store(ctl, CTL.count, count);
      Atomics.store(ctl, CTL.done, 0);
      Atomics.add(ctl, CTL.seq, 1);
      Atomics.notify(ctl, CTL.seq);
      scoreShare(mine, act, logits);
      for (let done = Atomics.load(ctl, CTL.done); done < workers; done = Atomics.load(ctl, CTL.done)) {
        if (Atomics.wait(ctl, CTL.done, done, 60_000) === 'timed-out' && failure) throw failure;
      }
      const chunks = Math.ceil(count / EVAL_CHUNK);
      let correct = 0;
      const lossSums: number[] = [];
      for (let c = 0; c < chunks; c++) {
        correct += base.correct[c];
        lossSums.push(base.lossSums[c]);
      }
      return { correct, lossSums };
    },
    async close() {
      Atomics.store(base.ctl, CTL.stop, 1);
      Atomics.add(base.ctl, CTL.seq, 1);
      Atomics.notify(base.ctl, CTL.seq);
      await Promise.all(threads.map((t) => t.terminate()));
    },
  };
}
