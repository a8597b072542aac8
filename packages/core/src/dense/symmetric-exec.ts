// Exact symmetric execution: which layers' output units are bitwise copies of one another, so that
// evaluation computes one representative per copy set and broadcasts it (dense/model.ts). A layer
// qualifies when every output unit has bitwise the same weights (the same column of W for every
// input row) and the same bias, all finite: then every unit's output is the same float32 operations
// on the same operands, whatever the input, so computing one and copying it gives the full layer's
// bits. Checked on the current parameters before each use, never assumed from the init.
import type { ModelShape, SymmetricLayers } from './model';

export type { SymmetricLayers } from './model';

/** Whether every row of w (rows x cols) holds one finite value cols times, bitwise, and so does b. */
function copiesOfOneColumn(w: Float32Array, b: Float32Array, cols: number): boolean {
  const bits = new Uint32Array(w.buffer, w.byteOffset, w.length);
  for (let r = 0; r < bits.length; r += cols) {
    if (!Number.isFinite(w[r])) return false;
    const v = bits[r];
    for (let j = 1; j < cols; j++) if (bits[r + j] !== v) return false;
  }
  const bb = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (!Number.isFinite(b[0])) return false;
  for (let j = 1; j < bb.length; j++) if (bb[j] !== bb[0]) return false;
  return true;
}

/** Which layers of the parameters (PARAM_NAMES order) are copy sets of one unit. */
export function symmetricLayers(shape: ModelShape, values: Float32Array[]): SymmetricLayers {
  const [c1, c2, f1] = shape.widths;
  return {
    conv1: copiesOfOneColumn(values[0], values[1], c1),
    conv2: copiesOfOneColumn(values[2], values[3], c2),
    fc1: copiesOfOneColumn(values[4], values[5], f1),
  };
}

/** True when any layer can run as one representative. */
export function anySymmetric(s: SymmetricLayers): boolean {
  return s.conv1 || s.conv2 || s.fc1;
}
