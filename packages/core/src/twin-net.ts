// The width-1 twin's forward and backward passes in plain TypeScript: one 5x5 filter per conv layer,
// one fc1 unit. The network is so small that tfjs dispatch would dominate, so it is written out;
// arithmetic is in float64 (JS numbers) over float32 parameters, and MNIST's mostly-zero pixels are
// skipped (conv1 scatters each nonzero pixel; conv2 scatters each pooled value that differs from
// the blank background's, whose contribution is computed once per parameter set).
import { PIXEL_LUT, type Split } from './mnist';
import { randomInterval, type MT19937 } from './prng';

const K5 = 5;
const PAD = 2;

/** Sizes of a twin on H x W images with `classes` outputs (SAME 2x2 pools: ceil halves). */
export interface TwinGeometry {
  H: number;
  W: number;
  H1: number;
  W1: number;
  H2: number;
  W2: number;
  classes: number;
}

/** Geometry for the given image size. */
export function twinGeometry(H: number, W: number, classes = 10): TwinGeometry {
  const H1 = Math.ceil(H / 2);
  const W1 = Math.ceil(W / 2);
  return { H, W, H1, W1, H2: Math.ceil(H1 / 2), W2: Math.ceil(W1 / 2), classes };
}

/** A split's images as lists of nonzero pixels (index, float32 value), built once per run. */
export interface SparseImages {
  /** Image i's pixels are entries offsets[i] .. offsets[i + 1] - 1. */
  offsets: Uint32Array;
  index: Uint16Array;
  value: Float32Array;
  /** Image i's nonzero rows and columns span box[4i] .. box[4i+1] and box[4i+2] .. box[4i+3] (box[4i] > box[4i+1] when blank). */
  box: Uint16Array;
}

/** The nonzero pixels of every image of a split (values as the dense engine sees them). */
export function sparseImages(split: Split, rows: number, cols: number): SparseImages {
  const pixels = rows * cols;
  const W = cols;
  let total = 0;
  for (let i = 0; i < split.images.length; i++) if (split.images[i] !== 0) total++;
  const offsets = new Uint32Array(split.count + 1);
  const box = new Uint16Array(4 * split.count);
  const index = new Uint16Array(total);
  const value = new Float32Array(total);
  let e = 0;
  for (let img = 0; img < split.count; img++) {
    offsets[img] = e;
    const base = img * pixels;
    let y0 = 0xffff, y1 = 0, x0 = 0xffff, x1 = 0;
    for (let p = 0; p < pixels; p++) {
      const b = split.images[base + p];
      if (b !== 0) {
        index[e] = p;
        value[e] = PIXEL_LUT[b];
        e++;
        const y = (p / W) | 0;
        const x = p - y * W;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
      }
    }
    box.set([y0, y1, x0, x1], 4 * img);
  }
  offsets[split.count] = e;
  return { offsets, index, value, box };
}

/** Twin parameters as float64 copies (PARAM_NAMES order), read once per step or evaluation. */
export interface TwinParams {
  w1: Float64Array;
  b1: number;
  w2: Float64Array;
  b2: number;
  w3: Float64Array;
  b3: number;
  w4: Float64Array;
  b4: Float64Array;
  /** conv2's pre-activation when its whole input is the blank-background value (per position). */
  base2: Float64Array;
  /** pool1's output where no pixel reaches: relu(b1). */
  background1: number;
}

/** Unpacks float32 twin parameters and precomputes the blank-background part of conv2. */
export function twinParams(g: TwinGeometry, params: Float32Array[]): TwinParams {
  const [w1, b1, w2, b2, w3, b3, w4, b4] = params;
  const background1 = b1[0] > 0 ? b1[0] : 0;
  const base2 = new Float64Array(g.H1 * g.W1);
  for (let oy = 0; oy < g.H1; oy++) {
    for (let ox = 0; ox < g.W1; ox++) {
      let s = 0;
      for (let ky = 0; ky < K5; ky++) {
        const iy = oy + ky - PAD;
        if (iy < 0 || iy >= g.H1) continue;
        for (let kx = 0; kx < K5; kx++) {
          const ix = ox + kx - PAD;
          if (ix >= 0 && ix < g.W1) s += w2[ky * K5 + kx];
        }
      }
      base2[oy * g.W1 + ox] = b2[0] + background1 * s;
    }
  }
  return {
    w1: Float64Array.from(w1), b1: b1[0], w2: Float64Array.from(w2), b2: b2[0],
    w3: Float64Array.from(w3), b3: b3[0], w4: Float64Array.from(w4), b4: Float64Array.from(b4),
    base2, background1,
  };
}

