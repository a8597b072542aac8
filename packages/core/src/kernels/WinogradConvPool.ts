// Evaluation's fused conv5x5 (SAME) + bias + ReLU + 2x2 max-pool by Winograd's F(2x2, 5x5), as a
// kernel of the project's own name (tfjs has no such fused op): on the wasm backend the heap
// kernel (assembly/kernels/WinogradConvPool.ts, in place, on every thread) where it applies (input channels a
// multiple of 4, output channels a multiple of 16, WebAssembly SIMD), else dense/winograd.ts's TypeScript
// twin, which gives the same bits; on the cpu backend the twin too. Inputs x [n, h, w, c] (h, w
// even), filter [5, 5, c, co], bias [co]; output [n, h/2, w/2, co]. When any value before ReLU is
// infinite or NaN, winogradConvBiasReluPool computes the layer with conv2d, add, relu and maxPool
// instead: a network gone NaN then evaluates exactly as with the direct convolution.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { addressOf, heapKernelsOf } from '../own-wasm/heap-kernels';
import { convBiasReluPoolOps } from './ConvPool';
import { winogradConvPool, winogradFilter, winogradFits, type WinogradGeometry } from '../dense/winograd';

/** The kernel's name. */
export const WINOGRAD_CONV_POOL = 'MnistSymWinogradConvPool';

interface Inputs {
  x: tf.TensorInfo;
  filter: tf.TensorInfo;
  bias: tf.TensorInfo;
}

function geometryOf({ x, filter, bias }: Inputs): WinogradGeometry {
  const co = filter.shape[3];
  if (!winogradFits(x.shape, filter.shape) || filter.shape[2] !== x.shape[3] || bias.shape.length !== 1 || bias.shape[0] !== co) {
    throw new Error(`${WINOGRAD_CONV_POOL}: unsupported shapes x [${x.shape}], filter [${filter.shape}], bias [${bias.shape}]`);
  }
  return { batch: x.shape[0], h: x.shape[1], w: x.shape[2], c: x.shape[3], co };
}

function outShape(g: WinogradGeometry): number[] {
  return [g.batch, g.h / 2, g.w / 2, g.co];
}

/** The kernel's second output: an int32 scalar, 1 when every value before ReLU was finite, else 0. */
function wasmKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const inputs = args.inputs as unknown as Inputs;
  const g = geometryOf(inputs);
  const u = winogradFilter(backend.typedArrayFromHeap(inputs.filter) as Float32Array, g.c, g.co);
  const out = backend.makeOutput(outShape(g), 'float32');
  const kernels = heapKernelsOf(backend);
  let finite: boolean;
  if (kernels && g.c % 4 === 0 && g.co % 16 === 0) {
    const uAt = kernels.scratch('winograd-filter', u.byteLength);
    kernels.f32(uAt, u.length).set(u);
    finite = kernels.winogradConvPool(addressOf(backend, inputs.x), uAt, addressOf(backend, inputs.bias), addressOf(backend, out), g);
  } else {
    finite = winogradConvPool(
      backend.typedArrayFromHeap(inputs.x) as Float32Array,
      u,
      backend.typedArrayFromHeap(inputs.bias) as Float32Array,
      backend.typedArrayFromHeap(out) as Float32Array,
      g,
    );
  }
  const flag = backend.makeOutput([], 'int32');
  (backend.typedArrayFromHeap(flag) as Int32Array)[0] = finite ? 1 : 0;
  return [out, flag];
}

interface CpuBackend {
  readSync(dataId: object): Float32Array;
  makeTensorInfo(shape: number[], dtype: 'float32' | 'int32', values: Float32Array | Int32Array): tf.TensorInfo;
}

function cpuKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo[] {
  const backend = args.backend as CpuBackend;
  const inputs = args.inputs as unknown as Inputs;
  const g = geometryOf(inputs);
  const out = new Float32Array(g.batch * (g.h / 2) * (g.w / 2) * g.co);
  const u = winogradFilter(backend.readSync(inputs.filter.dataId), g.c, g.co);
  const finite = winogradConvPool(backend.readSync(inputs.x.dataId), u, backend.readSync(inputs.bias.dataId), out, g);
  return [backend.makeTensorInfo(outShape(g), 'float32', out), backend.makeTensorInfo([], 'int32', Int32Array.of(finite ? 1 : 0))];
}

/** The kernel, on the wasm backend. */
export const winogradConvPoolConfig: tf.KernelConfig = {
  kernelName: WINOGRAD_CONV_POOL,
  backendName: 'wasm',
  kernelFunc: wasmKernel as unknown as tf.KernelFunc,
};

/** The kernel, on the cpu backend (bench and tests compare backends). */
export const winogradConvPoolCpuConfig: tf.KernelConfig = {
  kernelName: WINOGRAD_CONV_POOL,
  backendName: 'cpu',
  kernelFunc: cpuKernel as unknown as tf.KernelFunc,
};

/**
 * maxPool2x2(relu(conv5x5_same(x, filter) + bias)) by F(2x2, 5x5), or by conv2d, add, relu and
 * maxPool when a value before ReLU is not finite (see the header).
 */
export function winogradConvBiasReluPool(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D {
  const [out, finite] = tf.engine().runKernel(WINOGRAD_CONV_POOL, { x, filter, bias } as unknown as tf.NamedTensorMap) as [
    tf.Tensor4D,
    tf.Tensor,
  ];
  const allFinite = finite.dataSync()[0] === 1;
  finite.dispose();
  if (allFinite) return out;
  out.dispose();
  return convBiasReluPoolOps(x, filter, bias);
}
