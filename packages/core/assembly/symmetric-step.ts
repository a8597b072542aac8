// AssemblyScript (compiled to WebAssembly with SIMD by scripts/build-wasm.mjs): the symmetric
// training step of src/dense/symmetric-step.ts, the same float32 operations on every value, with
// independent outputs in SIMD lanes (f32x4 lanes are separate IEEE operations; no fused
// multiply-add). Where the TypeScript leaves out a term whose product is an exact zero, this adds
// it: +-0 added to a sum that started at +0 never changes it (the sum cannot be -0), for the
// finite operands the step requires. Inputs sit in zero-bordered buffers, so padding is such a term.
//
// The caller (src/dense/symmetric-step-wasm.ts) calls setup once, writes the parameters and the
// batch's pixels, calls forward, computes the loss head's gradient from the logits, writes it, and
// calls backward. Every pointer is a byte address in this module's own memory.

import { diffRow, inputRows, nonFinite, relu, sumRow, times } from './kernels/WinogradConvPool';

/** Address of the first byte the caller may use (after this module's own data). */
export function heapStart(): usize {
  return (__heap_base + 15) & ~15;
}

// Geometry.
let N: i32 = 0; // images
let H: i32 = 0;
let W: i32 = 0;
let K: i32 = 0; // filter side
let PT: i32 = 0; // forward padding (top, left)
let PB: i32 = 0; // input-gradient padding (top, left): K - 1 - PT
let C1: i32 = 0;
let C2: i32 = 0;
let F1: i32 = 0;
let CL: i32 = 0; // classes
let WQ: i32 = 0; // W rounded up to 16: conv1's output row as stored
let H2: i32 = 0;
let W2: i32 = 0;
let W2Q: i32 = 0; // W2 rounded up to 16
let P: i32 = 0; // pooled positions of conv2 (H/4 * W/4)
let PQ: i32 = 0; // P rounded up to 16
let NQ: i32 = 0; // N rounded up to 16
let CLQ: i32 = 0; // CL + 9 rounded up to 16
let XW: i32 = 0; // padded input row (floats), conv1
let XH: i32 = 0; // padded input rows per image, conv1
let QW: i32 = 0; // padded input row (floats), conv2 and its input gradient
let QH: i32 = 0; // padded input rows per image, conv2 and its input gradient

// Buffers (byte addresses).
let aParams: usize = 0; // w1[K*K], b1, w2[K*K], b2, w3[PQ], b3, w4[CLQ], b4[CLQ]
let aGrads: usize = 0; // the same layout
let aX: usize = 0; // pixels, zero-bordered [N][XH][XW]
let aZ1: usize = 0; // [N][H][WQ]
let aWin1: usize = 0; // i32 [N][H2][W2]: index into z1 of each window's first maximum
let aP1: usize = 0; // pooled conv1, zero-bordered [N][QH][QW]
let aZ2: usize = 0; // [N][H2][W2Q]
let aWin2: usize = 0; // i32 [N][P]
let aP2T: usize = 0; // pooled conv2, transposed [P][NQ]
let aZ3: usize = 0; // [NQ]
let aA3: usize = 0; // [NQ]
let aLogits: usize = 0; // [N][CL], for the caller
let aDl: usize = 0; // [N][CL], from the caller
let aDz3: usize = 0; // [NQ]
let aDp2: usize = 0; // [N][PQ]
let aDz2: usize = 0; // zero-bordered [N][QH][QW], interior at (PB, PB)
let aDp1: usize = 0; // [N][H2][W2Q]
let aDz1: usize = 0; // [N][H][WQ]
let aU8: usize = 0; // uint8 pixels [N][H*W], from the caller (evaluation)
let aConvActive: usize = 0; // i32 [2][NQ]: per image, 1 when conv1's (then conv2's) channel is > 0 somewhere (evaluation)

// @ts-ignore: decorator
@inline function up16(v: i32): i32 {
  return (v + 15) & ~15;
}

// @ts-ignore: decorator
@inline function up4(v: i32): i32 {
  return (v + 3) & ~3;
}

/** Offsets (floats) of the eight tensors in the parameter and gradient blocks. */
function slotOffset(i: i32): i32 {
  const kk = K * K;
  switch (i) {
    case 0: return 0;
    case 1: return kk;
    case 2: return kk + 4;
    case 3: return 2 * kk + 4;
    case 4: return 2 * kk + 8;
    case 5: return 2 * kk + 8 + PQ;
    case 6: return 2 * kk + 12 + PQ;
    default: return 2 * kk + 12 + PQ + CLQ;
  }
}

/** Address of parameter tensor i (PARAM_NAMES order) in the parameter block. */
export function paramSlot(i: i32): usize {
  return aParams + (<usize>slotOffset(i) << 2);
}

/** Address of gradient tensor i in the gradient block. */
export function gradSlot(i: i32): usize {
  return aGrads + (<usize>slotOffset(i) << 2);
}

/** Address of the padded input row (image b, row r) of conv1's input buffer. */
export function pixelRow(b: i32, r: i32): usize {
  return aX + (<usize>((b * XH + r + PT) * XW + PT) << 2);
}

/** Address of the uint8 pixel buffer (N images of H*W bytes) that loadPixelsU8 reads. */
export function pixelsU8At(): usize {
  return aU8;
}

/**
 * Writes the first `count` images of the uint8 buffer into conv1's input as float32 pixels,
 * u * scale each (one float32 multiply: the caller's PIXEL_LUT values).
 */
