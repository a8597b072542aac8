// The project's kernels that work in place on tfjs-backend-wasm's heap (assembly/heap-kernels.ts
// and parts/): convolution (stride 1, NHWC) and matrix product, bitwise XNNPACK's for every value
// that is not NaN, and Adam, the max-pool gradient, column sums and ReLU's gradient, bitwise the code
// they replace. The module imports that heap's memory (the single-threaded build's plain memory, or
// the threaded build's shared one), so tensors are read and written where they are, and its scratch
// comes from the heap's malloc.
//
// A job is cut into chunks (output pixels, tiles, ranges) that threads take from a shared counter:
// the calling thread, plus helper threads when the memory is shared. Every output value is computed
// whole by one thread, so the result does not depend on the number of threads. Helpers are plain
// workers that run HEAP_KERNELS_HELPER_SOURCE (self-contained JavaScript): the platform creates them
// (Node worker_threads, browser Web Workers) through startHeapKernelHelpers, so core itself starts
// no thread. The calling thread takes chunks too, then blocks (Atomics.wait, which Node's main
// thread and any worker may do) until every chunk is done; a helper slow to start only helps less.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { HEAP_KERNELS_SHARED_WASM_BASE64, HEAP_KERNELS_WASM_BASE64 } from './generated/heap-kernels-wasm';
import { compileEmbedded, hasWasmSimd } from './embedded-module';
import type { WinogradGeometry } from '../dense/winograd';

interface HeapKernelsExports {
  packFilter(w: number, wp: number, taps: number, c: number, co: number): void;
  packColumns(b: number, bp: number, k: number, n: number): void;
  runChunk(job: number, chunk: number): void;
  winogradScratchBytes(c: number, co: number): number;
}

/** Geometry of one NHWC max-pool (as tfjs's computePool2DInfo gives it). */
export interface PoolGeometry {
  batch: number;
  inH: number;
  inW: number;
  C: number;
  outH: number;
  outW: number;
  fh: number;
  fw: number;
  sh: number;
  sw: number;
  padTop: number;
  padLeft: number;
}

/** Geometry of one stride-1, dilation-1 NHWC convolution. */
export interface ConvGeometry {
  batch: number;
  h: number;
  w: number;
  c: number;
  kh: number;
  kw: number;
  co: number;
  oh: number;
  ow: number;
  padTop: number;
  padLeft: number;
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
const KIND = {
  conv: 0,
  gemm: 1,
  adam: 2,
  transpose: 3,
  maxPoolGrad: 4,
  sumRows: 5,
  reluGrad: 6,
  winograd: 7,
  convPool: 8,
  finite: 9,
  filterGrad: 10,
  nonzeroRows: 11,
  sparseInputConv: 12,
  broadcastFirst: 13,
} as const;

const bitsScratch = new Float32Array(1);
/** The bits of a float32, as the i32 a job slot holds. */
function f32Bits(x: number): number {
  bitsScratch[0] = x;
  return new Int32Array(bitsScratch.buffer)[0];
}
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
/** What one element of a memory-bound job (Adam, transposes, pooling gradients, sums) counts as, in multiply-adds. */
const MEMORY_BOUND_WORK = 16;

/** The parts of tfjs-backend-wasm's emscripten module used here (a heap: its memory and allocator). */
export interface TfjsHeapModule {
  wasmMemory?: WebAssembly.Memory;
  asm?: { memory?: WebAssembly.Memory };
  _malloc(bytes: number): number;
  _free(at: number): void;
}

/** The own kernels on one heap, with the helper threads started for it. Addresses are byte offsets. */
export class HeapKernels {
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

  /** out = the convolution (see ConvGeometry) of x (NHWC) with the filter w (HWIO). */
  conv(x: number, w: number, out: number, g: ConvGeometry): void {
    const taps = g.kh * g.kw;
    const wp = this.scratch('filter', 4 * taps * g.c * g.co);
    const zero = this.scratch('zero', 4 * g.c);
    this.f32(zero, g.c).fill(0);
    this.exports.packFilter(w, wp, taps, g.c, g.co);
    const pixels = g.batch * g.oh * g.ow;
    // Even chunk sizes starting at even pixels: pixels are paired the same way whatever the threads.
    const chunkPixels = 2 * Math.max(1, Math.ceil(pixels / this.chunkTarget() / 2));
    const args = [x, wp, out, zero, g.h, g.w, g.c, g.kh, g.kw, g.co, g.oh, g.ow, g.padTop, g.padLeft, pixels, chunkPixels];
    this.run(KIND.conv, args, Math.ceil(pixels / chunkPixels), pixels * taps * g.c * g.co);
  }

