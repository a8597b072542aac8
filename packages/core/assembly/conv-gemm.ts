// AssemblyScript (compiled with SIMD, threads and an imported shared memory by
// scripts/build-wasm.mjs): a stride-1, dilation-1 NHWC convolution as an indirect GEMM, two output
// pixels by sixteen output channels at a time. Each output value is summed the way XNNPACK's
// convolution sums it: starting from 0, tap after tap (ky, then kx), input channel after input
// channel, one multiply and one add per term (no fused multiply-add), with a padded tap reading a
// row of zeros. So the result is bitwise XNNPACK's, and it does not depend on how the output
// pixels are split between threads: every pixel is computed whole by one caller of convPixels.
// Pointers are byte addresses laid out by the caller (own-wasm/conv-gemm-wasm.ts). The module also
// runs Adam and fc1's transposed copy (assembly/parts/adam.ts) as jobs of the same threads.
import { adamRange, transposeRows } from './parts/adam';
import { maxPoolGradRows } from './parts/max-pool-grad';
import { reluGradRange } from './parts/relu-grad';
import { sumRowsColumns } from './parts/sum-rows';

/** Address of the first byte the caller may use. */
export function heapStart(): usize {
  return (__heap_base + 15) & ~15;
}

/**
 * Packs the filter w[taps][c][co] (co a multiple of 16) into panels of 16 output channels:
 * wp[panel][tap][c][16], so that a panel's weights are read in one stream.
 */
export function packFilter(w: usize, wp: usize, taps: i32, c: i32, co: i32): void {
  const rows = taps * c;
  let dst = wp;
  for (let panel = 0; panel < co; panel += 16) {
    let src = w + (<usize>panel << 2);
    for (let r = 0; r < rows; r++, src += <usize>co << 2, dst += 64) {
      v128.store(dst, v128.load(src));
      v128.store(dst, v128.load(src, 16), 16);
      v128.store(dst, v128.load(src, 32), 32);
      v128.store(dst, v128.load(src, 48), 48);
    }
  }
}

/** The input row (c floats) at (iy, ix) of image b, or the zero row when that is padding. */
// @ts-ignore: decorator
@inline function tapRow(x: usize, zero: usize, b: i32, iy: i32, ix: i32, h: i32, w: i32, c: i32): usize {
  if (<u32>iy >= <u32>h || <u32>ix >= <u32>w) return zero;
  return x + ((<usize>((b * h + iy) * w + ix) * <usize>c) << 2);
}

/**
 * out[p][co] for output pixels p in [p0, p1) (p = (b*oh + oy)*ow + ox) of the convolution of
 * x[batch][h][w][c] with the packed filter wp (kh x kw taps, co outputs), padding pt on top and pl
 * on the left; zero is a row of at least c zeros.
 */
export function convPixels(x: usize, wp: usize, out: usize, zero: usize,
  h: i32, w: i32, c: i32, kh: i32, kw: i32, co: i32, oh: i32, ow: i32, pt: i32, pl: i32,
  p0: i32, p1: i32): void {
  const panelBytes = <usize>(kh * kw * c) << 6;
  const rowBytes = <usize>co << 2;
  for (let panel = 0; panel < co; panel += 16) {
    const wpanel = wp + <usize>(panel >> 4) * panelBytes;
    let p = p0;
    for (; p + 1 < p1; p += 2) {
      // Image and top-left input position (oy - pt, ox - pl) of both pixels.
      const x0 = p % ow - pl, n0 = p / ow / oh, y0 = p / ow % oh - pt;
      const x1 = (p + 1) % ow - pl, n1 = (p + 1) / ow / oh, y1 = (p + 1) / ow % oh - pt;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
      let pw = wpanel;
      // Rows of taps wholly inside the image for both pixels are one contiguous run of kw * c
      // inputs (NHWC), read in one loop; other rows tap by tap, padding reading the zero row.
      const inside = x0 >= 0 && x0 + kw <= w && x1 >= 0 && x1 + kw <= w;
      for (let ty = 0; ty < kh; ty++) {
        const whole = inside && <u32>(y0 + ty) < <u32>h && <u32>(y1 + ty) < <u32>h;
        const runs = whole ? 1 : kw;
        const length = whole ? kw * c : c;
        for (let tx = 0; tx < runs; tx++) {
          let r0 = tapRow(x, zero, n0, y0 + ty, x0 + tx, h, w, c);
          let r1 = tapRow(x, zero, n1, y1 + ty, x1 + tx, h, w, c);
          for (let k = 0; k < length; k++, r0 += 4, r1 += 4, pw += 64) {
            const w0 = v128.load(pw), w1 = v128.load(pw, 16), w2 = v128.load(pw, 32), w3 = v128.load(pw, 48);
            const s = v128.load32_splat(r0);
            a0 = f32x4.add(a0, f32x4.mul(s, w0)); a1 = f32x4.add(a1, f32x4.mul(s, w1));
            a2 = f32x4.add(a2, f32x4.mul(s, w2)); a3 = f32x4.add(a3, f32x4.mul(s, w3));
            const t = v128.load32_splat(r1);
            b0 = f32x4.add(b0, f32x4.mul(t, w0)); b1 = f32x4.add(b1, f32x4.mul(t, w1));
            b2 = f32x4.add(b2, f32x4.mul(t, w2)); b3 = f32x4.add(b3, f32x4.mul(t, w3));
          }
        }
      }
      const o = out + <usize>p * rowBytes + (<usize>panel << 2);
      v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
      const o1 = o + rowBytes;
      v128.store(o1, b0); v128.store(o1, b1, 16); v128.store(o1, b2, 32); v128.store(o1, b3, 48);
    }
    if (p < p1) {
      const x0 = p % ow - pl, n0 = p / ow / oh, y0 = p / ow % oh - pt;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let pw = wpanel;
      for (let ty = 0; ty < kh; ty++) {
        for (let tx = 0; tx < kw; tx++) {
          let r0 = tapRow(x, zero, n0, y0 + ty, x0 + tx, h, w, c);
          for (let k = 0; k < c; k++, r0 += 4, pw += 64) {
            const s = v128.load32_splat(r0);
            a0 = f32x4.add(a0, f32x4.mul(s, v128.load(pw))); a1 = f32x4.add(a1, f32x4.mul(s, v128.load(pw, 16)));
            a2 = f32x4.add(a2, f32x4.mul(s, v128.load(pw, 32))); a3 = f32x4.add(a3, f32x4.mul(s, v128.load(pw, 48)));
          }
        }
      }
      const o = out + <usize>p * rowBytes + (<usize>panel << 2);
      v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
    }
  }
}

