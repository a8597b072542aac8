// Independent float64 reference of the seed's CNN in plain TypeScript (forward, the three losses,
// backward): the yardstick the tfjs/WebAssembly engine is checked against. No tfjs, no I/O.
//
// Semantics follow the project's SEED.md: TensorFlow layouts (NHWC activations, conv
// filters [kh][kw][in][out], dense [in][out], all row-major), SAME padding, the seed's buggy loss
// taken literally, TF's softmax and ReluGrad, and max-pool backward that hands a window's whole
// gradient to its FIRST maximum in row-major order.

/** Layer sizes. The seed is {@link SEED_REF_SHAPE}. Input has one channel. */
export interface RefShape {
  height: number;
  width: number;
  /** conv1 output channels (seed 32). */
  c1: number;
  /** conv2 output channels (seed 64). */
  c2: number;
  /** fc1 units (seed 1024). */
  f1: number;
  /** Output classes (seed 10). */
  classes: number;
}

/** The seed's shape: 28x28 -> 32 -> 64 -> 1024 -> 10. */
export const SEED_REF_SHAPE: Readonly<RefShape> = Object.freeze({
  height: 28,
  width: 28,
  c1: 32,
  c2: 64,
  f1: 1024,
  classes: 10,
});

/**
 * Parameters in TensorFlow layouts, row-major: conv1W [5][5][1][c1], conv2W [5][5][c1][c2],
 * fc1W [flat][f1] with flat = (y, x, c) of the pooled conv2 output, fc2W [f1][classes].
 */
export interface RefParams {
  conv1W: Float64Array;
  conv1b: Float64Array;
  conv2W: Float64Array;
  conv2b: Float64Array;
  fc1W: Float64Array;
  fc1b: Float64Array;
  fc2W: Float64Array;
  fc2b: Float64Array;
}

/** Parameter names in model order. */
export const REF_PARAM_KEYS: readonly (keyof RefParams)[] = Object.freeze([
  'conv1W',
  'conv1b',
  'conv2W',
  'conv2b',
  'fc1W',
  'fc1b',
  'fc2W',
  'fc2b',
] as const);

/**
 * The batch-mean loss: `seed` = -sum_k y_k log(p_k * 1e-7) (the script's bug, taken literally),
 * `epsilon` = -sum_k y_k log(p_k + 1e-7) (what was meant), `stable` = cross-entropy from logits.
 */
export type RefLossKind = 'seed' | 'epsilon' | 'stable';

/** Which of several equal maxima in a pooling window receives the gradient. TF CPU: `first`. */
export type RefPoolTies = 'first' | 'last';

/** Options of {@link refLossAndGrads}. */
export interface RefGradOptions {
  /** Max-pool tie rule; default `first` (TensorFlow's CPU kernel; tfjs-backend-wasm uses last). */
  poolTies?: RefPoolTies;
}

/** Everything the forward pass computed; backward reads the activations from here. */
export interface RefForward {
  shape: RefShape;
  n: number;
  /** Input [n][H][W] (one channel). */
  x: Float64Array;
  /** relu(conv1 + b) [n][H][W][c1]. */
  a1: Float64Array;
  /** pool1 [n][ceil(H/2)][ceil(W/2)][c1]. */
  p1: Float64Array;
  /** relu(conv2 + b) [n][ceil(H/2)][ceil(W/2)][c2]. */
  a2: Float64Array;
  /** pool2 [n][ph2][pw2][c2], which is also the flattened fc1 input [n][flat]. */
  p2: Float64Array;
  /** relu(fc1) [n][f1]. */
  h: Float64Array;
  /** fc2 output [n][classes]. */
  logits: Float64Array;
  /** softmax(logits) [n][classes]. */
  probs: Float64Array;
}

