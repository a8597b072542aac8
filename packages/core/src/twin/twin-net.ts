// The width-1 twin's forward and backward passes in plain TypeScript: one 5x5 filter per conv layer,
// one fc1 unit. The network is so small that tfjs dispatch would dominate, so it is written out;
// arithmetic is in float64 (JS numbers) over float32 parameters, and MNIST's mostly-zero pixels are
// skipped (conv1 scatters each nonzero pixel; conv2 scatters each pooled value that differs from
// the blank background's, whose contribution is computed once per parameter set).
import { PIXEL_LUT, type Split } from '../data/mnist';
import { randomInterval, type MT19937 } from '../random/prng';

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
    let y0 = 0xffff,
      y1 = 0,
      x0 = 0xffff,
      x1 = 0;
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
  /** base2 laid out with a 2-cell margin on every side ((H1 + 4) x (W1 + 4), margins 0), for forwardConvsInBox. */
  base2Padded: Float64Array;
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
  const PW1 = g.W1 + 2 * PAD;
  const base2Padded = new Float64Array((g.H1 + 2 * PAD) * PW1);
  for (let oy = 0; oy < g.H1; oy++) base2Padded.set(base2.subarray(oy * g.W1, (oy + 1) * g.W1), (oy + PAD) * PW1 + PAD);
  return {
    w1: Float64Array.from(w1),
    b1: b1[0],
    w2: Float64Array.from(w2),
    b2: b2[0],
    w3: Float64Array.from(w3),
    b3: b3[0],
    w4: Float64Array.from(w4),
    b4: Float64Array.from(b4),
    base2,
    background1,
    base2Padded,
  };
}

/** Which tied maximum of a pooling window gets the gradient (see kernels/MaxPoolGrad.ts). */
export interface TwinPoolTies {
  rule: 'first' | 'last' | 'random';
  rng?: MT19937;
}

/**
 * One image's activations, kept for the backward pass (which needs p1, arg1, p2, arg2, h). z1 and
 * z2 are filled only by the general path (image sizes not multiples of 4); the usual path computes
 * conv1 and conv2 in the padded buffers instead.
 */
export class TwinActivations {
  readonly z1: Float64Array;
  readonly p1: Float64Array;
  readonly arg1: Int32Array;
  readonly z2: Float64Array;
  readonly p2: Float64Array;
  readonly arg2: Int32Array;
  /** Evaluation scratch: conv1 and conv2 outputs with a 2-cell margin on every side (see forwardConvsInBox). */
  readonly z1Padded: Float64Array;
  readonly z2Padded: Float64Array;
  /** Padded conv1 index of each image pixel ((y + 2) * (W + 4) + x + 2). */
  readonly padIndex: Uint32Array;
  h = 0;
  /** Whether conv1's channel, and conv2's, was active on the image (a pooled ReLU output > 0 somewhere). */
  conv1Active = false;
  conv2Active = false;

