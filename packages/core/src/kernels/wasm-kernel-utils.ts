// Helpers shared by the replacement wasm kernels: call another registered wasm kernel, free
// intermediates, and view tensor memory directly on the WebAssembly heap.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap };

/** Runs the wasm kernel `name` (whatever is registered now) on tensor infos. */
export function runWasmKernel(backend: BackendWasm, name: string, args: KernelArgs): tf.TensorInfo {
  const config = tf.getKernel(name, 'wasm');
  if (!config) throw new Error(`wasm kernel ${name} is not registered`);
  return config.kernelFunc({ inputs: args.inputs, attrs: args.attrs ?? {}, backend }) as tf.TensorInfo;
}

/** Frees intermediates created inside a kernel (they never reach the engine's bookkeeping). */
export function disposeIntermediates(backend: BackendWasm, ...infos: tf.TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** Float32 view of a tensor's memory on the wasm heap. Take views AFTER allocating outputs: heap growth detaches them. */
export function heapF32(backend: BackendWasm, info: tf.TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** Transposes with the wasm Transpose kernel. */
export function transpose(backend: BackendWasm, x: tf.TensorInfo, perm: number[]): tf.TensorInfo {
  return runWasmKernel(backend, 'Transpose', { inputs: { x }, attrs: { perm } });
}

/** The attributes both convolution-gradient kernels receive. */
interface ConvGradAttrs {
  strides: [number, number] | number;
  pad: tf.backend_util.ExplicitPadding | 'valid' | 'same' | number;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * Convolution geometry for a gradient kernel, rejecting what the Conv2D re-expressions do not
 * cover (the seed's model only needs NHWC, stride 1, dilation 1).
 */
export function stride1ConvInfo(
  kernelName: string,
  inputShape: number[],
  filterShape: number[],
  attrs: ConvGradAttrs,
): tf.backend_util.Conv2DInfo {
  const info = tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
  if (
    info.dataFormat !== 'channelsLast' ||
    info.strideHeight !== 1 ||
    info.strideWidth !== 1 ||
    info.dilationHeight !== 1 ||
    info.dilationWidth !== 1
  ) {
    throw new Error(`${kernelName} (wasm): only NHWC, stride 1, dilation 1 is implemented`);
  }
  return info;
}
