// AssemblyScript, part of the heap-kernels module (assembly/heap-kernels.ts): symmetric execution's
// copy (dense/symmetric-exec.ts): each row of the output is the first value of the matching input
// row, repeated. Copies bits (no arithmetic), so NaN payloads and signed zeros are kept.

/** dst[r][0..width) = src[r][0] for rows r in [r0, r1); src rows are srcWidth floats long. */
export function broadcastFirstRows(src: usize, srcWidth: i32, dst: usize, width: i32, r0: i32, r1: i32): void {
  const vectors = width >> 2;
  for (let r = r0; r < r1; r++) {
    const v = v128.load32_splat(src + (<usize>r * <usize>srcWidth << 2));
    let o = dst + (<usize>r * <usize>width << 2);
    for (let i = 0; i < vectors; i++, o += 16) v128.store(o, v);
    for (let i = vectors << 2; i < width; i++, o += 4) store<u32>(o, i32x4.extract_lane(v, 0));
  }
}
