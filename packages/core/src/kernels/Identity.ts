// Identity (tf.clone, and the copies tfjs's autodiff keeps of every tensor a gradient needs) that
// shares the input's data, counted by reference as the Reshape kernel does, instead of copying it:
// ~4 ms of memory copies per training step. Safe because no kernel writes into its inputs (the
// project's kernels and Adam write only to new outputs).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** The replacement Identity, around the stock kernel (kept for string tensors; its setup too). */
export function identityConfig(stockConfig: tf.KernelConfig): tf.KernelConfig {
  const stock = stockConfig.kernelFunc;
  const kernelFunc = ((args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return stock(args as Parameters<tf.KernelFunc>[0]);
    (args.backend as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  }) as unknown as tf.KernelFunc;
  return { kernelName: tf.Identity, backendName: 'wasm', setupFunc: stockConfig.setupFunc, kernelFunc };
}
