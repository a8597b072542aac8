// The only place that changes tfjs's kernel registry: adds the missing kernel, replaces the slow or
// non-TensorFlow-faithful ones, and registers the project's own. One convention: each kernel file
// exports its KernelConfig as `<kernel>Config` (a function of the stock config where the
// replacement keeps the stock kernel's setup and calls it for the cases it leaves alone). Call
// after the wasm backend is initialised, so the stock kernels' setup has already run.
import * as tf from '@tensorflow/tfjs-core';
import { batchMatMulConfig } from './BatchMatMul';
import { broadcastFirstChannelConfig } from './BroadcastFirstChannel';
import { conv2DConfig } from './Conv2D';
import { conv2DBackpropFilterConfig } from './Conv2DBackpropFilter';
import { conv2DBackpropInputConfig } from './Conv2DBackpropInput';
import { convPoolConfig } from './ConvPool';
import { identityConfig } from './Identity';
import { maxPoolGradConfig } from './MaxPoolGrad';
import { reluGradConfig, reluGradientConfig } from './ReluGrad';
import { sumConfig } from './Sum';
import { winogradConvPoolConfig, winogradConvPoolCpuConfig } from './WinogradConvPool';
import { setOwnWasm, type SwitchableKernel } from './own-wasm-switch';

/** Which kernels train: the project's, or tfjs-backend-wasm's own plus only the missing one. */
export type KernelSet = 'project' | 'stock';

const REPLACED = [tf.Conv2D, tf.BatchMatMul, tf.Conv2DBackpropInput, tf.MaxPoolGrad, tf.Sum, tf.Identity];
const SWITCHABLE: SwitchableKernel[] = ['Conv2D', 'BatchMatMul', 'MaxPoolGrad', 'ReluGrad'];
let stock: Record<string, tf.KernelConfig> | null = null;

function replace(config: tf.KernelConfig): void {
  if (tf.getKernel(config.kernelName, config.backendName)) tf.unregisterKernel(config.kernelName, config.backendName);
  tf.registerKernel(config);
}

function installProjectKernels(saved: Record<string, tf.KernelConfig>): void {
  replace(batchMatMulConfig(saved[tf.BatchMatMul]));
  replace(conv2DConfig(saved[tf.Conv2D]));
  replace(sumConfig(saved[tf.Sum]));
  replace(identityConfig(saved[tf.Identity]));
  replace(conv2DBackpropFilterConfig);
  replace(conv2DBackpropInputConfig);
  replace(maxPoolGradConfig);
  for (const kernel of SWITCHABLE) setOwnWasm(kernel, true);
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
  replace(reluGradConfig);
  tf.registerGradient(reluGradientConfig);
  replace(convPoolConfig);
  replace(winogradConvPoolConfig);
  replace(winogradConvPoolCpuConfig);
  replace(broadcastFirstChannelConfig);
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
    setOwnWasm('ReluGrad', false);
  } else installProjectKernels(stock);
}