export function loadPixelsU8(count: i32, scale: f32): void {
  for (let b = 0; b < count; b++) {
    for (let r = 0; r < H; r++) {
      const src = aU8 + <usize>((b * H + r) * W);
      const dst = pixelRow(b, r);
      for (let x = 0; x < W; x++) store<f32>(dst + (<usize>x << 2), <f32>load<u8>(src + <usize>x) * scale);
    }
  }
}

export function logitsAt(): usize {
  return aLogits;
}

export function dlogitsAt(): usize {
  return aDl;
}

/**
 * Lays out the buffers for this geometry from `base` on; returns the bytes they take. The caller
 * grows the memory to base + that many bytes and zeroes it before the first step.
 */
export function setup(n: i32, h: i32, w: i32, k: i32, c1: i32, c2: i32, f1: i32, classes: i32, base: usize): i32 {
  N = n; H = h; W = w; K = k; C1 = c1; C2 = c2; F1 = f1; CL = classes;
  PT = (k - 1) >> 1;
  PB = k - 1 - PT;
  WQ = up16(w);
  H2 = h >> 1;
  W2 = w >> 1;
  W2Q = up16(W2);
  P = (h >> 2) * (w >> 2);
  PQ = up16(P);
  NQ = up16(n + 1); // room for the odd image of a pair
  CLQ = up16(classes + 9); // room for fc2's last group of ten
  XW = up4(WQ + k - 1);
  XH = h + k - 1;
  QW = up4(W2Q + k - 1);
  QH = H2 + k - 1;
  top = base;
  aParams = take(slotOffset(7) + CLQ);
  aGrads = take(slotOffset(7) + CLQ);
  aX = take(n * XH * XW);
  aZ1 = take(n * h * WQ);
  aWin1 = take(n * H2 * W2);
  aP1 = take(n * QH * QW);
  aZ2 = take(n * H2 * W2Q);
  aWin2 = take(n * P);
  aP2T = take(P * NQ);
  aZ3 = take(NQ);
  aA3 = take(NQ);
  aLogits = take(n * classes);
  aDl = take(n * classes);
  aDz3 = take(NQ);
  aDp2 = take((n + 1) * PQ);
  aDz2 = take(n * QH * QW);
  aDp1 = take(n * H2 * W2Q);
  aDz1 = take(n * h * WQ);
  aTiles = take(3 * 4 * 36);
  aRowsNonzero = take(h + k - 1);
  aU8 = take((n * h * w + 3) >> 2);
  aConvActive = take(2 * NQ);
  return <i32>(top - base);
}

let top: usize = 0;

/** Reserves `floats` floats (16-byte aligned) at the layout's top. */
function take(floats: i32): usize {
  const here = top;
  top += ((<usize>floats << 2) + 15) & ~15;
  return here;
}

/** True when every one of the `count` floats at p is finite (v - v is 0 exactly then, else NaN). */
function finite(p: usize, count: i32): bool {
  let acc = f32x4.splat(0);
  let o = p;
  const end4 = p + (<usize>(count & ~3) << 2);
  for (; o < end4; o += 16) {
    const v = v128.load(o);
    acc = f32x4.add(acc, f32x4.sub(v, v));
  }
  let tail: f32 = 0;
  const end = p + (<usize>count << 2);
  for (; o < end; o += 4) {
    const v = load<f32>(o);
    tail += v - v;
  }
  return !v128.any_true(f32x4.ne(acc, acc)) && tail == tail;
}

/**
 * A one-output-channel convolution over zero-bordered input rows: out[b][y][x] for x in
 * [0, outWq) (16 at a time) = sum from +0 over taps (ty, tx) row-major of `repeat` additions of
 * in[b][y + ty][x + tx] * w[tap], plus `bias` when addBias; tap = ty*K + tx, or the reversed
 * (K-1-ty)*K + (K-1-tx) (an input gradient). Two output rows at a time (outH is even), eight
 * independent sums in flight; a tap whose 32 inputs are all zero adds nothing.
 */