/**
 * Packs b[k][n] (row-major) into panels of 16 columns, bp[panel][k][16], the last panel padded
 * with zeros when n is not a multiple of 16.
 */
export function packColumns(b: usize, bp: usize, k: i32, n: i32): void {
  let dst = bp;
  for (let panel = 0; panel < n; panel += 16) {
    const width = min(16, n - panel);
    for (let r = 0; r < k; r++, dst += 64) {
      const src = b + ((<usize>r * <usize>n + <usize>panel) << 2);
      if (width == 16) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        v128.store(dst, v128.load(src, 32), 32);
        v128.store(dst, v128.load(src, 48), 48);
      } else {
        for (let j = 0; j < 16; j++) store<f32>(dst + (<usize>j << 2), j < width ? load<f32>(src + (<usize>j << 2)) : 0);
      }
    }
  }
}

/**
 * c[m][n] = sum over k of a[m][k] * bp(k, n), for rows m in [m0, m1) and the 16-column panels
 * from n0 to n1 (multiples of 16) of the packed bp (packColumns), summed from 0 in k order with one
 * multiply and one add per term: bitwise what XNNPACK's GEMM gives (NaN as NaN). a and c are
 * row-major with rows of lda and ldc bytes (c as wide as the padded panels).
 */
export function gemmTile(a: usize, lda: usize, bp: usize, c: usize, ldc: usize, k: i32,
  m0: i32, m1: i32, n0: i32, n1: i32, nReal: i32): void {
  const panelBytes = <usize>k << 6;
  for (let n = n0; n < n1; n += 16) {
    const bpanel = bp + <usize>(n >> 4) * panelBytes;
    if (nReal - n < 13) {
      // A last panel of 12 columns or fewer: only the 4-column groups that hold real columns.
      gemmNarrow(a, lda, bpanel, c, ldc, k, m0, m1, n, (nReal - n + 3) >> 2);
      continue;
    }
    let m = m0;
    for (; m + 1 < m1; m += 2) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
      let r0 = a + <usize>m * lda;
      const end = r0 + (<usize>k << 2);
      let pb = bpanel;
      for (; r0 < end; r0 += 4, pb += 64) {
        const w0 = v128.load(pb), w1 = v128.load(pb, 16), w2 = v128.load(pb, 32), w3 = v128.load(pb, 48);
        const s = v128.load32_splat(r0);
        a0 = f32x4.add(a0, f32x4.mul(s, w0)); a1 = f32x4.add(a1, f32x4.mul(s, w1));
        a2 = f32x4.add(a2, f32x4.mul(s, w2)); a3 = f32x4.add(a3, f32x4.mul(s, w3));
        const t = v128.load32_splat(r0 + lda);
        b0 = f32x4.add(b0, f32x4.mul(t, w0)); b1 = f32x4.add(b1, f32x4.mul(t, w1));
        b2 = f32x4.add(b2, f32x4.mul(t, w2)); b3 = f32x4.add(b3, f32x4.mul(t, w3));
      }
      const o = c + <usize>m * ldc + (<usize>n << 2);
      v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
      const o1 = o + ldc;
      v128.store(o1, b0); v128.store(o1, b1, 16); v128.store(o1, b2, 32); v128.store(o1, b3, 48);
    }
    if (m < m1) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let r0 = a + <usize>m * lda;
      const end = r0 + (<usize>k << 2);
      let pb = bpanel;
      for (; r0 < end; r0 += 4, pb += 64) {
        const s = v128.load32_splat(r0);
        a0 = f32x4.add(a0, f32x4.mul(s, v128.load(pb))); a1 = f32x4.add(a1, f32x4.mul(s, v128.load(pb, 16)));
        a2 = f32x4.add(a2, f32x4.mul(s, v128.load(pb, 32))); a3 = f32x4.add(a3, f32x4.mul(s, v128.load(pb, 48)));
      }
      const o = c + <usize>m * ldc + (<usize>n << 2);
      v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
    }
  }
}

