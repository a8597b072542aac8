// AssemblyScript, part of the heap-kernels module (assembly/heap-kernels.ts): the column sums of a
// rows x cols float32 matrix, out[c] = x[0][c] + x[1][c] + ... in row order, four columns at a time
// (each lane a float32 sum in the same order as the scalar loop). This is a bias gradient: dy summed
// over every axis but the channels, without the transpose tfjs-backend-wasm's Sum makes first.
// Works on a range of columns, so that threads can share the matrix; pointers are byte addresses.
// Also the count of images on which each channel of a ReLU layer's output is > 0 somewhere.

/** out[c0..c1) = the sums of columns [c0, c1), each streamed down the rows in order. */
export function sumColumns(x: usize, out: usize, rows: i32, cols: i32, c0: i32, c1: i32): void {
  const c4 = c0 + ((c1 - c0) & ~3);
  const rowBytes = <usize>cols << 2;
  memory.fill(out + (<usize>c0 << 2), 0, <usize>(c1 - c0) << 2);
  let p = x;
  for (let r = 0; r < rows; r++, p += rowBytes) {
    let c = c0;
    for (; c < c4; c += 4) {
      const o = out + (<usize>c << 2);
      v128.store(o, f32x4.add(v128.load(o), v128.load(p + (<usize>c << 2))));
    }
    for (; c < c1; c++) {
      const o = out + (<usize>c << 2);
      store<f32>(o, load<f32>(o) + load<f32>(p + (<usize>c << 2)));
    }
  }
}

/**
 * counts[c] += 1 for each of `images` images (x: [images][positions][channels], float32) in which
 * channel c has a value > 0 somewhere: how many images a ReLU layer's channel is active on.
 */
export function countPositiveChannels(x: usize, images: i32, positions: i32, channels: i32, counts: usize): void {
  const zero = f32x4.splat(0);
  const one = i32x4.splat(1);
  const c4 = channels & ~3;
  const rowBytes = <usize>channels << 2;
  for (let b = 0; b < images; b++) {
    const image = x + <usize>b * <usize>positions * rowBytes;
    for (let c = 0; c < c4; c += 4) {
      let any = zero;
      let p = image + (<usize>c << 2);
      for (let q = 0; q < positions; q++, p += rowBytes) any = v128.or(any, f32x4.gt(v128.load(p), zero));
      const at = counts + (<usize>c << 2);
      v128.store(at, i32x4.add(v128.load(at), v128.and(any, one)));
    }
    for (let c = c4; c < channels; c++) {
      let on = false;
      let p = image + (<usize>c << 2);
      for (let q = 0; q < positions && !on; q++, p += rowBytes) on = load<f32>(p) > 0;
      if (on) store<i32>(counts + (<usize>c << 2), load<i32>(counts + (<usize>c << 2)) + 1);
    }
  }
}