/** Spatial sizes derived from a shape. */
export interface RefDims {
  /** After pool1: ceil(H/2), ceil(W/2). */
  ph1: number;
  pw1: number;
  /** After pool2: ceil(ph1/2), ceil(pw1/2). */
  ph2: number;
  pw2: number;
  /** fc1 input size ph2 * pw2 * c2 (seed: 7*7*64 = 3136). */
  flat: number;
}

const KSIZE = 5;
// TF SAME with stride 1: total padding KSIZE - 1 = 4, floor(4/2) = 2 before, the rest after.
const PAD = 2;
// The constant in the seed's `tf.log(y_conv * 1e-7)`, and the intended `+ 1e-7`.
const SEED_FACTOR = 1e-7;
const EPSILON = 1e-7;

/** Spatial sizes after each pooling layer (TF SAME pooling: output = ceil(input / stride)). */
export function refDims(shape: RefShape): RefDims {
  const ph1 = Math.ceil(shape.height / 2);
  const pw1 = Math.ceil(shape.width / 2);
  const ph2 = Math.ceil(ph1 / 2);
  const pw2 = Math.ceil(pw1 / 2);
  return { ph1, pw1, ph2, pw2, flat: ph2 * pw2 * shape.c2 };
}

/** Number of elements of every parameter tensor. */
export function refParamSizes(shape: RefShape): Record<keyof RefParams, number> {
  checkShape(shape);
  const { flat } = refDims(shape);
  const { c1, c2, f1, classes } = shape;
  return {
    conv1W: KSIZE * KSIZE * 1 * c1,
    conv1b: c1,
    conv2W: KSIZE * KSIZE * c1 * c2,
    conv2b: c2,
    fc1W: flat * f1,
    fc1b: f1,
    fc2W: f1 * classes,
    fc2b: classes,
  };
}

/** All-zero parameters (also the shape of a gradient). */
export function refZeros(shape: RefShape): RefParams {
  const sizes = refParamSizes(shape);
  return mapParams(sizes, (size) => new Float64Array(size));
}

/** All-zero arrays with the lengths of `p` (Adam slots, gradient accumulators). */
export function refZerosLike(p: RefParams): RefParams {
  return mapParams(p, (a) => new Float64Array(a.length));
}

/** The seed's init: every weight `w` (seed 0.0), every bias `b` (seed 0.1). */
export function refInitConstant(shape: RefShape, w = 0, b = 0.1): RefParams {
  const p = refZeros(shape);
  for (const key of REF_PARAM_KEYS) p[key].fill(key.endsWith('b') ? b : w);
  return p;
}

/** Deep copy of a parameter set. */
export function refCloneParams(p: RefParams): RefParams {
  return mapParams(p, (a) => Float64Array.from(a));
}

// ---------------------------------------------------------------------------------------------
// Forward

/** Runs the network on `n` images `x` ([n][H][W], one channel) and keeps every activation. */
export function refForward(shape: RefShape, params: RefParams, x: Float64Array, n: number): RefForward {
  checkParams(shape, params);
  checkBatch(shape, x, n);
  const { height: H, width: W, c1, c2, f1, classes } = shape;
  const { ph1, pw1, flat } = refDims(shape);

  const a1 = conv5x5SameBiasRelu(x, n, H, W, 1, params.conv1W, params.conv1b, c1);
  const p1 = maxPool2x2Same(a1, n, H, W, c1);
  const a2 = conv5x5SameBiasRelu(p1, n, ph1, pw1, c1, params.conv2W, params.conv2b, c2);
  const p2 = maxPool2x2Same(a2, n, ph1, pw1, c2);
  const h = dense(p2, n, flat, params.fc1W, params.fc1b, f1, true);
  const logits = dense(h, n, f1, params.fc2W, params.fc2b, classes, false);
  const probs = softmax(logits, n, classes);
  return { shape, n, x, a1, p1, a2, p2, h, logits, probs };
}

