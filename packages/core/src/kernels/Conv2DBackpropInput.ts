// Conv2DBackpropInput as one XNNPACK Conv2D (the stock wasm kernel is a scalar loop, ~10x slower):
// for stride 1, dx = conv(dy, W reversed in H and W with in/out swapped), padding K-1-pad.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { disposeIntermediates, runWasmKernel, stride1ConvInfo, transpose } from './wasm-kernel-utils';

/** dx for a stride-1, dilation-1 NHWC convolution. */
export function conv2DBackpropInputViaConv2D(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const info = stride1ConvInfo('Conv2DBackpropInput', attrs.inputShape, filter.shape, attrs);
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  const { top, bottom, left, right } = info.padInfo;
  const reversed = runWasmKernel(backend, 'Reverse', { inputs: { x: filter }, attrs: { dims: [0, 1] } });
  const swapped = transpose(backend, reversed, [0, 1, 3, 2]); // [KH, KW, co, ci]
  const dx = runWasmKernel(backend, 'Conv2D', {
    inputs: { x: dy, filter: swapped },
    attrs: {
      strides: [1, 1],
      pad: [
        [0, 0],
        [kh - 1 - top, kh - 1 - bottom],
        [kw - 1 - left, kw - 1 - right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [1, 1],
      dimRoundingMode: undefined,
    } as unknown as tf.NamedAttrMap,
  });
  disposeIntermediates(backend, reversed, swapped);
  return dx;
}

/** Replaces tfjs-backend-wasm's Conv2DBackpropInput. */
export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInputViaConv2D as unknown as tf.KernelFunc,
};
