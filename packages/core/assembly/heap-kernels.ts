// AssemblyScript (compiled with SIMD by scripts/build-wasm.mjs, twice: importing the plain memory
// of tfjs-backend-wasm's single-threaded build, and the shared memory of its threaded build): the
// project's kernels that work in place on tfjs's heap, as jobs cut into chunks that every thread
// runs (own-wasm/heap-kernels.ts writes the job block and hands out the chunks). The kernels are in
// kernels/: convolution, GEMM, Adam (with fc1's transposed copy), the max-pool gradient, column sums
// (bias gradients; in drawn orders, on the calling thread: SumShuffled.ts), ReLU's gradient, the
// convolution gradients that skip zero terms (zero-skip.ts) and symmetric execution's copies
// (broadcast.ts). No data segments: they would overwrite tfjs's heap.
import { applyAdamRange } from './kernels/ApplyAdam';
import { broadcastFirstRows } from './kernels/BroadcastFirstChannel';
import { conv2DPixels, packFilter } from './kernels/Conv2D';
import { convPoolWindows } from './kernels/ConvPool';
import { batchMatMulTile, packColumns } from './kernels/BatchMatMul';
import { maxPoolGradRows } from './kernels/MaxPoolGrad';
import { reluGradRange } from './kernels/ReluGrad';
import { countPositiveChannels, sumColumns } from './kernels/Sum';
import { sumColumnsShuffled } from './kernels/SumShuffled';
import { transposeRows } from './kernels/Transpose';
import { winogradScratchBytes, winogradConvPoolTiles } from './kernels/WinogradConvPool';
import { filterGradChannels, finiteRange, nonzeroRows, sparseInputConvPixels } from './kernels/zero-skip';

export { countPositiveChannels, packColumns, packFilter, sumColumnsShuffled, winogradScratchBytes };

// The job block a caller writes before running chunks (own-wasm/heap-kernels.ts keeps the same
// layout): i32 slots, the job's kind at KIND and its arguments from ARGS on.
const KIND: usize = 8 << 2;
const ARGS: usize = 9 << 2;
const JOB_CONV2D = 0;
const JOB_BATCH_MAT_MUL = 1;
const JOB_APPLY_ADAM = 2;
const JOB_TRANSPOSE = 3;
const JOB_MAX_POOL_GRAD = 4;
const JOB_SUM = 5;
const JOB_RELU_GRAD = 6;
const JOB_WINOGRAD_CONV_POOL = 7;
const JOB_CONV_POOL = 8;
const JOB_FINITE = 9;
const JOB_FILTER_GRAD = 10;
const JOB_NONZERO_ROWS = 11;
const JOB_SPARSE_INPUT_CONV = 12;
const JOB_BROADCAST_FIRST = 13;