function convOneChannel(inp: usize, inW: i32, inH: i32, w: usize, reversed: bool, repeat: i32,
  addBias: bool, bias: f32, out: usize, outH: i32, outWq: i32): void {
  const zero = f32x4.splat(0);
  const bv = f32x4.splat(bias);
  const rowBytes = <usize>inW << 2;
  for (let b = 0; b < N; b++) {
    for (let y = 0; y < outH; y += 2) {
      for (let x0 = 0; x0 < outWq; x0 += 16) {
        let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
        let c0 = zero, c1 = zero, c2 = zero, c3 = zero;
        for (let ty = 0; ty < K; ty++) {
          const row = inp + (<usize>((b * inH + y + ty) * inW + x0) << 2);
          for (let tx = 0; tx < K; tx++) {
            const at = row + (<usize>tx << 2);
            const next = at + rowBytes;
            const v0 = v128.load(at), v1 = v128.load(at, 16), v2 = v128.load(at, 32), v3 = v128.load(at, 48);
            const u0 = v128.load(next), u1 = v128.load(next, 16), u2 = v128.load(next, 32), u3 = v128.load(next, 48);
            const any = v128.or(
              v128.or(v128.or(f32x4.ne(v0, zero), f32x4.ne(v1, zero)), v128.or(f32x4.ne(v2, zero), f32x4.ne(v3, zero))),
              v128.or(v128.or(f32x4.ne(u0, zero), f32x4.ne(u1, zero)), v128.or(f32x4.ne(u2, zero), f32x4.ne(u3, zero))),
            );
            // Worth a test only where a product is added many times (with repeat 1, adding the zeros costs less).
            if (repeat > 1 && !v128.any_true(any)) continue;
            const tap = reversed ? (K - 1 - ty) * K + (K - 1 - tx) : ty * K + tx;
            const s = v128.load32_splat(w + (<usize>tap << 2));
            const p0 = f32x4.mul(v0, s), p1 = f32x4.mul(v1, s), p2 = f32x4.mul(v2, s), p3 = f32x4.mul(v3, s);
            const q0 = f32x4.mul(u0, s), q1 = f32x4.mul(u1, s), q2 = f32x4.mul(u2, s), q3 = f32x4.mul(u3, s);
            for (let r = 0; r < repeat; r++) {
              a0 = f32x4.add(a0, p0); a1 = f32x4.add(a1, p1); a2 = f32x4.add(a2, p2); a3 = f32x4.add(a3, p3);
              c0 = f32x4.add(c0, q0); c1 = f32x4.add(c1, q1); c2 = f32x4.add(c2, q2); c3 = f32x4.add(c3, q3);
            }
          }
        }
        if (addBias) {
          a0 = f32x4.add(a0, bv); a1 = f32x4.add(a1, bv); a2 = f32x4.add(a2, bv); a3 = f32x4.add(a3, bv);
          c0 = f32x4.add(c0, bv); c1 = f32x4.add(c1, bv); c2 = f32x4.add(c2, bv); c3 = f32x4.add(c3, bv);
        }
        const o = out + (<usize>((b * outH + y) * outWq + x0) << 2);
        v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
        const o1 = o + (<usize>outWq << 2);
        v128.store(o1, c0); v128.store(o1, c1, 16); v128.store(o1, c2, 32); v128.store(o1, c3, 48);
      }
    }
  }
}

// @ts-ignore: decorator
@inline function reluF32(v: f32): f32 {
  return v > 0 ? v : 0;
}

/**
 * 2x2 stride-2 max-pool of relu(z) (rows of zWq floats, h x w valid): for each window, the index
 * into z of its first maximum in row-major order (a later cell wins only when strictly greater;
 * with LAST, its last maximum: a later cell wins when equal too)
 * into win, and its value into pooled: zero-bordered rows (pooledRow floats, pooledRows rows per
 * image, interior at (pooledPad, pooledPad)), or, when transposed, [position][NQ].
 */
function reluPool(z: usize, h: i32, w: i32, zWq: i32, win: usize, pooled: usize, pooledRow: i32, pooledRows: i32, pooledPad: i32, transposed: bool): void {
  const ph = h >> 1, pw = w >> 1;
  let o = 0;
  for (let b = 0; b < N; b++) {
    for (let py = 0; py < ph; py++) {
      for (let px = 0; px < pw; px++, o++) {
        const c0 = (b * h + 2 * py) * zWq + 2 * px;
        let at = c0;
        let best = reluF32(load<f32>(z + (<usize>c0 << 2)));
        const c1 = c0 + 1, c2 = c0 + zWq, c3 = c0 + zWq + 1;
        let v = reluF32(load<f32>(z + (<usize>c1 << 2)));
        if (v > best || (LAST && v == best)) { best = v; at = c1; }
        v = reluF32(load<f32>(z + (<usize>c2 << 2)));
        if (v > best || (LAST && v == best)) { best = v; at = c2; }
        v = reluF32(load<f32>(z + (<usize>c3 << 2)));
        if (v > best || (LAST && v == best)) { best = v; at = c3; }
        store<i32>(win + (<usize>o << 2), at);
        const dst = transposed
          ? pooled + (<usize>((py * pw + px) * NQ + b) << 2)
          : pooled + (<usize>((b * pooledRows + py + pooledPad) * pooledRow + px + pooledPad) << 2);
        store<f32>(dst, best);
      }
    }
  }
}

/**
 * For the 16 floats w[0..15] and two factors s and t (splat): out[j] = the sum from +0 of `count`
 * identical terms s * w[j], out1[j] the same with t (plus bias[j] after the sum when bias != 0).
 * Eight independent sums in flight.
 */
function productsRepeated(w: usize, s: v128, t: v128, count: i32, bias: usize, out: usize, out1: usize): void {
  const zero = f32x4.splat(0);
  const w0 = v128.load(w), w1 = v128.load(w, 16), w2 = v128.load(w, 32), w3 = v128.load(w, 48);
  const p0 = f32x4.mul(s, w0), p1 = f32x4.mul(s, w1), p2 = f32x4.mul(s, w2), p3 = f32x4.mul(s, w3);
  const q0 = f32x4.mul(t, w0), q1 = f32x4.mul(t, w1), q2 = f32x4.mul(t, w2), q3 = f32x4.mul(t, w3);
  let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
  let e0 = zero, e1 = zero, e2 = zero, e3 = zero;
  for (let r = 0; r < count; r++) {
    a0 = f32x4.add(a0, p0); a1 = f32x4.add(a1, p1); a2 = f32x4.add(a2, p2); a3 = f32x4.add(a3, p3);
    e0 = f32x4.add(e0, q0); e1 = f32x4.add(e1, q1); e2 = f32x4.add(e2, q2); e3 = f32x4.add(e3, q3);
  }
  if (bias != 0) {
    const b0 = v128.load(bias), b1 = v128.load(bias, 16), b2 = v128.load(bias, 32), b3 = v128.load(bias, 48);
    a0 = f32x4.add(a0, b0); a1 = f32x4.add(a1, b1); a2 = f32x4.add(a2, b2); a3 = f32x4.add(a3, b3);
    e0 = f32x4.add(e0, b0); e1 = f32x4.add(e1, b1); e2 = f32x4.add(e2, b2); e3 = f32x4.add(e3, b3);
  }
  v128.store(out, a0); v128.store(out, a1, 16); v128.store(out, a2, 32); v128.store(out, a3, 48);
  v128.store(out1, e0); v128.store(out1, e1, 16); v128.store(out1, e2, 32); v128.store(out1, e3, 48);
}

