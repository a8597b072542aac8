// AssemblyScript, part of the heap-kernels module (assembly/heap-kernels.ts): ReLU's gradient in one
// pass, out = dy * step(x) with step(x) = 1 where x > 0, NaN where x is NaN, else 0: what tfjs's
// gradient computes as mul(dy, cast(step(x))) in three passes, element for element (one float32
// multiply each, so the same values; NaN as NaN). Works on a range of elements, so that threads
// can share a tensor; pointers are byte addresses.

/** out[i] = dy[i] * step(x[i]) for i in [i0, i1); i0 is a multiple of 4. */
export function reluGradRange(dy: usize, x: usize, out: usize, i0: i32, i1: i32): void {
  const one = f32x4.splat(1);
  const zero = f32x4.splat(0);
  const nan = f32x4.splat(NaN);
  const end4 = <usize>(i0 + ((i1 - i0) & ~3)) << 2;
  let o = <usize>i0 << 2;
  for (; o < end4; o += 16) {
    const xv = v128.load(x + o);
    const s = v128.bitselect(one, v128.bitselect(nan, zero, f32x4.ne(xv, xv)), f32x4.gt(xv, zero));
    v128.store(out + o, f32x4.mul(v128.load(dy + o), s));
  }
  for (; o < (<usize>i1 << 2); o += 4) {
    const xv = load<f32>(x + o);
    const s: f32 = xv > 0 ? 1 : isNaN(xv) ? NaN : 0;
    store<f32>(out + o, load<f32>(dy + o) * s);
  }
}
