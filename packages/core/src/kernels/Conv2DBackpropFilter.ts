// Conv2DBackpropFilter, missing from tfjs-backend-wasm, expressed as one XNNPACK Conv2D:
// dW[kh,kw,ci,co] = sum_{n,y,x} x[n, y*s+kh-pt, x*s+kw-pl, ci] * dy[n,y,x,co], which is a convolution
// of x viewed as [ci, H, W, n] (batch = ci, channels = n) with dy viewed as a filter [OH, OW, n, co].
// When x and dy are finite and ci is a multiple of 4, the same sums without their zero-dy terms
// (most of dy, after ReLU and max-pool), bitwise the same (kernels/zero-skip.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { addressOf, heapKernelsOf } from '../own-wasm/heap-kernels';
import { disposeIntermediates, runWasmKernel, stride1ConvInfo, transpose } from './wasm-kernel-utils';
import { convGradZeroSkip, forwardGeometry, zeroSkipCounts } from './zero-skip';

/** dW by the zero-skipping kernel, or null where it does not apply (then nothing is allocated). */
function filterGradZeroSkip(backend: BackendWasm, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo) {
  const g = forwardGeometry(info);
  const kernels = convGradZeroSkip() && x.dtype === 'float32' && dy.dtype === 'float32' && g.c % 4 === 0 ? heapKernelsOf(backend) : null;
  if (!kernels || g.batch * g.oh * g.ow === 0) return null;
  const xAt = addressOf(backend, x);
  const dyAt = addressOf(backend, dy);
  if (!kernels.allFinite([xAt, g.batch * g.h * g.w * g.c], [dyAt, g.batch * g.oh * g.ow * g.co])) return null;
  const xs = transpose(backend, x, [1, 2, 0, 3]); // [H, W, n, ci]: one (oy, ox)'s terms in consecutive rows
  const dw = backend.makeOutput([g.kh, g.kw, g.c, g.co], 'float32');
  kernels.filterGradZeroSkip(addressOf(backend, xs), dyAt, addressOf(backend, dw), g);
  disposeIntermediates(backend, xs);
  return dw;
}

/** dW for a stride-1, dilation-1 NHWC convolution (the only kind the seed's model uses). */
export function conv2DBackpropFilterViaConv2D(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const info = stride1ConvInfo('Conv2DBackpropFilter', x.shape, attrs.filterShape, attrs);
  const skipped = filterGradZeroSkip(backend, x, dy, info);
  if (skipped) {
    zeroSkipCounts.filterSkipped++;
    return skipped;
  }
  zeroSkipCounts.filterFull++;
  const { top, bottom, left, right } = info.padInfo;
  const xT = transpose(backend, x, [3, 1, 2, 0]); // [ci, H, W, n]
  const dyT = transpose(backend, dy, [1, 2, 0, 3]); // [OH, OW, n, co]
  const conv = runWasmKernel(backend, 'Conv2D', {
    inputs: { x: xT, filter: dyT },
    attrs: {
      strides: [1, 1],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [1, 1],
      dimRoundingMode: undefined,
    } as unknown as tf.NamedAttrMap,
  }); // [ci, KH, KW, co]
  const dw = transpose(backend, conv, [1, 2, 0, 3]); // [KH, KW, ci, co]
  disposeIntermediates(backend, xT, dyT, conv);
  return dw;
}

/** Adds the kernel tfjs-backend-wasm lacks. */
export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilterViaConv2D as unknown as tf.KernelFunc,
};