/** The max-pool gradient's tie rule: false, each window's first maximum; true, its last. */
let LAST: bool = false;

/**
 * Forward pass to the logits (conv2 by direct sums), the max-pool gradient going to each window's
 * last maximum when `last`, else its first; returns 1 when every value on the way is finite, else 0.
 */
export function forward(last: bool): i32 {
  LAST = last;
  return forwardWith(false, 0, true);
}

/**
 * Evaluation's forward pass to the logits, conv2 + bias + ReLU + pool by Winograd's F(2x2, 5x5)
 * when `winograd` (u: the 36 transformed filter values of the copy set, f32), else by direct sums;
 * returns 1 when every value on the way is finite, else 0. Also leaves fc1's outputs at a3().
 */
export function forwardEval(winograd: bool, u: usize): i32 {
  return forwardWith(winograd, u, false);
}

/** Address of fc1's outputs after ReLU, one per image. */
export function a3(): usize {
  return aA3;
}

/** Scratch: four tiles' transforms (36 vectors), their products (36) and a transform's half-way values (36). */
let aTiles: usize = 0;

/** Per padded input row of one image: 1 when it holds a nonzero pixel (i32 [XH]). */
let aRowsNonzero: usize = 0;

/**
 * conv1 (+ bias) by direct sums, 16 outputs of a row at a time: output (y, x) is the sum from +0
 * of x[y + ty][x + tx] * w[ty][tx] over the taps in order (ty, tx), as the full convolution sums
 * them, in the zero-bordered input. An input row of zeros gives K terms that are +-0, which leave
 * a sum that started at +0 unchanged, so with finite taps such rows are left out (MNIST's top and
 * bottom rows). Columns past W (to WQ) are computed too: the border's sums, never read.
 */
function conv1Direct(b1: f32): void {
  const w = paramSlot(0);
  const skipZeroRows = finite(w, K * K);
  const zero = f32x4.splat(0);
  const bv = f32x4.splat(b1);
  const rowBytes = <usize>XW << 2;
  for (let b = 0; b < N; b++) {
    const image = aX + <usize>(b * XH) * rowBytes;
    for (let r = 0; r < XH; r++) {
      const row = image + <usize>r * rowBytes;
      let any = zero;
      for (let x = 0; x < XW; x += 4) any = v128.or(any, v128.load(row + (<usize>x << 2)));
      // -0 pixels do not occur (u8 * scale), so a nonzero bit pattern is a nonzero pixel.
      store<i32>(aRowsNonzero + (<usize>r << 2), v128.any_true(any) || !skipZeroRows ? 1 : 0);
    }
    for (let y = 0; y < H; y++) {
      for (let x0 = 0; x0 < WQ; x0 += 16) {
        let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
        for (let ty = 0; ty < K; ty++) {
          if (load<i32>(aRowsNonzero + (<usize>(y + ty) << 2)) == 0) continue;
          const row = image + <usize>(y + ty) * rowBytes + (<usize>x0 << 2);
          const taps = w + (<usize>(ty * K) << 2);
          for (let tx = 0; tx < K; tx++) {
            const t = v128.load32_splat(taps + (<usize>tx << 2));
            const p = row + (<usize>tx << 2);
            a0 = f32x4.add(a0, f32x4.mul(v128.load(p), t));
            a1 = f32x4.add(a1, f32x4.mul(v128.load(p, 16), t));
            a2 = f32x4.add(a2, f32x4.mul(v128.load(p, 32), t));
            a3 = f32x4.add(a3, f32x4.mul(v128.load(p, 48), t));
          }
        }
        const z = aZ1 + (<usize>((b * H + y) * WQ + x0) << 2);
        v128.store(z, f32x4.add(a0, bv));
        v128.store(z, f32x4.add(a1, bv), 16);
        v128.store(z, f32x4.add(a2, bv), 32);
        v128.store(z, f32x4.add(a3, bv), 48);
      }
    }
  }
}

/** Lanes p[0], p[2], p[4], p[6]. */
// @ts-ignore: decorator
@inline function evens(p: usize): v128 {
  return v128.shuffle<f32>(v128.load(p), v128.load(p, 16), 0, 2, 4, 6);
}

/**
 * conv2 + bias + ReLU + 2x2 max-pool of one output channel by F(2x2, 5x5), four tiles (pooling
 * windows) in the lanes: each tile's input transform, the 36 products summed over the C1 input
 * channels (identical terms) from +0, the output transform, bias, ReLU and the maximum, as the heap
 * kernels' WinogradConvPool computes each channel. Pooled values go to aP2T; returns 0 when a value
 * before ReLU is not finite.
 */
