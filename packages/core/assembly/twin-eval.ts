// AssemblyScript (compiled to WebAssembly with SIMD by scripts/build-wasm.mjs): the width-1 twin's
// evaluation forward pass, the same float64 operations in the same order as twin/twin-net.ts's
// forwardConvsInBox without pooling winners, so the logits are bitwise the same. Each input's 5x5
// scatter adds its products two outputs at a time (f64x2 lanes are independent IEEE operations, no
// fused multiply-add), and every output still receives its products in input order.
//
// Memory is laid out by the caller (twin-eval-wasm.ts); every pointer is a byte address.

const PAD: i32 = 2;

// Parameter block (f64 slots), written by the caller once per parameter set.
const P_W1: i32 = 0; // 25 taps
const P_B1: i32 = 25;
const P_W2: i32 = 26; // 25 taps
const P_C: i32 = 51; // relu(b1): pool1's blank-background value
const P_B3: i32 = 52;
const P_W4: i32 = 53; // `classes` values
// then b4 (`classes`), w3 (H2 * W2), base2Padded ((H1 + 4) * (W1 + 4))

/** Address of the first byte the caller may use (after this module's own data). */
export function heapStart(): usize {
  return (__heap_base + 15) & ~15;
}

/** Parameter slots before w4 (the caller writes the block in this order). */
export function paramHeader(): i32 {
  return P_W4;
}

// Scatters v times a 5x5 filter (taps k[0..24] at byte address k, reversed per row in kr: see
// reverseTaps) into z around padded index r (r = the output the tap k[0] reaches): row ky adds
// v * k[ky*5 + kx] to z[r - ky * pw - kx].
// @ts-ignore: decorator
@inline
function scatter5x5(z: usize, r: i32, pw: i32, v: f64, kr: usize): void {
  const vv = f64x2.splat(v);
  let row = z + (<usize>(r - 4) << 3);
  const step = <usize>pw << 3;
  for (let ky = 0; ky < 5; ky++) {
    // Outputs r-4 .. r of this row: lanes (r-4, r-3), (r-2, r-1), then r.
    const t = kr + (<usize>ky * 5 << 3);
    v128.store(row, f64x2.add(v128.load(row), f64x2.mul(vv, v128.load(t))));
    v128.store(row, f64x2.add(v128.load(row, 16), f64x2.mul(vv, v128.load(t, 16))), 16);
    store<f64>(row, load<f64>(row, 32) + v * load<f64>(t, 32), 32);
    row -= step;
  }
}

/**
 * ReLU of the maximum of the 2x2 window whose top-left cell is at `top` in rows of `pw` f64:
 * the same comparisons as twin/twin-net.ts ((a > b ? a : b) pairwise, then > 0), NaN included.
 */
// @ts-ignore: decorator
@inline
function reluMax2x2(top: usize, pw: i32): f64 {
  const below = top + (<usize>pw << 3);
  const za = load<f64>(top);
  const zb = load<f64>(top, 8);
  const zc = load<f64>(below);
  const zd = load<f64>(below, 8);
  const a = select<f64>(za, zb, za > zb);
  const b = select<f64>(zc, zd, zc > zd);
  const m = select<f64>(a, b, a > b);
  return select<f64>(m, 0.0, m > 0);
}

/**
 * Writes the taps of a 5x5 filter (f64 at `k`) to `kr` with each row reversed, so that output
 * r - 4 + j of a row is reached by tap kr[row * 5 + j].
 */
export function reverseTaps(k: usize, kr: usize): void {
  for (let ky = 0; ky < 5; ky++) {
    for (let j = 0; j < 5; j++) store<f64>(kr + (<usize>(ky * 5 + j) << 3), load<f64>(k + (<usize>(ky * 5 + 4 - j) << 3)));
  }
}

/**
 * Logits (float32, `classes` per image) of images first .. first + count - 1; returns how many of
 * them have an active fc1 unit (ReLU output > 0), and writes how many have an active conv1 and
 * conv2 channel (a pooled ReLU output > 0 somewhere) to convActive (two i32).
 * offsets: u32 per image (+1), the image's entries; rIndex: u16 per entry, the padded conv1 index
 * (y + 4) * (W + 4) + x + 4 of pixel (y, x); values: f32 per entry; box: u16 x 4 per image
 * (y0, y1, x0, x1; y0 > y1 when blank); params: the f64 block above; k1r, k2r: the reversed taps
 * of w1 and w2 (reverseTaps); z1, z2: scratch of (H + 4) * (W + 4) and (H/2 + 4) * (W/2 + 4) f64.
 */
