// Sum over every axis but the last (the bias gradients: dy summed over batch and positions) on the
// project's own WebAssembly (in place on the heap, on the kernels' threads): the same float32
// additions in the same order as tfjs-backend-wasm's Sum, which first transposes the channels to
// the front (a full copy) and then sums each channel row by row. Other reductions, other dtypes,
// and runtimes without SIMD go to the stock kernel.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { addressOf, heapKernelsOf } from '../own-wasm/heap-kernels';

/**
 * True when `axis` is 0, 1, .., rank-2 in that order (as gradients pass it). In another order the
 * stock kernel sums in that other order, so such calls are left to it.
 */
function isAllButLast(axis: number | number[], rank: number): boolean {
  const axes = tf.util.parseAxisParam(axis, new Array(rank).fill(1));
  return rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
}

/** Builds the replacement around the stock kernel function. */
export function makeSum(stock: tf.KernelFunc): tf.KernelFunc {
  return ((args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }) => {
    const backend = args.backend as BackendWasm;
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const rank = x.shape.length;
    const kernels = heapKernelsOf(backend);
    if (!kernels || x.dtype !== 'float32' || !isAllButLast(axis, rank) || tf.util.sizeFromShape(x.shape) === 0) {
      return stock(args as Parameters<tf.KernelFunc>[0]);
    }
    const cols = x.shape[rank - 1];
    const rows = tf.util.sizeFromShape(x.shape) / cols;
    const outShape = keepDims ? [...new Array(rank - 1).fill(1), cols] : [cols];
    const out = backend.makeOutput(outShape, 'float32');
    kernels.sumRows(addressOf(backend, x), addressOf(backend, out), rows, cols);
    return out;
  }) as unknown as tf.KernelFunc;
}