function conv2Winograd(u: usize, bias: f32): bool {
  const tw = W2 >> 1, th = H2 >> 1;
  const v = aTiles, m = aTiles + 576, tmp = aTiles + 1152;
  const zero = f32x4.splat(0);
  const bv = f32x4.splat(bias);
  const rowBytes = <usize>QW << 2;
  const laneIds = i32x4(0, 1, 2, 3);
  let bad = zero;
  for (let b = 0; b < N; b++) {
    for (let ty = 0; ty < th; ty++) {
      const rowBase = aP1 + (<usize>((b * QH + 2 * ty + PT - 2) * QW + PT - 2) << 2);
      for (let tx0 = 0; tx0 < tw; tx0 += 4) {
        // Four tiles of a tile row in the lanes (tiles past the row's end read the zero border, and
        // their results are dropped): lane L's d[i][j] is conv2's input at (2ty - 2 + i, 2(tx0 + L) - 2 + j).
        // Columns, then rows: v[i*6 + k] = (B^T d B)[i][k].
        const base = rowBase + (<usize>(2 * tx0) << 2);
        for (let j = 0; j < 6; j++) {
          const c = base + (<usize>j << 2);
          inputRows(evens(c), evens(c + rowBytes), evens(c + 2 * rowBytes), evens(c + 3 * rowBytes), evens(c + 4 * rowBytes),
            evens(c + 5 * rowBytes), tmp + (<usize>j << 4), 96);
        }
        for (let i = 0; i < 6; i++) {
          const r = tmp + <usize>i * 96;
          inputRows(v128.load(r), v128.load(r, 16), v128.load(r, 32), v128.load(r, 48), v128.load(r, 64), v128.load(r, 80),
            v + <usize>(i * 6) * 16, 16);
        }
        // M[xi] = C1 identical terms V[xi] * U[xi], from +0; nine positions at a time (36 = 4 x 9),
        // nine independent sums in flight.
        for (let xi = 0; xi < 36; xi += 9) {
          const vx = v + (<usize>xi << 4), ux = u + (<usize>xi << 2);
          const p0 = f32x4.mul(v128.load(vx), v128.load32_splat(ux)), p1 = f32x4.mul(v128.load(vx, 16), v128.load32_splat(ux, 4));
          const p2 = f32x4.mul(v128.load(vx, 32), v128.load32_splat(ux, 8)), p3 = f32x4.mul(v128.load(vx, 48), v128.load32_splat(ux, 12));
          const p4 = f32x4.mul(v128.load(vx, 64), v128.load32_splat(ux, 16)), p5 = f32x4.mul(v128.load(vx, 80), v128.load32_splat(ux, 20));
          const p6 = f32x4.mul(v128.load(vx, 96), v128.load32_splat(ux, 24)), p7 = f32x4.mul(v128.load(vx, 112), v128.load32_splat(ux, 28));
          const p8 = f32x4.mul(v128.load(vx, 128), v128.load32_splat(ux, 32));
          let a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero, a8 = zero;
          for (let r = 0; r < C1; r++) {
            a0 = f32x4.add(a0, p0); a1 = f32x4.add(a1, p1); a2 = f32x4.add(a2, p2); a3 = f32x4.add(a3, p3);
            a4 = f32x4.add(a4, p4); a5 = f32x4.add(a5, p5); a6 = f32x4.add(a6, p6); a7 = f32x4.add(a7, p7);
            a8 = f32x4.add(a8, p8);
          }
          const mx = m + (<usize>xi << 4);
          v128.store(mx, a0); v128.store(mx, a1, 16); v128.store(mx, a2, 32); v128.store(mx, a3, 48);
          v128.store(mx, a4, 64); v128.store(mx, a5, 80); v128.store(mx, a6, 96); v128.store(mx, a7, 112);
          v128.store(mx, a8, 128);
        }
        // Y = A^T M A, bias, ReLU, and the pool's maximum.
        const s00 = sumRow(m, 16), s01 = sumRow(m + 16, 16), s02 = sumRow(m + 32, 16), s03 = sumRow(m + 48, 16), s04 = sumRow(m + 64, 16), s05 = sumRow(m + 80, 16);
        const s10 = diffRow(m, 16), s11 = diffRow(m + 16, 16), s12 = diffRow(m + 32, 16), s13 = diffRow(m + 48, 16), s14 = diffRow(m + 64, 16), s15 = diffRow(m + 80, 16);
        const y00 = f32x4.add(f32x4.add(f32x4.add(f32x4.add(s01, s02), f32x4.add(s03, s04)), s00), bv);
        const y01 = f32x4.add(f32x4.add(f32x4.add(f32x4.sub(s01, s02), times(2, f32x4.sub(s03, s04))), s05), bv);
        const y10 = f32x4.add(f32x4.add(f32x4.add(f32x4.add(s11, s12), f32x4.add(s13, s14)), s10), bv);
        const y11 = f32x4.add(f32x4.add(f32x4.add(f32x4.sub(s11, s12), times(2, f32x4.sub(s13, s14))), s15), bv);
        const real = min(4, tw - tx0);
        const lanes = i32x4.lt_s(laneIds, i32x4.splat(real));
        bad = v128.or(bad, v128.and(lanes, v128.or(v128.or(nonFinite(y00), nonFinite(y01)), v128.or(nonFinite(y10), nonFinite(y11)))));
        const pooled = f32x4.max(f32x4.max(relu(y00), relu(y01)), f32x4.max(relu(y10), relu(y11)));
        // The real tiles' pooled values to their places.
        v128.store(tmp, pooled);
        const q0 = ty * tw + tx0;
        for (let lane = 0; lane < real; lane++) {
          store<f32>(aP2T + (<usize>((q0 + lane) * NQ + b) << 2), load<f32>(tmp + (<usize>lane << 2)));
        }
      }
    }
  }
  return !v128.any_true(bad);
}

