// The machinery shared by the evaluation pools (twin/twin-eval-pool.ts, run/dense-eval-pool.ts):
// worker threads (Node's worker_threads) and the main thread take 1000-image chunks of an
// evaluation from a shared counter and write each chunk's scores to shared arrays; the scores are
// then added in chunk order, so the result is bitwise what one thread gets, whoever scored what.
// begin() publishes the parameters and the jobs and returns (the main thread trains on); finish()
// scores chunks too until none is left, blocks on Atomics until every worker is done, and returns
// each job's scores.
import type { Worker } from 'node:worker_threads';
import { EVAL_CHUNK } from '@mnist-sym-wasm/core';

/** Control words in the shared Int32Array (job j's split and count at JOBS + 2j, JOBS + 2j + 1). */
export const CTL = { seq: 0, done: 1, next: 2, jobs: 3, stop: 4, JOBS: 8 } as const;

/** Jobs one evaluation may hold (train and test). */
const MAX_JOBS = 2;

/** The pool's shared state: control words, the parameters, and each chunk's scores. */
export interface ChunkPoolShared {
  ctl: Int32Array;
  params: Float32Array;
  correct: Int32Array;
  lossSums: Float64Array;
  /** Per chunk: images whose fc1 unit was active. */
  active: Int32Array;
  /** Per chunk: images whose conv1 channel was active, then (from maxChunks on) whose conv2 channel was. */
  convActive: Int32Array;
  /** Per chunk: 1 when its scorer could not score it (the caller then scores the job another way). */
  failed: Int32Array;
}

/** One chunk's scores, or null when it could not be scored. */
export type ChunkScore = { correct: number; lossSum: number; active: number; convActive: [number, number] } | null;

/** One job's scores: correct predictions, the chunks' loss sums in order, active images (fc1; conv1 and conv2). */
export interface JobScores {
  correct: number;
  lossSums: number[];
  active: number;
  convActive: [number, number];
}

/** A copy of `a` in a SharedArrayBuffer, which worker threads see without copying. */
export function shared<T extends Uint32Array | Uint16Array | Float32Array | Uint8Array>(a: T): T {
  const ctor = a.constructor as new (buffer: SharedArrayBuffer) => T;
  const out = new ctor(new SharedArrayBuffer(a.byteLength));
  out.set(a as never);
  return out;
}

/** Shared state for `paramCount` parameters and an evaluation of at most `maxChunks` chunks. */
export function chunkPoolShared(paramCount: number, maxChunks: number): ChunkPoolShared {
  const ints = (n: number) => new Int32Array(new SharedArrayBuffer(n * 4));
  return {
    ctl: ints(CTL.JOBS + 2 * MAX_JOBS),
    params: new Float32Array(new SharedArrayBuffer(paramCount * 4)),
    correct: ints(maxChunks),
    lossSums: new Float64Array(new SharedArrayBuffer(maxChunks * 8)),
    active: ints(maxChunks),
    convActive: ints(2 * maxChunks),
    failed: ints(maxChunks),
  };
}

/** The current job list as chunk ranges: job j's chunks are firstChunk[j] .. firstChunk[j + 1] - 1. */
function jobChunks(ctl: Int32Array): number[] {
  const firstChunk = [0];
  const jobs = Atomics.load(ctl, CTL.jobs);
  for (let j = 0; j < jobs; j++) firstChunk.push(firstChunk[j] + Math.ceil(Atomics.load(ctl, CTL.JOBS + 2 * j + 1) / EVAL_CHUNK));
  return firstChunk;
}

/** The parameters in `shared`, cut into arrays of the given sizes (copies). */
export function sharedParams(shared: ChunkPoolShared, sizes: number[]): Float32Array[] {
  const out: Float32Array[] = [];
  let off = 0;
  for (const n of sizes) {
    out.push(shared.params.slice(off, off + n));
    off += n;
  }
  return out;
}

/**
 * Takes chunks of the current evaluation from the shared counter until none is left, scoring each
 * with score(split, start, size) (split: 0 train, 1 test) and writing its scores.
 */