// @ts-ignore: decorator
@inline function arg(job: usize, i: i32): i32 {
  return load<i32>(job + ARGS + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline function argF32(job: usize, i: i32): f32 {
  return load<f32>(job + ARGS + (<usize>i << 2));
}

/**
 * Runs chunk `chunk` of the job described at `job`: a convolution's output pixels
 * [chunk * chunkPixels, ...), a GEMM's tile (rows x columns) number `chunk`, an Adam update's
 * elements, a transpose's rows, a max-pool gradient's output rows, column sums' columns or a ReLU gradient's elements. Every thread calls this, so the split into chunks is the only
 * thing threads share.
 */
export function runChunk(job: usize, chunk: i32): void {
  const kind = load<i32>(job + KIND);
  if (kind == JOB_BROADCAST_FIRST) {
    // src, srcWidth, dst, width, rows, chunkRows
    const rows = arg(job, 4), chunkRows = arg(job, 5);
    const r0 = chunk * chunkRows;
    broadcastFirstRows(arg(job, 0), arg(job, 1), arg(job, 2), arg(job, 3), r0, min(r0 + chunkRows, rows));
  } else if (kind == JOB_FILTER_GRAD) {
    // xs (x as [h][w][batch][c]), dy, dw, lists (chunks x chunkBytes), chunkBytes, batch, h, w, c, kh, kw, co, oh, ow, pt, pl, chunkChannels
    const co = arg(job, 11), chunkChannels = arg(job, 16);
    const o0 = chunk * chunkChannels;
    filterGradChannels(arg(job, 0), arg(job, 1), arg(job, 2), <usize>arg(job, 3) + <usize>chunk * <usize>arg(job, 4),
      arg(job, 5), arg(job, 6), arg(job, 7), arg(job, 8), arg(job, 9), arg(job, 10), co, arg(job, 12), arg(job, 13),
      arg(job, 14), arg(job, 15), o0, min(o0 + chunkChannels, co));
  } else if (kind == JOB_SPARSE_INPUT_CONV) {
    // x, lists, f, out, h, w, c, kh, kw, co, oh, ow, pt, pl, pixels, chunkPixels
    const pixels = arg(job, 14), chunkPixels = arg(job, 15);
    const p0 = chunk * chunkPixels;
    sparseInputConvPixels(arg(job, 0), arg(job, 1), arg(job, 2), arg(job, 3), arg(job, 4), arg(job, 5), arg(job, 6),
      arg(job, 7), arg(job, 8), arg(job, 9), arg(job, 10), arg(job, 11), arg(job, 12), arg(job, 13),
      p0, min(p0 + chunkPixels, pixels));
  } else if (kind == JOB_NONZERO_ROWS) {
    // x, lists, c, rows, chunkRows
    const rows = arg(job, 3), chunkRows = arg(job, 4);
    const r0 = chunk * chunkRows;
    nonzeroRows(arg(job, 0), arg(job, 1), arg(job, 2), r0, min(r0 + chunkRows, rows));
  } else if (kind == JOB_FINITE) {
    // x, n, chunkLength, flag
    const n = arg(job, 1), length = arg(job, 2);
    const i0 = chunk * length;
    finiteRange(arg(job, 0), i0, min(i0 + length, n), arg(job, 3));
  } else if (kind == JOB_CONV_POOL) {
    // x, wp, bias, out, zero, flag, h, w, c, kh, kw, co, pt, pl, windows, chunkWindows
    const windows = arg(job, 14), chunkWindows = arg(job, 15);
    const q0 = chunk * chunkWindows;
    convPoolWindows(arg(job, 0), arg(job, 1), arg(job, 2), arg(job, 3), arg(job, 4), arg(job, 5), arg(job, 6),
      arg(job, 7), arg(job, 8), arg(job, 9), arg(job, 10), arg(job, 11), arg(job, 12), arg(job, 13), q0, min(q0 + chunkWindows, windows));
  } else if (kind == JOB_WINOGRAD_CONV_POOL) {
    // x, u, bias, out, scratch (chunks x winogradScratchBytes), flag, h, w, c, co, tiles, chunkTiles
    const c = arg(job, 8), co = arg(job, 9), tiles = arg(job, 10), chunkTiles = arg(job, 11);
    const t0 = chunk * chunkTiles;
    winogradConvPoolTiles(arg(job, 0), arg(job, 1), arg(job, 2), arg(job, 3),
      <usize>arg(job, 4) + <usize>chunk * <usize>winogradScratchBytes(c, co), arg(job, 5),
      arg(job, 6), arg(job, 7), c, co, t0, min(t0 + chunkTiles, tiles));
  } else if (kind == JOB_APPLY_ADAM) {
    // w, g, m, v, wOut, n, chunkLength (a multiple of 4), alpha, eps, 1 - beta1, 1 - beta2 (f32)
    const n = arg(job, 5), length = arg(job, 6);
    const i0 = chunk * length;
    applyAdamRange(arg(job, 0), arg(job, 1), arg(job, 2), arg(job, 3), arg(job, 4), i0, min(i0 + length, n),
      argF32(job, 7), argF32(job, 8), argF32(job, 9), argF32(job, 10));
  } else if (kind == JOB_RELU_GRAD) {
    // dy, x, out, n, chunkLength (a multiple of 4)
    const n = arg(job, 3), length = arg(job, 4);
    const i0 = chunk * length;
    reluGradRange(arg(job, 0), arg(job, 1), arg(job, 2), i0, min(i0 + length, n));
  } else if (kind == JOB_SUM) {
    // x, out, rows, cols, chunkCols (a multiple of 4)
    const cols = arg(job, 3), chunkCols = arg(job, 4);
    const c0 = chunk * chunkCols;
    sumColumns(arg(job, 0), arg(job, 1), arg(job, 2), cols, c0, min(c0 + chunkCols, cols));
  } else if (kind == JOB_MAX_POOL_GRAD) {
    // x, dy, dx, inH, inW, C, outH, outW, fh, fw, sh, sw, padTop, padLeft, last, rows (batch * outH), chunkRows
    const rows = arg(job, 15), chunkRows = arg(job, 16);
    const r0 = chunk * chunkRows;
    maxPoolGradRows(arg(job, 0), arg(job, 1), arg(job, 2), arg(job, 3), arg(job, 4), arg(job, 5), arg(job, 6),
      arg(job, 7), arg(job, 8), arg(job, 9), arg(job, 10), arg(job, 11), arg(job, 12), arg(job, 13),
      arg(job, 14) != 0, r0, min(r0 + chunkRows, rows));
  } else if (kind == JOB_TRANSPOSE) {
    // src, dst, rows, cols, chunkRows (a multiple of 8)
    const rows = arg(job, 2), chunkRows = arg(job, 4);
    const r0 = chunk * chunkRows;
    transposeRows(arg(job, 0), arg(job, 1), rows, arg(job, 3), r0, min(r0 + chunkRows, rows));
  } else if (kind == JOB_CONV2D) {
    const pixels = arg(job, 14), chunkPixels = arg(job, 15);
    const p0 = chunk * chunkPixels;
    conv2DPixels(arg(job, 0), arg(job, 1), arg(job, 2), arg(job, 3), arg(job, 4), arg(job, 5), arg(job, 6),
      arg(job, 7), arg(job, 8), arg(job, 9), arg(job, 10), arg(job, 11), arg(job, 12), arg(job, 13),
      p0, min(p0 + chunkPixels, pixels));
  } else {
    // a, lda, bp, c, ldc, k, m, n (padded to 16), tileRows, tileCols, n (real)
    const m = arg(job, 6), n = arg(job, 7), tileRows = arg(job, 8), tileCols = arg(job, 9);
    const colTiles = (n + tileCols - 1) / tileCols;
    const m0 = (chunk / colTiles) * tileRows, n0 = (chunk % colTiles) * tileCols;
    batchMatMulTile(arg(job, 0), arg(job, 1), arg(job, 2), arg(job, 3), arg(job, 4), arg(job, 5),
      m0, min(m0 + tileRows, m), n0, min(n0 + tileCols, n), arg(job, 10));
  }
}
