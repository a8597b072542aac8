// AssemblyScript, part of the heap-kernels module (assembly/heap-kernels.ts): the two convolution
// gradients with the terms whose output-gradient factor is exactly zero left out. After ReLU and a
// 2x2 max-pool, most of a convolution's output gradient dy is zero. Each output below is summed in
// Conv2D.ts's order (from +0, tap after tap, channel after channel, one multiply and one add per term)
// with only those terms skipped whose product is a zero, which leaves a float32 sum that started at
// +0 unchanged (it cannot be -0: +0 + -0 = +0). That holds when every operand is finite (0 * inf is
// NaN), so callers first check that (finiteRange) and otherwise run the full convolution. Padded
// taps (zeros times a finite factor) are skipped the same way. Every output value is computed whole
// by one caller, so the split between threads does not matter. Pointers are byte addresses.

/** Sets the i32 at `flag` to 1 when any of the floats x[i0..i1) is infinite or NaN. */
export function finiteRange(x: usize, i0: i32, i1: i32, flag: usize): void {
  // v - v is 0 for every finite v and NaN otherwise; a sum of zeros stays 0.
  let acc = f32x4.splat(0);
  let o = x + (<usize>i0 << 2);
  const end = x + (<usize>i1 << 2);
  const end4 = o + (<usize>((i1 - i0) & ~3) << 2);
  for (; o < end4; o += 16) {
    const v = v128.load(o);
    acc = f32x4.add(acc, f32x4.sub(v, v));
  }
  let tail: f32 = 0;
  for (; o < end; o += 4) {
    const v = load<f32>(o);
    tail += v - v;
  }
  if (v128.any_true(f32x4.ne(acc, acc)) || tail != tail) store<i32>(flag, 1);
}

/**
 * dw[ty][tx][ci][o] (HWIO) for output channels o in [o0, o1): the filter gradient of the stride-1
 * convolution of x (c channels, a multiple of 4) giving dy[batch][oh][ow][co], padding pt on top
 * and pl on the left. Conv2DBackpropFilter's full path sums each of these over (oy, ox, b) in that
 * order (a convolution of x as [c][h][w][batch] with dy as a [oh][ow][batch][co] filter); the
 * nonzero terms are summed here in the same order. x is given as xs[h][w][batch][c], so that the
 * terms of one (oy, ox) read consecutive rows. `lists` is this caller's scratch of
 * (o1 - o0) * (4 + 12 * batch * oh * ow) bytes.
 */