export function evalImages(
  H: i32, W: i32, classes: i32, first: i32, count: i32,
  offsets: usize, rIndex: usize, values: usize, box: usize,
  params: usize, k1r: usize, k2r: usize, z1: usize, z2: usize, logits: usize, convActive: usize,
): i32 {
  const H1 = H >> 1;
  const W1 = W >> 1;
  const H2 = H1 >> 1;
  const W2 = W1 >> 1;
  const PW = W + 2 * PAD;
  const PW1 = W1 + 2 * PAD;
  const b1 = load<f64>(params + (<usize>P_B1 << 3));
  const c = load<f64>(params + (<usize>P_C << 3));
  const b3 = load<f64>(params + (<usize>P_B3 << 3));
  const w4 = params + (<usize>P_W4 << 3);
  const b4 = w4 + (<usize>classes << 3);
  const w3 = b4 + (<usize>classes << 3);
  const base2 = w3 + (<usize>(H2 * W2) << 3);
  const z2Bytes = <usize>((H1 + 2 * PAD) * PW1) << 3;
  let active: i32 = 0;
  let conv1Active: i32 = 0;
  let conv2Active: i32 = 0;
  for (let img = first; img < first + count; img++) {
    memory.copy(z2, base2, z2Bytes);
    const bx = box + (<usize>img << 3);
    const y0 = <i32>load<u16>(bx);
    const y1 = <i32>load<u16>(bx, 2);
    const x0 = <i32>load<u16>(bx, 4);
    const x1 = <i32>load<u16>(bx, 6);
    let wy0 = (y0 > PAD ? y0 - PAD : 0) >> 1;
    let wy1 = (y1 + PAD < H - 1 ? y1 + PAD : H - 1) >> 1;
    const wx0 = (x0 > PAD ? x0 - PAD : 0) >> 1;
    const wx1 = (x1 + PAD < W - 1 ? x1 + PAD : W - 1) >> 1;
    if (y0 > y1) {
      wy0 = H1;
      wy1 = -1;
    } else {
      // conv1: the reached windows start at b1, then each nonzero pixel scatters its products.
      for (let y = 2 * wy0; y <= 2 * wy1 + 1; y++) {
        const row = (y + PAD) * PW + PAD;
        for (let x = row + 2 * wx0, end = row + 2 * wx1 + 2; x < end; x++) store<f64>(z1 + (<usize>x << 3), b1);
      }
      const end = load<u32>(offsets + (<usize>(img + 1) << 2));
      for (let e = load<u32>(offsets + (<usize>img << 2)); e < end; e++) {
        const v = <f64>load<f32>(values + (<usize>e << 2));
        scatter5x5(z1, <i32>load<u16>(rIndex + (<usize>e << 1)), PW, v, k1r);
      }
    }
    // ReLU + pool1 over the reached windows; each window that differs from the background
    // scatters into conv2 (row-major window order, the order conv2's sums need). conv1 is active
    // when a reached window's maximum is > 0, or the background's (c) where a window is not reached.
    const reached = wy1 < wy0 ? 0 : (wy1 - wy0 + 1) * (wx1 - wx0 + 1);
    let on1 = c > 0 && reached < H1 * W1;
    for (let oy = wy0; oy <= wy1; oy++) {
      for (let ox = wx0; ox <= wx1; ox++) {
        const m = reluMax2x2(z1 + (<usize>((2 * oy + PAD) * PW + 2 * ox + PAD) << 3), PW);
        on1 = on1 || m > 0;
        const d = m - c;
        if (d == 0) continue;
        scatter5x5(z2, (oy + 2 * PAD) * PW1 + ox + 2 * PAD, PW1, d, k2r);
      }
    }
    // ReLU + pool2, then fc1 (its sum in row-major order) and fc2.
    let s = b3;
    let on2 = false;
    for (let oy = 0, i = 0; oy < H2; oy++) {
      let top = z2 + (<usize>((2 * oy + PAD) * PW1 + PAD) << 3);
      for (let ox = 0; ox < W2; ox++, i++, top += 16) {
        const m = reluMax2x2(top, PW1);
        on2 = on2 || m > 0;
        s += m * load<f64>(w3 + (<usize>i << 3));
      }
    }
    conv1Active += <i32>on1;
    conv2Active += <i32>on2;
    const h = select<f64>(s, 0.0, s > 0);
    active += <i32>(s > 0);
    const out = logits + (<usize>((img - first) * classes) << 2);
    for (let k = 0; k < classes; k++) {
      store<f32>(out + (<usize>k << 2), <f32>(load<f64>(b4 + (<usize>k << 3)) + h * load<f64>(w4 + (<usize>k << 3))));
    }
  }
  store<i32>(convActive, conv1Active);
  store<i32>(convActive, conv2Active, 4);
  return active;
}
