// Sum over every axis but the last (the bias gradients: dy summed over batch and positions) on the
// project's own WebAssembly (in place on the heap, on the kernels' threads): the same float32
// additions in the same order as tfjs-backend-wasm's Sum, which first transposes the channels to
// the front (a full copy) and then sums each channel row by row. Other reductions, other dtypes,
// and runtimes without SIMD go to the stock kernel. Under withReduceOrder('shuffled') the same sums
// run in a seeded random order per output instead (a 2016 GPU's atomic adds, replayable): on the
// own WebAssembly (assembly/kernels/SumShuffled.ts), or without SIMD in sumColumnsShuffled here,
// the reference both give the bits of.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { addressOf, heapKernelsOf } from '../own-wasm/heap-kernels';
import { shuffleInPlace, type MT19937 } from '../random/prng';
import { scopedPolicy } from './scoped-policy';
import { heapF32 } from './wasm-kernel-utils';

/** The order in which the training step's reductions add their terms. */
export interface ReduceOrderPolicy {
  order: 'fixed' | 'shuffled';
  /**
   * Which reductions 'shuffled' applies to: 'bias' = the Sums over all axes but the last (the bias
   * gradients, this file), 'filter' = the convolutions' filter gradients (Conv2DBackpropFilter.ts),
   * 'all' = both. Default 'bias'.
   */
  shuffle?: 'bias' | 'filter' | 'all';
  /** Required for 'shuffled': each output's order is drawn from it, output by output, in the order the kernels run. */
  rng?: MT19937;
}

// The summation order in force (see scoped-policy.ts). Inside a training step the only Sums over all
// axes but the last are the four bias gradients (tfjs's Add gradient for the broadcast bias).
const reduceOrder = scopedPolicy<ReduceOrderPolicy>({ order: 'fixed' }, (policy) => {
  if (policy.order === 'shuffled' && !policy.rng) throw new Error("reduce order 'shuffled' needs an rng");
});

/** Runs `fn` with `policy` as the reductions' summation order, then restores the previous one. */
export function withReduceOrder<T>(policy: ReduceOrderPolicy, fn: () => T): T {
  return reduceOrder.run(policy, fn);
}

/** The stream to draw `reduction`'s orders from when the policy in force shuffles it, else null. */
export function shuffledReductionRng(reduction: 'bias' | 'filter'): MT19937 | null {
  const { order, shuffle = 'bias', rng } = reduceOrder.current;
  if (order !== 'shuffled' || (shuffle !== 'all' && shuffle !== reduction)) return null;
  return rng!;
}

/**
 * out[c] = x[p[0]][c] + x[p[1]][c] + ... for a rows x cols float32 matrix: a float32 sum from +0, one
 * term at a time, where p is a fresh `np.random.permutation(rows)` from `rng` for each column
 * c = 0, 1, ... in turn (what an atomic-add reduction gives, in an order the scheduler happened to
 * pick). The identity permutation gives the fixed-order kernel's bits. Runs on the calling thread,
 * so results do not depend on the thread count. Cost: a swap (~1.4 MT19937 draws with numpy's
 * rejection) and an add per term, 1.9M terms per step of the seed model; the WebAssembly kernel
 * (assembly/kernels/SumShuffled.ts) takes about half this function's time (`bench --subjects
 * engine,engine-shuffled-bias`).
 */
export function sumColumnsShuffled(
  x: Float32Array,
  rows: number,
  cols: number,
  rng: MT19937,
  out: Float32Array = new Float32Array(cols),
): Float32Array {
  const order = new Uint32Array(rows);
  for (let c = 0; c < cols; c++) {
    for (let r = 0; r < rows; r++) order[r] = r;
    shuffleInPlace(order, rng);
    let acc = 0;
    // Both operands are float32, so rounding their double sum to float32 is float32 addition.
    for (let r = 0; r < rows; r++) acc = Math.fround(acc + x[order[r] * cols + c]);
    out[c] = acc;
  }
  return out;
}

/**
 * True when `axis` is 0, 1, .., rank-2 in that order (as gradients pass it). In another order the
 * stock kernel sums in that other order, so such calls are left to it.
 */
function isAllButLast(axis: number | number[], rank: number): boolean {
  const axes = tf.util.parseAxisParam(axis, new Array(rank).fill(1));
  return rank >= 2 && axes.length === rank - 1 && axes.every((a, i) => a === i);
}

/** The replacement Sum, around the stock kernel (whose setup it keeps). */
export function sumConfig(stockConfig: tf.KernelConfig): tf.KernelConfig {
  const stock = stockConfig.kernelFunc;
  const kernelFunc = ((args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }) => {
    const backend = args.backend as BackendWasm;
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as tf.SumAttrs;
    const rank = x.shape.length;
    const fits = x.dtype === 'float32' && isAllButLast(axis, rank) && tf.util.sizeFromShape(x.shape) > 0;
    const kernels = heapKernelsOf(backend);
    const rng = fits ? shuffledReductionRng('bias') : null;
    if (!fits || (!kernels && !rng)) return stock(args as Parameters<tf.KernelFunc>[0]);
    const cols = x.shape[rank - 1];
    const rows = tf.util.sizeFromShape(x.shape) / cols;
    const outShape = keepDims ? [...new Array(rank - 1).fill(1), cols] : [cols];
    const out = backend.makeOutput(outShape, 'float32');
    if (rng && kernels) kernels.sumShuffled(addressOf(backend, x), addressOf(backend, out), rows, cols, rng);
    else if (rng) sumColumnsShuffled(heapF32(backend, x), rows, cols, rng, heapF32(backend, out));
    else kernels!.sum(addressOf(backend, x), addressOf(backend, out), rows, cols);
    return out;
  }) as unknown as tf.KernelFunc;
  return { kernelName: tf.Sum, backendName: 'wasm', setupFunc: stockConfig.setupFunc, kernelFunc };
}
