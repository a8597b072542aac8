// AssemblyScript, part of the heap-kernels module (assembly/heap-kernels.ts): a stride-1 NHWC
// convolution with SAME-style padding fused with bias, ReLU and a 2x2 max-pool (windows that tile
// an even-sized output), for evaluation's conv1. Every convolution output is summed exactly as
// Conv2D.ts sums it (XNNPACK's order: from 0, tap after tap, channel after channel, one multiply and
// one add per term, padding read as zeros), then bias is added and ReLU applied as tfjs-backend-wasm
// does for finite values (x > 0 ? x : +0), and the window's maximum written: so the result is bitwise
// that of conv2d, add, relu and maxPool run one after another, without the full-size intermediates,
// whenever every value before ReLU is finite. Otherwise the kernel raises a flag and its caller
// recomputes the layer with those four ops (XNNPACK's max-pool treats NaN in a way of its own). Every
// pooled output is computed whole by one caller. Pointers are byte addresses. The 2x16 tile loop
// repeats Conv2D.ts's on purpose: calling conv2DPixels for each pixel pair instead (through a scratch
// row) measured 107 ms against 87 per 1000 conv1 images on one thread.

import { tapRow } from './Conv2D';
import { nonFinite, relu } from './WinogradConvPool';

/**
 * out[q][co] for pooled outputs q in [q0, q1) (q = (b * h/2 + py) * w/2 + px) of
 * maxPool2x2(relu(conv(x, wp) + bias)): x[batch][h][w][c] (h, w even), wp the filter packed by
 * packFilter (Conv2D.ts; kh x kw taps, co a multiple of 16), padding pt on top and pl on the left
 * (the output as large as the input), zero a row of at least c zeros. Sets the i32 at `flag` to 1
 * when any value before ReLU is infinite or NaN.
 */
export function convPoolWindows(x: usize, wp: usize, bias: usize, out: usize, zero: usize, flag: usize,
  h: i32, w: i32, c: i32, kh: i32, kw: i32, co: i32, pt: i32, pl: i32, q0: i32, q1: i32): void {
  const panelBytes = <usize>(kh * kw * c) << 6;
  const rowBytes = <usize>co << 2;
  const pw = w >> 1, windows = (h >> 1) * pw;
  let bad = f32x4.splat(0);
  for (let q = q0; q < q1; q++) {
    const n = q / windows, py = (q % windows) / pw, px = q % pw;
    const x0 = 2 * px - pl;
    const inside = x0 >= 0 && x0 + kw + 1 <= w;
    for (let panel = 0; panel < co; panel += 16) {
      const wpanel = wp + <usize>(panel >> 4) * panelBytes;
      const bv = bias + (<usize>panel << 2);
      let m0 = f32x4.splat(0), m1 = f32x4.splat(0), m2 = f32x4.splat(0), m3 = f32x4.splat(0);
      // The window's top pixel pair, then its bottom pair: two pixels by sixteen channels each.
      for (let half = 0; half < 2; half++) {
        const y0 = 2 * py + half - pt;
        let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
        let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
        let pwp = wpanel;
        for (let ty = 0; ty < kh; ty++) {
          // A row of taps inside the image is one run of kw * c inputs; others go tap by tap.
          const whole = inside && <u32>(y0 + ty) < <u32>h;
          const runs = whole ? 1 : kw;
          const length = whole ? kw * c : c;
          for (let tx = 0; tx < runs; tx++) {
            let r0 = tapRow(x, zero, n, y0 + ty, x0 + tx, h, w, c);
            let r1 = tapRow(x, zero, n, y0 + ty, x0 + tx + 1, h, w, c);
            for (let k = 0; k < length; k++, r0 += 4, r1 += 4, pwp += 64) {
              const w0 = v128.load(pwp), w1 = v128.load(pwp, 16), w2 = v128.load(pwp, 32), w3 = v128.load(pwp, 48);
              const s = v128.load32_splat(r0);
              a0 = f32x4.add(a0, f32x4.mul(s, w0)); a1 = f32x4.add(a1, f32x4.mul(s, w1));
              a2 = f32x4.add(a2, f32x4.mul(s, w2)); a3 = f32x4.add(a3, f32x4.mul(s, w3));
              const t = v128.load32_splat(r1);
              b0 = f32x4.add(b0, f32x4.mul(t, w0)); b1 = f32x4.add(b1, f32x4.mul(t, w1));
              b2 = f32x4.add(b2, f32x4.mul(t, w2)); b3 = f32x4.add(b3, f32x4.mul(t, w3));
            }
          }
        }
        const c0 = v128.load(bv), c1 = v128.load(bv, 16), c2 = v128.load(bv, 32), c3 = v128.load(bv, 48);
        a0 = f32x4.add(a0, c0); a1 = f32x4.add(a1, c1); a2 = f32x4.add(a2, c2); a3 = f32x4.add(a3, c3);
        b0 = f32x4.add(b0, c0); b1 = f32x4.add(b1, c1); b2 = f32x4.add(b2, c2); b3 = f32x4.add(b3, c3);
        bad = v128.or(bad, v128.or(v128.or(v128.or(nonFinite(a0), nonFinite(a1)), v128.or(nonFinite(a2), nonFinite(a3))),
          v128.or(v128.or(nonFinite(b0), nonFinite(b1)), v128.or(nonFinite(b2), nonFinite(b3)))));
        // For finite values ReLU's outputs are >= +0, so the maximum (from +0) is the pool's.
        m0 = f32x4.max(m0, f32x4.max(relu(a0), relu(b0)));
        m1 = f32x4.max(m1, f32x4.max(relu(a1), relu(b1)));
        m2 = f32x4.max(m2, f32x4.max(relu(a2), relu(b2)));
        m3 = f32x4.max(m3, f32x4.max(relu(a3), relu(b3)));
      }
      const o = out + <usize>q * rowBytes + (<usize>panel << 2);
      v128.store(o, m0); v128.store(o, m1, 16); v128.store(o, m2, 32); v128.store(o, m3, 48);
    }
  }
  if (v128.any_true(bad)) store<i32>(flag, 1);
}