/** Which tied maximum of a pooling window gets the gradient (see kernels/MaxPoolGrad.ts). */
export interface TwinPoolTies {
  rule: 'first' | 'last' | 'random';
  rng?: MT19937;
}

/** One image's activations, kept for the backward pass. */
export class TwinActivations {
  readonly z1: Float64Array;
  readonly p1: Float64Array;
  readonly arg1: Int32Array;
  readonly z2: Float64Array;
  readonly p2: Float64Array;
  readonly arg2: Int32Array;
  h = 0;

  constructor(g: TwinGeometry) {
    this.z1 = new Float64Array(g.H * g.W);
    this.p1 = new Float64Array(g.H1 * g.W1);
    this.arg1 = new Int32Array(g.H1 * g.W1);
    this.z2 = new Float64Array(g.H1 * g.W1);
    this.p2 = new Float64Array(g.H2 * g.W2);
    this.arg2 = new Int32Array(g.H2 * g.W2);
  }
}

/**
 * Forward pass of image `img`, writing its logits at logits[offset ..]. With `ties`, also records
 * each pooling window's gradient cell (for backward); without, only the maxima are computed.
 */
export function twinForward(
  g: TwinGeometry,
  p: TwinParams,
  images: SparseImages,
  img: number,
  act: TwinActivations,
  logits: Float32Array,
  offset: number,
  ties: TwinPoolTies | null,
): void {
  const { H, W, H2, W2 } = g;
  const p2 = act.p2;
  if (!ties && H % 2 === 0 && W % 2 === 0) {
    forwardConvsInBox(g, p, images, img, act);
  } else {
    forwardConvs(g, p, images, img, act, ties);
  }
  let s = p.b3;
  for (let q = 0; q < H2 * W2; q++) s += p2[q] * p.w3[q];
  const h = s > 0 ? s : 0;
  act.h = h;
  for (let k = 0; k < g.classes; k++) logits[offset + k] = p.b4[k] + h * p.w4[k];
}

/** conv1, pool1, conv2, pool2 over the whole image (training: records the pooling winners). */
function forwardConvs(g: TwinGeometry, p: TwinParams, images: SparseImages, img: number, act: TwinActivations, ties: TwinPoolTies | null): void {
  const { H, W, H1, W1 } = g;
  const { z1, p1, z2, p2 } = act;
  // conv1 + b1: every output starts at the bias; each nonzero pixel adds itself times the tap that
  // reaches each of its (up to 25) neighbours.
  z1.fill(p.b1);
  const w1 = p.w1;
  for (let e = images.offsets[img], end = images.offsets[img + 1]; e < end; e++) {
    const pix = images.index[e];
    const py = (pix / W) | 0;
    scatter5x5(z1, H, W, py, pix - py * W, images.value[e], w1);
  }
  // ReLU + pool1; then conv2 from the blank-background base plus what differs from background.
  pool(z1, H, W, p1, ties ? act.arg1 : null, ties);
  z2.set(p.base2);
  const w2 = p.w2;
  const c = p.background1;
  for (let q = 0; q < H1 * W1; q++) {
    const d = p1[q] - c;
    if (d === 0) continue;
    const qy = (q / W1) | 0;
    scatter5x5(z2, H1, W1, qy, q - qy * W1, d, w2);
  }
  pool(z2, H1, W1, p2, ties ? act.arg2 : null, ties);
}

/**
 * The same as forwardConvs without winners (evaluation, even image sizes), computing conv1 and
 * pool1 only in the pooling windows that the digit's bounding box (+2 for the 5x5 reach) touches:
 * every other window is the blank background, relu(b1), exactly. Same values, same order of sums.
 */