/** conv 5x5, stride 1, SAME; then + bias (TF's BiasAdd after Conv2D); then ReLU. NHWC. */
function conv5x5SameBiasRelu(
  x: Float64Array,
  n: number,
  H: number,
  W: number,
  C: number,
  w: Float64Array,
  b: Float64Array,
  O: number,
): Float64Array {
  const y = new Float64Array(n * H * W * O);
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < H; oy++) {
      for (let ox = 0; ox < W; ox++) {
        const yOff = ((img * H + oy) * W + ox) * O;
        for (let ky = 0; ky < KSIZE; ky++) {
          const iy = oy + ky - PAD;
          if (iy < 0 || iy >= H) continue; // zero padding contributes nothing
          for (let kx = 0; kx < KSIZE; kx++) {
            const ix = ox + kx - PAD;
            if (ix < 0 || ix >= W) continue;
            const xOff = ((img * H + iy) * W + ix) * C;
            const wOff = (ky * KSIZE + kx) * C * O;
            for (let c = 0; c < C; c++) {
              const v = x[xOff + c];
              const wRow = wOff + c * O;
              for (let o = 0; o < O; o++) y[yOff + o] += v * w[wRow + o];
            }
          }
        }
        for (let o = 0; o < O; o++) y[yOff + o] = relu(y[yOff + o] + b[o]);
      }
    }
  }
  return y;
}

/**
 * Max pool 2x2, stride 2, SAME. For an odd size TF puts the one padding row/column at the
 * bottom/right; padded cells are not candidates, so the last window just has fewer cells.
 */
function maxPool2x2Same(a: Float64Array, n: number, H: number, W: number, C: number): Float64Array {
  const PH = Math.ceil(H / 2);
  const PW = Math.ceil(W / 2);
  const out = new Float64Array(n * PH * PW * C).fill(-Infinity);
  for (let img = 0; img < n; img++) {
    for (let py = 0; py < PH; py++) {
      for (let px = 0; px < PW; px++) {
        const oOff = ((img * PH + py) * PW + px) * C;
        for (let y = 2 * py; y < Math.min(2 * py + 2, H); y++) {
          for (let x = 2 * px; x < Math.min(2 * px + 2, W); x++) {
            const aOff = ((img * H + y) * W + x) * C;
            for (let c = 0; c < C; c++) if (a[aOff + c] > out[oOff + c]) out[oOff + c] = a[aOff + c];
          }
        }
      }
    }
  }
  return out;
}

/** y[n][O] = x[n][I] . w[I][O] + b, optionally followed by ReLU. */
function dense(x: Float64Array, n: number, I: number, w: Float64Array, b: Float64Array, O: number, withRelu: boolean): Float64Array {
  const y = new Float64Array(n * O);
  for (let img = 0; img < n; img++) {
    const yOff = img * O;
    for (let i = 0; i < I; i++) {
      const v = x[img * I + i];
      const wRow = i * O;
      for (let o = 0; o < O; o++) y[yOff + o] += v * w[wRow + o];
    }
    for (let o = 0; o < O; o++) {
      const s = y[yOff + o] + b[o];
      y[yOff + o] = withRelu ? relu(s) : s;
    }
  }
  return y;
}

/** TF's form: shifted = z - max; e = exp(shifted); p = e * (1 / sum(e)). */
function softmax(z: Float64Array, n: number, K: number): Float64Array {
  const p = new Float64Array(n * K);
  for (let img = 0; img < n; img++) {
    const off = img * K;
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, z[off + k]);
    let sum = 0;
    for (let k = 0; k < K; k++) {
      p[off + k] = Math.exp(z[off + k] - max);
      sum += p[off + k];
    }
    const inv = 1 / sum;
    for (let k = 0; k < K; k++) p[off + k] *= inv;
  }
  return p;
}

// NaN stays NaN (so a diverged run stays visibly diverged); negatives become 0.
function relu(s: number): number {
  return s < 0 ? 0 : s;
}

// ---------------------------------------------------------------------------------------------
// Loss

