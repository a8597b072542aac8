// Conv2DBackpropInput as one XNNPACK Conv2D (the stock wasm kernel is a scalar loop, ~10x slower):
// for stride 1, dx = conv(dy, W reversed in H and W with in/out swapped), padding K-1-pad. When dy
// and W are finite and ci is a multiple of 4, that convolution skips dy's zeros (most of it, after
// ReLU and max-pool), bitwise the same (kernels/zero-skip.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { addressOf, heapKernelsOf, type ConvGeometry } from '../own-wasm/heap-kernels';
import { disposeIntermediates, runWasmKernel, stride1ConvInfo, transpose } from './wasm-kernel-utils';
import { convGradZeroSkip, zeroSkipCounts } from './zero-skip';

/** conv(dy, swapped) by the zero-skipping kernel, or null where it does not apply (nothing allocated). */
function inputGradZeroSkip(backend: BackendWasm, dy: tf.TensorInfo, swapped: tf.TensorInfo, info: tf.backend_util.Conv2DInfo) {
  const kh = info.filterHeight;
  const kw = info.filterWidth;
  // The convolution of dy [n, OH, OW, co] with swapped [KH, KW, co, ci] giving dx [n, H, W, ci].
  const g: ConvGeometry = {
    batch: info.batchSize,
    h: info.outHeight,
    w: info.outWidth,
    c: info.outChannels,
    kh,
    kw,
    co: info.inChannels,
    oh: info.inHeight,
    ow: info.inWidth,
    padTop: kh - 1 - info.padInfo.top,
    padLeft: kw - 1 - info.padInfo.left,
  };
  const kernels =
    convGradZeroSkip() && dy.dtype === 'float32' && swapped.dtype === 'float32' && g.co % 4 === 0 ? heapKernelsOf(backend) : null;
  if (!kernels || g.batch * g.oh * g.ow === 0 || g.c >= 65536) return null;
  const dyAt = addressOf(backend, dy);
  const fAt = addressOf(backend, swapped);
  if (!kernels.allFinite([dyAt, g.batch * g.h * g.w * g.c], [fAt, kh * kw * g.c * g.co])) return null;
  const dx = backend.makeOutput([g.batch, g.oh, g.ow, g.co], 'float32');
  kernels.sparseInputConv(dyAt, fAt, addressOf(backend, dx), g);
  return dx;
}

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
  const skipped = inputGradZeroSkip(backend, dy, swapped, info);
  if (skipped) {
    zeroSkipCounts.inputSkipped++;
    disposeIntermediates(backend, reversed, swapped);
    return skipped;
  }
  zeroSkipCounts.inputFull++;
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