  /**
   * out[batch][oh/2][ow/2][co] = maxPool2x2(relu(conv(x, w) + bias)) (see ConvGeometry; the output
   * as large as the input, oh and ow even): bitwise conv, add, relu and maxPool one after another
   * (assembly/parts/conv-pool.ts), without their full-size intermediates, when every value before
   * ReLU is finite; false otherwise (the caller then runs those four ops).
   */
  convPool(x: number, w: number, bias: number, out: number, g: ConvGeometry): boolean {
    const taps = g.kh * g.kw;
    const wp = this.scratch('filter', 4 * taps * g.c * g.co);
    const zero = this.scratch('zero', 4 * g.c);
    this.f32(zero, g.c).fill(0);
    this.exports.packFilter(w, wp, taps, g.c, g.co);
    const windows = g.batch * (g.oh / 2) * (g.ow / 2);
    const chunkWindows = Math.max(1, Math.ceil(windows / this.chunkTarget()));
    const flag = this.clearedFlag();
    const args = [x, wp, bias, out, zero, flag, g.h, g.w, g.c, g.kh, g.kw, g.co, g.padTop, g.padLeft, windows, chunkWindows];
    this.run(KIND.convPool, args, Math.ceil(windows / chunkWindows), 4 * windows * taps * g.c * g.co);
    return !this.raised(flag);
  }

  /** out (m x n) = a (m x k) times b (k x n), all row-major; b is packed, a read in place. */
  gemm(a: number, b: number, out: number, m: number, k: number, n: number): void {
    const padded = 16 * Math.ceil(n / 16);
    const bp = this.scratch('columns', 4 * k * padded);
    this.exports.packColumns(b, bp, k, n);
    const c = padded === n ? out : this.scratch('product', 4 * m * padded);
    // Tiles: few rows (a small batch) split the columns, so each thread reads only its panels; many
    // rows split the rows, every tile then reading all of (the small) packed b.
    const target = this.chunkTarget();
    let tileRows: number, tileCols: number;
    if (m < 4 * target) {
      tileRows = m;
      tileCols = 16 * Math.max(1, Math.ceil(padded / 16 / target));
    } else {
      tileRows = 2 * Math.ceil(m / target / 2);
      tileCols = padded;
    }
    const chunks = Math.ceil(m / tileRows) * Math.ceil(padded / tileCols);
    this.run(KIND.gemm, [a, 4 * k, bp, c, 4 * padded, k, m, padded, tileRows, tileCols, n], chunks, m * k * padded);
    if (padded !== n) {
      const result = this.f32(c, m * padded);
      const dst = this.f32(out, m * n);
      for (let r = 0; r < m; r++) dst.set(result.subarray(r * padded, r * padded + n), r * n);
    }
  }

  /**
   * One Adam update of n elements (see assembly/parts/adam.ts): m and v in place, the new weights
   * (from w and the gradient g) to wOut.
   */
  adam(
    w: number,
    g: number,
    m: number,
    v: number,
    wOut: number,
    n: number,
    c: { alpha: number; eps: number; oneMinusB1: number; oneMinusB2: number },
  ): void {
    const length = 4 * Math.max(1024, Math.ceil(n / this.chunkTarget() / 4));
    const args = [w, g, m, v, wOut, n, length, f32Bits(c.alpha), f32Bits(c.eps), f32Bits(c.oneMinusB1), f32Bits(c.oneMinusB2)];
    this.run(KIND.adam, args, Math.ceil(n / length), MEMORY_BOUND_WORK * n);
  }

  /** dst (cols x rows) = the rows x cols matrix at src, transposed. */
  transpose(src: number, dst: number, rows: number, cols: number): void {
    const chunkRows = 8 * Math.max(1, Math.ceil(rows / this.chunkTarget() / 8));
    this.run(KIND.transpose, [src, dst, rows, cols, chunkRows], Math.ceil(rows / chunkRows), MEMORY_BOUND_WORK * rows * cols);
  }

  /**
   * dx = the gradient of a max-pool of x (NHWC, windows that do not overlap, C % 4 == 0) for dy,
   * to the first or last maximum of each window (see assembly/parts/max-pool-grad.ts).
   */
  maxPoolGrad(x: number, dy: number, dx: number, p: PoolGeometry, last: boolean): void {
    // Windows that tile the input write every cell; otherwise zero the cells no window covers first.
    const tiled = p.sh === p.fh && p.sw === p.fw && p.padTop === 0 && p.padLeft === 0 && p.outH * p.sh >= p.inH && p.outW * p.sw >= p.inW;
    if (!tiled) this.f32(dx, p.batch * p.inH * p.inW * p.C).fill(0);
    const rows = p.batch * p.outH;
    const chunkRows = Math.max(1, Math.ceil(rows / this.chunkTarget()));
    const args = [x, dy, dx, p.inH, p.inW, p.C, p.outH, p.outW, p.fh, p.fw, p.sh, p.sw, p.padTop, p.padLeft, last ? 1 : 0, rows, chunkRows];
    this.run(KIND.maxPoolGrad, args, Math.ceil(rows / chunkRows), MEMORY_BOUND_WORK * p.batch * p.inH * p.inW * p.C);
  }