/** The batch-mean loss of a forward pass; `labels[i]` is the class index of image i. */
export function refLoss(fwd: RefForward, labels: Uint8Array, kind: RefLossKind): number {
  const { n, probs, logits } = fwd;
  const K = fwd.shape.classes;
  checkLabels(labels, n, K);
  let total = 0;
  for (let img = 0; img < n; img++) {
    const off = img * K;
    let s = 0;
    if (kind === 'stable') {
      // log-sum-exp: loss = log(sum exp(z - max)) - (z_label - max)
      let max = -Infinity;
      for (let k = 0; k < K; k++) max = Math.max(max, logits[off + k]);
      let sumExp = 0;
      for (let k = 0; k < K; k++) sumExp += Math.exp(logits[off + k] - max);
      s = Math.log(sumExp) - (logits[off + labels[img]] - max);
    } else {
      // Every class takes part, as in the graph: a wrong class whose log is -inf gives 0 * -inf = NaN.
      for (let k = 0; k < K; k++) {
        const y = labels[img] === k ? 1 : 0;
        const arg = kind === 'seed' ? probs[off + k] * SEED_FACTOR : probs[off + k] + EPSILON;
        s -= y * Math.log(arg);
      }
    }
    total += s;
  }
  return total / n;
}

/**
 * d(loss)/d(logits), following the graph TF differentiates. For `seed`/`epsilon`: reduce_mean
 * gives 1/n, Neg and Sum give -1/n, Mul by y gives -y/n, Log gives times reciprocal(arg), the
 * `* 1e-7` multiplies by 1e-7; then TF's SoftmaxGrad: (dp - sum(dp * p)) * p. For `stable`:
 * (p - y) / n, as SoftmaxCrossEntropyWithLogits' backprop.
 *
 * Taken literally, `seed` has NaN gradients (wrong class: -0 * reciprocal = -0 * inf) as soon as
 * 1 / (p * 1e-7) overflows, i.e. p < ~5.6e-302 in float64, before the loss itself turns NaN
 * (p * 1e-7 rounding to 0, p < ~2.5e-317).
 */
function lossGradLogits(fwd: RefForward, labels: Uint8Array, kind: RefLossKind): Float64Array {
  const { n, probs } = fwd;
  const K = fwd.shape.classes;
  const dz = new Float64Array(n * K);
  const dp = new Float64Array(K);
  const gMean = 1 / n;
  for (let img = 0; img < n; img++) {
    const off = img * K;
    if (kind === 'stable') {
      for (let k = 0; k < K; k++) dz[off + k] = (probs[off + k] - (labels[img] === k ? 1 : 0)) * gMean;
      continue;
    }
    for (let k = 0; k < K; k++) {
      const y = labels[img] === k ? 1 : 0;
      const dLog = -gMean * y;
      const p = probs[off + k];
      if (kind === 'seed') dp[k] = dLog * (1 / (p * SEED_FACTOR)) * SEED_FACTOR;
      else dp[k] = dLog * (1 / (p + EPSILON));
    }
    let dot = 0;
    for (let k = 0; k < K; k++) dot += dp[k] * probs[off + k];
    for (let k = 0; k < K; k++) dz[off + k] = (dp[k] - dot) * probs[off + k];
  }
  return dz;
}

// ---------------------------------------------------------------------------------------------
// Backward

/** Forward, loss and the gradient of the loss with respect to every parameter. */
export function refLossAndGrads(
  shape: RefShape,
  params: RefParams,
  x: Float64Array,
  labels: Uint8Array,
  n: number,
  loss: RefLossKind,
  options: RefGradOptions = {},
): { loss: number; grads: RefParams; forward: RefForward } {
  const forward = refForward(shape, params, x, n);
  const grads = refBackward(params, forward, labels, loss, options);
  return { loss: refLoss(forward, labels, loss), grads, forward };
}

