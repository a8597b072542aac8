// Symmetric execution's copy (dense/symmetric-exec.ts): x's first channel (last axis) repeated
// `width` times, bits copied. On the own WebAssembly (assembly/kernels/BroadcastFirstChannel.ts, every thread);
// tf.tile of a slice elsewhere (the same bits; tfjs-backend-wasm's Tile took 2.6 s per 1000
// evaluation images where this takes milliseconds).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { addressOf, heapKernelsOf } from '../own-wasm/heap-kernels';

/** The kernel's name. */
export const BROADCAST_FIRST_CHANNEL = 'MnistSymBroadcastFirstChannel';

function wasmKernel(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const width = args.attrs.width as number;
  const srcWidth = x.shape[x.shape.length - 1];
  const rows = x.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([...x.shape.slice(0, -1), width], 'float32');
  heapKernelsOf(backend)!.broadcastFirst(addressOf(backend, x), srcWidth, addressOf(backend, out), width, rows);
  return out;
}

/** The kernel, on the wasm backend. */
export const broadcastFirstChannelConfig: tf.KernelConfig = {
  kernelName: BROADCAST_FIRST_CHANNEL,
  backendName: 'wasm',
  kernelFunc: wasmKernel as unknown as tf.KernelFunc,
};

/** x with its first channel (last axis) copied `width` times. */
export function broadcastFirstChannel<T extends tf.Tensor>(x: T, width: number): T {
  if (tf.getBackend() === 'wasm' && x.dtype === 'float32' && x.size > 0 && heapKernelsOf(tf.backend() as BackendWasm)) {
    return tf.engine().runKernel(BROADCAST_FIRST_CHANNEL, { x } as unknown as tf.NamedTensorMap, { width }) as T;
  }
  const begin = x.shape.map(() => 0);
  const size = x.shape.map((d, i) => (i === x.rank - 1 ? 1 : d));
  const reps = x.shape.map((_, i) => (i === x.rank - 1 ? width : 1));
  return tf.tile(tf.slice(x, begin, size), reps) as T;
}
