// Conv2D on the project's own WebAssembly (own-wasm/heap-kernels.ts) where it applies: NHWC,
// stride 1, dilation 1, output channels a multiple of 16; the stock XNNPACK kernel otherwise. Both
// give the same bits (NaN as NaN); the own one is faster and runs on every thread. The two
// convolution-gradient kernels call whatever Conv2D is registered, so they use it too.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ownConv2D, ownConv2DFits, type ConvGeometry } from '../own-wasm/heap-kernels';
import { ownWasmOn } from './own-wasm-switch';

/** A stride-1 convolution's geometry (x -> y) as the own kernels take it. */
export function convGeometry(info: tf.backend_util.Conv2DInfo): ConvGeometry {
  return {
    batch: info.batchSize,
    h: info.inHeight,
    w: info.inWidth,
    c: info.inChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    co: info.outChannels,
    oh: info.outHeight,
    ow: info.outWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/** The geometry when the own convolution covers this call, else null. */
function ownGeometry(x: tf.TensorInfo, filter: tf.TensorInfo, attrs: tf.Conv2DAttrs): ConvGeometry | null {
  if (x.dtype !== 'float32' || filter.dtype !== 'float32' || attrs.dataFormat !== 'NHWC') return null;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  if (info.strideHeight !== 1 || info.strideWidth !== 1 || info.dilationHeight !== 1 || info.dilationWidth !== 1) return null;
  const g = convGeometry(info);
  return ownConv2DFits(g) && g.batch * g.oh * g.ow > 0 ? g : null;
}

/** The replacement Conv2D, around the stock kernel (whose setup it keeps). */
export function conv2DConfig(stockConfig: tf.KernelConfig): tf.KernelConfig {
  const stock = stockConfig.kernelFunc;
  const kernelFunc = ((args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }) => {
    const backend = args.backend as BackendWasm;
    const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const g = ownWasmOn('Conv2D') ? ownGeometry(x, filter, args.attrs as unknown as tf.Conv2DAttrs) : null;
    if (!g) return stock(args as Parameters<tf.KernelFunc>[0]);
    const out = backend.makeOutput([g.batch, g.oh, g.ow, g.co], 'float32');
    if (ownConv2D(backend, x, filter, out, g)) return out;
    backend.disposeData(out.dataId);
    return stock(args as Parameters<tf.KernelFunc>[0]);
  }) as unknown as tf.KernelFunc;
  return { kernelName: tf.Conv2D, backendName: 'wasm', setupFunc: stockConfig.setupFunc, kernelFunc };
}