/** Backward pass for a forward pass already computed. */
export function refBackward(
  params: RefParams,
  fwd: RefForward,
  labels: Uint8Array,
  loss: RefLossKind,
  options: RefGradOptions = {},
): RefParams {
  const ties = options.poolTies ?? 'first';
  if (ties !== 'first' && ties !== 'last') throw new Error(`poolTies must be 'first' or 'last', got ${String(ties)}`);
  const { shape, n } = fwd;
  const { height: H, width: W, c1, c2, f1, classes } = shape;
  const { ph1, pw1, flat } = refDims(shape);
  checkLabels(labels, n, classes);
  const g = refZeros(shape);

  const dLogits = lossGradLogits(fwd, labels, loss);
  const dh = denseBackward(fwd.h, n, f1, params.fc2W, classes, dLogits, g.fc2W, g.fc2b);
  reluBackwardInPlace(dh, fwd.h);
  const dp2 = denseBackward(fwd.p2, n, flat, params.fc1W, f1, dh, g.fc1W, g.fc1b);
  const da2 = maxPool2x2SameBackward(fwd.a2, n, ph1, pw1, c2, dp2, ties);
  reluBackwardInPlace(da2, fwd.a2);
  const dp1 = new Float64Array(fwd.p1.length);
  conv5x5SameBackward(fwd.p1, n, ph1, pw1, c1, params.conv2W, c2, da2, g.conv2W, g.conv2b, dp1);
  const da1 = maxPool2x2SameBackward(fwd.a1, n, H, W, c1, dp1, ties);
  reluBackwardInPlace(da1, fwd.a1);
  conv5x5SameBackward(fwd.x, n, H, W, 1, params.conv1W, c1, da1, g.conv1W, g.conv1b, null);
  return g;
}

/** TF's ReluGrad: the gradient passes where the ReLU output is > 0 (so not at exactly 0). */
function reluBackwardInPlace(dy: Float64Array, out: Float64Array): void {
  for (let i = 0; i < dy.length; i++) if (!(out[i] > 0)) dy[i] = 0;
}

/** Accumulates dW += x^T dy and db += sum dy; returns dx = dy . W^T. */
function denseBackward(
  x: Float64Array,
  n: number,
  I: number,
  w: Float64Array,
  O: number,
  dy: Float64Array,
  dW: Float64Array,
  dB: Float64Array,
): Float64Array {
  const dx = new Float64Array(n * I);
  for (let img = 0; img < n; img++) {
    const yOff = img * O;
    for (let o = 0; o < O; o++) dB[o] += dy[yOff + o];
    for (let i = 0; i < I; i++) {
      const v = x[img * I + i];
      const wRow = i * O;
      let acc = 0;
      for (let o = 0; o < O; o++) {
        const gy = dy[yOff + o];
        dW[wRow + o] += v * gy;
        acc += w[wRow + o] * gy;
      }
      dx[img * I + i] = acc;
    }
  }
  return dx;
}

/**
 * Each window's whole gradient goes to ONE cell: the first maximum in row-major window order
 * (strict `>` while scanning) or the last one (`>=`).
 */
function maxPool2x2SameBackward(
  a: Float64Array,
  n: number,
  H: number,
  W: number,
  C: number,
  dOut: Float64Array,
  ties: RefPoolTies,
): Float64Array {
  const PH = Math.ceil(H / 2);
  const PW = Math.ceil(W / 2);
  const da = new Float64Array(a.length);
  const last = ties === 'last';
  for (let img = 0; img < n; img++) {
    for (let py = 0; py < PH; py++) {
      for (let px = 0; px < PW; px++) {
        const oOff = ((img * PH + py) * PW + px) * C;
        const y0 = 2 * py,
          y1 = Math.min(y0 + 2, H);
        const x0 = 2 * px,
          x1 = Math.min(x0 + 2, W);
        for (let c = 0; c < C; c++) {
          let best = ((img * H + y0) * W + x0) * C + c;
          for (let y = y0; y < y1; y++) {
            for (let x = x0; x < x1; x++) {
              const i = ((img * H + y) * W + x) * C + c;
              if (a[i] > a[best] || (last && a[i] === a[best])) best = i;
            }
          }
          da[best] += dOut[oOff + c];
        }
      }
    }
  }
  return da;
}

