// AssemblyScript, part of the heap-kernels module (assembly/heap-kernels.ts): a stride-1,
// dilation-1 NHWC convolution as an indirect GEMM, two output pixels by sixteen output channels at a
// time. Each output value is summed the way XNNPACK's convolution sums it: starting from 0, tap
// after tap (ky, then kx), input channel after input channel, one multiply and one add per term (no
// fused multiply-add), with a padded tap reading a row of zeros. So the result is XNNPACK's (NaN as
// NaN), and it does not depend on how the output pixels are split between threads: every pixel is
// computed whole by one caller of conv2DPixels. Pointers are byte addresses.

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
@inline export function tapRow(x: usize, zero: usize, b: i32, iy: i32, ix: i32, h: i32, w: i32, c: i32): usize {
  if (<u32>iy >= <u32>h || <u32>ix >= <u32>w) return zero;
  return x + ((<usize>((b * h + iy) * w + ix) * <usize>c) << 2);
}

/**
 * out[p][co] for output pixels p in [p0, p1) (p = (b*oh + oy)*ow + ox) of the convolution of
 * x[batch][h][w][c] with the packed filter wp (kh x kw taps, co outputs), padding pt on top and pl
 * on the left; zero is a row of at least c zeros.
 */
export function conv2DPixels(x: usize, wp: usize, out: usize, zero: usize,
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
