// AssemblyScript, part of the heap-kernels module (assembly/heap-kernels.ts): TensorFlow's ApplyAdam
// element by element in float32, four lanes at a time, the same operations in the same order as
// dense/adam.ts's applyAdam (each f32x4 lane is an IEEE float32 operation, no fused multiply-add), so the
// bits are the same:
//   m += (g - m) * (1 - beta1);  v += (g*g - v) * (1 - beta2);  w -= m * alpha / (sqrt(v) + eps)
// It works on a range, so that threads can share a tensor; pointers are byte addresses.

/**
 * For elements [i0, i1): updates m and v in place and writes the new weights (from w, with the
 * gradient g) to wOut. i0 is a multiple of 4; only the last range may end off one.
 */
export function applyAdamRange(w: usize, g: usize, m: usize, v: usize, wOut: usize, i0: i32, i1: i32,
  alpha: f32, eps: f32, oneMinusB1: f32, oneMinusB2: f32): void {
  const A = f32x4.splat(alpha);
  const E = f32x4.splat(eps);
  const B1 = f32x4.splat(oneMinusB1);
  const B2 = f32x4.splat(oneMinusB2);
  const end4 = <usize>(i0 + ((i1 - i0) & ~3)) << 2;
  let o = <usize>i0 << 2;
  for (; o < end4; o += 16) {
    const gj = v128.load(g + o);
    const m0 = v128.load(m + o);
    const v0 = v128.load(v + o);
    const mj = f32x4.add(m0, f32x4.mul(f32x4.sub(gj, m0), B1));
    const vj = f32x4.add(v0, f32x4.mul(f32x4.sub(f32x4.mul(gj, gj), v0), B2));
    v128.store(m + o, mj);
    v128.store(v + o, vj);
    v128.store(wOut + o, f32x4.sub(v128.load(w + o), f32x4.div(f32x4.mul(mj, A), f32x4.add(f32x4.sqrt(vj), E))));
  }
  for (; o < (<usize>i1 << 2); o += 4) {
    const gj = load<f32>(g + o);
    const m0 = load<f32>(m + o);
    const v0 = load<f32>(v + o);
    const mj: f32 = m0 + (gj - m0) * oneMinusB1;
    const vj: f32 = v0 + (gj * gj - v0) * oneMinusB2;
    store<f32>(m + o, mj);
    store<f32>(v + o, vj);
    store<f32>(wOut + o, load<f32>(w + o) - (mj * alpha) / (sqrt<f32>(vj) + eps));
  }
}
