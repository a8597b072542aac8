// AssemblyScript (compiled with SIMD by scripts/build-wasm.mjs): the column sums of a rows x cols
// float32 matrix, out[c] = x[0][c] + x[1][c] + ... in row order, four columns at a time (each lane
// a float32 sum in the same order as the scalar loop). This is a bias gradient: dy summed over
// every axis but the channels, without the transpose tfjs-backend-wasm's Sum makes first.
// Pointers are byte addresses laid out by the caller (own-wasm/sum-rows-wasm.ts).

/** Address of the first byte the caller may use. */
export function heapStart(): usize {
  return (__heap_base + 15) & ~15;
}

/** out (cols floats) = the sums; rows are streamed in order and added to out, so each column's sum runs in row order. */
export function sumRows(x: usize, out: usize, rows: i32, cols: i32): void {
  const cols4 = cols & ~3;
  memory.fill(out, 0, <usize>cols << 2);
  let p = x;
  for (let r = 0; r < rows; r++) {
    let c = 0;
    for (; c < cols4; c += 4, p += 16) {
      const o = out + (<usize>c << 2);
      v128.store(o, f32x4.add(v128.load(o), v128.load(p)));
    }
    for (; c < cols; c++, p += 4) {
      const o = out + (<usize>c << 2);
      store<f32>(o, load<f32>(o) + load<f32>(p));
    }
  }
}
