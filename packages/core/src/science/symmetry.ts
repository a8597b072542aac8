// Symmetry diagnostics: how many distinct "copies" each layer still has. With a constant init every
// unit of a layer computes the same function and gets the same gradient, so its copies stay equal;
// this measures, from the float32 parameters in TF layouts, whether they did (bitwise and within a
// tolerance) and how far apart they drifted. Pure arithmetic on typed arrays, no tfjs.
import type { ModelShape } from '../dense/model';

/** The copy sets, named `<layer>.<side>`: `out` = the layer's units, `in` = its input channels. */
export const SYMMETRY_KEYS = ['conv1.out', 'conv2.out', 'conv2.in', 'fc1.in', 'fc1.out', 'fc2.in'] as const;
export type SymmetryKey = (typeof SYMMETRY_KEYS)[number];

/** One copy set's state. */
export interface SymmetryStat {
  /** Number of copies (e.g. conv1.out: the conv1 width). */
  copies: number;
  /** Distinct copies, bitwise: copies whose float32 bit patterns are all equal form one group. */
  groups: number;
  /**
   * Distinct copies within the relative tolerance `tol`: a copy joins the first group (in copy
   * order) whose first member differs from it by at most tol * scale in every element (scale as in
   * maxRelDiff); otherwise it starts a new group. Always <= groups.
   */
  groupsTol: number;
  /**
   * max over copies j and elements e of |copy_j[e] - copy_0[e]|, divided by scale = the largest
   * |value| among all elements of all copies (the layer's largest weight, bias included when the
   * copy has one). 0 when all copies are equal or all values are 0; NaN when any value is NaN.
   */
  maxRelDiff: number;
}

/** Every copy set's state, as stored in metrics.jsonl and summary.json under `symmetry`. */
export type SymmetryReport = Record<SymmetryKey, SymmetryStat>;

/**
 * Measures every copy set of the model from its parameters (PARAM_NAMES order, TF layouts:
 * conv W [k][k][in][out], dense W [in][out], fc1's input flattened as (y, x, channel)). A copy is:
 * - `conv1.out` j: conv1.W[:, :, 0, j] and conv1.b[j];
 * - `conv2.out` o: conv2.W[:, :, :, o] and conv2.b[o];
 * - `conv2.in` i: conv2.W[:, :, i, :] (what conv2 does with conv1's copy i);
 * - `fc1.in` c: the fc1.W rows of channel c at every (y, x) position, i.e. fc1.W[(p * c2 + c), :]
 *   for all positions p (pooled conv2 channel c is one copy, seen at 49 positions);
 * - `fc1.out` u: fc1.W[:, u] and fc1.b[u];
 * - `fc2.in` u: fc2.W[u, :] (fc2.b belongs to the classes, which are never copies).
 */
export function symmetryReport(shape: ModelShape, params: Float32Array[], tol: number): SymmetryReport {
  const [c1, c2, f1] = shape.widths;
  const taps = shape.kernel * shape.kernel;
  const positions = Math.ceil(shape.height / 4) * Math.ceil(shape.width / 4);
  const K = shape.classes;
  const [w1, b1, w2, b2, w3, b3, w4] = params;
  return {
    'conv1.out': measure(c1, taps + 1, tol, (j, out) => {
      for (let t = 0; t < taps; t++) out[t] = w1[t * c1 + j];
      out[taps] = b1[j];
    }),
    'conv2.out': measure(c2, taps * c1 + 1, tol, (o, out) => {
      for (let r = 0; r < taps * c1; r++) out[r] = w2[r * c2 + o];
      out[taps * c1] = b2[o];
    }),
    'conv2.in': measure(c1, taps * c2, tol, (i, out) => {
      for (let t = 0; t < taps; t++) out.set(w2.subarray((t * c1 + i) * c2, (t * c1 + i + 1) * c2), t * c2);
    }),
    'fc1.in': measure(c2, positions * f1, tol, (c, out) => {
      for (let p = 0; p < positions; p++) out.set(w3.subarray((p * c2 + c) * f1, (p * c2 + c + 1) * f1), p * f1);
    }),
    'fc1.out': measure(f1, positions * c2 + 1, tol, (u, out) => {
      for (let r = 0; r < positions * c2; r++) out[r] = w3[r * f1 + u];
      out[positions * c2] = b3[u];
    }),
    'fc2.in': measure(f1, K, tol, (u, out) => out.set(w4.subarray(u * K, (u + 1) * K))),
  };
}

