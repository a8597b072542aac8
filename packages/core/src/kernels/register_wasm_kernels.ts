// The only place that changes tfjs-backend-wasm's kernel registry: adds the missing kernel and
// replaces the slow or non-TensorFlow-faithful ones. Call after the wasm backend is initialised,
// so the stock kernels' setup (wasm function bindings) has already run.
import * as tf from '@tensorflow/tfjs-core';
import { makeBatchMatMul } from './BatchMatMul';
import { makeConv2D } from './Conv2D';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter';
import { conv2DBackpropInputConfig } from './Conv2DBackpropInput';
import { maxPoolGradConfig } from './MaxPoolGrad';
import { makeIdentity } from './Identity';
import { registerReluGrad, setReluGradOwnWasm } from './ReluGrad';
import { registerWinogradConvPool } from './WinogradConvPool';
import { registerConvPool } from './ConvPool';
import { registerBroadcastFirstChannel } from './BroadcastFirstChannel';
import { makeSum } from './Sum';

/** Which kernels train: the project's, or tfjs-backend-wasm's own plus only the missing one. */
export type KernelSet = 'project' | 'stock';

const REPLACED = [tf.Conv2D, tf.BatchMatMul, tf.Conv2DBackpropInput, tf.MaxPoolGrad, tf.Sum, tf.Identity];
let stock: Record<string, tf.KernelConfig> | null = null;

function replace(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, 'wasm')) tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel(config);
}

function installProjectKernels(saved: Record<string, tf.KernelConfig>): void {
  const stockMatMul = saved[tf.BatchMatMul];
  // Keep the stock setup: it binds the stock kernel (which the replacement calls) to the wasm instance.
  replace({
    kernelName: tf.BatchMatMul,
    backendName: 'wasm',
    setupFunc: stockMatMul.setupFunc,
    kernelFunc: makeBatchMatMul(stockMatMul.kernelFunc),
  });
  const stockConv = saved[tf.Conv2D];
  replace({ kernelName: tf.Conv2D, backendName: 'wasm', setupFunc: stockConv.setupFunc, kernelFunc: makeConv2D(stockConv.kernelFunc) });
  const stockSum = saved[tf.Sum];
  replace({ kernelName: tf.Sum, backendName: 'wasm', setupFunc: stockSum.setupFunc, kernelFunc: makeSum(stockSum.kernelFunc) });
  const stockIdentity = saved[tf.Identity];
  replace({
    kernelName: tf.Identity,
    backendName: 'wasm',
    setupFunc: stockIdentity.setupFunc,
    kernelFunc: makeIdentity(stockIdentity.kernelFunc),
  });
  replace(conv2DBackpropFilterConfig);
  replace(conv2DBackpropInputConfig);
  replace(maxPoolGradConfig);
  registerReluGrad();
  setReluGradOwnWasm(true);
}

/** Registers the project's wasm kernels once; later calls are no-ops. */
export function registerWasmKernels(): void {
  if (stock) return;
  const saved: Record<string, tf.KernelConfig> = {};
  for (const name of REPLACED) {
    const config = tf.getKernel(name, 'wasm');
    if (!config) throw new Error(`tfjs-backend-wasm has no ${name} kernel`);
    saved[name] = config;
  }
  installProjectKernels(saved);
  registerWinogradConvPool();
  registerConvPool();
  registerBroadcastFirstChannel();
  stock = saved;
}

/**
 * Switches between the project's kernels and the stock ones (plus the missing
 * Conv2DBackpropFilter), for benchmarks that compare them in one process. Training must use
 * 'project': the stock MaxPoolGrad is not TensorFlow-faithful.
 */
export function useKernelSet(set: KernelSet): void {
  if (!stock) throw new Error('registerWasmKernels() has not run');
  if (set === 'stock') {
    for (const config of Object.values(stock)) replace(config);
    setReluGradOwnWasm(false);
  } else installProjectKernels(stock);
}
