// AssemblyScript, part of the heap-kernels module (assembly/heap-kernels.ts): evaluation's fused
// conv5x5 (SAME, stride 1) + bias + ReLU + 2x2 max-pool, with the convolution computed by Winograd's
// F(2x2, 5x5) over 6x6 input tiles (points 0, 1, -1, 2, -2 and infinity). A tile's 2x2 outputs are
// exactly one pooling window, so the pooled value is written directly. Each operation is spelled
// out in one fixed order (the TypeScript twin, dense/winograd.ts in src/, does the same operations in
// the same order, so both give the same bits), and every tile is computed whole by one caller:
// the result does not depend on how tiles are split between threads. Pointers are byte addresses.
//
// Layouts: x[batch][h][w][c] (c % 4 == 0, h and w even); u = the transformed filter, packed
// u[xi][co / 16][c][16] for the 36 positions xi of a 6x6 tile (see src/dense/winograd.ts); bias[co];
// out[batch][h/2][w/2][co] (co % 16 == 0). A tile number is t = (image * h/2 + ty) * w/2 + tx.

import { batchMatMulTile } from './BatchMatMul';

/** Tiles per block: a block's transformed inputs, products and the filter stay in the caches. */
export const WINOGRAD_BLOCK = 16;

/** The scratch bytes one caller of winogradConvPoolTiles needs for channel counts c and co. */
export function winogradScratchBytes(c: i32, co: i32): i32 {
  return 36 * WINOGRAD_BLOCK * (c + co) * 4 + 36 * 16;
}

// @ts-ignore: decorator
@inline export function times(k: f32, v: v128): v128 {
  return f32x4.mul(f32x4.splat(k), v);
}

/**
 * B^T applied to six vectors d0..d5 (one column or row of a tile, four channels each), stored at
 * dst, dst + step, ..., in the order of the rows of B^T.
 */
// @ts-ignore: decorator
@inline export function inputRows(d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128, dst: usize, step: usize): void {
  v128.store(dst, f32x4.add(f32x4.sub(times(4, d0), times(5, d2)), d4));
  v128.store(dst + step, f32x4.sub(f32x4.add(d3, d4), times(4, f32x4.add(d1, d2))));
  v128.store(dst + 2 * step, f32x4.add(f32x4.sub(d4, d3), times(4, f32x4.sub(d1, d2))));
  v128.store(dst + 3 * step, f32x4.add(f32x4.sub(d4, d2), times(2, f32x4.sub(d3, d1))));
  v128.store(dst + 4 * step, f32x4.sub(f32x4.sub(d4, d2), times(2, f32x4.sub(d3, d1))));
  v128.store(dst + 5 * step, f32x4.add(f32x4.sub(times(4, d1), times(5, d3)), d5));
}

/** Row 0 of A^T (1, 1, 1, 1, 1, 0) applied to the column of M at q (rows 6 * step apart). */
// @ts-ignore: decorator
@inline export function sumRow(q: usize, step: usize): v128 {
  const m1 = v128.load(q + 6 * step), m2 = v128.load(q + 12 * step), m3 = v128.load(q + 18 * step), m4 = v128.load(q + 24 * step);
  return f32x4.add(f32x4.add(f32x4.add(m1, m2), f32x4.add(m3, m4)), v128.load(q));
}

/** Row 1 of A^T (0, 1, -1, 2, -2, 1) applied to the column of M at q. */
// @ts-ignore: decorator
@inline export function diffRow(q: usize, step: usize): v128 {
  const m1 = v128.load(q + 6 * step), m2 = v128.load(q + 12 * step), m3 = v128.load(q + 18 * step), m4 = v128.load(q + 24 * step);
  return f32x4.add(f32x4.add(f32x4.sub(m1, m2), times(2, f32x4.sub(m3, m4))), v128.load(q + 30 * step));
}

/** All ones in the lanes holding an infinity or NaN. */
// @ts-ignore: decorator
@inline export function nonFinite(v: v128): v128 {
  return f32x4.ne(f32x4.sub(v, v), f32x4.splat(0));
}

/**
 * ReLU as tfjs-backend-wasm's for finite values: x when x > 0, else +0 (-0 included). NaN gives +0
 * here but stays NaN in tfjs: callers flag non-finite inputs (nonFinite) and fall back.
 */
// @ts-ignore: decorator
@inline export function relu(v: v128): v128 {
  return v128.and(v, f32x4.gt(v, f32x4.splat(0)));
}

/**
 * The pooled outputs of tiles [t0, t1): for each block of WINOGRAD_BLOCK tiles, the input transform
 * V = B^T d B per tile and channel, the 36 products M[xi] = V[xi] U[xi] (sums over the input
 * channels from 0, in channel order, one multiply and one add per term: BatchMatMul.ts), then the output
 * transform Y = A^T M A, bias, ReLU and the maximum of the four. `scratch` holds
 * winogradScratchBytes(c, co) bytes for this caller alone. Sets the i32 at `flag` to 1 when any
 * value before ReLU is infinite or NaN (the caller then recomputes the layer directly: how NaN and
 * infinities go through a Winograd transform is not how they go through the direct sums).
 */
