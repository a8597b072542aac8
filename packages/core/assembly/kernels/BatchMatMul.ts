// AssemblyScript, part of the heap-kernels module (assembly/heap-kernels.ts): a matrix product with
// the right operand packed in panels of 16 columns, two rows by sixteen columns at a time, each output
// summed from 0 in k order with one multiply and one add per term, as XNNPACK's GEMM does (NaN as
// NaN). Every output is computed whole by one caller, whatever the split into tiles. Pointers are
// byte addresses.

/**
 * Packs b[k][n] (row-major) into panels of 16 columns, bp[panel][k][16], the last panel padded
 * with zeros when n is not a multiple of 16.
 */
export function packColumns(b: usize, bp: usize, k: i32, n: i32): void {
  let dst = bp;
  for (let panel = 0; panel < n; panel += 16) {
    const width = min(16, n - panel);
    for (let r = 0; r < k; r++, dst += 64) {
      const src = b + ((<usize>r * <usize>n + <usize>panel) << 2);
      if (width == 16) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        v128.store(dst, v128.load(src, 32), 32);
        v128.store(dst, v128.load(src, 48), 48);
      } else {
        for (let j = 0; j < 16; j++) store<f32>(dst + (<usize>j << 2), j < width ? load<f32>(src + (<usize>j << 2)) : 0);
      }
    }
  }
}

/**
 * c[m][n] = sum over k of a[m][k] * bp(k, n), for rows m in [m0, m1) and the 16-column panels
 * from n0 to n1 (multiples of 16) of the packed bp (packColumns), summed from 0 in k order with one
 * multiply and one add per term: bitwise what XNNPACK's GEMM gives (NaN as NaN). a and c are
 * row-major with rows of lda and ldc bytes (c as wide as the padded panels).
 */
export function batchMatMulTile(a: usize, lda: usize, bp: usize, c: usize, ldc: usize, k: i32,
  m0: i32, m1: i32, n0: i32, n1: i32, nReal: i32): void {
  const panelBytes = <usize>k << 6;
  for (let n = n0; n < n1; n += 16) {
    const bpanel = bp + <usize>(n >> 4) * panelBytes;
    if (nReal - n < 13) {
      // A last panel of 12 columns or fewer: only the 4-column groups that hold real columns.
      gemmNarrow(a, lda, bpanel, c, ldc, k, m0, m1, n, (nReal - n + 3) >> 2);
      continue;
    }
    let m = m0;
    for (; m + 1 < m1; m += 2) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
      let r0 = a + <usize>m * lda;
      const end = r0 + (<usize>k << 2);
      let pb = bpanel;
      for (; r0 < end; r0 += 4, pb += 64) {
        const w0 = v128.load(pb), w1 = v128.load(pb, 16), w2 = v128.load(pb, 32), w3 = v128.load(pb, 48);
        const s = v128.load32_splat(r0);
        a0 = f32x4.add(a0, f32x4.mul(s, w0)); a1 = f32x4.add(a1, f32x4.mul(s, w1));
        a2 = f32x4.add(a2, f32x4.mul(s, w2)); a3 = f32x4.add(a3, f32x4.mul(s, w3));
        const t = v128.load32_splat(r0 + lda);
        b0 = f32x4.add(b0, f32x4.mul(t, w0)); b1 = f32x4.add(b1, f32x4.mul(t, w1));
        b2 = f32x4.add(b2, f32x4.mul(t, w2)); b3 = f32x4.add(b3, f32x4.mul(t, w3));
      }
      const o = c + <usize>m * ldc + (<usize>n << 2);
      v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
      const o1 = o + ldc;
      v128.store(o1, b0); v128.store(o1, b1, 16); v128.store(o1, b2, 32); v128.store(o1, b3, 48);
    }
    if (m < m1) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      let r0 = a + <usize>m * lda;
      const end = r0 + (<usize>k << 2);
      let pb = bpanel;
      for (; r0 < end; r0 += 4, pb += 64) {
        const s = v128.load32_splat(r0);
        a0 = f32x4.add(a0, f32x4.mul(s, v128.load(pb))); a1 = f32x4.add(a1, f32x4.mul(s, v128.load(pb, 16)));
        a2 = f32x4.add(a2, f32x4.mul(s, v128.load(pb, 32))); a3 = f32x4.add(a3, f32x4.mul(s, v128.load(pb, 48)));
      }
      const o = c + <usize>m * ldc + (<usize>n << 2);
      v128.store(o, a0); v128.store(o, a1, 16); v128.store(o, a2, 32); v128.store(o, a3, 48);
    }
  }
}

/** batchMatMulTile for the first `groups` 4-column groups of one panel only (each output summed the same way). */
function gemmNarrow(a: usize, lda: usize, bpanel: usize, c: usize, ldc: usize, k: i32,
  m0: i32, m1: i32, n: i32, groups: i32): void {
  for (let g = 0; g < groups; g++) {
    const col = <usize>g << 4;
    let m = m0;
    for (; m + 1 < m1; m += 2) {
      let a0 = f32x4.splat(0), b0 = f32x4.splat(0);
      let r0 = a + <usize>m * lda;
      const end = r0 + (<usize>k << 2);
      let pb = bpanel + col;
      for (; r0 < end; r0 += 4, pb += 64) {
        const w0 = v128.load(pb);
        a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(r0), w0));
        b0 = f32x4.add(b0, f32x4.mul(v128.load32_splat(r0 + lda), w0));
      }
      const o = c + <usize>m * ldc + (<usize>n << 2) + col;
      v128.store(o, a0);
      v128.store(o + ldc, b0);
    }
    if (m < m1) {
      let a0 = f32x4.splat(0);
      let r0 = a + <usize>m * lda;
      const end = r0 + (<usize>k << 2);
      let pb = bpanel + col;
      for (; r0 < end; r0 += 4, pb += 64) a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(r0), v128.load(pb)));
      v128.store(c + <usize>m * ldc + (<usize>n << 2) + col, a0);
    }
  }
}
