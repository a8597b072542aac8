// AssemblyScript, part of the heap-kernels module (assembly/heap-kernels.ts): MaxPoolGrad for pooling windows
// that do not overlap (stride >= window), NHWC, four channels at a time. A window's gradient goes
// to its first maximum in row-major order (TensorFlow's CPU rule: a later cell wins only when
// strictly greater) or, with `last`, to its last one (also when equal); a window of NaNs keeps its
// first cell. Every input cell a window covers is written (0 + dy at the winner, 0 elsewhere),
// which is what kernels/MaxPoolGrad.ts's "fill with 0, then add dy at the winner" gives bitwise.
// Pointers are byte addresses (own-wasm/heap-kernels.ts maxPoolGrad); C % 4 == 0. Works on a range of
// output rows (image n, row oy numbered n * outH + oy), so that threads can share a batch.

export function maxPoolGradRows(
  x: usize, dy: usize, dx: usize, inH: i32, inW: i32, C: i32, outH: i32, outW: i32,
  fh: i32, fw: i32, sh: i32, sw: i32, padTop: i32, padLeft: i32, last: bool, row0: i32, row1: i32,
): void {
  const zero = f32x4.splat(0);
  for (let row = row0; row < row1; row++) {
    const n = row / outH, oy = row % outH;
    const xImage = <usize>(n * inH * inW * C) << 2;
    {
      const y0 = oy * sh - padTop;
      const yStart = max(0, y0);
      const yEnd = min(inH, y0 + fh);
      for (let ox = 0; ox < outW; ox++) {
        const x0 = ox * sw - padLeft;
        const xStart = max(0, x0);
        const xEnd = min(inW, x0 + fw);
        const first = xImage + <usize>(yStart * inW + xStart) * (<usize>C << 2);
        const gRow = dy + (<usize>(((n * outH + oy) * outW + ox) * C) << 2);
        for (let c = 0; c < C; c += 4) {
          const cb = <usize>c << 2;
          // Winner per lane: its value and its cell number (row-major within the window).
          let best = v128.load(x + first + cb);
          let win = i32x4.splat(0);
          let k = 0;
          for (let yy = yStart; yy < yEnd; yy++) {
            for (let xx = xStart; xx < xEnd; xx++, k++) {
              if (k == 0) continue;
              const v = v128.load(x + xImage + <usize>(yy * inW + xx) * (<usize>C << 2) + cb);
              const take = last ? f32x4.ge(v, best) : f32x4.gt(v, best);
              best = v128.bitselect(v, best, take);
              win = v128.bitselect(i32x4.splat(k), win, take);
            }
          }
          const g = f32x4.add(zero, v128.load(gRow + cb));
          k = 0;
          for (let yy = yStart; yy < yEnd; yy++) {
            for (let xx = xStart; xx < xEnd; xx++, k++) {
              const at = dx + xImage + <usize>(yy * inW + xx) * (<usize>C << 2) + cb;
              v128.store(at, v128.bitselect(g, zero, i32x4.eq(win, i32x4.splat(k))));
            }
          }
        }
      }
    }
  }
}