  /** out (cols floats) = the column sums of the rows x cols matrix at x, each summed down the rows in order. */
  sumRows(x: number, out: number, rows: number, cols: number): void {
    // One chunk per thread, whole cache lines each: every chunk streams all the rows.
    const chunkCols = 16 * Math.max(1, Math.ceil(cols / (this.helpers + 1) / 16));
    this.run(KIND.sumRows, [x, out, rows, cols, chunkCols], Math.ceil(cols / chunkCols), MEMORY_BOUND_WORK * rows * cols);
  }

  /** out = dy * step(x) over n elements (ReLU's gradient; see assembly/parts/relu-grad.ts). */
  reluGrad(dy: number, x: number, out: number, n: number): void {
    const length = 4 * Math.max(1024, Math.ceil(n / this.chunkTarget() / 4));
    this.run(KIND.reluGrad, [dy, x, out, n, length], Math.ceil(n / length), MEMORY_BOUND_WORK * n);
  }

  /**
   * out[batch][h/2][w/2][co] = maxPool2x2(relu(conv5x5_same(x, w) + bias)) by Winograd's F(2x2, 5x5)
   * (assembly/parts/winograd.ts), from u = the packed filter transform (dense/winograd.ts's
   * winogradFilter); x[batch][h][w][c] with c % 4 == 0, h and w even, co % 16 == 0. False when a
   * value before ReLU was infinite or NaN (the caller then computes the layer directly).
   */
  winogradConvPool(x: number, u: number, bias: number, out: number, g: WinogradGeometry): boolean {
    const tiles = g.batch * (g.h / 2) * (g.w / 2);
    const chunkTiles = Math.max(1, Math.ceil(tiles / this.chunkTarget()));
    const chunks = Math.ceil(tiles / chunkTiles);
    const scratch = this.scratch('winograd', chunks * this.exports.winogradScratchBytes(g.c, g.co));
    const flag = this.clearedFlag();
    const args = [x, u, bias, out, scratch, flag, g.h, g.w, g.c, g.co, tiles, chunkTiles];
    this.run(KIND.winograd, args, chunks, tiles * 36 * g.c * g.co);
    return !this.raised(flag);
  }

  /** Whether every float of the given (address, count) ranges is finite. */
  allFinite(...ranges: [at: number, n: number][]): boolean {
    const flag = this.clearedFlag();
    for (const [at, n] of ranges) {
      const length = 4 * Math.max(4096, Math.ceil(n / this.chunkTarget() / 4));
      this.run(KIND.finite, [at, n, length, flag], Math.ceil(n / length), MEMORY_BOUND_WORK * n);
    }
    return !this.raised(flag);
  }

  /**
   * dw (HWIO) = the filter gradient of the convolution g of x (g.c a multiple of 4) giving dy,
   * summing only the terms with a nonzero dy (assembly/parts/zero-skip.ts): bitwise the full
   * Conv2DBackpropFilter when x and dy are finite (the caller checks, allFinite). x is given as
   * xs = x transposed to [h][w][batch][c].
   */
  filterGradZeroSkip(xs: number, dy: number, dw: number, g: ConvGeometry): void {
    const chunkChannels = Math.max(1, Math.ceil(g.co / this.chunkTarget()));
    const chunks = Math.ceil(g.co / chunkChannels);
    const chunkBytes = chunkChannels * (4 + 12 * g.batch * g.oh * g.ow);
    const lists = this.scratch('zero-skip lists', chunks * chunkBytes);
    const args = [xs, dy, dw, lists, chunkBytes, g.batch, g.h, g.w, g.c, g.kh, g.kw, g.co, g.oh, g.ow, g.padTop, g.padLeft, chunkChannels];
    this.run(KIND.filterGrad, args, chunks, (g.batch * g.oh * g.ow * g.kh * g.kw * g.c * g.co) / 4);
  }

