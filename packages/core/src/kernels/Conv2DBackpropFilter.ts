// Conv2DBackpropFilter, missing from tfjs-backend-wasm, expressed as one XNNPACK Conv2D:
// dW[kh,kw,ci,co] = sum_{n,y,x} x[n, y*s+kh-pt, x*s+kw-pl, ci] * dy[n,y,x,co], which is a convolution
// of x viewed as [ci, H, W, n] (batch = ci, channels = n) with dy viewed as a filter [OH, OW, n, co].
// Under withReduceOrder('shuffled') with shuffle 'filter' or 'all' it emulates cuDNN's
// non-deterministic backward-filter algorithms instead (conv2DBackpropFilterShuffled). Otherwise,
// when x and dy are finite and ci is a multiple of 4, the same sums without their zero-dy terms
// (most of dy, after ReLU and max-pool), bitwise the same (kernels/zero-skip.ts).
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { addressOf, heapKernelsOf, ownConv2DFits, type ConvGeometry } from '../own-wasm/heap-kernels';
import { shuffleInPlace, type MT19937 } from '../random/prng';
import { ownWasmOn } from './own-wasm-switch';
import { shuffledReductionRng } from './Sum';
import { disposeIntermediates, heapF32, runWasmKernel, stride1ConvInfo, transpose } from './wasm-kernel-utils';
import { convGeometry } from './Conv2D';
import { convGradZeroSkip, zeroSkipCounts } from './zero-skip';

/** A filter gradient's sizes: x [n, h, w, ci], dy [n, oh, ow, co], dW [kh, kw, ci, co]; padding pt on top, pl on the left. */
export interface FilterGradGeometry {
  n: number;
  h: number;
  w: number;
  ci: number;
  oh: number;
  ow: number;
  co: number;
  kh: number;
  kw: number;
  pt: number;
  pl: number;
}

/**
 * The per-image partial sums, parts[b][ci][kh][kw][co] = the float32 sum from +0 over y < oh, then
 * x < ow (row order), of x[b, kh+y-pt, kw+x-pl, ci] * dy[b, y, x, co], a padded position reading 0:
 * what the own convolution computes for one image (one input channel, so one term per tap). A plain
 * loop: the reference, and the path where the own convolution does not run (no SIMD, output
 * channels not a multiple of 16, setOwnWasm('Conv2D', false)).
 */
export function filterPartialsLoop(x: Float32Array, dy: Float32Array, g: FilterGradGeometry, parts?: Float32Array): Float32Array {
  const { n, h, w, ci, oh, ow, co, kh, kw, pt, pl } = g;
  const out = parts ?? new Float32Array(n * ci * kh * kw * co);
  const acc = new Float32Array(1);
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let c = 0; c < ci; c++) {
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          for (let d = 0; d < co; d++) {
            acc[0] = 0;
            for (let y = 0; y < oh; y++) {
              const iy = ky + y - pt;
              for (let xx = 0; xx < ow; xx++) {
                const ix = kx + xx - pl;
                const xv = iy >= 0 && iy < h && ix >= 0 && ix < w ? x[((b * h + iy) * w + ix) * ci + c] : 0;
                acc[0] += Math.fround(xv * dy[((b * oh + y) * ow + xx) * co + d]);
              }
            }
            out[o++] = acc[0];
          }
        }
      }
    }
  }
  return out;
}

/**
 * dW[kh][kw][ci][co] = parts[p[0]][e] + parts[p[1]][e] + ... (e = [ci][kh][kw][co], parts as
 * filterPartialsLoop lays them out): a float32 sum from +0, one partial at a time, where p is a fresh
 * `np.random.permutation(n)` from `rng` for each output in dW's order (kh, kw, ci, co). This is an
 * atomic-add reduction whose blocks (here: images) finish in an order the scheduler picked.
 */
