// How the project's own WebAssembly module (assembly/heap-kernels.ts) runs on tfjs-backend-wasm's
// heap and shares its jobs between threads. The module imports that heap's memory (the
// single-threaded build's plain memory, or the threaded build's shared one), so tensors are read
// and written where they are, and its scratch comes from the heap's malloc.
//
// A job is cut into chunks (output pixels, tiles, ranges) that threads take from a shared counter:
// the calling thread, plus helper threads when the memory is shared. Every output value is computed
// whole by one thread, so the result does not depend on the number of threads. Helpers are plain
// workers that run HEAP_KERNELS_HELPER_SOURCE (self-contained JavaScript): the platform creates them
// (Node worker_threads, browser Web Workers) through startHeapKernelHelpers, so core itself starts
// no thread. The calling thread takes chunks too, then blocks (Atomics.wait, which Node's main
// thread and any worker may do) until every chunk is done; a helper slow to start only helps less.
import { HEAP_KERNELS_SHARED_WASM_BASE64, HEAP_KERNELS_WASM_BASE64 } from './generated/heap-kernels-wasm';
import { compileEmbedded } from './embedded-module';

/** The module's exports. */
export interface HeapKernelsExports {
  packFilter(w: number, wp: number, taps: number, c: number, co: number): void;
  packColumns(b: number, bp: number, k: number, n: number): void;
  runChunk(job: number, chunk: number): void;
  countPositiveChannels(x: number, images: number, positions: number, channels: number, counts: number): void;
  sumColumnsShuffled(
    x: number,
    out: number,
    rows: number,
    cols: number,
    outputs: number,
    columns: number,
    state: number,
    tempered: number,
    order: number,
  ): void;
  winogradScratchBytes(c: number, co: number): number;
}

/** What a helper thread receives (structured-cloneable: a module, a shared memory, a number). */
export interface HeapKernelsHelperData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  jobAt: number;
}

/** Starts one helper thread running `source` with `data` (the platform's part: see startHeapKernelHelpers). */
export type SpawnHelper = (source: string, data: HeapKernelsHelperData) => void;

// The job block (i32 slots at jobAt; assembly/heap-kernels.ts reads KIND and ARGS): the job's
// sequence number and a stop flag, the chunk counter (the job's sequence in the high 16 bits, the
// next chunk in the low 16, so a helper still on an old job cannot take a chunk of the new one),
// the chunks completed, the chunk count, the chunks helpers have done since the start (for tests),
// a flag a helper raises when a chunk threw (the chunk still counts as completed, so the caller
// never waits forever: it throws instead), then the kind and the arguments.
const JOB = { seq: 0, stop: 1, next: 2, completed: 3, chunks: 4, helped: 5, failed: 6, KIND: 8, ARGS: 9 } as const;
const JOB_INTS = JOB.ARGS + 24;
const MAX_CHUNKS = 0x7fff;

/** A helper's whole program: instantiate the module on the shared memory, then take chunks of every new job. */
export const HEAP_KERNELS_HELPER_SOURCE = `
const start = ({ module, memory, jobAt }) => {
  const x = new WebAssembly.Instance(module, { env: { memory } }).exports;
  const job = new Int32Array(memory.buffer, jobAt, ${JOB_INTS});
  let seen = 0;
  for (;;) {
    Atomics.wait(job, ${JOB.seq}, seen);
    seen = Atomics.load(job, ${JOB.seq});
    if (Atomics.load(job, ${JOB.stop})) return;
    const tag = seen & 0xffff;
    const chunks = Atomics.load(job, ${JOB.chunks});
    for (;;) {
      const v = Atomics.load(job, ${JOB.next});
      const c = v & 0xffff;
      if ((v >>> 16) !== tag || c >= chunks) break;
      if (Atomics.compareExchange(job, ${JOB.next}, v, v + 1) !== v) continue;
      try {
        x.runChunk(jobAt, c);
      } catch (e) {
        Atomics.store(job, ${JOB.failed}, 1);
      }
      Atomics.add(job, ${JOB.helped}, 1);
      Atomics.add(job, ${JOB.completed}, 1);
      Atomics.notify(job, ${JOB.completed});
    }
  }
};
if (typeof process !== 'undefined' && process.versions && process.versions.node) {
  import('node:worker_threads').then((w) => start(w.workerData));
} else {
  self.onmessage = (e) => start(e.data);
}
`;

/** Jobs below this many multiply-adds run on the calling thread alone (waking helpers costs more). */
const SHARED_WORK = 1 << 22;
/** The parts of tfjs-backend-wasm's emscripten module used here (a heap: its memory and allocator). */
export interface TfjsHeapModule {
  wasmMemory?: WebAssembly.Memory;
  asm?: { memory?: WebAssembly.Memory };
  _malloc(bytes: number): number;
  _free(at: number): void;
}

/** The own module on one heap: its memory, scratch blocks, jobs, and the helper threads started for it. */
export class HeapJobs {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  readonly module: WebAssembly.Module;
  readonly exports: HeapKernelsExports;
  readonly jobAt: number;
  private readonly heap: TfjsHeapModule;
  private readonly scratchBlocks = new Map<string, { at: number; bytes: number }>();
  private jobView: Int32Array;
  private seq = 0;
  helpers = 0;

