// The width-1 twin of the dense network: while every copy of a layer is equal, the dense network is
// exactly a network with one unit per layer whose weights stand for sums of copies. This file holds
// that correspondence (derived in docs/TWIN.md): the parameter scales, and the Adam learning-rate
// and epsilon multipliers under which the twin follows the dense network step for step.

/** Per parameter tensor (PARAM_NAMES order) multipliers of the twin of dense widths [c1, c2, f1]. */
export interface TwinScales {
  /**
   * twin value = paramScale * (value of every dense copy). A twin weight stands for the sum over the
   * copies feeding one unit: conv2.W over c1 input channels, fc1.W over c2 channels, fc2.W over f1 units.
   */
  paramScale: number[];
  /** Adam learning-rate multiplier: the twin must move paramScale times as far as one dense copy. */
  lrScale: number[];
  /**
   * Adam epsilon multiplier: the twin's gradient is (copies / paramScale) times a dense copy's, and
   * Adam is invariant to that factor except through epsilon, which must scale with it.
   */
  epsScale: number[];
}

/**
 * Scales for dense widths [c1, c2, f1]. With n copies of a parameter and twin value s * copy:
 * lrScale = s, epsScale = n / s. Per tensor (conv1.W, conv1.b, conv2.W, conv2.b, fc1.W, fc1.b,
 * fc2.W, fc2.b): s = 1, 1, c1, 1, c2, 1, f1, 1 and n / s = c1, c1, c2, c2, f1, f1, 1, 1.
 */
export function twinScales(widths: readonly [number, number, number]): TwinScales {
  const [c1, c2, f1] = widths;
  const paramScale = [1, 1, c1, 1, c2, 1, f1, 1];
  const copies = [c1, c1, c1 * c2, c2, c2 * f1, f1, f1, 1];
  return { paramScale, lrScale: paramScale.slice(), epsScale: copies.map((n, i) => n / paramScale[i]) };
}

/**
 * The twin's parameters (widths [1, 1, 1], PARAM_NAMES order, TF layouts) from a dense parameter set
 * whose copies are all equal: copy 0 of each tensor, times its paramScale. `T` is Float32Array or
 * Float64Array; results keep the input's element type.
 */
export function denseToTwin<T extends Float32Array | Float64Array>(
  dense: T[],
  widths: readonly [number, number, number],
  positions: number,
  classes: number,
): T[] {
  const [c1, c2, f1] = widths;
  const s = twinScales(widths).paramScale;
  const make = (like: T, n: number) => new (like.constructor as new (n: number) => T)(n);
  const out = dense.map((a, i) => make(a, twinSizes(positions, classes)[i]));
  for (let t = 0; t < 25; t++) {
    out[0][t] = dense[0][t * c1] * s[0];
    out[2][t] = dense[2][t * c1 * c2] * s[2];
  }
  out[1][0] = dense[1][0];
  out[3][0] = dense[3][0];
  for (let p = 0; p < positions; p++) out[4][p] = dense[4][p * c2 * f1] * s[4];
  out[5][0] = dense[5][0];
  for (let k = 0; k < classes; k++) {
    out[6][k] = dense[6][k] * s[6];
    out[7][k] = dense[7][k];
  }
  return out;
}

/** The dense parameters (every copy equal) that a twin parameter set stands for; inverse of denseToTwin. */
export function twinToDense<T extends Float32Array | Float64Array>(
  twin: T[],
  widths: readonly [number, number, number],
  positions: number,
  classes: number,
): T[] {
  const [c1, c2, f1] = widths;
  const s = twinScales(widths).paramScale;
  const make = (like: T, n: number) => new (like.constructor as new (n: number) => T)(n);
  const sizes = [25 * c1, c1, 25 * c1 * c2, c2, positions * c2 * f1, f1, f1 * classes, classes];
  const out = twin.map((a, i) => make(a, sizes[i]));
  for (let t = 0; t < 25; t++) {
    out[0].fill(twin[0][t] / s[0], t * c1, (t + 1) * c1);
    out[2].fill(twin[2][t] / s[2], t * c1 * c2, (t + 1) * c1 * c2);
  }
  out[1].fill(twin[1][0]);
  out[3].fill(twin[3][0]);
  for (let p = 0; p < positions; p++) out[4].fill(twin[4][p] / s[4], p * c2 * f1, (p + 1) * c2 * f1);
  out[5].fill(twin[5][0]);
  for (let u = 0; u < f1; u++) for (let k = 0; k < classes; k++) out[6][u * classes + k] = twin[6][k] / s[6];
  out[7].set(twin[7]);
  return out;
}

function twinSizes(positions: number, classes: number): number[] {
  return [25, 1, 25, 1, positions, 1, classes, classes];
}