export function sumPartialsShuffled(parts: Float32Array, g: FilterGradGeometry, rng: MT19937, out?: Float32Array): Float32Array {
  const { n, ci, co, kh, kw } = g;
  const size = ci * kh * kw * co;
  const dw = out ?? new Float32Array(size);
  const order = new Uint32Array(n);
  let o = 0;
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      for (let c = 0; c < ci; c++) {
        const base = ((c * kh + ky) * kw + kx) * co;
        for (let d = 0; d < co; d++) {
          for (let r = 0; r < n; r++) order[r] = r;
          shuffleInPlace(order, rng);
          let acc = 0;
          // Both operands are float32, so rounding their double sum to float32 is float32 addition.
          for (let r = 0; r < n; r++) acc = Math.fround(acc + parts[order[r] * size + base + d]);
          dw[o++] = acc;
        }
      }
    }
  }
  return dw;
}

/** For each output of dW in its order (kh, kw, ci, co), its column e = [ci][kh][kw][co] of the partials. */
function partialColumns(g: FilterGradGeometry): Uint32Array {
  const { ci, co, kh, kw } = g;
  const columns = new Uint32Array(ci * kh * kw * co);
  let o = 0;
  for (let ky = 0; ky < kh; ky++)
    for (let kx = 0; kx < kw; kx++)
      for (let c = 0; c < ci; c++) for (let d = 0; d < co; d++) columns[o++] = ((c * kh + ky) * kw + kx) * co + d;
  return columns;
}

/**
 * dW as cuDNN's non-deterministic backward-filter algorithms computed it (floating-point atomic adds
 * of per-block partial sums, 2016): each image's partial sum in the fixed order (the own
 * convolution of image b's x as [ci, h, w, 1] with its dy as a filter [oh, ow, 1, co], on every
 * thread; filterPartialsLoop's bits), then the n partials added in an order drawn per output and
 * per step, on the calling thread (the own WebAssembly's SumShuffled.ts where the partials come
 * from the own convolution, else sumPartialsShuffled: the same bits). Replays bitwise from the
 * stream, on any thread count.
 */
function conv2DBackpropFilterShuffled(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  g: FilterGradGeometry,
  filterShape: number[],
  rng: MT19937,
): tf.TensorInfo {
  const { n, h, w, ci, oh, ow, co, kh, kw, pt, pl } = g;
  const size = ci * kh * kw * co;
  const dw = backend.makeOutput(filterShape, 'float32');
  const kernels = heapKernelsOf(backend);
  if (kernels && shuffledPartialsZeroSkip(backend, kernels, x, dy, dw, g, rng)) return dw;
  const conv: ConvGeometry = { batch: ci, h, w, c: 1, kh: oh, kw: ow, co, oh: kh, ow: kw, padTop: pt, padLeft: pl };
  if (kernels && ownWasmOn('Conv2D') && ownConv2DFits(conv)) {
    const xT = transpose(backend, x, [0, 3, 1, 2]); // [n, ci, h, w]: image b is a batch of ci one-channel images
    const partsInfo = backend.makeOutput([n, size], 'float32');
    const xAt = addressOf(backend, xT);
    const dyAt = addressOf(backend, dy);
    const partsAt = addressOf(backend, partsInfo);
    for (let b = 0; b < n; b++) {
      kernels.conv2D(xAt + 4 * b * ci * h * w, dyAt + 4 * b * oh * ow * co, partsAt + 4 * b * size, conv);
    }
    kernels.sumShuffled(partsAt, addressOf(backend, dw), n, size, rng, partialColumns(g));
    disposeIntermediates(backend, xT, partsInfo);
    return dw;
  }
  const parts = filterPartialsLoop(heapF32(backend, x), heapF32(backend, dy), g);
  sumPartialsShuffled(parts, g, rng, heapF32(backend, dw));
  return dw;
}

/**
 * The shuffled filter gradient with each image's partial from the zero-skipping kernel (batch 1:
 * its sum over output row then column, the conv formulation's order, terms with dy = 0 left out,
 * exact for finite x and dy), in dW's own layout, so the drawn-order sums need no column list.
 * False where it does not apply (zero skipping off, input channels not a multiple of 4, a value
 * not finite); then nothing is written.
 */
