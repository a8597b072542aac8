// ReLU's gradient in one pass on the project's own WebAssembly (assembly/kernels/ReluGrad.ts, in
// place on the heap, on the kernels' threads) instead of tfjs's three (Step, Cast, Multiply): a
// wasm kernel of its own name, and Relu's gradient replaced by one that calls it on the wasm
// backend (elsewhere, or with the stock kernel set, tfjs's own formula). Same values.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { addressOf, heapKernelsOf } from '../own-wasm/heap-kernels';
import { ownWasmOn } from './own-wasm-switch';

/** The kernel's name (the project's own; tfjs has no fused ReLU gradient). */
export const RELU_GRAD = 'MnistSymReluGrad';

function reluGradKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, x } = args.inputs as { dy: tf.TensorInfo; x: tf.TensorInfo };
  const kernels = heapKernelsOf(backend);
  if (!kernels) throw new Error(`${RELU_GRAD} needs WebAssembly SIMD`);
  const out = backend.makeOutput(x.shape, 'float32');
  kernels.reluGrad(addressOf(backend, dy), addressOf(backend, x), addressOf(backend, out), tf.util.sizeFromShape(x.shape));
  return out;
}

/** The kernel. */
export const reluGradConfig: tf.KernelConfig = {
  kernelName: RELU_GRAD,
  backendName: 'wasm',
  kernelFunc: reluGradKernel as unknown as tf.KernelFunc,
};

/** Relu's gradient through the kernel on the wasm backend (tfjs's own formula elsewhere or when switched off). */
export const reluGradientConfig: tf.GradConfig = {
  kernelName: tf.Relu,
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
    const [x] = saved;
    const g = dy as tf.Tensor;
    const own =
      ownWasmOn('ReluGrad') &&
      tf.getBackend() === 'wasm' &&
      g.dtype === 'float32' &&
      x.dtype === 'float32' &&
      g.size === x.size &&
      heapKernelsOf(tf.backend() as BackendWasm) !== null;
    return { x: () => (own ? (tf.engine().runKernel(RELU_GRAD, { dy: g, x }) as tf.Tensor) : tf.mul(g, tf.cast(tf.step(x), 'float32'))) };
  },
};