/**
 * pool1's values only (evaluation: no winners): the maximum of relu(z1) over each 2x2 window, four
 * windows at a time, into aP1's interior. ReLU leaves no -0, so the maximum's bits are the value's.
 */
function reluPoolValues(): void {
  const pw = W >> 1, ph = H >> 1;
  const zero = f32x4.splat(0);
  const groups = (pw + 3) >> 2;
  for (let b = 0; b < N; b++) {
    for (let py = 0; py < ph; py++) {
      const r0 = aZ1 + (<usize>((b * H + 2 * py) * WQ) << 2);
      const r1 = r0 + (<usize>WQ << 2);
      const out = aP1 + (<usize>((b * QH + py + PT) * QW + PT) << 2);
      for (let g = 0; g < groups; g++) {
        const o = <usize>(g << 5);
        const m1 = f32x4.max(f32x4.max(v128.load(r0 + o), zero), f32x4.max(v128.load(r1 + o), zero));
        const m2 = f32x4.max(f32x4.max(v128.load(r0 + o, 16), zero), f32x4.max(v128.load(r1 + o, 16), zero));
        const even = v128.shuffle<f32>(m1, m2, 0, 2, 4, 6);
        const odd = v128.shuffle<f32>(m1, m2, 1, 3, 5, 7);
        v128.store(out + (<usize>(g << 4)), f32x4.max(even, odd));
      }
      // The last group may spill past the row's end into the zero border conv2 reads: clear it.
      for (let px = pw; px < groups << 2; px++) store<f32>(out + (<usize>px << 2), 0);
    }
  }
}

/**
 * Per image, whether conv1's channel and conv2's are active (a pooled ReLU output > 0 somewhere,
 * the values finite: forwardWith has checked), into aConvActive.
 */
function markActiveImages(): void {
  const zero = f32x4.splat(0);
  const imageBytes = <usize>(QH * QW) << 2;
  for (let b = 0; b < N; b++) {
    // pool1 with its zero border: a positive value anywhere.
    const image = aP1 + <usize>b * imageBytes;
    let any = zero;
    for (let o: usize = 0; o < imageBytes; o += 16) any = v128.or(any, f32x4.gt(v128.load(image + o), zero));
    store<i32>(aConvActive + (<usize>b << 2), v128.any_true(any) ? 1 : 0);
  }
  // pool2, transposed ([position][NQ]): four images at a time.
  for (let b0 = 0; b0 < N; b0 += 4) {
    let any = zero;
    for (let q = 0; q < P; q++) any = v128.or(any, f32x4.gt(v128.load(aP2T + (<usize>(q * NQ + b0) << 2)), zero));
    v128.store(aConvActive + (<usize>(NQ + b0) << 2), v128.and(any, i32x4.splat(1)));
  }
}

/** Address of conv1's per-image activity flags (i32, images 0..N-1). */
export function conv1ActiveAt(): usize {
  return aConvActive;
}

/** Address of conv2's per-image activity flags (i32, images 0..N-1). */
export function conv2ActiveAt(): usize {
  return aConvActive + (<usize>NQ << 2);
}