function shuffledPartialsZeroSkip(
  backend: BackendWasm,
  kernels: NonNullable<ReturnType<typeof heapKernelsOf>>,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  dw: tf.TensorInfo,
  g: FilterGradGeometry,
  rng: MT19937,
): boolean {
  const { n, h, w, ci, oh, ow, co, kh, kw, pt, pl } = g;
  if (!convGradZeroSkip() || ci % 4 !== 0 || n * oh * ow === 0) return false;
  const xAt = addressOf(backend, x);
  const dyAt = addressOf(backend, dy);
  if (!kernels.allFinite([xAt, n * h * w * ci], [dyAt, n * oh * ow * co])) return false;
  const size = kh * kw * ci * co;
  const one: ConvGeometry = { batch: 1, h, w, c: ci, kh, kw, co, oh, ow, padTop: pt, padLeft: pl };
  const partsInfo = backend.makeOutput([n, size], 'float32');
  const partsAt = addressOf(backend, partsInfo);
  // One image's x, [H][W][ci], is the kernel's [H][W][batch 1][ci].
  for (let b = 0; b < n; b++)
    kernels.filterGradZeroSkip(xAt + 4 * b * h * w * ci, dyAt + 4 * b * oh * ow * co, partsAt + 4 * b * size, one);
  kernels.sumShuffled(partsAt, addressOf(backend, dw), n, size, rng);
  disposeIntermediates(backend, partsInfo);
  return true;
}

/** dW by the zero-skipping kernel, or null where it does not apply (then nothing is allocated). */
function filterGradZeroSkip(backend: BackendWasm, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo) {
  const g = convGeometry(info);
  const kernels = convGradZeroSkip() && x.dtype === 'float32' && dy.dtype === 'float32' && g.c % 4 === 0 ? heapKernelsOf(backend) : null;
  if (!kernels || g.batch * g.oh * g.ow === 0) return null;
  const xAt = addressOf(backend, x);
  const dyAt = addressOf(backend, dy);
  if (!kernels.allFinite([xAt, g.batch * g.h * g.w * g.c], [dyAt, g.batch * g.oh * g.ow * g.co])) return null;
  const xs = transpose(backend, x, [1, 2, 0, 3]); // [H, W, n, ci]: one (oy, ox)'s terms in consecutive rows
  const dw = backend.makeOutput([g.kh, g.kw, g.c, g.co], 'float32');
  kernels.filterGradZeroSkip(addressOf(backend, xs), dyAt, addressOf(backend, dw), g);
  disposeIntermediates(backend, xs);
  return dw;
}

/** dW for a stride-1, dilation-1 NHWC convolution (the only kind the seed's model uses). */
export function conv2DBackpropFilterViaConv2D(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const info = stride1ConvInfo('Conv2DBackpropFilter', x.shape, attrs.filterShape, attrs);
  const { top, bottom, left, right } = info.padInfo;
  const rng = x.dtype === 'float32' && dy.dtype === 'float32' ? shuffledReductionRng('filter') : null;
  if (rng) {
    const g: FilterGradGeometry = {
      n: info.batchSize,
      h: info.inHeight,
      w: info.inWidth,
      ci: info.inChannels,
      oh: info.outHeight,
      ow: info.outWidth,
      co: info.outChannels,
      kh: info.filterHeight,
      kw: info.filterWidth,
      pt: top,
      pl: left,
    };
    return conv2DBackpropFilterShuffled(backend, x, dy, g, attrs.filterShape, rng);
  }
  const skipped = filterGradZeroSkip(backend, x, dy, info);
  if (skipped) {
    zeroSkipCounts.filterSkipped++;
    return skipped;
  }
  zeroSkipCounts.filterFull++;
  const xT = transpose(backend, x, [3, 1, 2, 0]); // [ci, H, W, n]
  const dyT = transpose(backend, dy, [1, 2, 0, 3]); // [OH, OW, n, co]
  const conv = runWasmKernel(backend, 'Conv2D', {
    inputs: { x: xT, filter: dyT },
    attrs: {
      strides: [1, 1],
      pad: [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ],
      dataFormat: 'NHWC',
      dilations: [1, 1],
      dimRoundingMode: undefined,
    } as unknown as tf.NamedAttrMap,
  }); // [ci, KH, KW, co]
  const dw = transpose(backend, conv, [1, 2, 0, 3]); // [KH, KW, ci, co]
  disposeIntermediates(backend, xT, dyT, conv);
  return dw;
}

/** Adds the kernel tfjs-backend-wasm lacks. */
export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilterViaConv2D as unknown as tf.KernelFunc,
};