  /**
   * out = the convolution g of a mostly-zero x (NHWC) with the filter f (HWIO, unpacked; g.co a
   * multiple of 4), summing only x's nonzero terms (assembly/parts/zero-skip.ts): bitwise conv
   * when x and f are finite (the caller checks, allFinite). The input gradient is such a
   * convolution of dy.
   */
  sparseInputConv(x: number, f: number, out: number, g: ConvGeometry): void {
    const rows = g.batch * g.h * g.w;
    const lists = this.scratch('zero-skip rows', 2 * rows * (g.c + 1));
    const chunkRows = Math.max(1, Math.ceil(rows / this.chunkTarget()));
    this.run(KIND.nonzeroRows, [x, lists, g.c, rows, chunkRows], Math.ceil(rows / chunkRows), MEMORY_BOUND_WORK * rows * g.c);
    const pixels = g.batch * g.oh * g.ow;
    const chunkPixels = Math.max(1, Math.ceil(pixels / this.chunkTarget()));
    const args = [x, lists, f, out, g.h, g.w, g.c, g.kh, g.kw, g.co, g.oh, g.ow, g.padTop, g.padLeft, pixels, chunkPixels];
    this.run(KIND.sparseInputConv, args, Math.ceil(pixels / chunkPixels), (pixels * g.kh * g.kw * g.c * g.co) / 4);
  }

  /** dst (rows x width) = the first value of each row of src (rows x srcWidth), repeated (bits copied). */
  broadcastFirst(src: number, srcWidth: number, dst: number, width: number, rows: number): void {
    const chunkRows = Math.max(1, Math.ceil(rows / this.chunkTarget()));
    this.run(KIND.broadcastFirst, [src, srcWidth, dst, width, rows, chunkRows], Math.ceil(rows / chunkRows), rows * width);
  }

  /** A heap i32 set to 0, which a kernel sets to 1 to report a non-finite value. */
  private clearedFlag(): number {
    const flag = this.scratch('flag', 4);
    new Int32Array(this.memory.buffer, flag, 1)[0] = 0;
    return flag;
  }

  /** Whether a kernel raised the flag clearedFlag gave. */
  private raised(flag: number): boolean {
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

let pool: HeapKernels | null = null;
let poolHeap: TfjsHeapModule | null = null;
let simd: boolean | null = null;
let helperRequest: { count: number; spawn: SpawnHelper } | null = null;

/** The own kernels on `backend`'s heap, or null where they cannot run (no WebAssembly SIMD). */
export function heapKernelsOf(backend: BackendWasm): HeapKernels | null {
  simd ??= hasWasmSimd();
  if (!simd) return null;
  const heap = backend.wasm as unknown as TfjsHeapModule;
  if (pool && poolHeap !== heap) {
    // The backend was initialised again (a new heap): new kernels there, with as many helpers.
    pool.stop();
    pool = null;
  }
  if (!pool) {
    poolHeap = heap;
    pool = new HeapKernels(heap);
    if (helperRequest) pool.startHelpers(helperRequest.count, helperRequest.spawn);
  }
  return pool;
}

/** Byte address of a tensor's data on the wasm heap. */
export function addressOf(backend: BackendWasm, info: { dataId: object }): number {
  return backend.dataIdMap.get(info.dataId)!.memoryOffset;
}

/** True when ownConv2D covers the geometry (output channels in panels of 16). */
export function ownConvFits(g: ConvGeometry): boolean {
  return g.co % 16 === 0 && g.c >= 1;
}

/**
 * out = the convolution (see ConvGeometry) of x (NHWC) with the filter w (HWIO), tensors on
 * `backend`'s heap; false (nothing done) where the own kernels cannot run.
 */
export function ownConv2D(
  backend: BackendWasm,
  x: { dataId: object },
  w: { dataId: object },
  out: { dataId: object },
  g: ConvGeometry,
): boolean {
  const p = heapKernelsOf(backend);
  if (!p) return false;
  p.conv(addressOf(backend, x), addressOf(backend, w), addressOf(backend, out), g);
  return true;
}

/**
 * out (m x n) = a (m x k) times b (k x n), row-major tensors on `backend`'s heap; false (nothing
 * done) where the own kernels cannot run. b is packed into panels of 16 columns, so a should be the
 * larger operand: it is read in place.
 */
export function ownMatMul(
  backend: BackendWasm,
  a: { dataId: object },
  b: { dataId: object },
  out: { dataId: object },
  m: number,
  k: number,
  n: number,
): boolean {
  const p = heapKernelsOf(backend);
  if (!p) return false;
  p.gemm(addressOf(backend, a), addressOf(backend, b), addressOf(backend, out), m, k, n);
  return true;
}

/**
 * Starts `count` helper threads through `spawn` for `backend`'s kernels, when its heap is shared
 * (the threaded build); once: later calls are ignored. Returns how many run. Every job after that
 * runs on count + 1 threads, with the same results as on one.
 */
export function startHeapKernelHelpers(backend: BackendWasm, count: number, spawn: SpawnHelper): number {
  helperRequest = { count, spawn };
  return heapKernelsOf(backend)?.startHelpers(count, spawn) ?? 0;
}
