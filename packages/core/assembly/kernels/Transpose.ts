// AssemblyScript, part of the heap-kernels module (assembly/heap-kernels.ts): a float32 matrix
// transposed in 8x8 blocks (Adam's transposed copy of the fc1 weights for the forward pass), on a
// range of rows so that threads can share it; pointers are byte addresses.

/** Rows [r0, r1) of the rows x cols float32 matrix at src, written transposed (cols x rows) to dst, 8 x 8 blocks at a time. */
export function transposeRows(src: usize, dst: usize, rows: i32, cols: i32, r0: i32, r1: i32): void {
  for (let rb = r0; rb < r1; rb += 8) {
    const re = min(r1, rb + 8);
    for (let c0 = 0; c0 < cols; c0 += 8) {
      const c1 = min(cols, c0 + 8);
      for (let r = rb; r < re; r++) {
        for (let c = c0; c < c1; c++) {
          store<f32>(dst + ((<usize>c * rows + r) << 2), load<f32>(src + ((<usize>r * cols + c) << 2)));
        }
      }
    }
  }
}
