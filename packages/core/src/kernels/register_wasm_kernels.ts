// The only place that changes tfjs-backend-wasm's kernel registry: adds the missing kernel and
// replaces the slow or non-TensorFlow-faithful ones. Call after the wasm backend is initialised,
// so the stock kernels' setup (wasm function bindings) has already run.
import * as tf from '@tensorflow/tfjs-core';
import { makeBatchMatMul } from './BatchMatMul';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter';
import { conv2DBackpropInputConfig } from './Conv2DBackpropInput';
import { maxPoolGradConfig } from './MaxPoolGrad';

let registered = false;

function replace(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel(config);
}

/** Registers the project's wasm kernels once; later calls are no-ops. */
export function registerWasmKernels(): void {
  if (registered) return;
  const stockMatMul = tf.getKernel(tf.BatchMatMul, 'wasm');
  if (!stockMatMul) throw new Error('tfjs-backend-wasm has no BatchMatMul kernel');
  // Keep the stock setup: it binds the stock kernel (which the replacement calls) to the wasm instance.
  replace({
    kernelName: tf.BatchMatMul,
    backendName: 'wasm',
    setupFunc: stockMatMul.setupFunc,
    kernelFunc: makeBatchMatMul(stockMatMul.kernelFunc),
  });
  replace(conv2DBackpropFilterConfig);
  replace(conv2DBackpropInputConfig);
  replace(maxPoolGradConfig);
  registered = true;
}
