// AssemblyScript, part of the heap-kernels module (assembly/heap-kernels.ts): the column sums of a
// rows x cols float32 matrix, out[c] = x[0][c] + x[1][c] + ... in row order, four columns at a time
// (each lane a float32 sum in the same order as the scalar loop). This is a bias gradient: dy summed
// over every axis but the channels, without the transpose tfjs-backend-wasm's Sum makes first.
// Works on a range of columns, so that threads can share the matrix; pointers are byte addresses.

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
