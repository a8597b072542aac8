// BatchMatMul for single matrices: the untransposed product runs on the project's own GEMM
// (own-wasm/heap-kernels.ts: on every thread, the left operand read in place, the right one
// packed), or on XNNPACK's where that cannot run. The stock wasm kernel uses XNNPACK only without
// transposes (else a scalar loop, ~50x slower), and both GEMMs pack the right operand on every
// call, so each transposed case is rewritten to transpose only the smaller operand:
//   A^T B = (A^T) B            (transpose A explicitly)
//   A B^T = (B A^T)^T          (pack A^T, the small one, not the large B)
//   A^T B^T = (B A)^T
// Every form sums each output over k in order from 0, so all give the same bits (NaN as NaN).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ownBatchMatMul } from '../own-wasm/heap-kernels';
import { ownWasmOn } from './own-wasm-switch';
import { disposeIntermediates, transpose } from './wasm-kernel-utils';

/** A rank-2 matrix or a rank-3 batch of one (tfjs passes matMul's 2-D operands as they are). */
function isSingleMatrix(t: tf.TensorInfo): boolean {
  return t.shape.length === 2 || (t.shape.length === 3 && t.shape[0] === 1);
}

/** Permutation swapping the last two axes. */
function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return perm;
}

/** The replacement BatchMatMul, around the stock kernel (which handles the untransposed case; its setup is kept). */
export function batchMatMulConfig(stockConfig: tf.KernelConfig): tf.KernelConfig {
  const stock = stockConfig.kernelFunc;
  const plain = (backend: BackendWasm, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo => {
    const [m, k] = a.shape.slice(-2);
    const n = b.shape[b.shape.length - 1];
    const stockPlain = () => stock({ inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } }) as tf.TensorInfo;
    if (!ownWasmOn('BatchMatMul') || a.dtype !== 'float32' || b.dtype !== 'float32' || m * k * n === 0) return stockPlain();
    const out = backend.makeOutput(a.shape.length === 3 || b.shape.length === 3 ? [1, m, n] : [m, n], 'float32');
    if (ownBatchMatMul(backend, a, b, out, m, k, n)) return out;
    backend.disposeData(out.dataId);
    return stockPlain();
  };

  const kernelFunc = ((args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }) => {
    const backend = args.backend as BackendWasm;
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
    if (!isSingleMatrix(a) || !isSingleMatrix(b)) return stock(args as Parameters<tf.KernelFunc>[0]);
    if (!transposeA && !transposeB) return plain(backend, a, b);
    const swapA = swapLastTwo(a.shape.length);
    if (transposeA && !transposeB) {
      const aT = transpose(backend, a, swapA);
      const out = plain(backend, aT, b);
      disposeIntermediates(backend, aT);
      return out;
    }
    if (!transposeA && transposeB) {
      const aT = transpose(backend, a, swapA);
      const bat = plain(backend, b, aT);
      const out = transpose(backend, bat, swapLastTwo(bat.shape.length));
      disposeIntermediates(backend, aT, bat);
      return out;
    }
    const ba = plain(backend, b, a);
    const out = transpose(backend, ba, swapLastTwo(ba.shape.length));
    disposeIntermediates(backend, ba);
    return out;
  }) as unknown as tf.KernelFunc;
  return { kernelName: tf.BatchMatMul, backendName: 'wasm', setupFunc: stockConfig.setupFunc, kernelFunc };
}