export function takeChunks(shared: ChunkPoolShared, score: (split: number, start: number, size: number) => ChunkScore): void {
  const { ctl } = shared;
  const firstChunk = jobChunks(ctl);
  const total = firstChunk[firstChunk.length - 1];
  for (let c = Atomics.add(ctl, CTL.next, 1); c < total; c = Atomics.add(ctl, CTL.next, 1)) {
    let j = 0;
    while (c >= firstChunk[j + 1]) j++;
    const count = Atomics.load(ctl, CTL.JOBS + 2 * j + 1);
    const start = (c - firstChunk[j]) * EVAL_CHUNK;
    const r = score(Atomics.load(ctl, CTL.JOBS + 2 * j), start, Math.min(EVAL_CHUNK, count - start));
    shared.failed[c] = r ? 0 : 1;
    shared.correct[c] = r?.correct ?? 0;
    shared.lossSums[c] = r?.lossSum ?? 0;
    shared.active[c] = r?.active ?? 0;
    shared.convActive[c] = r?.convActive[0] ?? 0;
    shared.convActive[shared.active.length + c] = r?.convActive[1] ?? 0;
  }
}

/** A worker's whole life: wait for an evaluation, take chunks (work()), count itself done; until stopped. */
export function runChunkWorker(ctl: Int32Array, work: () => void): void {
  let seen = 0;
  for (;;) {
    Atomics.wait(ctl, CTL.seq, seen);
    seen = Atomics.load(ctl, CTL.seq);
    if (Atomics.load(ctl, CTL.stop) === 1) return;
    work();
    Atomics.add(ctl, CTL.done, 1);
    Atomics.notify(ctl, CTL.done);
  }
}

/** A running pool of `threads` workers on `shared`; `work` takes chunks on the main thread. */
export interface ChunkPool {
  begin(jobs: { split: 'train' | 'test'; count: number }[], params: Float32Array[]): void;
  /** Each job's scores, or null for a job with a chunk that could not be scored. */
  finish(): (JobScores | null)[];
  close(): Promise<void>;
}

/** Drives the workers: see the header. `name` goes into error messages. */
export function chunkPool(name: string, shared: ChunkPoolShared, threads: Worker[], work: () => void): ChunkPool {
  let failure: Error | null = null;
  for (const t of threads) t.on('error', (e) => (failure = e));
  let running: number[] | null = null; // the chunk ranges of the evaluation begun and not finished
  const { ctl } = shared;
  return {
    begin(jobs, params) {
      if (failure) throw failure;
      if (running) throw new Error(`${name}: begin() before finish()`);
      if (jobs.length > MAX_JOBS) throw new RangeError(`${name}: at most ${MAX_JOBS} jobs`);
      let off = 0;
      for (const a of params) {
        shared.params.set(a, off);
        off += a.length;
      }
      jobs.forEach((job, j) => {
        Atomics.store(ctl, CTL.JOBS + 2 * j, job.split === 'train' ? 0 : 1);
        Atomics.store(ctl, CTL.JOBS + 2 * j + 1, job.count);
      });
      Atomics.store(ctl, CTL.jobs, jobs.length);
      Atomics.store(ctl, CTL.next, 0);
      Atomics.store(ctl, CTL.done, 0);
      running = jobChunks(ctl);
      Atomics.add(ctl, CTL.seq, 1);
      Atomics.notify(ctl, CTL.seq);
    },
    finish() {
      if (!running) throw new Error(`${name}: finish() without begin()`);
      work();
      for (let done = Atomics.load(ctl, CTL.done); done < threads.length; done = Atomics.load(ctl, CTL.done)) {
        if (Atomics.wait(ctl, CTL.done, done, 60_000) === 'timed-out' && failure) throw failure;
      }
      const firstChunk = running;
      running = null;
      const out: (JobScores | null)[] = [];
      for (let j = 0; j + 1 < firstChunk.length; j++) {
        const scores: JobScores = { correct: 0, lossSums: [], active: 0, convActive: [0, 0] };
        let failed = false;
        for (let c = firstChunk[j]; c < firstChunk[j + 1]; c++) {
          scores.correct += shared.correct[c];
          scores.active += shared.active[c];
          scores.convActive[0] += shared.convActive[c];
          scores.convActive[1] += shared.convActive[shared.active.length + c];
          failed ||= shared.failed[c] === 1;
          scores.lossSums.push(shared.lossSums[c]);
        }
        out.push(failed ? null : scores);
      }
      return out;
    },
    async close() {
      Atomics.store(ctl, CTL.stop, 1);
      Atomics.add(ctl, CTL.seq, 1);
      Atomics.notify(ctl, CTL.seq);
      await Promise.all(threads.map((t) => t.terminate()));
    },
  };
}
