// MaxPoolGrad's first/last tie rules on the project's own WebAssembly (assembly/max-pool-grad.ts,
// SIMD over channels), for windows that do not overlap: bitwise what kernels/MaxPoolGrad.ts's
// loop computes. The input, dy and dx go through the module's memory (copied in and out).
import { MAX_POOL_GRAD_WASM_BASE64 } from '../generated/max-pool-grad-wasm';
import { WasmArena, type ArenaExports } from './embedded-module';

interface MaxPoolGradExports extends ArenaExports {
  maxPoolGrad(
    x: number, dy: number, dx: number, batch: number, inH: number, inW: number, C: number, outH: number, outW: number,
    fh: number, fw: number, sh: number, sw: number, padTop: number, padLeft: number, last: number,
  ): void;
}

/** Geometry of one NHWC max-pool (as tfjs's computePool2DInfo gives it). */
export interface PoolGeometry {
  batch: number;
  inH: number;
  inW: number;
  C: number;
  outH: number;
  outW: number;
  fh: number;
  fw: number;
  sh: number;
  sw: number;
  padTop: number;
  padLeft: number;
}

/** True when the wasm kernel applies: channels a multiple of 4, windows that never overlap. */
export function maxPoolGradWasmFits(p: PoolGeometry): boolean {
  return p.C % 4 === 0 && p.sh >= p.fh && p.sw >= p.fw;
}

let arena: WasmArena<MaxPoolGradExports> | null = null;

/** Writes into `dx` the gradient of a max-pool of `x` (first or last maximum gets dy). */
export function maxPoolGradWasm(x: Float32Array, dy: Float32Array, dx: Float32Array, p: PoolGeometry, rule: 'first' | 'last'): void {
  arena ??= new WasmArena<MaxPoolGradExports>(MAX_POOL_GRAD_WASM_BASE64);
  const at = { x: arena.scratch('x', 4 * x.length), dy: arena.scratch('dy', 4 * dy.length), dx: arena.scratch('dx', 4 * x.length) };
  arena.f32(at.x, x.length).set(x);
  arena.f32(at.dy, dy.length).set(dy);
  const out = arena.f32(at.dx, x.length);
  out.fill(0); // cells no window covers (stride > window, VALID remainders)
  arena.exports.maxPoolGrad(at.x, at.dy, at.dx, p.batch, p.inH, p.inW, p.C, p.outH, p.outW, p.fh, p.fw, p.sh, p.sw, p.padTop, p.padLeft, rule === 'last' ? 1 : 0);
  dx.set(out);
}
