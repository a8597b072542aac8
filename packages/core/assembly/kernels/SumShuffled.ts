// AssemblyScript, part of the heap-kernels module (assembly/heap-kernels.ts): column sums of a
// rows x cols float32 matrix, each column summed in float32 from +0 in an order drawn for it,
// np.random.permutation(rows) from an MT19937 stream, column after column (what an atomic-add
// reduction gives; src/kernels/Sum.ts's sumColumnsShuffled is the TypeScript reference and the
// caller of record). The stream's words are generated and tempered four at a time; the draws,
// swaps and sums are sequential, on the calling thread, so the results and the stream's next state
// do not depend on the thread count. Pointers are byte addresses.

const N: i32 = 624;
const M: i32 = 397;
/** Bytes of the state block: the 624 words, then the position of the next word (i32). */
export const MT_STATE_BYTES: i32 = 4 * N + 4;

// @ts-ignore: decorator
@inline function twist(cur: v128, next: v128, far: v128): v128 {
  const y = v128.or(v128.and(cur, i32x4.splat(0x80000000)), v128.and(next, i32x4.splat(0x7fffffff)));
  const odd = i32x4.sub(i32x4.splat(0), v128.and(y, i32x4.splat(1)));
  return v128.xor(v128.xor(far, i32x4.shr_u(y, 1)), v128.and(odd, i32x4.splat(0x9908b0df)));
}

// @ts-ignore: decorator
@inline function twistOne(p: usize, next: u32, far: u32): void {
  const y = (load<u32>(p) & 0x80000000) | (next & 0x7fffffff);
  store<u32>(p, far ^ (y >>> 1) ^ ((0 - (y & 1)) & 0x9908b0df));
}

// @ts-ignore: decorator
@inline function temper(y: u32): u32 {
  y ^= y >>> 11;
  y ^= (y << 7) & 0x9d2c5680;
  y ^= (y << 15) & 0xefc60000;
  return y ^ (y >>> 18);
}

/**
 * MT19937's next block of 624 words at st, four at a time where the recurrence allows it (word k
 * reads words k + 1 and k + M, or k + M - N, which are old, or new and at least four behind),
 * then each tempered into out.
 */
function generate(st: usize, out: usize): void {
  let k = 0;
  for (; k + 4 <= N - M; k += 4) {
    const p = st + (<usize>k << 2);
    v128.store(p, twist(v128.load(p), v128.load(p, 4), v128.load(p + (<usize>M << 2))));
  }
  for (; k < N - M; k++) {
    const p = st + (<usize>k << 2);
    twistOne(p, load<u32>(p, 4), load<u32>(p + (<usize>M << 2)));
  }
  for (; k + 4 <= N - 1; k += 4) {
    const p = st + (<usize>k << 2);
    v128.store(p, twist(v128.load(p), v128.load(p, 4), v128.load(p - (<usize>(N - M) << 2))));
  }
  for (; k < N - 1; k++) {
    const p = st + (<usize>k << 2);
    twistOne(p, load<u32>(p, 4), load<u32>(p - (<usize>(N - M) << 2)));
  }
  twistOne(st + (<usize>(N - 1) << 2), load<u32>(st), load<u32>(st + (<usize>(M - 1) << 2)));
  for (let i = 0; i < N; i += 4) {
    let y = v128.load(st + (<usize>i << 2));
    y = v128.xor(y, i32x4.shr_u(y, 11));
    y = v128.xor(y, v128.and(i32x4.shl(y, 7), i32x4.splat(0x9d2c5680)));
    y = v128.xor(y, v128.and(i32x4.shl(y, 15), i32x4.splat(0xefc60000)));
    v128.store(out + (<usize>i << 2), v128.xor(y, i32x4.shr_u(y, 18)));
  }
}

/**
 * out[k] = x[p[0]][c] + x[p[1]][c] + ... in float32 from +0 for k = 0 .. outputs - 1, c = column k
 * of the u32 list at `columns` (or k itself when `columns` is 0), p a fresh permutation of the rows
 * for each k in turn: numpy's shuffle (Fisher-Yates from the end, j = random_interval(i): the low
 * bits of a word under the smallest all-ones mask >= i, rejected above i). x has rows of `cols`
 * floats. st is the stream's state block (MT_STATE_BYTES, advanced in place); tempered (624 words)
 * and order (rows words) are scratch.
 */
export function sumColumnsShuffled(x: usize, out: usize, rows: i32, cols: i32, outputs: i32, columns: usize,
  st: usize, tempered: usize, order: usize): void {
  let pos = load<i32>(st + (<usize>N << 2));
  for (let i = pos; i < N; i++) store<u32>(tempered + (<usize>i << 2), temper(load<u32>(st + (<usize>i << 2))));
  const colBytes = <usize>cols << 2;
  for (let k = 0; k < outputs; k++) {
    for (let r = 0; r < rows; r++) store<u32>(order + (<usize>r << 2), r);
    for (let i = rows - 1; i > 0; i--) {
      let mask = <u32>i;
      mask |= mask >>> 1;
      mask |= mask >>> 2;
      mask |= mask >>> 4;
      mask |= mask >>> 8;
      mask |= mask >>> 16;
      let j: u32;
      do {
        if (pos >= N) {
          generate(st, tempered);
          pos = 0;
        }
        j = load<u32>(tempered + (<usize>pos << 2)) & mask;
        pos++;
      } while (j > <u32>i);
      const pi = order + (<usize>i << 2);
      const pj = order + (<usize>j << 2);
      const t = load<u32>(pj);
      store<u32>(pj, load<u32>(pi));
      store<u32>(pi, t);
    }
    let acc: f32 = 0;
    const c = columns ? load<u32>(columns + (<usize>k << 2)) : <u32>k;
    const column = x + (<usize>c << 2);
    for (let r = 0; r < rows; r++) acc += load<f32>(column + <usize>load<u32>(order + (<usize>r << 2)) * colBytes);
    store<f32>(out + (<usize>k << 2), acc);
  }
  store<i32>(st + (<usize>N << 2), pos);
}