/** gemmTile for the first `groups` 4-column groups of one panel only (each output summed the same way). */
function gemmNarrow(a: usize, lda: usize, bpanel: usize, c: usize, ldc: usize, k: i32,
  m0: i32, m1: i32, n: i32, groups: i32): void {
  for (let g = 0; g < groups; g++) {
    const col = <usize>g << 4;
    let m = m0;
    for (; m + 1 < m1; m += 2) {
      let a0 = f32x4.splat(0), b0 = f32x4.splat(0);
      let r0 = a + <usize>m * lda;
      const end = r0 + (<usize>k << 2);
      let pb = bpanel + col;
      for (; r0 < end; r0 += 4, pb += 64) {
        const w0 = v128.load(pb);
        a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(r0), w0));
        b0 = f32x4.add(b0, f32x4.mul(v128.load32_splat(r0 + lda), w0));
      }
      const o = c + <usize>m * ldc + (<usize>n << 2) + col;
      v128.store(o, a0);
      v128.store(o + ldc, b0);
    }
    if (m < m1) {
      let a0 = f32x4.splat(0);
      let r0 = a + <usize>m * lda;
      const end = r0 + (<usize>k << 2);
      let pb = bpanel + col;
      for (; r0 < end; r0 += 4, pb += 64) a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(r0), v128.load(pb)));
      v128.store(c + <usize>m * ldc + (<usize>n << 2) + col, a0);
    }
  }
}

// The job block a caller writes before running chunks (own-wasm/conv-gemm-wasm.ts keeps the same
// layout): i32 slots, the job's kind at KIND and its arguments from ARGS on.
const KIND: usize = 8 << 2;
const ARGS: usize = 9 << 2;
const JOB_CONV = 0;
const JOB_GEMM = 1;
const JOB_ADAM = 2;
const JOB_TRANSPOSE = 3;
const JOB_MAX_POOL_GRAD = 4;
const JOB_SUM_ROWS = 5;
const JOB_RELU_GRAD = 6;

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
  if (kind == JOB_ADAM) {
    // w, g, m, v, wOut, n, chunkLength (a multiple of 4), alpha, eps, 1 - beta1, 1 - beta2 (f32)
    const n = arg(job, 5), length = arg(job, 6);
    const i0 = chunk * length;
    adamRange(arg(job, 0), arg(job, 1), arg(job, 2), arg(job, 3), arg(job, 4), i0, min(i0 + length, n),
      argF32(job, 7), argF32(job, 8), argF32(job, 9), argF32(job, 10));
  } else if (kind == JOB_RELU_GRAD) {
    // dy, x, out, n, chunkLength (a multiple of 4)
    const n = arg(job, 3), length = arg(job, 4);
    const i0 = chunk * length;
    reluGradRange(arg(job, 0), arg(job, 1), arg(job, 2), i0, min(i0 + length, n));
  } else if (kind == JOB_SUM_ROWS) {
    // x, out, rows, cols, chunkCols (a multiple of 4)
    const cols = arg(job, 3), chunkCols = arg(job, 4);
    const c0 = chunk * chunkCols;
    sumRowsColumns(arg(job, 0), arg(job, 1), arg(job, 2), cols, c0, min(c0 + chunkCols, cols));
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
  } else if (kind == JOB_CONV) {
    const pixels = arg(job, 14), chunkPixels = arg(job, 15);
    const p0 = chunk * chunkPixels;
    convPixels(arg(job, 0), arg(job, 1), arg(job, 2), arg(job, 3), arg(job, 4), arg(job, 5), arg(job, 6),
      arg(job, 7), arg(job, 8), arg(job, 9), arg(job, 10), arg(job, 11), arg(job, 12), arg(job, 13),
      p0, min(p0 + chunkPixels, pixels));
  } else {
    // a, lda, bp, c, ldc, k, m, n (padded to 16), tileRows, tileCols, n (real)
    const m = arg(job, 6), n = arg(job, 7), tileRows = arg(job, 8), tileCols = arg(job, 9);
    const colTiles = (n + tileCols - 1) / tileCols;
    const m0 = (chunk / colTiles) * tileRows, n0 = (chunk % colTiles) * tileCols;
    gemmTile(arg(job, 0), arg(job, 1), arg(job, 2), arg(job, 3), arg(job, 4), arg(job, 5),
      m0, min(m0 + tileRows, m), n0, min(n0 + tileCols, n), arg(job, 10));
  }
}