  constructor(heap: TfjsHeapModule) {
    const memory = heap.wasmMemory ?? heap.asm?.memory;
    if (!memory) throw new Error('tfjs-backend-wasm exposes no memory');
    this.heap = heap;
    this.memory = memory;
    this.shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    this.module = compileEmbedded(this.shared ? HEAP_KERNELS_SHARED_WASM_BASE64 : HEAP_KERNELS_WASM_BASE64);
    this.exports = new WebAssembly.Instance(this.module, { env: { memory } }).exports as unknown as HeapKernelsExports;
    this.jobAt = heap._malloc(4 * JOB_INTS);
    this.jobView = new Int32Array(memory.buffer, this.jobAt, JOB_INTS);
    this.jobView.fill(0);
  }

  /** The job block (a fresh view when the heap has grown: a plain memory's old buffer is detached). */
  get job(): Int32Array {
    if (this.jobView.buffer !== this.memory.buffer) this.jobView = new Int32Array(this.memory.buffer, this.jobAt, JOB_INTS);
    return this.jobView;
  }

  /** A float32 view of the heap (take it after the allocations it covers). */
  f32(at: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, length);
  }

  /** A named scratch block of at least `bytes` on the heap, kept across calls (reallocated when outgrown). */
  scratch(name: string, bytes: number): number {
    let block = this.scratchBlocks.get(name);
    if (!block || block.bytes < bytes) {
      if (block) this.heap._free(block.at);
      const at = this.heap._malloc(bytes);
      if (!at) throw new Error(`heap kernels: out of heap memory (${bytes} bytes)`);
      this.scratchBlocks.set(name, (block = { at, bytes }));
    }
    return block.at;
  }

  /** Runs every chunk of a job of `kind` with `args`, on this thread and, for big jobs, the helpers. */
  run(kind: number, args: number[], chunks: number, work: number): void {
    const job = this.job;
    if (chunks > MAX_CHUNKS) throw new Error(`heap kernels: ${chunks} chunks (at most ${MAX_CHUNKS})`);
    this.seq = (this.seq + 1) & 0x7fffffff;
    job[JOB.KIND] = kind;
    job.set(args, JOB.ARGS);
    const runChunk = this.exports.runChunk;
    if (this.helpers === 0 || work < SHARED_WORK) {
      for (let c = 0; c < chunks; c++) runChunk(this.jobAt, c);
      return;
    }
    Atomics.store(job, JOB.chunks, chunks);
    Atomics.store(job, JOB.completed, 0);
    Atomics.store(job, JOB.next, (this.seq & 0xffff) << 16);
    Atomics.store(job, JOB.seq, this.seq);
    Atomics.notify(job, JOB.seq);
    for (let c = Atomics.add(job, JOB.next, 1) & 0xffff; c < chunks; c = Atomics.add(job, JOB.next, 1) & 0xffff) {
      runChunk(this.jobAt, c);
      Atomics.add(job, JOB.completed, 1);
    }
    for (let done = Atomics.load(job, JOB.completed); done < chunks; done = Atomics.load(job, JOB.completed)) {
      Atomics.wait(job, JOB.completed, done);
    }
    if (Atomics.exchange(job, JOB.failed, 0)) throw new Error('heap kernels: a helper thread failed on its part of a job');
  }

  /** Chunks per job: a few per thread, so that the threads even out. */
  chunkTarget(): number {
    return 8 * (this.helpers + 1);
  }

  /** A heap i32 set to 0, which a kernel sets to 1 to report a non-finite value. */
  protected clearedFlag(): number {
    const flag = this.scratch('flag', 4);
    new Int32Array(this.memory.buffer, flag, 1)[0] = 0;
    return flag;
  }

  /** Whether a kernel raised the flag clearedFlag gave. */
  protected raised(flag: number): boolean {
    return new Int32Array(this.memory.buffer, flag, 1)[0] !== 0;
  }

  /** Reserves `bytes` on the heap for as long as the caller needs them (see free). */
  alloc(bytes: number): number {
    const at = this.heap._malloc(bytes);
    if (!at) throw new Error(`heap kernels: out of heap memory (${bytes} bytes)`);
    return at;
  }

  free(at: number): void {
    this.heap._free(at);
  }

  /** Starts `count` helper threads through `spawn` (shared memory only; once). Returns how many run. */
  startHelpers(count: number, spawn: SpawnHelper): number {
    if (!this.shared) return 0;
    if (this.helpers > 0 || count <= 0) return this.helpers;
    for (let i = 0; i < count; i++) spawn(HEAP_KERNELS_HELPER_SOURCE, { module: this.module, memory: this.memory, jobAt: this.jobAt });
    this.helpers = count;
    return count;
  }

  /** How many chunks helper threads have computed so far (tests: the helpers really work). */
  helperChunks(): number {
    return Atomics.load(this.job, JOB.helped);
  }

  /** Ends the helper threads (they return from their loop). */
  stop(): void {
    const job = this.job;
    Atomics.store(job, JOB.stop, 1);
    Atomics.add(job, JOB.seq, 1);
    Atomics.notify(job, JOB.seq);
    this.helpers = 0;
  }
}
