// MaxPoolGrad with TensorFlow's CPU tie rule: a window's whole gradient goes to its FIRST maximum
// in row-major order (tfjs-backend-wasm's stock kernel picks the LAST one).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapF32 } from './wasm-kernel-utils';

/** Which tied maximum of a pooling window receives the gradient. */
export type PoolTieRule = 'first' | 'last';

let tieRule: PoolTieRule = 'first';

/** Selects the tie rule used by the registered MaxPoolGrad kernel (default: TensorFlow's 'first'). */
export function setPoolTieRule(rule: PoolTieRule): void {
  tieRule = rule;
}

/**
 * dx[n,y,x,c] receives dy of every pooling window whose chosen maximum is (y,x). Windows are scanned
 * row-major; padded cells (SAME) never win. With 'first', a candidate replaces the current best only
 * if strictly greater (TF's SpatialMaxPoolWithArgMaxHelper); with 'last', also when equal. A window
 * of NaNs keeps its first cell, so NaN gradients still flow.
 */
export function maxPoolGradFirstMax(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    filterSize,
    strides,
    1,
    pad,
    dimRoundingMode,
  );
  const dxInfo = backend.makeOutput(input.shape, 'float32');
  const x = heapF32(backend, input);
  const g = heapF32(backend, dy);
  const dx = heapF32(backend, dxInfo);
  dx.fill(0);
  const { batchSize, inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth } = info;
  const C = info.inChannels;
  const fh = info.effectiveFilterHeight;
  const fw = info.effectiveFilterWidth;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const takeEqual = tieRule === 'last';
  const best = new Float32Array(C);
  const bestIndex = new Int32Array(C);
  for (let n = 0; n < batchSize; n++) {
    const xBase = n * inHeight * inWidth * C;
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = oy * strideHeight - padTop;
      const yStart = Math.max(0, y0);
      const yEnd = Math.min(inHeight, y0 + fh);
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = ox * strideWidth - padLeft;
        const xStart = Math.max(0, x0);
        const xEnd = Math.min(inWidth, x0 + fw);
        const first = xBase + (yStart * inWidth + xStart) * C;
        for (let c = 0; c < C; c++) {
          best[c] = x[first + c];
          bestIndex[c] = first + c;
        }
        for (let yy = yStart; yy < yEnd; yy++) {
          for (let xx = xStart; xx < xEnd; xx++) {
            const base = xBase + (yy * inWidth + xx) * C;
            if (base === first) continue;
            for (let c = 0; c < C; c++) {
              const v = x[base + c];
              if (v > best[c] || (takeEqual && v === best[c])) {
                best[c] = v;
                bestIndex[c] = base + c;
              }
            }
          }
        }
        const gBase = ((n * outHeight + oy) * outWidth + ox) * C;
        for (let c = 0; c < C; c++) dx[bestIndex[c]] += g[gBase + c];
      }
    }
  }
  return dxInfo;
}

/** Replaces tfjs-backend-wasm's MaxPoolGrad. */
export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGradFirstMax as unknown as tf.KernelFunc,
};