function forwardConvsInBox(g: TwinGeometry, p: TwinParams, images: SparseImages, img: number, act: TwinActivations): void {
  const { H, W, H1, W1 } = g;
  const { z1, p1, z2, p2 } = act;
  const c = p.background1;
  p1.fill(c);
  const [y0, y1, x0, x1] = images.box.subarray(4 * img, 4 * img + 4);
  // Pooling windows [wy0, wy1] x [wx0, wx1] cover every conv1 output a nonzero pixel reaches.
  const wy0 = Math.max(0, y0 - PAD) >> 1;
  const wy1 = Math.min(H - 1, y1 + PAD) >> 1;
  const wx0 = Math.max(0, x0 - PAD) >> 1;
  const wx1 = Math.min(W - 1, x1 + PAD) >> 1;
  if (y0 <= y1) {
    for (let y = 2 * wy0; y <= 2 * wy1 + 1; y++) z1.fill(p.b1, y * W + 2 * wx0, y * W + 2 * wx1 + 2);
    const w1 = p.w1;
    for (let e = images.offsets[img], end = images.offsets[img + 1]; e < end; e++) {
      const pix = images.index[e];
      const py = (pix / W) | 0;
      scatter5x5(z1, H, W, py, pix - py * W, images.value[e], w1);
    }
    for (let oy = wy0; oy <= wy1; oy++) {
      for (let ox = wx0; ox <= wx1; ox++) {
        const top = 2 * oy * W + 2 * ox;
        const a = z1[top] > z1[top + 1] ? z1[top] : z1[top + 1];
        const b = z1[top + W] > z1[top + W + 1] ? z1[top + W] : z1[top + W + 1];
        const m = a > b ? a : b;
        p1[oy * W1 + ox] = m > 0 ? m : 0;
      }
    }
  }
  z2.set(p.base2);
  const w2 = p.w2;
  if (y0 <= y1) {
    for (let qy = wy0; qy <= wy1; qy++) {
      for (let qx = wx0; qx <= wx1; qx++) {
        const d = p1[qy * W1 + qx] - c;
        if (d !== 0) scatter5x5(z2, H1, W1, qy, qx, d, w2);
      }
    }
  }
  pool(z2, H1, W1, p2, null, null);
}

/**
 * Adds v times the 5x5 filter w, as SAME convolution spreads input (y, x), into out [h][w]: output
 * (y - ky + 2, x - kx + 2) gets v * w[ky][kx]. Unrolled without bounds checks away from the border.
 */
function scatter5x5(out: Float64Array, h: number, w: number, y: number, x: number, v: number, k: Float64Array): void {
  if (y >= PAD && y < h - PAD && x >= PAD && x < w - PAD) {
    let r = (y + PAD) * w + x + PAD;
    for (let o = 0; o < 25; o += 5, r -= w) {
      out[r] += v * k[o];
      out[r - 1] += v * k[o + 1];
      out[r - 2] += v * k[o + 2];
      out[r - 3] += v * k[o + 3];
      out[r - 4] += v * k[o + 4];
    }
    return;
  }
  for (let ky = 0; ky < K5; ky++) {
    const oy = y - ky + PAD;
    if (oy < 0 || oy >= h) continue;
    for (let kx = 0; kx < K5; kx++) {
      const ox = x - kx + PAD;
      if (ox >= 0 && ox < w) out[oy * w + ox] += v * k[ky * K5 + kx];
    }
  }
}

/**
 * ReLU then 2x2/2 SAME max pool of z [h][w] into out; arg (if given) gets the z index of the cell
 * that receives the window's gradient under the tie rule (ReLU outputs compared, as TF pools them).
 */
function pool(z: Float64Array, h: number, w: number, out: Float64Array, arg: Int32Array | null, ties: TwinPoolTies | null): void {
  const oh = Math.ceil(h / 2);
  const ow = Math.ceil(w / 2);
  if (!arg && h % 2 === 0 && w % 2 === 0) {
    // Evaluation: only the maxima, full windows. max(relu(a..d)) = relu(max(a..d)).
    for (let oy = 0, i = 0; oy < oh; oy++) {
      let top = 2 * oy * w;
      for (let ox = 0; ox < ow; ox++, i++, top += 2) {
        const a = z[top] > z[top + 1] ? z[top] : z[top + 1];
        const b = z[top + w] > z[top + w + 1] ? z[top + w] : z[top + w + 1];
        const m = a > b ? a : b;
        out[i] = m > 0 ? m : 0;
      }
    }
    return;
  }
  const last = ties?.rule === 'last';
  const rng = ties?.rule === 'random' ? ties.rng! : null;
  for (let oy = 0; oy < oh; oy++) {
    const y1 = Math.min(2 * oy + 2, h);
    for (let ox = 0; ox < ow; ox++) {
      const x1 = Math.min(2 * ox + 2, w);
      let best = -1;
      let bestV = 0;
      let tied = 0;
      for (let y = 2 * oy; y < y1; y++) {
        for (let x = 2 * ox; x < x1; x++) {
          const i = y * w + x;
          const v = z[i] > 0 ? z[i] : 0;
          if (best < 0 || v > bestV) {
            best = i;
            bestV = v;
            tied = 1;
          } else if (v === bestV) {
            tied++;
            if (last) best = i;
          }
        }
      }
      out[oy * ow + ox] = bestV;
      if (!arg) continue;
      if (rng && tied > 1) {
        let k = randomInterval(rng, tied - 1);
        search: for (let y = 2 * oy; y < y1; y++) {
          for (let x = 2 * ox; x < x1; x++) {
            const i = y * w + x;
            if ((z[i] > 0 ? z[i] : 0) === bestV && k-- === 0) {
              best = i;
              break search;
            }
          }
        }
      }
      arg[oy * ow + ox] = best;
    }
  }
}

