// The project's kernels that work in place on tfjs-backend-wasm's heap (assembly/heap-kernels.ts
// and assembly/kernels/): convolution (stride 1, NHWC) and matrix product, bitwise XNNPACK's for
// every value that is not NaN, and Adam, the max-pool gradient, column sums and ReLU's gradient,
// bitwise the code they replace; each launched as a job of heap-jobs.ts on every thread. Also the
// one instance per tfjs heap, and the helper threads asked for it.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { hasWasmSimd } from './embedded-module';
import { HeapJobs, type SpawnHelper, type TfjsHeapModule } from './heap-jobs';
import type { WinogradGeometry } from '../dense/winograd';
import { MT19937_WORDS, type MT19937 } from '../random/prng';

export type { HeapKernelsHelperData, SpawnHelper, TfjsHeapModule } from './heap-jobs';

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

// The job kinds (assembly/heap-kernels.ts dispatches on the same numbers).
const KIND = {
  conv2D: 0,
  batchMatMul: 1,
  applyAdam: 2,
  transpose: 3,
  maxPoolGrad: 4,
  sum: 5,
  reluGrad: 6,
  winogradConvPool: 7,
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
/** What one element of a memory-bound job (Adam, transposes, pooling gradients, sums) counts as, in multiply-adds. */
const MEMORY_BOUND_WORK = 16;

/** The own kernels on one heap, each launched as a job (heap-jobs.ts). Addresses are byte offsets. */
export class HeapKernels extends HeapJobs {
  /** out = the convolution (see ConvGeometry) of x (NHWC) with the filter w (HWIO). */
  conv2D(x: number, w: number, out: number, g: ConvGeometry): void {
    const taps = g.kh * g.kw;
    const wp = this.scratch('filter', 4 * taps * g.c * g.co);
    const zero = this.scratch('zero', 4 * g.c);
    this.f32(zero, g.c).fill(0);
    this.exports.packFilter(w, wp, taps, g.c, g.co);
    const pixels = g.batch * g.oh * g.ow;
    // Even chunk sizes starting at even pixels: pixels are paired the same way whatever the threads.
    const chunkPixels = 2 * Math.max(1, Math.ceil(pixels / this.chunkTarget() / 2));
    const args = [x, wp, out, zero, g.h, g.w, g.c, g.kh, g.kw, g.co, g.oh, g.ow, g.padTop, g.padLeft, pixels, chunkPixels];
    this.run(KIND.conv2D, args, Math.ceil(pixels / chunkPixels), pixels * taps * g.c * g.co);
  }

  /**
   * out[batch][oh/2][ow/2][co] = maxPool2x2(relu(conv(x, w) + bias)) (see ConvGeometry; the output
   * as large as the input, oh and ow even): bitwise conv, add, relu and maxPool one after another
   * (assembly/kernels/ConvPool.ts), without their full-size intermediates, when every value before
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
  batchMatMul(a: number, b: number, out: number, m: number, k: number, n: number): void {
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
    this.run(KIND.batchMatMul, [a, 4 * k, bp, c, 4 * padded, k, m, padded, tileRows, tileCols, n], chunks, m * k * padded);
    if (padded !== n) {
      const result = this.f32(c, m * padded);
      const dst = this.f32(out, m * n);
      for (let r = 0; r < m; r++) dst.set(result.subarray(r * padded, r * padded + n), r * n);
    }
  }

  /**
   * One Adam update of n elements (see assembly/kernels/ApplyAdam.ts): m and v in place, the new weights
   * (from w and the gradient g) to wOut.
   */
  applyAdam(
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
    this.run(KIND.applyAdam, args, Math.ceil(n / length), MEMORY_BOUND_WORK * n);
  }

  /** dst (cols x rows) = the rows x cols matrix at src, transposed. */
  transpose(src: number, dst: number, rows: number, cols: number): void {
    const chunkRows = 8 * Math.max(1, Math.ceil(rows / this.chunkTarget() / 8));
    this.run(KIND.transpose, [src, dst, rows, cols, chunkRows], Math.ceil(rows / chunkRows), MEMORY_BOUND_WORK * rows * cols);
  }

  /**
   * dx = the gradient of a max-pool of x (NHWC, windows that do not overlap, C % 4 == 0) for dy,
   * to the first or last maximum of each window (see assembly/kernels/MaxPoolGrad.ts).
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
  sum(x: number, out: number, rows: number, cols: number): void {
    // One chunk per thread, whole cache lines each: every chunk streams all the rows.
    const chunkCols = 16 * Math.max(1, Math.ceil(cols / (this.helpers + 1) / 16));
    this.run(KIND.sum, [x, out, rows, cols, chunkCols], Math.ceil(cols / chunkCols), MEMORY_BOUND_WORK * rows * cols);
  }

  /**
   * out[k] = the sum of column columns[k] (column k when `columns` is omitted) of the rows x cols
   * matrix at x, in float32, in a fresh permutation of the rows drawn from `rng` for each k in turn
   * (kernels/Sum.ts's sumColumnsShuffled and Conv2DBackpropFilter.ts's sumPartialsShuffled give
   * the same bits and leave the stream in the same state: assembly/kernels/SumShuffled.ts). On the
   * calling thread.
   */
  sumShuffled(x: number, out: number, rows: number, cols: number, rng: MT19937, columns?: Uint32Array): void {
    const state = this.scratch('mt19937 state', 4 * (MT19937_WORDS + 1));
    const tempered = this.scratch('mt19937 tempered', 4 * MT19937_WORDS);
    const order = this.scratch('shuffled order', 4 * rows);
    const columnsAt = columns ? this.scratch('shuffled columns', 4 * columns.length) : 0;
    if (columns) new Uint32Array(this.memory.buffer, columnsAt, columns.length).set(columns);
    const words = new Uint32Array(this.memory.buffer, state, MT19937_WORDS + 1);
    words[MT19937_WORDS] = rng.copyWordsTo(words);
    this.exports.sumColumnsShuffled(x, out, rows, cols, columns ? columns.length : cols, columnsAt, state, tempered, order);
    rng.setWords(words, words[MT19937_WORDS]);
  }

  /**
   * Adds to counts[c] the images of x ([images][positions][channels], float32) in which channel c
   * has a value > 0 somewhere (assembly/kernels/Sum.ts). On the calling thread.
   */
  countPositiveChannels(x: number, images: number, positions: number, channels: number, counts: number[]): void {
    const at = this.scratch('channel counts', 4 * channels);
    new Int32Array(this.memory.buffer, at, channels).fill(0);
    this.exports.countPositiveChannels(x, images, positions, channels, at);
    const got = new Int32Array(this.memory.buffer, at, channels);
    for (let c = 0; c < channels; c++) counts[c] += got[c];
  }

  /** out = dy * step(x) over n elements (ReLU's gradient; see assembly/kernels/ReluGrad.ts). */
  reluGrad(dy: number, x: number, out: number, n: number): void {
    const length = 4 * Math.max(1024, Math.ceil(n / this.chunkTarget() / 4));
    this.run(KIND.reluGrad, [dy, x, out, n, length], Math.ceil(n / length), MEMORY_BOUND_WORK * n);
  }

  /**
   * out[batch][h/2][w/2][co] = maxPool2x2(relu(conv5x5_same(x, w) + bias)) by Winograd's F(2x2, 5x5)
   * (assembly/kernels/WinogradConvPool.ts), from u = the packed filter transform (dense/winograd.ts's
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
    this.run(KIND.winogradConvPool, args, chunks, tiles * 36 * g.c * g.co);
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
   * summing only the terms with a nonzero dy (assembly/kernels/zero-skip.ts): bitwise the full
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
   * multiple of 4), summing only x's nonzero terms (assembly/kernels/zero-skip.ts): bitwise conv
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
}

/**
 * The engine's one instance of the own kernels (tfjs has one wasm heap per process or worker), the
 * helper threads the platform asked for (given again to the instance of a re-initialised backend),
 * and whether WebAssembly SIMD runs here (probed once). A cache of the engine's lifetime: nothing
 * passes results through it.
 */
const engineHeap: {
  current: { heap: TfjsHeapModule; kernels: HeapKernels } | null;
  helpers: { count: number; spawn: SpawnHelper } | null;
  simd: boolean | null;
} = { current: null, helpers: null, simd: null };

/** The own kernels on `backend`'s heap, or null where they cannot run (no WebAssembly SIMD). */
export function heapKernelsOf(backend: BackendWasm): HeapKernels | null {
  engineHeap.simd ??= hasWasmSimd();
  if (!engineHeap.simd) return null;
  const heap = backend.wasm as unknown as TfjsHeapModule;
  if (engineHeap.current?.heap === heap) return engineHeap.current.kernels;
  // First use, or the backend was initialised again (a new heap): new kernels there, with as many helpers.
  engineHeap.current?.kernels.stop();
  const kernels = new HeapKernels(heap);
  if (engineHeap.helpers) kernels.startHelpers(engineHeap.helpers.count, engineHeap.helpers.spawn);
  engineHeap.current = { heap, kernels };
  return kernels;
}

/** Byte address of a tensor's data on the wasm heap. */
export function addressOf(backend: BackendWasm, info: { dataId: object }): number {
  return backend.dataIdMap.get(info.dataId)!.memoryOffset;
}

/** True when ownConv2D covers the geometry (output channels in panels of 16). */
export function ownConv2DFits(g: ConvGeometry): boolean {
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
  p.conv2D(addressOf(backend, x), addressOf(backend, w), addressOf(backend, out), g);
  return true;
}

/**
 * out (m x n) = a (m x k) times b (k x n), row-major tensors on `backend`'s heap; false (nothing
 * done) where the own kernels cannot run. b is packed into panels of 16 columns, so a should be the
 * larger operand: it is read in place.
 */
export function ownBatchMatMul(
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
  p.batchMatMul(addressOf(backend, a), addressOf(backend, b), addressOf(backend, out), m, k, n);
  return true;
}

/**
 * Starts `count` helper threads through `spawn` for `backend`'s kernels, when its heap is shared
 * (the threaded build); once: later calls are ignored. Returns how many run. Every job after that
 * runs on count + 1 threads, with the same results as on one.
 */
export function startHeapKernelHelpers(backend: BackendWasm, count: number, spawn: SpawnHelper): number {
  engineHeap.helpers = { count, spawn };
  return heapKernelsOf(backend)?.startHelpers(count, spawn) ?? 0;
}