export function filterGradChannels(xs: usize, dy: usize, dw: usize, lists: usize,
  batch: i32, h: i32, w: i32, c: i32, kh: i32, kw: i32, co: i32, oh: i32, ow: i32, pt: i32, pl: i32,
  o0: i32, o1: i32): void {
  const rowBytes = <usize>c << 2;
  const listBytes = <usize>(4 + 12 * batch * oh * ow);
  // The nonzero dy[b][oy][ox][o] of each channel, in (oy, ox, b) order: the xs row of tap (0, 0)
  // (it may lie outside the image), oy and ox, and the value. One pass over dy for all channels.
  for (let o = o0; o < o1; o++) store<i32>(lists + <usize>(o - o0) * listBytes, 0);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let b = 0; b < batch; b++) {
        const row = dy + ((<usize>(((b * oh + oy) * ow + ox) * co)) << 2);
        for (let o = o0; o < o1; o++) {
          const v = load<f32>(row + (<usize>o << 2));
          if (v != 0) {
            const list = lists + <usize>(o - o0) * listBytes;
            const n = load<i32>(list);
            const e = list + 4 + <usize>n * 12;
            store<i32>(e, ((oy - pt) * w + ox - pl) * batch + b);
            store<i32>(e, (oy << 16) | ox, 4);
            store<f32>(e, v, 8);
            store<i32>(list, n + 1);
          }
        }
      }
    }
  }
  for (let o = o0; o < o1; o++) {
    const list = lists + <usize>(o - o0) * listBytes;
    const first = list + 4, end = first + <usize>load<i32>(list) * 12;
    for (let ty = 0; ty < kh; ty++) {
      for (let tx = 0; tx < kw; tx++) {
        const shift = (ty * w + tx) * batch;
        const iy0 = ty - pt, ix0 = tx - pl;
        const out = dw + (<usize>((ty * kw + tx) * c) * <usize>co + <usize>o) * 4;
        let c0 = 0;
        for (; c0 + 32 <= c; c0 += 32) {
          let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
          let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
          for (let e = first; e < end; e += 12) {
            const yx = load<i32>(e, 4);
            if (<u32>((yx >> 16) + iy0) >= <u32>h || <u32>((yx & 0xffff) + ix0) >= <u32>w) continue;
            const r = xs + <usize>(load<i32>(e) + shift) * rowBytes + (<usize>c0 << 2);
            const s = v128.load32_splat(e + 8);
            a0 = f32x4.add(a0, f32x4.mul(v128.load(r), s)); a1 = f32x4.add(a1, f32x4.mul(v128.load(r, 16), s));
            a2 = f32x4.add(a2, f32x4.mul(v128.load(r, 32), s)); a3 = f32x4.add(a3, f32x4.mul(v128.load(r, 48), s));
            a4 = f32x4.add(a4, f32x4.mul(v128.load(r, 64), s)); a5 = f32x4.add(a5, f32x4.mul(v128.load(r, 80), s));
            a6 = f32x4.add(a6, f32x4.mul(v128.load(r, 96), s)); a7 = f32x4.add(a7, f32x4.mul(v128.load(r, 112), s));
          }
          const oc = out + <usize>c0 * <usize>co * 4;
          const step = <usize>co * 16;
          storeColumn(oc, co, a0); storeColumn(oc + step, co, a1); storeColumn(oc + 2 * step, co, a2); storeColumn(oc + 3 * step, co, a3);
          storeColumn(oc + 4 * step, co, a4); storeColumn(oc + 5 * step, co, a5); storeColumn(oc + 6 * step, co, a6); storeColumn(oc + 7 * step, co, a7);
        }
        for (; c0 < c; c0 += 4) {
          let a0 = f32x4.splat(0);
          for (let e = first; e < end; e += 12) {
            const yx = load<i32>(e, 4);
            if (<u32>((yx >> 16) + iy0) >= <u32>h || <u32>((yx & 0xffff) + ix0) >= <u32>w) continue;
            const r = xs + <usize>(load<i32>(e) + shift) * rowBytes + (<usize>c0 << 2);
            a0 = f32x4.add(a0, f32x4.mul(v128.load(r), v128.load32_splat(e + 8)));
          }
          storeColumn(out + <usize>c0 * <usize>co * 4, co, a0);
        }
      }
    }
  }
}

/** Stores the four lanes of v at p, p + stride floats, ... */
// @ts-ignore: decorator
@inline function storeColumn(p: usize, stride: i32, v: v128): void {
  const s = <usize>stride << 2;
  store<f32>(p, f32x4.extract_lane(v, 0));
  store<f32>(p + s, f32x4.extract_lane(v, 1));
  store<f32>(p + 2 * s, f32x4.extract_lane(v, 2));
  store<f32>(p + 3 * s, f32x4.extract_lane(v, 3));
}

/**
 * For rows r in [r0, r1) of x (rows of c floats, c < 65536): the count of nonzero values, then
 * their indices in order, as u16 at lists + r * (c + 1) * 2.
 */
export function nonzeroRows(x: usize, lists: usize, c: i32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const row = x + (<usize>r * <usize>c << 2);
    const list = lists + (<usize>r * <usize>(c + 1) << 1);
    let n = 0;
    for (let k = 0; k < c; k++) {
      if (load<f32>(row + (<usize>k << 2)) != 0) {
        n++;
        store<u16>(list + (<usize>n << 1), <u16>k);
      }
    }
    store<u16>(list, <u16>n);
  }
}

