// The seed network in its fully symmetric state, stored once per copy set. With constant init every
// copy set is one bitwise value and stays one while nothing breaks the tie (dense/symmetric-step.ts
// keeps it so by construction): conv1's filter is one value per tap for all of its output channels;
// conv2's is one value per tap for every (input, output) channel pair; fc1's is one value per
// pooled position for every channel of that position and every unit; fc2's rows are one row for
// every fc1 unit; every bias of conv1, conv2 and fc1 is one value. Adam's m and v then have the same
// shape of sameness. This file finds that state in full arrays (bitwise, all finite) and expands it
// back, in PARAM_NAMES order and TensorFlow layouts.
import type { ModelShape } from './model';

/** One array per parameter tensor, in PARAM_NAMES order, holding one value per copy set. */
export type OrbitArrays = Float32Array[];

/** Parameters and Adam's moments, each as OrbitArrays. */
export interface SymmetricOrbit {
  params: OrbitArrays;
  m: OrbitArrays;
  v: OrbitArrays;
}

/** The sizes the orbit form has for this shape: taps, 1, taps, 1, pooled positions, 1, classes, classes. */
export function orbitSizes(shape: ModelShape): number[] {
  const taps = shape.kernel * shape.kernel;
  const positions = (shape.height / 4) * (shape.width / 4);
  return [taps, 1, taps, 1, positions, 1, shape.classes, shape.classes];
}

/** True when the symmetric step covers this geometry (two exact 2x2 poolings). */
export function orbitFits(shape: ModelShape): boolean {
  return shape.height % 4 === 0 && shape.width % 4 === 0 && shape.height > 0 && shape.width > 0;
}

/**
 * The orbit arrays of full arrays `full` (PARAM_NAMES order), or null when some copy set holds two
 * different bit patterns or a non-finite value. Stops at the first difference.
 */
export function compressToOrbit(shape: ModelShape, full: Float32Array[]): OrbitArrays | null {
  const [c1, c2, f1] = shape.widths;
  const taps = shape.kernel * shape.kernel;
  const positions = (shape.height / 4) * (shape.width / 4);
  const classes = shape.classes;
  // Each output value o of group g must equal the group's first value, bitwise.
  const grouped = (a: Float32Array, groups: number, perGroup: number): Float32Array | null => {
    if (a.length !== groups * perGroup) return null;
    const bits = new Uint32Array(a.buffer, a.byteOffset, a.length);
    const out = new Float32Array(groups);
    for (let g = 0; g < groups; g++) {
      const first = g * perGroup;
      if (!Number.isFinite(a[first])) return null;
      const v = bits[first];
      for (let j = 1; j < perGroup; j++) if (bits[first + j] !== v) return null;
      out[g] = a[first];
    }
    return out;
  };
  const w4 = full[6];
  if (w4.length !== f1 * classes) return null;
  // fc2: every row (one per fc1 unit) the same as row 0.
  const w4Bits = new Uint32Array(w4.buffer, w4.byteOffset, w4.length);
  for (let k = 0; k < classes; k++) if (!Number.isFinite(w4[k])) return null;
  for (let j = 1; j < f1; j++) for (let k = 0; k < classes; k++) if (w4Bits[j * classes + k] !== w4Bits[k]) return null;
  const b4 = full[7];
  if (b4.length !== classes || !b4.every(Number.isFinite)) return null;
  const parts = [
    grouped(full[0], taps, c1),
    grouped(full[1], 1, c1),
    grouped(full[2], taps, c1 * c2),
    grouped(full[3], 1, c2),
    grouped(full[4], positions, c2 * f1),
    grouped(full[5], 1, f1),
  ];
  if (parts.some((p) => p === null)) return null;
  return [...(parts as Float32Array[]), w4.slice(0, classes), b4.slice()];
}

/** The full arrays (PARAM_NAMES order) of orbit arrays: every copy set filled with its value. */
export function expandOrbit(shape: ModelShape, orbit: OrbitArrays): Float32Array[] {
  const [c1, c2, f1] = shape.widths;
  const classes = shape.classes;
  const spread = (a: Float32Array, perGroup: number) => {
    const out = new Float32Array(a.length * perGroup);
    for (let g = 0; g < a.length; g++) out.fill(a[g], g * perGroup, (g + 1) * perGroup);
    return out;
  };
  const w4 = new Float32Array(f1 * classes);
  for (let j = 0; j < f1; j++) w4.set(orbit[6], j * classes);
  return [
    spread(orbit[0], c1),
    spread(orbit[1], c1),
    spread(orbit[2], c1 * c2),
    spread(orbit[3], c2),
    spread(orbit[4], c2 * f1),
    spread(orbit[5], f1),
    w4,
    orbit[7].slice(),
  ];
}

/** The orbit of parameters and Adam moments together, or null when any of the three is not in orbit form. */
export function findOrbit(shape: ModelShape, params: Float32Array[], m: Float32Array[], v: Float32Array[]): SymmetricOrbit | null {
  if (!orbitFits(shape)) return null;
  const p = compressToOrbit(shape, params);
  const mo = p && compressToOrbit(shape, m);
  const vo = mo && compressToOrbit(shape, v);
  return p && mo && vo ? { params: p, m: mo, v: vo } : null;
}