/** Gathers `copies` copies of `len` values each (via `gather`) and measures them. */
export function measure(copies: number, len: number, tol: number, gather: (copy: number, out: Float32Array) => void): SymmetryStat {
  const all = new Float32Array(copies * len);
  for (let j = 0; j < copies; j++) gather(j, all.subarray(j * len, (j + 1) * len));
  const bits = new Uint32Array(all.buffer);
  let scale = 0;
  let hasNaN = false;
  for (let i = 0; i < all.length; i++) {
    const a = Math.abs(all[i]);
    if (a > scale) scale = a;
    else if (a !== a) hasNaN = true;
  }
  let maxDiff = 0;
  for (let j = 1; j < copies; j++) {
    const off = j * len;
    for (let e = 0; e < len; e++) {
      const d = Math.abs(all[off + e] - all[e]);
      if (d > maxDiff) maxDiff = d;
    }
  }
  const maxRelDiff = hasNaN ? NaN : maxDiff === 0 ? 0 : maxDiff / scale;

  // Bitwise groups: bucket copies by a hash of their bits, confirm by comparing with each bucket's
  // representatives (so thousands of distinct copies cost O(size), not O(copies^2 * len)).
  const reps: number[] = [];
  const buckets = new Map<number, number[]>();
  for (let j = 0; j < copies; j++) {
    const off = j * len;
    let h = 0x811c9dc5;
    for (let e = 0; e < len; e++) h = Math.imul(h ^ bits[off + e], 0x01000193);
    const bucket = buckets.get(h);
    const same = bucket?.find((r) => bitsEqual(bits, r * len, off, len));
    if (same !== undefined) continue;
    if (bucket) bucket.push(j);
    else buckets.set(h, [j]);
    reps.push(j);
  }

  // Tolerance groups: only the bitwise representatives need clustering (equal copies join alike).
  const limit = tol * scale;
  const leaders: number[] = [];
  for (const j of reps) {
    if (!leaders.some((l) => withinTolerance(all, l * len, j * len, len, limit))) leaders.push(j);
  }
  return { copies, groups: reps.length, groupsTol: leaders.length, maxRelDiff };
}

function bitsEqual(bits: Uint32Array, a: number, b: number, len: number): boolean {
  for (let e = 0; e < len; e++) if (bits[a + e] !== bits[b + e]) return false;
  return true;
}

function withinTolerance(all: Float32Array, a: number, b: number, len: number, limit: number): boolean {
  // Written so NaN fails the test: a NaN copy matches only its bitwise twins.
  for (let e = 0; e < len; e++) if (!(Math.abs(all[a + e] - all[b + e]) <= limit)) return false;
  return true;
}

/**
 * The report of a network whose every copy set is one finite value (dense/symmetric-orbit.ts's
 * orbit form): every copy set one group, within any tolerance, no difference. symmetryReport of
 * such parameters gives exactly this, without reading 3.3M weights.
 */
export function oneGroupReport(shape: ModelShape): SymmetryReport {
  const [c1, c2, f1] = shape.widths;
  const one = (copies: number): SymmetryStat => ({ copies, groups: 1, groupsTol: 1, maxRelDiff: 0 });
  return {
    'conv1.out': one(c1),
    'conv2.out': one(c2),
    'conv2.in': one(c1),
    'fc1.in': one(c2),
    'fc1.out': one(f1),
    'fc2.in': one(f1),
  };
}
