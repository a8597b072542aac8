// One training step's loss and gradients for the seed network in its symmetric state
// (dense/symmetric-orbit.ts), computed once per copy set, in plain float32 TypeScript. Every value
// is the float32 operation sequence the full step (dense/trainer.ts through the wasm kernels) runs
// for that element, so the gradients are bitwise the full ones:
// - each convolution and matrix-product output is a sum from +0 in the kernel's order (convolution:
//   tap by tap, row-major, then input channel; filter gradient: output row, column, then image;
//   product: over k), one multiply and one add per term. Where the full sum has c identical terms in
//   a row (the same input value and weight in c channels or units), it adds that one product c times;
// - terms whose product is an exact zero are left out (padding, zero inputs, zero gradients): adding
//   +-0 to a sum that started at +0 never changes it (it cannot be -0), given finite operands;
// - ReLU, 2x2 max-pool (value and first-maximum gradient), the bias adds and the bias-gradient sums
//   (from +0 over image, row, column) per element, as the kernels do; the loss head is head.ts's.
// Every intermediate is checked finite: when one is not (a NaN loss gradient, an overflow) the step
// returns null and the caller runs the full step, whose NaN semantics this file does not copy.
import type { LossKind } from '../config';
import { lossAndGradient } from './head';
import type { ModelShape } from './model';
import type { OrbitArrays } from './symmetric-orbit';

const f = Math.fround;

/** The batch loss (NaN included, as the full step reports it) and the gradients in orbit form. */
export interface SymmetricGradients {
  loss: number;
  grads: OrbitArrays;
}

/** `count` additions of p to acc, each rounded to float32: the full sum's run of identical terms. */
export function addRepeated(acc: number, p: number, count: number): number {
  if (p === 0) return acc;
  let s = acc;
  for (let i = 0; i < count; i++) s = f(s + p);
  return s;
}

/** True when every value is finite. */
function allFinite(a: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/**
 * A 2x2, stride-2 max-pool of relu(z) [n, h, w] (one channel): the pooled values and, per window,
 * the index into z of its first maximum in row-major order (a later cell wins only when strictly
 * greater), or with `last` its last one (a later cell wins when equal too), where the max-pool
 * gradient goes (kernels/MaxPoolGrad.ts's rules).
 */
function reluPool(z: Float32Array, n: number, h: number, w: number, pooled: Float32Array, winner: Int32Array, last: boolean): void {
  const ph = h / 2;
  const pw = w / 2;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let py = 0; py < ph; py++) {
      for (let px = 0; px < pw; px++, o++) {
        const c0 = (b * h + 2 * py) * w + 2 * px;
        let at = c0;
        let best = z[c0] > 0 ? z[c0] : 0;
        for (const c of [c0 + 1, c0 + w, c0 + w + 1]) {
          const v = z[c] > 0 ? z[c] : 0;
          if (v > best || (last && v === best)) {
            best = v;
            at = c;
          }
        }
        pooled[o] = best;
        winner[o] = at;
      }
    }
  }
}

/**
 * d(loss)/dz for a ReLU then 2x2 max-pool layer: the pooled gradient at each window's winner, 0
 * elsewhere, times ReLU's step of z (the max-pool gradient, then ReLU's).
 */
function unpoolReluGrad(dPooled: Float32Array, winner: Int32Array, z: Float32Array, dz: Float32Array): void {
  dz.fill(0);
  for (let o = 0; o < winner.length; o++) {
    const at = winner[o];
    dz[at] = z[at] > 0 ? dPooled[o] : 0;
  }
}

/** Sum from +0 of a's values in order (the bias gradient of one channel). */
function sumInOrder(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s = f(s + a[i]);
  return s;
}

/** The max-pool tie rules the symmetric step computes (`random` splits the copies: the full step runs). */
export type SymmetricPoolTies = 'first' | 'last';

/**
 * The symmetric step's loss and gradients on a batch: pixels [n, height*width] in [0, 1], labels
 * [n], the max-pool gradient to each window's first or last maximum. Returns null when an
 * intermediate value is not finite (the caller then runs the full step).
 */
