// MaxPoolGrad with TensorFlow's CPU tie rule: a window's whole gradient goes to its FIRST maximum
// in row-major order (tfjs-backend-wasm's stock kernel picks the LAST one), or, as a symmetry-breaking
// knob, the last one or a seeded random one.
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { randomInterval, type MT19937 } from '../random/prng';
import { scopedPolicy } from './scoped-policy';
import { heapF32 } from './wasm-kernel-utils';
import { addressOf, heapKernelsOf, type PoolGeometry } from '../own-wasm/heap-kernels';
import { ownWasmOn } from './own-wasm-switch';

// The first/last rules run on the project's own WebAssembly wherever it runs (heapKernelsOf says:
// WebAssembly SIMD), with the same bits.

/** Which tied maximum of a pooling window receives the gradient. */
export type PoolTieRule = 'first' | 'last' | 'random';

/** A tie rule with, for 'random', the generator that picks among the tied maxima. */
export interface PoolTiePolicy {
  rule: PoolTieRule;
  /** Required for 'random': one draw per window (and channel) that has two or more tied maxima. */
  rng?: MT19937;
}

// The tie rule in force (see scoped-policy.ts): installed around one gradient computation by withPoolTies.
const poolTies = scopedPolicy<PoolTiePolicy>({ rule: 'first' }, (policy) => {
  if (policy.rule === 'random' && !policy.rng) throw new Error("pool tie rule 'random' needs an rng");
});

/** Selects the default tie rule ('first' or 'last') used outside withPoolTies (default: 'first'). */
export function setPoolTieRule(rule: 'first' | 'last'): void {
  poolTies.set({ rule });
}

/** Runs `fn` with `policy` as the tie rule (each Trainer passes its own rng), then restores the previous one. */
export function withPoolTies<T>(policy: PoolTiePolicy, fn: () => T): T {
  return poolTies.run(policy, fn);
}

/**
 * dx[n,y,x,c] receives dy of every pooling window whose chosen maximum is (y,x). Windows are scanned
 * row-major; padded cells (SAME) never win. With 'first', a candidate replaces the current best only
 * if strictly greater (TF's SpatialMaxPoolWithArgMaxHelper); with 'last', also when equal; with
 * 'random', one of the tied maxima drawn uniformly (randomInterval, so numpy's RandomState would pick
 * the same). A window of NaNs keeps its first cell, so NaN gradients still flow.
 */
export function maxPoolGradFirstMax(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }): tf.TensorInfo {
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
  const { batchSize, inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth } = info;
  const C = info.inChannels;
  const fh = info.effectiveFilterHeight;
  const fw = info.effectiveFilterWidth;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const geometry: PoolGeometry = {
    batch: batchSize,
    inH: inHeight,
    inW: inWidth,
    C,
    outH: outHeight,
    outW: outWidth,
    fh,
    fw,
    sh: strideHeight,
    sw: strideWidth,
    padTop,
    padLeft,
  };
  // The own kernel (in place, on the kernels' threads): channels a multiple of 4, windows that never overlap.
  const kernels =
    poolTies.current.rule !== 'random' && ownWasmOn('MaxPoolGrad') && C % 4 === 0 && strideHeight >= fh && strideWidth >= fw
      ? heapKernelsOf(backend)
      : null;
  if (kernels) {
    kernels.maxPoolGrad(
      addressOf(backend, input),
      addressOf(backend, dy),
      addressOf(backend, dxInfo),
      geometry,
      poolTies.current.rule === 'last',
    );
    return dxInfo;
  }
  const x = heapF32(backend, input);
  const g = heapF32(backend, dy);
  const dx = heapF32(backend, dxInfo);
  dx.fill(0);
  const { rule, rng: tieRng } = poolTies.current;
  const takeEqual = rule === 'last';
  const rng = rule === 'random' ? tieRng! : null;
  const best = new Float32Array(C);
  const bestIndex = new Int32Array(C);
  const ties = new Int32Array(C);
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
          ties[c] = 1;
        }
        for (let yy = yStart; yy < yEnd; yy++) {
          for (let xx = xStart; xx < xEnd; xx++) {
            const base = xBase + (yy * inWidth + xx) * C;
            if (base === first) continue;
            for (let c = 0; c < C; c++) {
              const v = x[base + c];
              if (v > best[c]) {
                best[c] = v;
                bestIndex[c] = base + c;
                ties[c] = 1;
              } else if (v === best[c]) {
                ties[c]++;
                if (takeEqual) bestIndex[c] = base + c;
              }
            }
          }
        }
        if (rng) {
          for (let c = 0; c < C; c++) {
            if (ties[c] > 1)
              bestIndex[c] = nthTied(x, best[c], randomInterval(rng, ties[c] - 1), xBase, yStart, yEnd, xStart, xEnd, inWidth, C, c);
          }
        }
        const gBase = ((n * outHeight + oy) * outWidth + ox) * C;
        for (let c = 0; c < C; c++) dx[bestIndex[c]] += g[gBase + c];
      }
    }
  }
  return dxInfo;
}

/** Heap index of the k-th (0-based, row-major) cell of a window equal to its maximum `max`. */
function nthTied(
  x: Float32Array,
  max: number,
  k: number,
  xBase: number,
  yStart: number,
  yEnd: number,
  xStart: number,
  xEnd: number,
  inWidth: number,
  C: number,
  c: number,
): number {
  for (let yy = yStart; yy < yEnd; yy++) {
    for (let xx = xStart; xx < xEnd; xx++) {
      const i = xBase + (yy * inWidth + xx) * C + c;
      if (x[i] === max && k-- === 0) return i;
    }
  }
  throw new Error('MaxPoolGrad: tied maximum not found');
}

/** Replaces tfjs-backend-wasm's MaxPoolGrad. */
export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGradFirstMax as unknown as tf.KernelFunc,
};