/** The forward pass; `training` keeps pool1's winners for the backward pass. */
function forwardWith(winograd: bool, u: usize, training: bool): i32 {
  const b1 = load<f32>(paramSlot(1)), b2 = load<f32>(paramSlot(3)), b3 = load<f32>(paramSlot(5));
  conv1Direct(b1);
  if (!finite(aZ1, N * H * WQ)) return 0;
  if (training) reluPool(aZ1, H, W, WQ, aWin1, aP1, QW, QH, PT, false);
  else reluPoolValues();
  if (winograd) {
    if (!conv2Winograd(u, b2)) return 0;
  } else {
    convOneChannel(aP1, QW, QH, paramSlot(2), false, C1, true, b2, aZ2, H2, W2Q);
    if (!finite(aZ2, N * H2 * W2Q)) return 0;
    reluPool(aZ2, H2, W2, W2Q, aWin2, aP2T, 0, 0, 0, true);
  }
  if (!training) markActiveImages();
  // fc1, one unit, 16 images at a time: over positions q, C2 identical terms each.
  const w3 = paramSlot(4);
  const zero = f32x4.splat(0);
  const bv3 = f32x4.splat(b3);
  for (let b0 = 0; b0 < NQ; b0 += 16) {
    let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    for (let q = 0; q < P; q++) {
      const s = v128.load32_splat(w3 + (<usize>q << 2));
      const row = aP2T + (<usize>(q * NQ + b0) << 2);
      const p0 = f32x4.mul(s, v128.load(row)), p1 = f32x4.mul(s, v128.load(row, 16));
      const p2 = f32x4.mul(s, v128.load(row, 32)), p3 = f32x4.mul(s, v128.load(row, 48));
      for (let r = 0; r < C2; r++) {
        a0 = f32x4.add(a0, p0); a1 = f32x4.add(a1, p1); a2 = f32x4.add(a2, p2); a3 = f32x4.add(a3, p3);
      }
    }
    const o = aZ3 + (<usize>b0 << 2);
    a0 = f32x4.add(a0, bv3); a1 = f32x4.add(a1, bv3); a2 = f32x4.add(a2, bv3); a3 = f32x4.add(a3, bv3);
    v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
    const r = aA3 + (<usize>b0 << 2);
    v128.store(r, f32x4.max(a0, zero)); v128.store(r, f32x4.max(a1, zero), 16);
    v128.store(r, f32x4.max(a2, zero), 32); v128.store(r, f32x4.max(a3, zero), 48);
  }
  if (!finite(aZ3, NQ)) return 0;
  // fc2: each logit F1 identical terms, 16 classes at a time.
  const w4 = paramSlot(6), b4 = paramSlot(7);
  // Four images in the lanes, ten classes at a time (ten independent sums in flight).
  for (let b0 = 0; b0 < N; b0 += 4) {
    const a = v128.load(aA3 + (<usize>b0 << 2)); // aA3 holds NQ >= b0 + 4 values
    for (let c0 = 0; c0 < CL; c0 += 10) {
      const wc = w4 + (<usize>c0 << 2); // w4's slot is CLQ >= c0 + 10 wide, zero past CL
      const p0 = f32x4.mul(a, v128.load32_splat(wc)), p1 = f32x4.mul(a, v128.load32_splat(wc, 4));
      const p2 = f32x4.mul(a, v128.load32_splat(wc, 8)), p3 = f32x4.mul(a, v128.load32_splat(wc, 12));
      const p4 = f32x4.mul(a, v128.load32_splat(wc, 16)), p5 = f32x4.mul(a, v128.load32_splat(wc, 20));
      const p6 = f32x4.mul(a, v128.load32_splat(wc, 24)), p7 = f32x4.mul(a, v128.load32_splat(wc, 28));
      const p8 = f32x4.mul(a, v128.load32_splat(wc, 32)), p9 = f32x4.mul(a, v128.load32_splat(wc, 36));
      let a0 = zero, a1 = zero, a2 = zero, a3v = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero, a8 = zero, a9 = zero;
      for (let r = 0; r < F1; r++) {
        a0 = f32x4.add(a0, p0); a1 = f32x4.add(a1, p1); a2 = f32x4.add(a2, p2); a3v = f32x4.add(a3v, p3);
        a4 = f32x4.add(a4, p4); a5 = f32x4.add(a5, p5); a6 = f32x4.add(a6, p6); a7 = f32x4.add(a7, p7);
        a8 = f32x4.add(a8, p8); a9 = f32x4.add(a9, p9);
      }
      // Bias, then each image's logits of these classes to its row.
      const bc = b4 + (<usize>c0 << 2);
      const t = aTiles; // scratch: 10 vectors [class][image lane]
      v128.store(t, f32x4.add(a0, v128.load32_splat(bc))); v128.store(t, f32x4.add(a1, v128.load32_splat(bc, 4)), 16);
      v128.store(t, f32x4.add(a2, v128.load32_splat(bc, 8)), 32); v128.store(t, f32x4.add(a3v, v128.load32_splat(bc, 12)), 48);
      v128.store(t, f32x4.add(a4, v128.load32_splat(bc, 16)), 64); v128.store(t, f32x4.add(a5, v128.load32_splat(bc, 20)), 80);
      v128.store(t, f32x4.add(a6, v128.load32_splat(bc, 24)), 96); v128.store(t, f32x4.add(a7, v128.load32_splat(bc, 28)), 112);
      v128.store(t, f32x4.add(a8, v128.load32_splat(bc, 32)), 128); v128.store(t, f32x4.add(a9, v128.load32_splat(bc, 36)), 144);
      for (let lane = 0; lane < 4 && b0 + lane < N; lane++) {
        for (let c = c0; c < min(c0 + 10, CL); c++) {
          store<f32>(aLogits + (<usize>((b0 + lane) * CL + c) << 2), load<f32>(t + (<usize>(((c - c0) << 2) + lane) << 2)));
        }
      }
    }
  }
  return finite(aLogits, N * CL) ? 1 : 0;
}

/**
 * A one-channel filter gradient into out[K*K]: per tap, the sum from +0 over (oy, ox, image) of
 * x[b][oy + ty][ox + tx] (zero-bordered rows of xW floats, xH rows per image) * dy[b][oy][ox]
 * (rows of dyRow floats, the image's first row at dy0 + b * dyImage), terms with dy = 0 left out.
 */
function filterGrad(x: usize, xW: i32, xH: i32, dy0: usize, dyImage: i32, dyRow: i32, h: i32, w: i32, out: usize): void {
  const kk = K * K;
  for (let t = 0; t < kk; t++) store<f32>(out + (<usize>t << 2), 0);
  for (let oy = 0; oy < h; oy++) {
    for (let ox = 0; ox < w; ox++) {
      for (let b = 0; b < N; b++) {
        const g = load<f32>(dy0 + (<usize>(b * dyImage + oy * dyRow + ox) << 2));
        if (g == 0) continue;
        for (let ty = 0; ty < K; ty++) {
          const row = x + (<usize>((b * xH + oy + ty) * xW + ox) << 2);
          const acc = out + (<usize>(ty * K) << 2);
          for (let tx = 0; tx < K; tx++) {
            const a = acc + (<usize>tx << 2);
            store<f32>(a, load<f32>(a) + load<f32>(row + (<usize>tx << 2)) * g);
          }
        }
      }
    }
  }
}

