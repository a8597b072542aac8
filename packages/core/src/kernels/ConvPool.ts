// Evaluation's conv1: a SAME convolution (stride 1) fused with bias, ReLU and a 2x2 max-pool, as a
// wasm kernel of the project's own name (assembly/kernels/ConvPool.ts, in place, on every thread):
// bitwise conv2d, add, relu and maxPool one after another (tested), without writing the full-size
// convolution output three times. Where the fused kernel does not apply (another backend, no
// WebAssembly SIMD, odd sizes, output channels not a multiple of 16), those four ops run instead,
// and also when a value before ReLU is infinite or NaN (XNNPACK's max-pool treats NaN in a way of
// its own: a network gone NaN evaluates exactly as through the four ops).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { addressOf, heapKernelsOf, type ConvGeometry } from '../own-wasm/heap-kernels';

/** The kernel's name. */
export const CONV_POOL = 'MnistSymConvPool';

function geometryOf(x: tf.TensorInfo, filter: tf.TensorInfo): ConvGeometry {
  const [batch, h, w, c] = x.shape;
  const [kh, kw, , co] = filter.shape;
  return { batch, h, w, c, kh, kw, co, oh: h, ow: w, padTop: Math.floor((kh - 1) / 2), padLeft: Math.floor((kw - 1) / 2) };
}

function fits(x: tf.Tensor, filter: tf.Tensor, bias: tf.Tensor): boolean {
  if (tf.getBackend() !== 'wasm' || x.rank !== 4 || filter.rank !== 4 || bias.rank !== 1) return false;
  const g = geometryOf(x, filter);
  return (
    filter.shape[2] === g.c &&
    bias.shape[0] === g.co &&
    g.co % 16 === 0 &&
    g.h % 2 === 0 &&
    g.w % 2 === 0 &&
    g.batch * g.h * g.w > 0 &&
    x.dtype === 'float32' &&
    filter.dtype === 'float32' &&
    heapKernelsOf(tf.backend() as BackendWasm) !== null
  );
}

/** The kernel's second output: an int32 scalar, 1 when every value before ReLU was finite, else 0. */
function wasmKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const { x, filter, bias } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo; bias: tf.TensorInfo };
  const g = geometryOf(x, filter);
  const out = backend.makeOutput([g.batch, g.h / 2, g.w / 2, g.co], 'float32');
  const finite = heapKernelsOf(backend)!.convPool(
    addressOf(backend, x),
    addressOf(backend, filter),
    addressOf(backend, bias),
    addressOf(backend, out),
    g,
  );
  const flag = backend.makeOutput([], 'int32');
  (backend.typedArrayFromHeap(flag) as Int32Array)[0] = finite ? 1 : 0;
  return [out, flag];
}

/** The kernel, on the wasm backend. */
export const convPoolConfig: tf.KernelConfig = {
  kernelName: CONV_POOL,
  backendName: 'wasm',
  kernelFunc: wasmKernel as unknown as tf.KernelFunc,
};

/**
 * The layer as the four tfjs ops: maxPool(relu(conv2d(x, filter, 1, 'same') + bias), 2, 2, 'same').
 * Training's forward pass (which needs their gradients), and what both fused kernels fall back to.
 */
export function convBiasReluPoolOps(x: tf.Tensor4D, filter: tf.Tensor, bias: tf.Tensor): tf.Tensor4D {
  return tf.maxPool(tf.relu(tf.add(tf.conv2d(x, filter as tf.Tensor4D, 1, 'same'), bias)) as tf.Tensor4D, 2, 2, 'same');
}

/** The same layer, fused where it applies (see the header). */
export function convBiasReluPool(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D {
  if (fits(x, filter, bias)) {
    const [out, finite] = tf.engine().runKernel(CONV_POOL, { x, filter, bias } as unknown as tf.NamedTensorMap) as [tf.Tensor4D, tf.Tensor];
    const allFinite = finite.dataSync()[0] === 1;
    finite.dispose();
    if (allFinite) return out;
    out.dispose();
  }
  return convBiasReluPoolOps(x, filter, bias);
}