/**
 * out[p][co] for output pixels p in [p0, p1) of the stride-1 convolution of a mostly-zero
 * x[batch][h][w][c] (its rows' nonzero indices in `lists`, from nonzeroRows) with the filter
 * f[kh][kw][c][co] (HWIO, not packed; co a multiple of 4), padding pt on top and pl on the left:
 * Conv2D.ts's sums (tap after tap, channel after channel) without the zero terms. Used for the input
 * gradient, a convolution of dy.
 */
export function sparseInputConvPixels(x: usize, lists: usize, f: usize, out: usize,
  h: i32, w: i32, c: i32, kh: i32, kw: i32, co: i32, oh: i32, ow: i32, pt: i32, pl: i32,
  p0: i32, p1: i32): void {
  const tapBytes = <usize>c * <usize>co << 2;
  const coBytes = <usize>co << 2;
  for (let p = p0; p < p1; p++) {
    const x0 = p % ow - pl, n0 = p / ow / oh, y0 = p / ow % oh - pt;
    const o = out + <usize>p * coBytes;
    let c0 = 0;
    for (; c0 + 32 <= co; c0 += 32) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
      for (let ty = 0; ty < kh; ty++) {
        const iy = y0 + ty;
        if (<u32>iy >= <u32>h) continue;
        for (let tx = 0; tx < kw; tx++) {
          const ix = x0 + tx;
          if (<u32>ix >= <u32>w) continue;
          const r = (n0 * h + iy) * w + ix;
          const row = x + (<usize>r * <usize>c << 2);
          const list = lists + (<usize>r * <usize>(c + 1) << 1);
          const n = <i32>load<u16>(list);
          const taps = f + <usize>(ty * kw + tx) * tapBytes + (<usize>c0 << 2);
          for (let i = 1; i <= n; i++) {
            const k = <usize>load<u16>(list + (<usize>i << 1));
            const s = v128.load32_splat(row + (k << 2));
            const pf = taps + k * coBytes;
            a0 = f32x4.add(a0, f32x4.mul(s, v128.load(pf))); a1 = f32x4.add(a1, f32x4.mul(s, v128.load(pf, 16)));
            a2 = f32x4.add(a2, f32x4.mul(s, v128.load(pf, 32))); a3 = f32x4.add(a3, f32x4.mul(s, v128.load(pf, 48)));
            a4 = f32x4.add(a4, f32x4.mul(s, v128.load(pf, 64))); a5 = f32x4.add(a5, f32x4.mul(s, v128.load(pf, 80)));
            a6 = f32x4.add(a6, f32x4.mul(s, v128.load(pf, 96))); a7 = f32x4.add(a7, f32x4.mul(s, v128.load(pf, 112)));
          }
        }
      }
      const oc = o + (<usize>c0 << 2);
      v128.store(oc, a0); v128.store(oc, a1, 16); v128.store(oc, a2, 32); v128.store(oc, a3, 48);
      v128.store(oc, a4, 64); v128.store(oc, a5, 80); v128.store(oc, a6, 96); v128.store(oc, a7, 112);
    }
    for (; c0 < co; c0 += 4) {
      let a0 = f32x4.splat(0);
      for (let ty = 0; ty < kh; ty++) {
        const iy = y0 + ty;
        if (<u32>iy >= <u32>h) continue;
        for (let tx = 0; tx < kw; tx++) {
          const ix = x0 + tx;
          if (<u32>ix >= <u32>w) continue;
          const r = (n0 * h + iy) * w + ix;
          const row = x + (<usize>r * <usize>c << 2);
          const list = lists + (<usize>r * <usize>(c + 1) << 1);
          const n = <i32>load<u16>(list);
          const taps = f + <usize>(ty * kw + tx) * tapBytes + (<usize>c0 << 2);
          for (let i = 1; i <= n; i++) {
            const k = <usize>load<u16>(list + (<usize>i << 1));
            a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(row + (k << 2)), v128.load(taps + k * coBytes)));
          }
        }
      }
      v128.store(o + (<usize>c0 << 2), a0);
    }
  }
}
