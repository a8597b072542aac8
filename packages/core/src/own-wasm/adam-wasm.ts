// TensorFlow's Adam on the project's own WebAssembly (assembly/adam.ts, SIMD): bitwise what
// adam.ts's adamStep computes, several times faster. m and v live in the module's memory for the
// whole run (the AdamState it hands out views them; the memory never grows after construction, so
// the views stay valid); each step copies a tensor's weights and gradient in and the new weights out,
// and, for the tensors asked for, also the new weights transposed (fc1's, for the forward pass).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ADAM_WASM_BASE64 } from '../generated/adam-wasm';
import { adamTensorConstants, advanceAdamStep, floatsOf, wasmBackend, type AdamHyper, type AdamState } from '../adam';
import { WasmArena, type ArenaExports } from './embedded-module';

interface AdamExports extends ArenaExports {
  applyAdam(w: number, g: number, m: number, v: number, n: number, alpha: number, eps: number, oneMinusB1: number, oneMinusB2: number): void;
  transpose(src: number, dst: number, rows: number, cols: number): void;
}

/** What one step returns: the new weights, and the transposed copies asked for (by tensor index). */
export interface AdamWasmStep {
  params: tf.Tensor[];
  transposed: Map<number, tf.Tensor>;
}

const f = Math.fround;

export class AdamWasm {
  /** The optimizer state; its m and v are views of the module's memory. */
  readonly state: AdamState;
  private readonly arena: WasmArena<AdamExports>;
  private readonly m: number[];
  private readonly v: number[];
  private readonly w: number;
  private readonly g: number;
  private readonly t: number;

  constructor(
    private readonly sizes: number[],
    hyper: AdamHyper,
    /** Rank-2 tensors (index -> [rows, cols]) whose new weights are also wanted transposed. */
    private readonly transposedShapes: Map<number, [number, number]> = new Map(),
  ) {
    this.arena = new WasmArena<AdamExports>(ADAM_WASM_BASE64);
    const largest = Math.max(0, ...sizes);
    this.m = sizes.map((n) => this.arena.alloc(4 * n));
    this.v = sizes.map((n) => this.arena.alloc(4 * n));
    this.w = this.arena.alloc(4 * largest);
    this.g = this.arena.alloc(4 * largest);
    this.t = this.arena.alloc(4 * Math.max(0, ...[...transposedShapes.keys()].map((i) => sizes[i])));
    this.state = {
      step: 0,
      beta1Power: f(hyper.beta1),
      beta2Power: f(hyper.beta2),
      m: sizes.map((n, i) => this.arena.f32(this.m[i], n)),
      v: sizes.map((n, i) => this.arena.f32(this.v[i], n)),
    };
  }

  /**
   * One Adam step, as adamStep(params, grads, this.state, hyper, lrScale, epsScale): returns NEW
   * weight tensors (and new transposed copies) and advances the state.
   */
  step(params: tf.Tensor[], grads: tf.Tensor[], hyper: AdamHyper, lrScale?: number[], epsScale?: number[]): AdamWasmStep {
    const backend = wasmBackend();
    const x = this.arena.exports;
    const out: tf.Tensor[] = [];
    const transposed = new Map<number, tf.Tensor>();
    for (let i = 0; i < params.length; i++) {
      const n = this.sizes[i];
      const c = adamTensorConstants(this.state, hyper, lrScale?.[i], epsScale?.[i]);
      this.arena.f32(this.w, n).set(floatsOf(backend, params[i]));
      this.arena.f32(this.g, n).set(floatsOf(backend, grads[i]));
      x.applyAdam(this.w, this.g, this.m[i], this.v[i], n, c.alpha, c.eps, c.oneMinusB1, c.oneMinusB2);
      out.push(tensorOf(backend, this.arena.f32(this.w, n), params[i].shape));
      const shape = this.transposedShapes.get(i);
      if (shape) {
        x.transpose(this.w, this.t, shape[0], shape[1]);
        transposed.set(i, tensorOf(backend, this.arena.f32(this.t, n), [shape[1], shape[0]]));
      }
    }
    advanceAdamStep(this.state, hyper);
    return { params: out, transposed };
  }
}

/** A new float32 tensor holding a copy of `values` (written straight into the heap on wasm). */
function tensorOf(backend: BackendWasm | null, values: Float32Array, shape: number[]): tf.Tensor {
  if (!backend) return tf.tensor(values.slice(), shape, 'float32');
  const info = backend.makeOutput(shape, 'float32');
  (backend.typedArrayFromHeap(info) as Float32Array).set(values);
  return tf.engine().makeTensorFromTensorInfo(info);
}