/**
 * Backward pass of one image given d(loss)/d(logits) at dlogits[offset ..]; accumulates into the
 * float64 gradients (PARAM_NAMES order). Only pooling winners carry gradient, so conv2 and conv1
 * backward touch at most H2*W2 and H1*W1 cells.
 */
export function twinBackward(
  g: TwinGeometry,
  p: TwinParams,
  images: SparseImages,
  img: number,
  act: TwinActivations,
  dlogits: Float32Array,
  offset: number,
  grads: Float64Array[],
  scratch: { dp1: Float64Array; dz1: Float64Array },
): void {
  const { dp1, dz1 } = scratch;
  const { W, H1, W1, H2, W2 } = g;
  const [gw1, gb1, gw2, gb2, gw3, gb3, gw4, gb4] = grads;
  let dh = 0;
  for (let k = 0; k < g.classes; k++) {
    const d = dlogits[offset + k];
    gw4[k] += act.h * d;
    gb4[k] += d;
    dh += p.w4[k] * d;
  }
  if (!(act.h > 0)) return; // ReluGrad: nothing flows below an inactive fc1 unit
  gb3[0] += dh;
  dp1.fill(0);
  for (let q = 0; q < H2 * W2; q++) {
    gw3[q] += act.p2[q] * dh;
    const cell = act.arg2[q];
    if (!(act.z2[cell] > 0)) continue;
    const d = p.w3[q] * dh; // d(loss)/d(z2) at the winning cell
    gb2[0] += d;
    const cy = (cell / W1) | 0;
    const cx = cell - cy * W1;
    for (let ky = 0; ky < K5; ky++) {
      const iy = cy + ky - PAD;
      if (iy < 0 || iy >= H1) continue;
      for (let kx = 0; kx < K5; kx++) {
        const ix = cx + kx - PAD;
        if (ix < 0 || ix >= W1) continue;
        gw2[ky * K5 + kx] += d * act.p1[iy * W1 + ix];
        dp1[iy * W1 + ix] += d * p.w2[ky * K5 + kx];
      }
    }
  }
  // pool1 + ReLU backward: d(loss)/d(z1) as a dense map, nonzero only at winners with z1 > 0.
  dz1.fill(0);
  for (let q = 0; q < H1 * W1; q++) {
    const cell = act.arg1[q];
    if (dp1[q] !== 0 && act.z1[cell] > 0) {
      dz1[cell] += dp1[q];
      gb1[0] += dp1[q];
    }
  }
  // gw1[ky,kx] = sum over cells (oy,ox) of dz1 * x[oy+ky-2, ox+kx-2]: walk the nonzero pixels (the
  // only ones that contribute) and read dz1 where each tap lands.
  for (let e = images.offsets[img], end = images.offsets[img + 1]; e < end; e++) {
    const pix = images.index[e];
    const v = images.value[e];
    const py = (pix / W) | 0;
    const px = pix - py * W;
    for (let ky = 0; ky < K5; ky++) {
      const oy = py - ky + PAD;
      if (oy < 0 || oy >= g.H) continue;
      for (let kx = 0; kx < K5; kx++) {
        const ox = px - kx + PAD;
        if (ox < 0 || ox >= W) continue;
        const d = dz1[oy * W + ox];
        if (d !== 0) gw1[ky * K5 + kx] += d * v;
      }
    }
  }
}