export function symmetricGradients(
  shape: ModelShape,
  params: OrbitArrays,
  pixels: Float32Array,
  labels: Uint8Array,
  loss: LossKind,
  ties: SymmetricPoolTies = 'first',
): SymmetricGradients | null {
  const [c1, c2, f1] = shape.widths;
  const { height: H, width: W, kernel: k, classes } = shape;
  const pt = Math.floor((k - 1) / 2);
  const n = labels.length;
  const [w1, b1v, w2, b2v, w3, b3v, w4, b4] = params;
  const b1 = b1v[0];
  const b2 = b2v[0];
  const b3 = b3v[0];
  const H2 = H / 2;
  const W2 = W / 2;
  const H4 = H / 4;
  const W4 = W / 4;
  const P = H4 * W4;

  // conv1 (+ bias), one output channel: over taps (ty, tx); one input channel.
  const z1 = new Float32Array(n * H * W);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let acc = 0;
        for (let ty = 0; ty < k; ty++) {
          const iy = y + ty - pt;
          if (iy < 0 || iy >= H) continue;
          const row = (b * H + iy) * W;
          for (let tx = 0; tx < k; tx++) {
            const ix = x + tx - pt;
            if (ix < 0 || ix >= W) continue;
            const v = pixels[row + ix];
            if (v !== 0) acc = f(acc + f(v * w1[ty * k + tx]));
          }
        }
        z1[(b * H + y) * W + x] = f(acc + b1);
      }
    }
  }
  if (!allFinite(z1)) return null;
  const p1 = new Float32Array(n * H2 * W2);
  const win1 = new Int32Array(n * H2 * W2);
  reluPool(z1, n, H, W, p1, win1, ties === 'last');

  // conv2 (+ bias), one output channel: over taps, then c1 input channels holding the same value.
  const z2 = new Float32Array(n * H2 * W2);
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < H2; y++) {
      for (let x = 0; x < W2; x++) {
        let acc = 0;
        for (let ty = 0; ty < k; ty++) {
          const iy = y + ty - pt;
          if (iy < 0 || iy >= H2) continue;
          const row = (b * H2 + iy) * W2;
          for (let tx = 0; tx < k; tx++) {
            const ix = x + tx - pt;
            if (ix < 0 || ix >= W2) continue;
            acc = addRepeated(acc, f(p1[row + ix] * w2[ty * k + tx]), c1);
          }
        }
        z2[(b * H2 + y) * W2 + x] = f(acc + b2);
      }
    }
  }
  if (!allFinite(z2)) return null;
  const p2 = new Float32Array(n * P);
  const win2 = new Int32Array(n * P);
  reluPool(z2, n, H2, W2, p2, win2, ties === 'last');

  // fc1 (+ bias), one unit: over the flattened (position, channel) inputs, c2 equal ones per position.
  const z3 = new Float32Array(n);
  const a3 = new Float32Array(n);
  for (let b = 0; b < n; b++) {
    let acc = 0;
    for (let q = 0; q < P; q++) acc = addRepeated(acc, f(w3[q] * p2[b * P + q]), c2);
    z3[b] = f(acc + b3);
    a3[b] = z3[b] > 0 ? z3[b] : 0;
  }
  if (!allFinite(z3)) return null;

  // fc2 (+ bias): each logit sums f1 identical terms.
  const logits = new Float32Array(n * classes);
  for (let b = 0; b < n; b++) {
    for (let c = 0; c < classes; c++) logits[b * classes + c] = f(addRepeated(0, f(a3[b] * w4[c]), f1) + b4[c]);
  }
  if (!allFinite(logits)) return null;
  const head = lossAndGradient(loss, logits, labels, classes);
  const dl = head.dlogits;
  if (!allFinite(dl)) return null;

  // fc2's gradients and fc1's output gradient (one unit).
  const gW4 = new Float32Array(classes);
  const gB4 = new Float32Array(classes);
  for (let c = 0; c < classes; c++) {
    let sw = 0;
    let sb = 0;
    for (let b = 0; b < n; b++) {
      sw = f(sw + f(a3[b] * dl[b * classes + c]));
      sb = f(sb + dl[b * classes + c]);
    }
    gW4[c] = sw;
    gB4[c] = sb;
  }
  const dz3 = new Float32Array(n);
  for (let b = 0; b < n; b++) {
    let s = 0;
    for (let c = 0; c < classes; c++) s = f(s + f(w4[c] * dl[b * classes + c]));
    dz3[b] = z3[b] > 0 ? s : 0;
  }
  if (!allFinite(dz3)) return null;

  // fc1's gradients (one value per position) and conv2's pooled output gradient (one channel).
  const gB3 = new Float32Array([sumInOrder(dz3)]);
  const gW3 = new Float32Array(P);
  const dp2 = new Float32Array(n * P);
  for (let q = 0; q < P; q++) {
    let s = 0;
    for (let b = 0; b < n; b++) s = f(s + f(p2[b * P + q] * dz3[b]));
    gW3[q] = s;
    for (let b = 0; b < n; b++) dp2[b * P + q] = addRepeated(0, f(w3[q] * dz3[b]), f1);
  }
  if (!allFinite(dp2)) return null;
  const dz2 = new Float32Array(n * H2 * W2);
  unpoolReluGrad(dp2, win2, z2, dz2);
  const gB2 = new Float32Array([sumInOrder(dz2)]);

  // conv2's filter gradient: per tap, over (oy, ox, image), the terms with a nonzero output gradient.
  const gW2 = new Float32Array(k * k);
  filterGradient(p1, dz2, n, H2, W2, k, pt, gW2);

  // conv1's pooled output gradient: the input gradient of conv2, one channel; over taps of the
  // reversed filter, then c2 output channels holding the same gradient.
  const dp1 = new Float32Array(n * H2 * W2);
  const pb = k - 1 - pt;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < H2; y++) {
      for (let x = 0; x < W2; x++) {
        let acc = 0;
        for (let ty = 0; ty < k; ty++) {
          const iy = y + ty - pb;
          if (iy < 0 || iy >= H2) continue;
          for (let tx = 0; tx < k; tx++) {
            const ix = x + tx - pb;
            if (ix < 0 || ix >= W2) continue;
            const g = dz2[(b * H2 + iy) * W2 + ix];
            if (g !== 0) acc = addRepeated(acc, f(g * w2[(k - 1 - ty) * k + (k - 1 - tx)]), c2);
          }
        }
        dp1[(b * H2 + y) * W2 + x] = acc;
      }
    }
  }
  if (!allFinite(dp1)) return null;
  const dz1 = new Float32Array(n * H * W);
  unpoolReluGrad(dp1, win1, z1, dz1);
  const gB1 = new Float32Array([sumInOrder(dz1)]);
  const gW1 = new Float32Array(k * k);
  filterGradient(pixels, dz1, n, H, W, k, pt, gW1);

  const grads = [gW1, gB1, gW2, gB2, gW3, gB3, gW4, gB4];
  if (!grads.every(allFinite)) return null;
  return { loss: head.loss, grads };
}

