// TensorFlow's Adam on the project's own WebAssembly (assembly/kernels/ApplyAdam.ts, SIMD, in the
// heap-kernels module of heap-kernels.ts): bitwise what dense/adam.ts's adamStep computes, several
// times faster, in place on tfjs-backend-wasm's heap and on the kernels' helper threads. m and v
// live on that heap for the whole run (call dispose() to free them); each step reads the weights
// and gradients where they are and writes new weight tensors, and, for the tensors asked for, also
// the new weights transposed (fc1's, for the forward pass).
import * as tf from '@tensorflow/tfjs-core';
import { adamTensorConstants, advanceAdamStep, wasmBackend, type AdamHyper, type AdamState } from '../dense/adam';
import { addressOf, heapKernelsOf, type HeapKernels } from '../own-wasm/heap-kernels';

/** What one step returns: the new weights, and the transposed copies asked for (by tensor index). */
export interface ApplyAdamStep {
  params: tf.Tensor[];
  transposed: Map<number, tf.Tensor>;
}

const f = Math.fround;

/** True when ApplyAdamKernel can run here (the wasm backend is active, with WebAssembly SIMD). */
export function applyAdamKernelAvailable(): boolean {
  const backend = wasmBackend();
  return backend !== null && heapKernelsOf(backend) !== null;
}

export class ApplyAdamKernel {
  /** The optimizer state; its m and v are fresh views of the heap at every read. */
  readonly state: AdamState;
  private readonly kernels: HeapKernels;
  private readonly m: number[];
  private readonly v: number[];

  constructor(
    private readonly sizes: number[],
    hyper: AdamHyper,
    /** Rank-2 tensors (index -> [rows, cols]) whose new weights are also wanted transposed. */
    private readonly transposedShapes: Map<number, [number, number]> = new Map(),
  ) {
    const backend = wasmBackend();
    const kernels = backend && heapKernelsOf(backend);
    if (!kernels) throw new Error('ApplyAdamKernel needs the wasm backend with WebAssembly SIMD');
    this.kernels = kernels;
    this.m = sizes.map((n) => kernels.alloc(4 * Math.max(1, n)));
    this.v = sizes.map((n) => kernels.alloc(4 * Math.max(1, n)));
    this.m.forEach((at, i) => kernels.f32(at, sizes[i]).fill(0));
    this.v.forEach((at, i) => kernels.f32(at, sizes[i]).fill(0));
    const views = (at: number[]) => sizes.map((n, i) => kernels.f32(at[i], n));
    const { m, v } = this;
    this.state = {
      step: 0,
      beta1Power: f(hyper.beta1),
      beta2Power: f(hyper.beta2),
      // Views are taken at each read: the heap's buffer is replaced (a plain one detached) when it grows.
      get m() {
        return views(m);
      },
      get v() {
        return views(v);
      },
    };
  }

  /**
   * One Adam step, as adamStep(params, grads, this.state, hyper, lrScale, epsScale): returns NEW
   * weight tensors (and new transposed copies) and advances the state.
   */
  step(params: tf.Tensor[], grads: tf.Tensor[], hyper: AdamHyper, lrScale?: number[], epsScale?: number[]): ApplyAdamStep {
    const backend = wasmBackend()!;
    const out: tf.Tensor[] = [];
    const transposed = new Map<number, tf.Tensor>();
    for (let i = 0; i < params.length; i++) {
      const n = this.sizes[i];
      const c = adamTensorConstants(this.state, hyper, lrScale?.[i], epsScale?.[i]);
      const info = backend.makeOutput(params[i].shape, 'float32');
      this.kernels.applyAdam(
        addressOf(backend, params[i]),
        addressOf(backend, grads[i]),
        this.m[i],
        this.v[i],
        addressOf(backend, info),
        n,
        c,
      );
      out.push(tf.engine().makeTensorFromTensorInfo(info));
      const shape = this.transposedShapes.get(i);
      if (shape) {
        const t = backend.makeOutput([shape[1], shape[0]], 'float32');
        this.kernels.transpose(addressOf(backend, info), addressOf(backend, t), shape[0], shape[1]);
        transposed.set(i, tf.engine().makeTensorFromTensorInfo(t));
      }
    }
    advanceAdamStep(this.state, hyper);
    return { params: out, transposed };
  }

  /** Frees m and v (the state's views are invalid afterwards). */
  dispose(): void {
    for (const at of [...this.m, ...this.v]) this.kernels.free(at);
    this.m.length = 0;
    this.v.length = 0;
  }
}