export function winogradConvPoolTiles(x: usize, u: usize, bias: usize, out: usize, scratch: usize, flag: usize,
  h: i32, w: i32, c: i32, co: i32, t0: i32, t1: i32): void {
  const tw = w >> 1, tilesPerImage = (h >> 1) * tw;
  const v = scratch;                                              // v[block][xi][c]
  const m = v + <usize>(36 * WINOGRAD_BLOCK * c) * 4;              // m[block][xi][co]
  const tmp = m + <usize>(36 * WINOGRAD_BLOCK * co) * 4;           // one tile's B^T d, 36 vectors
  const cBytes = <usize>c << 2, coBytes = <usize>co << 2;
  const vRow: usize = 36 * cBytes, mRow: usize = 36 * coBytes;
  const zero = f32x4.splat(0);
  let bad = zero;
  for (let b0 = t0; b0 < t1; b0 += WINOGRAD_BLOCK) {
    const rows = min(WINOGRAD_BLOCK, t1 - b0);
    // Input transform, four channels at a time.
    for (let r = 0; r < rows; r++) {
      const t = b0 + r;
      const image = t / tilesPerImage, ty = (t % tilesPerImage) / tw, tx = t % tw;
      const y0 = 2 * ty - 2, x0 = 2 * tx - 2;
      const base = x + <usize>(image * h) * <usize>w * cBytes;
      for (let ch = 0; ch < c; ch += 4) {
        // Columns: tmp[i][j] = (B^T d)[i][j], d[i][j] the input at (y0 + i, x0 + j) or 0 outside.
        for (let j = 0; j < 6; j++) {
          const xx = x0 + j;
          let d0 = zero, d1 = zero, d2 = zero, d3 = zero, d4 = zero, d5 = zero;
          if (<u32>xx < <u32>w) {
            const col = base + (<usize>xx * cBytes) + (<usize>ch << 2);
            const rowBytes = <usize>w * cBytes;
            if (<u32>y0 < <u32>h) d0 = v128.load(col + <usize>y0 * rowBytes);
            if (<u32>(y0 + 1) < <u32>h) d1 = v128.load(col + <usize>(y0 + 1) * rowBytes);
            if (<u32>(y0 + 2) < <u32>h) d2 = v128.load(col + <usize>(y0 + 2) * rowBytes);
            if (<u32>(y0 + 3) < <u32>h) d3 = v128.load(col + <usize>(y0 + 3) * rowBytes);
            if (<u32>(y0 + 4) < <u32>h) d4 = v128.load(col + <usize>(y0 + 4) * rowBytes);
            if (<u32>(y0 + 5) < <u32>h) d5 = v128.load(col + <usize>(y0 + 5) * rowBytes);
          }
          inputRows(d0, d1, d2, d3, d4, d5, tmp + (<usize>j << 4), 96);
        }
        // Rows: v[i*6 + k] = (tmp B)[i][k].
        const dst = v + <usize>r * vRow + (<usize>ch << 2);
        for (let i = 0; i < 6; i++) {
          const s = tmp + <usize>i * 96;
          inputRows(v128.load(s), v128.load(s, 16), v128.load(s, 32), v128.load(s, 48), v128.load(s, 64), v128.load(s, 80),
            dst + <usize>(i * 6) * cBytes, cBytes);
        }
      }
    }
    // The 36 products, each rows x c times c x co.
    for (let xi = 0; xi < 36; xi++) {
      batchMatMulTile(v + <usize>xi * cBytes, vRow, u + <usize>xi * <usize>c * coBytes, m + <usize>xi * coBytes, mRow, c,
        0, rows, 0, co, co);
    }
    // Output transform, bias, ReLU and the pool's maximum, four output channels at a time.
    for (let r = 0; r < rows; r++) {
      const o = out + <usize>(b0 + r) * coBytes;
      for (let ch = 0; ch < co; ch += 4) {
        const p = m + <usize>r * mRow + (<usize>ch << 2);
        // s[i][b] = (A^T M)[i][b] for the six columns b, then y[i][j] = (s A)[i][j].
        const s00 = sumRow(p, coBytes), s01 = sumRow(p + coBytes, coBytes), s02 = sumRow(p + 2 * coBytes, coBytes);
        const s03 = sumRow(p + 3 * coBytes, coBytes), s04 = sumRow(p + 4 * coBytes, coBytes), s05 = sumRow(p + 5 * coBytes, coBytes);
        const s10 = diffRow(p, coBytes), s11 = diffRow(p + coBytes, coBytes), s12 = diffRow(p + 2 * coBytes, coBytes);
        const s13 = diffRow(p + 3 * coBytes, coBytes), s14 = diffRow(p + 4 * coBytes, coBytes), s15 = diffRow(p + 5 * coBytes, coBytes);
        const bv = v128.load(bias + (<usize>ch << 2));
        const y00 = f32x4.add(f32x4.add(f32x4.add(f32x4.add(s01, s02), f32x4.add(s03, s04)), s00), bv);
        const y01 = f32x4.add(f32x4.add(f32x4.add(f32x4.sub(s01, s02), times(2, f32x4.sub(s03, s04))), s05), bv);
        const y10 = f32x4.add(f32x4.add(f32x4.add(f32x4.add(s11, s12), f32x4.add(s13, s14)), s10), bv);
        const y11 = f32x4.add(f32x4.add(f32x4.add(f32x4.sub(s11, s12), times(2, f32x4.sub(s13, s14))), s15), bv);
        bad = v128.or(bad, v128.or(v128.or(nonFinite(y00), nonFinite(y01)), v128.or(nonFinite(y10), nonFinite(y11))));
        v128.store(o + (<usize>ch << 2), f32x4.max(f32x4.max(relu(y00), relu(y01)), f32x4.max(relu(y10), relu(y11))));
      }
    }
  }
  if (v128.any_true(bad)) store<i32>(flag, 1);
}