/**
 * Backward of conv 5x5 SAME given dy = d(loss)/d(pre-activation): accumulates dW and db, and
 * dx when asked (conv1 needs no input gradient).
 */
function conv5x5SameBackward(
  x: Float64Array,
  n: number,
  H: number,
  W: number,
  C: number,
  w: Float64Array,
  O: number,
  dy: Float64Array,
  dW: Float64Array,
  dB: Float64Array,
  dx: Float64Array | null,
): void {
  for (let img = 0; img < n; img++) {
    for (let oy = 0; oy < H; oy++) {
      for (let ox = 0; ox < W; ox++) {
        const yOff = ((img * H + oy) * W + ox) * O;
        for (let o = 0; o < O; o++) dB[o] += dy[yOff + o];
        for (let ky = 0; ky < KSIZE; ky++) {
          const iy = oy + ky - PAD;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < KSIZE; kx++) {
            const ix = ox + kx - PAD;
            if (ix < 0 || ix >= W) continue;
            const xOff = ((img * H + iy) * W + ix) * C;
            const wOff = (ky * KSIZE + kx) * C * O;
            for (let c = 0; c < C; c++) {
              const v = x[xOff + c];
              const wRow = wOff + c * O;
              if (dx === null) {
                for (let o = 0; o < O; o++) dW[wRow + o] += v * dy[yOff + o];
              } else {
                let acc = 0;
                for (let o = 0; o < O; o++) {
                  const gy = dy[yOff + o];
                  dW[wRow + o] += v * gy;
                  acc += w[wRow + o] * gy;
                }
                dx[xOff + c] += acc;
              }
            }
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Checks and helpers

function mapParams<T>(src: Record<keyof RefParams, T>, f: (v: T, key: keyof RefParams) => Float64Array): RefParams {
  return {
    conv1W: f(src.conv1W, 'conv1W'),
    conv1b: f(src.conv1b, 'conv1b'),
    conv2W: f(src.conv2W, 'conv2W'),
    conv2b: f(src.conv2b, 'conv2b'),
    fc1W: f(src.fc1W, 'fc1W'),
    fc1b: f(src.fc1b, 'fc1b'),
    fc2W: f(src.fc2W, 'fc2W'),
    fc2b: f(src.fc2b, 'fc2b'),
  };
}

function checkShape(shape: RefShape): void {
  for (const key of ['height', 'width', 'c1', 'c2', 'f1', 'classes'] as const) {
    const v = shape[key];
    if (!Number.isInteger(v) || v < 1) throw new Error(`RefShape.${key} must be a positive integer, got ${v}`);
  }
}

function checkParams(shape: RefShape, params: RefParams): void {
  const sizes = refParamSizes(shape);
  for (const key of REF_PARAM_KEYS) {
    const a = params[key];
    if (!(a instanceof Float64Array) || a.length !== sizes[key]) {
      throw new Error(`params.${key} must be a Float64Array of length ${sizes[key]}, got ${a?.length}`);
    }
  }
}

function checkBatch(shape: RefShape, x: Float64Array, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`batch size must be a positive integer, got ${n}`);
  const want = n * shape.height * shape.width;
  if (x.length !== want) throw new Error(`x must hold n*H*W = ${want} values, got ${x.length}`);
}

function checkLabels(labels: Uint8Array, n: number, classes: number): void {
  if (labels.length !== n) throw new Error(`labels must hold ${n} class indices, got ${labels.length}`);
  for (let i = 0; i < n; i++) {
    if (labels[i] >= classes) throw new Error(`label ${labels[i]} at ${i} is not below ${classes} classes`);
  }
}