/**
 * A one-channel filter gradient: out[ty*k + tx] = sum from +0 over (oy, ox, image) of
 * x[b, oy+ty-pt, ox+tx-pt] * dy[b, oy, ox], the terms with dy = 0 or a padded x left out.
 */
function filterGradient(
  x: Float32Array,
  dy: Float32Array,
  n: number,
  h: number,
  w: number,
  k: number,
  pt: number,
  out: Float32Array,
): void {
  // The nonzero dy in (oy, ox, b) order, once for all taps.
  const at: number[] = [];
  const yx: number[] = [];
  const val: number[] = [];
  for (let oy = 0; oy < h; oy++) {
    for (let ox = 0; ox < w; ox++) {
      for (let b = 0; b < n; b++) {
        const g = dy[(b * h + oy) * w + ox];
        if (g !== 0) {
          at.push((b * h + oy) * w + ox);
          yx.push(oy * 65536 + ox);
          val.push(g);
        }
      }
    }
  }
  for (let ty = 0; ty < k; ty++) {
    for (let tx = 0; tx < k; tx++) {
      const dyOff = ty - pt;
      const dxOff = tx - pt;
      const shift = dyOff * w + dxOff;
      let s = 0;
      for (let e = 0; e < at.length; e++) {
        const iy = (yx[e] >> 16) + dyOff;
        const ix = (yx[e] & 0xffff) + dxOff;
        if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
        s = f(s + f(x[at[e] + shift] * val[e]));
      }
      out[ty * k + tx] = s;
    }
  }
}