/** Backward pass from the loss gradient at dlogitsAt(); returns 1 when every value is finite, else 0. */
export function backward(): i32 {
  const zero = f32x4.splat(0);
  const w2 = paramSlot(2), w3 = paramSlot(4), w4 = paramSlot(6);
  // fc2's gradients, and fc1's output gradient through ReLU.
  for (let c = 0; c < CL; c++) {
    let sw: f32 = 0, sb: f32 = 0;
    for (let b = 0; b < N; b++) {
      const d = load<f32>(aDl + (<usize>(b * CL + c) << 2));
      sw += load<f32>(aA3 + (<usize>b << 2)) * d;
      sb += d;
    }
    store<f32>(gradSlot(6) + (<usize>c << 2), sw);
    store<f32>(gradSlot(7) + (<usize>c << 2), sb);
  }
  for (let b = 0; b < NQ; b++) {
    let s: f32 = 0;
    if (b < N) for (let c = 0; c < CL; c++) s += load<f32>(w4 + (<usize>c << 2)) * load<f32>(aDl + (<usize>(b * CL + c) << 2));
    store<f32>(aDz3 + (<usize>b << 2), load<f32>(aZ3 + (<usize>b << 2)) > 0 && b < N ? s : 0);
  }
  if (!finite(aDz3, NQ)) return 0;
  let sb3: f32 = 0;
  for (let b = 0; b < N; b++) sb3 += load<f32>(aDz3 + (<usize>b << 2));
  store<f32>(gradSlot(5), sb3);
  // fc1's weight gradient (one value per position) and its input gradient, F1 identical terms.
  for (let q = 0; q < PQ; q++) {
    let s: f32 = 0;
    if (q < P) for (let b = 0; b < N; b++) s += load<f32>(aP2T + (<usize>(q * NQ + b) << 2)) * load<f32>(aDz3 + (<usize>b << 2));
    store<f32>(gradSlot(4) + (<usize>q << 2), s);
  }
  // Two images at a time (dz3 past N is zero; aDp2 has a spare row), eight sums in flight.
  for (let b = 0; b < N; b += 2) {
    const s = v128.load32_splat(aDz3 + (<usize>b << 2));
    const t = v128.load32_splat(aDz3 + (<usize>(b + 1) << 2));
    for (let q0 = 0; q0 < PQ; q0 += 16) {
      const o = aDp2 + (<usize>(b * PQ + q0) << 2);
      productsRepeated(w3 + (<usize>q0 << 2), s, t, F1, 0, o, o + (<usize>PQ << 2));
    }
  }
  if (!finite(aDp2, N * PQ)) return 0;
  // Through pool2 and ReLU: conv2's output gradient, zero-bordered for its input gradient.
  memory.fill(aDz2, 0, <usize>(N * QH * QW) << 2);
  for (let b = 0; b < N; b++) {
    for (let q = 0; q < P; q++) {
      const at = load<i32>(aWin2 + (<usize>(b * P + q) << 2));
      const y = (at / W2Q) % H2, x = at % W2Q;
      const g = load<f32>(aZ2 + (<usize>at << 2)) > 0 ? load<f32>(aDp2 + (<usize>(b * PQ + q) << 2)) : 0;
      store<f32>(aDz2 + (<usize>((b * QH + y + PB) * QW + x + PB) << 2), g);
    }
  }
  let sb2: f32 = 0;
  for (let b = 0; b < N; b++)
    for (let y = 0; y < H2; y++)
      for (let x = 0; x < W2; x++) sb2 += load<f32>(aDz2 + (<usize>((b * QH + y + PB) * QW + x + PB) << 2));
  store<f32>(gradSlot(3), sb2);
  filterGrad(aP1, QW, QH, aDz2 + (<usize>(PB * QW + PB) << 2), QH * QW, QW, H2, W2, gradSlot(2));
  // conv2's input gradient, one channel: C2 identical terms per tap of the reversed filter.
  convOneChannel(aDz2, QW, QH, w2, true, C2, false, 0, aDp1, H2, W2Q);
  if (!finite(aDp1, N * H2 * W2Q)) return 0;
  // Through pool1 and ReLU: conv1's output gradient.
  memory.fill(aDz1, 0, <usize>(N * H * WQ) << 2);
  for (let b = 0; b < N; b++) {
    for (let py = 0; py < H2; py++) {
      for (let px = 0; px < W2; px++) {
        const at = load<i32>(aWin1 + (<usize>((b * H2 + py) * W2 + px) << 2));
        const g = load<f32>(aZ1 + (<usize>at << 2)) > 0 ? load<f32>(aDp1 + (<usize>((b * H2 + py) * W2Q + px) << 2)) : 0;
        store<f32>(aDz1 + (<usize>at << 2), g);
      }
    }
  }
  let sb1: f32 = 0;
  for (let b = 0; b < N; b++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) sb1 += load<f32>(aDz1 + (<usize>((b * H + y) * WQ + x) << 2));
  store<f32>(gradSlot(1), sb1);
  filterGrad(aX, XW, XH, aDz1, H * WQ, WQ, H, W, gradSlot(0));
  return finite(aGrads, slotOffset(7) + CLQ) ? 1 : 0;
}