  constructor(g: TwinGeometry) {
    this.z1Padded = new Float64Array((g.H + 2 * PAD) * (g.W + 2 * PAD));
    this.z2Padded = new Float64Array((g.H1 + 2 * PAD) * (g.W1 + 2 * PAD));
    this.padIndex = new Uint32Array(g.H * g.W);
    for (let y = 0; y < g.H; y++) for (let x = 0; x < g.W; x++) this.padIndex[y * g.W + x] = (y + PAD) * (g.W + 2 * PAD) + x + PAD;
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
  if (H % 4 === 0 && W % 4 === 0) {
    forwardConvsInBox(g, p, images, img, act, ties);
  } else {
    forwardConvs(g, p, images, img, act, ties);
    act.conv1Active = act.p1.some((v) => v > 0);
  }
  act.conv2Active = p2.some((v) => v > 0);
  let s = p.b3;
  for (let q = 0; q < H2 * W2; q++) s += p2[q] * p.w3[q];
  const h = s > 0 ? s : 0;
  act.h = h;
  for (let k = 0; k < g.classes; k++) logits[offset + k] = p.b4[k] + h * p.w4[k];
}

/** conv1, pool1, conv2, pool2 over the whole image (training: records the pooling winners). */
function forwardConvs(
  g: TwinGeometry,
  p: TwinParams,
  images: SparseImages,
  img: number,
  act: TwinActivations,
  ties: TwinPoolTies | null,
): void {
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
 * The same as forwardConvs (H and W multiples of 4), computing conv1 and pool1 only in the pooling
 * windows that the digit's bounding box (+2 for the 5x5 reach) touches: every other window is the
 * blank background, four cells equal to b1 exactly, so relu(b1) with a four-way tie (resolved by
 * the tie rule, a random draw in the same order as forwardConvs for 'random'). Same values, same
 * order of sums: each output cell still gets b1 (b2's base) first and then the products of its
 * inputs in input order. conv1 and conv2 write into buffers with a 2-cell margin, so that every
 * input scatters its 25 products without bounds tests (what lands in a margin is never read), with
 * each filter's 25 weights held in locals; each pool1 window's value is scattered into conv2 as soon
 * as it is known (windows in row-major order, the order conv2's sums need). With `ties`, p1 and the
 * winners (unpadded indices into z1 / z2) are recorded for backward; act.z1 / act.z2 are not filled.
 */
function forwardConvsInBox(
  g: TwinGeometry,
  p: TwinParams,
  images: SparseImages,
  img: number,
  act: TwinActivations,
  ties: TwinPoolTies | null,
): void {
  const { H, W, H1, W1 } = g;
  const z1 = act.z1Padded;
  const z2 = act.z2Padded;
  const p1 = act.p1;
  const arg1 = act.arg1;
  const PW = W + 2 * PAD;
  const PW1 = W1 + 2 * PAD;
  const c = p.background1;
  const last = ties !== null && ties.rule === 'last';
  const rng = ties !== null && ties.rule === 'random' ? ties.rng! : null;
  z2.set(p.base2Padded);
  if (ties) p1.fill(c);
  const bx = 4 * img;
  const y0 = images.box[bx];
  const y1 = images.box[bx + 1];
  const x0 = images.box[bx + 2];
  const x1 = images.box[bx + 3];
  // Pooling windows [wy0, wy1] x [wx0, wx1] cover every conv1 output a nonzero pixel reaches.
  let wy0 = (y0 > PAD ? y0 - PAD : 0) >> 1;
  let wy1 = (y1 + PAD < H - 1 ? y1 + PAD : H - 1) >> 1;
  const wx0 = (x0 > PAD ? x0 - PAD : 0) >> 1;
  const wx1 = (x1 + PAD < W - 1 ? x1 + PAD : W - 1) >> 1;
  if (y0 > y1) {
    wy0 = H1; // blank image: no window is reached
    wy1 = -1;
  } else {
    const b1 = p.b1;
    for (let y = 2 * wy0; y <= 2 * wy1 + 1; y++) {
      const row = (y + PAD) * PW + PAD;
      for (let x = row + 2 * wx0, end = row + 2 * wx1 + 2; x < end; x++) z1[x] = b1;
    }
    const w1 = p.w1;
    const k0 = w1[0],
      k1 = w1[1],
      k2 = w1[2],
      k3 = w1[3],
      k4 = w1[4];
    const k5 = w1[5],
      k6 = w1[6],
      k7 = w1[7],
      k8 = w1[8],
      k9 = w1[9];
    const k10 = w1[10],
      k11 = w1[11],
      k12 = w1[12],
      k13 = w1[13],
      k14 = w1[14];
    const k15 = w1[15],
      k16 = w1[16],
      k17 = w1[17],
      k18 = w1[18],
      k19 = w1[19];
    const k20 = w1[20],
      k21 = w1[21],
      k22 = w1[22],
      k23 = w1[23],
      k24 = w1[24];
    const index = images.index;
    const value = images.value;
    const padIndex = act.padIndex;
    const end = images.offsets[img + 1];
    for (let e = images.offsets[img]; e < end; e++) {
      // Input (y, x) adds v * w[ky][kx] to output (y - ky + 2, x - kx + 2), ky and kx from 0 up.
      const v = value[e];
      let r = padIndex[index[e]] + PAD * PW + PAD;
      if (e + 1 < end && padIndex[index[e + 1]] === r - PAD * PW - PAD + 1) {
        // The next pixel is (y, x + 1): the outputs both reach get this pixel's product and then
        // that pixel's, as when they are scattered one after the other (one load and store each).
        const u = value[++e];
        z1[r + 1] += u * k0;
        z1[r] = z1[r] + v * k0 + u * k1;
        z1[r - 1] = z1[r - 1] + v * k1 + u * k2;
        z1[r - 2] = z1[r - 2] + v * k2 + u * k3;
        z1[r - 3] = z1[r - 3] + v * k3 + u * k4;
        z1[r - 4] += v * k4;
        r -= PW;
        z1[r + 1] += u * k5;
        z1[r] = z1[r] + v * k5 + u * k6;
        z1[r - 1] = z1[r - 1] + v * k6 + u * k7;
        z1[r - 2] = z1[r - 2] + v * k7 + u * k8;
        z1[r - 3] = z1[r - 3] + v * k8 + u * k9;
        z1[r - 4] += v * k9;
        r -= PW;
        z1[r + 1] += u * k10;
        z1[r] = z1[r] + v * k10 + u * k11;
        z1[r - 1] = z1[r - 1] + v * k11 + u * k12;
        z1[r - 2] = z1[r - 2] + v * k12 + u * k13;
        z1[r - 3] = z1[r - 3] + v * k13 + u * k14;
        z1[r - 4] += v * k14;
        r -= PW;
        z1[r + 1] += u * k15;
        z1[r] = z1[r] + v * k15 + u * k16;
        z1[r - 1] = z1[r - 1] + v * k16 + u * k17;
        z1[r - 2] = z1[r - 2] + v * k17 + u * k18;
        z1[r - 3] = z1[r - 3] + v * k18 + u * k19;
        z1[r - 4] += v * k19;
        r -= PW;
        z1[r + 1] += u * k20;
        z1[r] = z1[r] + v * k20 + u * k21;
        z1[r - 1] = z1[r - 1] + v * k21 + u * k22;
        z1[r - 2] = z1[r - 2] + v * k22 + u * k23;
        z1[r - 3] = z1[r - 3] + v * k23 + u * k24;
        z1[r - 4] += v * k24;
        continue;
      }
      z1[r] += v * k0;
      z1[r - 1] += v * k1;
      z1[r - 2] += v * k2;
      z1[r - 3] += v * k3;
      z1[r - 4] += v * k4;
      r -= PW;
      z1[r] += v * k5;
      z1[r - 1] += v * k6;
      z1[r - 2] += v * k7;
      z1[r - 3] += v * k8;
      z1[r - 4] += v * k9;
      r -= PW;
      z1[r] += v * k10;
      z1[r - 1] += v * k11;
      z1[r - 2] += v * k12;
      z1[r - 3] += v * k13;
      z1[r - 4] += v * k14;
      r -= PW;
      z1[r] += v * k15;
      z1[r - 1] += v * k16;
      z1[r - 2] += v * k17;
      z1[r - 3] += v * k18;
      z1[r - 4] += v * k19;
      r -= PW;
      z1[r] += v * k20;
      z1[r - 1] += v * k21;
      z1[r - 2] += v * k22;
      z1[r - 3] += v * k23;
      z1[r - 4] += v * k24;
    }
  }
  const w2 = p.w2;
  const m0 = w2[0],
    m1 = w2[1],
    m2 = w2[2],
    m3 = w2[3],
    m4 = w2[4];
  const m5 = w2[5],
    m6 = w2[6],
    m7 = w2[7],
    m8 = w2[8],
    m9 = w2[9];
  const m10 = w2[10],
    m11 = w2[11],
    m12 = w2[12],
    m13 = w2[13],
    m14 = w2[14];
  const m15 = w2[15],
    m16 = w2[16],
    m17 = w2[17],
    m18 = w2[18],
    m19 = w2[19];
  const m20 = w2[20],
    m21 = w2[21],
    m22 = w2[22],
    m23 = w2[23],
    m24 = w2[24];
  // conv1 is active when a reached window's maximum is > 0, or the blank background's, relu(b1) = c,
  // where a window is not reached.
  const reached = wy1 < wy0 ? 0 : (wy1 - wy0 + 1) * (wx1 - wx0 + 1);
  act.conv1Active = c > 0 && reached < H1 * W1;
  // Without winners only the reached windows need visiting; with them, all (in order, for 'random').
  const oyEnd = ties ? H1 - 1 : wy1;
  const oxStart = ties ? 0 : wx0;
  const oxEnd = ties ? W1 - 1 : wx1;
  for (let oy = ties ? 0 : wy0; oy <= oyEnd; oy++) {
    const rowIn = oy >= wy0 && oy <= wy1;
    for (let ox = oxStart; ox <= oxEnd; ox++) {
      const cell = 2 * oy * W + 2 * ox; // the window's top-left z1 cell, unpadded
      if (!rowIn || ox < wx0 || ox > wx1) {
        // Blank background (only visited with ties): p1 = c already, four tied cells.
        const k = rng ? randomInterval(rng, 3) : last ? 3 : 0;
        arg1[oy * W1 + ox] = cell + (k >> 1) * W + (k & 1);
        continue;
      }
      const top = (2 * oy + PAD) * PW + 2 * ox + PAD;
      const za = z1[top],
        zb = z1[top + 1],
        zc = z1[top + PW],
        zd = z1[top + PW + 1];
      let m: number;
      if (ties) {
        const ra = za > 0 ? za : 0,
          rb = zb > 0 ? zb : 0,
          rc = zc > 0 ? zc : 0,
          rd = zd > 0 ? zd : 0;
        const k = pick4(ra, rb, rc, rd, last, rng);
        m = cellValue(k, ra, rb, rc, rd);
        arg1[oy * W1 + ox] = cell + (k >> 1) * W + (k & 1);
      } else {
        // ReLU + pool1: max(relu(a..d)) = relu(max(a..d)).
        const a = za > zb ? za : zb;
        const b = zc > zd ? zc : zd;
        const mm = a > b ? a : b;
        m = mm > 0 ? mm : 0;
      }
      p1[oy * W1 + ox] = m;
      if (m > 0) act.conv1Active = true;
      const d = m - c;
      if (d === 0) continue;
      // conv2: window (oy, ox) adds d * w2[ky][kx] to output (oy - ky + 2, ox - kx + 2).
      let r = (oy + 2 * PAD) * PW1 + ox + 2 * PAD;
      z2[r] += d * m0;
      z2[r - 1] += d * m1;
      z2[r - 2] += d * m2;
      z2[r - 3] += d * m3;
      z2[r - 4] += d * m4;
      r -= PW1;
      z2[r] += d * m5;
      z2[r - 1] += d * m6;
      z2[r - 2] += d * m7;
      z2[r - 3] += d * m8;
      z2[r - 4] += d * m9;
      r -= PW1;
      z2[r] += d * m10;
      z2[r - 1] += d * m11;
      z2[r - 2] += d * m12;
      z2[r - 3] += d * m13;
      z2[r - 4] += d * m14;
      r -= PW1;
      z2[r] += d * m15;
      z2[r - 1] += d * m16;
      z2[r - 2] += d * m17;
      z2[r - 3] += d * m18;
      z2[r - 4] += d * m19;
      r -= PW1;
      z2[r] += d * m20;
      z2[r - 1] += d * m21;
      z2[r - 2] += d * m22;
      z2[r - 3] += d * m23;
      z2[r - 4] += d * m24;
    }
  }
  // ReLU + pool2 over the padded conv2 output.
  const p2 = act.p2;
  const arg2 = act.arg2;
  for (let oy = 0, i = 0; oy < H1 >> 1; oy++) {
    let top = (2 * oy + PAD) * PW1 + PAD;
    for (let ox = 0; ox < W1 >> 1; ox++, i++, top += 2) {
      const za = z2[top],
        zb = z2[top + 1],
        zc = z2[top + PW1],
        zd = z2[top + PW1 + 1];
      if (ties) {
        const ra = za > 0 ? za : 0,
          rb = zb > 0 ? zb : 0,
          rc = zc > 0 ? zc : 0,
          rd = zd > 0 ? zd : 0;
        const k = pick4(ra, rb, rc, rd, last, rng);
        p2[i] = cellValue(k, ra, rb, rc, rd);
        arg2[i] = 2 * oy * W1 + 2 * ox + (k >> 1) * W1 + (k & 1);
      } else {
        const a = za > zb ? za : zb;
        const b = zc > zd ? zc : zd;
        const m = a > b ? a : b;
        p2[i] = m > 0 ? m : 0;
      }
    }
  }
}

/** The value of cell k (0..3, row-major) of a 2x2 window. */
function cellValue(k: number, v0: number, v1: number, v2: number, v3: number): number {
  return k === 0 ? v0 : k === 1 ? v1 : k === 2 ? v2 : v3;
}

/**
 * The cell (0..3, row-major) of a full 2x2 window of ReLU outputs v0..v3 (never NaN or -0) that
 * holds the window's maximum and receives the gradient: the first maximum, the last one, or a
 * random one of the tied cells, exactly as pool()'s general loop decides (same comparisons, same
 * draws). Tied cells hold the same value, so the maximum is that cell's value.
 */
function pick4(v0: number, v1: number, v2: number, v3: number, last: boolean, rng: MT19937 | null): number {
  let best = 0;
  let bestV = v0;
  let tied = 1;
  if (v1 > bestV) {
    best = 1;
    bestV = v1;
    tied = 1;
  } else if (v1 === bestV) {
    tied++;
    if (last) best = 1;
  }
  if (v2 > bestV) {
    best = 2;
    bestV = v2;
    tied = 1;
  } else if (v2 === bestV) {
    tied++;
    if (last) best = 2;
  }
  if (v3 > bestV) {
    best = 3;
    bestV = v3;
    tied = 1;
  } else if (v3 === bestV) {
    tied++;
    if (last) best = 3;
  }
  if (rng && tied > 1) {
    let k = randomInterval(rng, tied - 1);
    if (v0 === bestV && k-- === 0) best = 0;
    else if (v1 === bestV && k-- === 0) best = 1;
    else if (v2 === bestV && k-- === 0) best = 2;
    else best = 3;
  }
  return best;
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
    if (!(act.p2[q] > 0)) continue; // z2 > 0 at the winner, i.e. its relu p2 > 0
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
  // pool1 + ReLU backward: d(loss)/d(z1) as a dense map with a 2-cell margin (scratch.dz1 is
  // (H + 4) x (W + 4) and all zero between calls), nonzero only at winners with z1 > 0, i.e. p1 > 0
  // (p1 is relu of the winner).
  const PW = W + 2 * PAD;
  const padIndex = act.padIndex;
  for (let q = 0; q < H1 * W1; q++) {
    if (dp1[q] !== 0 && act.p1[q] > 0) {
      dz1[padIndex[act.arg1[q]]] += dp1[q];
      gb1[0] += dp1[q];
    }
  }
  // gw1[ky,kx] = sum over cells (oy,ox) of dz1 * x[oy+ky-2, ox+kx-2]: walk the nonzero pixels (the
  // only ones that contribute) and read dz1 where each tap lands (margin cells are 0, skipped like
  // the zeros inside), accumulating in locals in the same order.
  let g0 = gw1[0],
    g1 = gw1[1],
    g2 = gw1[2],
    g3 = gw1[3],
    g4 = gw1[4];
  let g5 = gw1[5],
    g6 = gw1[6],
    g7 = gw1[7],
    g8 = gw1[8],
    g9 = gw1[9];
  let g10 = gw1[10],
    g11 = gw1[11],
    g12 = gw1[12],
    g13 = gw1[13],
    g14 = gw1[14];
  let g15 = gw1[15],
    g16 = gw1[16],
    g17 = gw1[17],
    g18 = gw1[18],
    g19 = gw1[19];
  let g20 = gw1[20],
    g21 = gw1[21],
    g22 = gw1[22],
    g23 = gw1[23],
    g24 = gw1[24];
  let d = 0;
  for (let e = images.offsets[img], end = images.offsets[img + 1]; e < end; e++) {
    const v = images.value[e];
    // Tap (ky, kx) of input (y, x) lands on output (y - ky + 2, x - kx + 2).
    let r = padIndex[images.index[e]] + PAD * PW + PAD;
    if ((d = dz1[r]) !== 0) g0 += d * v;
    if ((d = dz1[r - 1]) !== 0) g1 += d * v;
    if ((d = dz1[r - 2]) !== 0) g2 += d * v;
    if ((d = dz1[r - 3]) !== 0) g3 += d * v;
    if ((d = dz1[r - 4]) !== 0) g4 += d * v;
    r -= PW;
    if ((d = dz1[r]) !== 0) g5 += d * v;
    if ((d = dz1[r - 1]) !== 0) g6 += d * v;
    if ((d = dz1[r - 2]) !== 0) g7 += d * v;
    if ((d = dz1[r - 3]) !== 0) g8 += d * v;
    if ((d = dz1[r - 4]) !== 0) g9 += d * v;
    r -= PW;
    if ((d = dz1[r]) !== 0) g10 += d * v;
    if ((d = dz1[r - 1]) !== 0) g11 += d * v;
    if ((d = dz1[r - 2]) !== 0) g12 += d * v;
    if ((d = dz1[r - 3]) !== 0) g13 += d * v;
    if ((d = dz1[r - 4]) !== 0) g14 += d * v;
    r -= PW;
    if ((d = dz1[r]) !== 0) g15 += d * v;
    if ((d = dz1[r - 1]) !== 0) g16 += d * v;
    if ((d = dz1[r - 2]) !== 0) g17 += d * v;
    if ((d = dz1[r - 3]) !== 0) g18 += d * v;
    if ((d = dz1[r - 4]) !== 0) g19 += d * v;
    r -= PW;
    if ((d = dz1[r]) !== 0) g20 += d * v;
    if ((d = dz1[r - 1]) !== 0) g21 += d * v;
    if ((d = dz1[r - 2]) !== 0) g22 += d * v;
    if ((d = dz1[r - 3]) !== 0) g23 += d * v;
    if ((d = dz1[r - 4]) !== 0) g24 += d * v;
  }
  gw1[0] = g0;
  gw1[1] = g1;
  gw1[2] = g2;
  gw1[3] = g3;
  gw1[4] = g4;
  gw1[5] = g5;
  gw1[6] = g6;
  gw1[7] = g7;
  gw1[8] = g8;
  gw1[9] = g9;
  gw1[10] = g10;
  gw1[11] = g11;
  gw1[12] = g12;
  gw1[13] = g13;
  gw1[14] = g14;
  gw1[15] = g15;
  gw1[16] = g16;
  gw1[17] = g17;
  gw1[18] = g18;
  gw1[19] = g19;
  gw1[20] = g20;
  gw1[21] = g21;
  gw1[22] = g22;
  gw1[23] = g23;
  gw1[24] = g24;
  // Back to all zero for the next image.
  for (let q = 0; q < H1 * W1; q++) dz1[padIndex[act.arg1[q]]] = 0;
}
