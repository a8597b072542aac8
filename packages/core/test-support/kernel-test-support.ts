// Helpers shared by the kernel tests (kernels/<Kernel>.test.ts, own-wasm/heap-kernels.test.ts), not
// library code: deterministic inputs (LCG arrays, arrays with edge values), bit comparisons, running
// a computation on the wasm or the cpu backend, error measures, the kernels a computation reaches,
// the conv loss whose gradients are the convolution-gradient kernels, and the leak check.
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import { lcg, lcgUint32 } from '../../../test/lcg';

export type Backend = 'cpu' | 'wasm';
export type Shape4 = [number, number, number, number];
export type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

export function randomArray(size: number, rand: () => number): Float32Array {
  return Float32Array.from({ length: size }, rand);
}

export const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Runs `f` on `backend` inside a tidy, returns its outputs' values, and switches back to wasm
 * (the engine's backend) afterwards. `f` must create its own tensors from plain arrays. A file
 * that runs on 'cpu' imports '@tensorflow/tfjs-backend-cpu' itself.
 */
export async function on(backend: Backend, f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  expect(await tf.setBackend(backend)).toBe(true);
  try {
    const outs = tf.tidy(() => {
      const r = f();
      return Array.isArray(r) ? r : [r];
    });
    const values = outs.map((t) => t.dataSync() as Float32Array);
    tf.dispose(outs);
    return values;
  } finally {
    await tf.setBackend('wasm');
  }
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** max_i |a_i - b_i| / max_i |b_i| (b is the yardstick); Infinity on NaN or length mismatch. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]);
    if (Number.isNaN(e)) return Infinity;
    d = Math.max(d, e);
  }
  const scale = maxAbs(b);
  return scale === 0 ? d : d / scale;
}

/** Kernel names a wasm computation dispatches to (to prove the tests reach our kernels). */
export async function kernelsRun(f: () => tf.Tensor | tf.Tensor[]): Promise<string[]> {
  const info = await tf.profile(() => {
    const r = f();
    tf.dispose(r);
  });
  return info.kernelNames;
}

/** sum(conv2d(x, w) * r): its gradients are exactly Conv2DBackpropInput (x) and ...Filter (w). */
export function convLoss(x: tf.Tensor4D, w: tf.Tensor4D, r: tf.Tensor4D, pad: Pad): tf.Scalar {
  return tf.sum(tf.mul(tf.conv2d(x, w, 1, pad as 'same'), r));
}

function counts() {
  return { tensors: tf.memory().numTensors, dataIds: (tf.backend() as unknown as { numDataIds(): number }).numDataIds() };
}

/** A test: 20 calls of `call` on the wasm backend, results disposed, leave no tensor or data behind. */
export function noLeak(label: string, setup: () => tf.Tensor[], call: (inputs: tf.Tensor[]) => tf.Tensor | tf.Tensor[]) {
  it(label, () => {
    expect(tf.getBackend()).toBe('wasm');
    const inputs = setup();
    tf.dispose(call(inputs)); // warm-up (lazy constants, kernel setup)
    const before = counts();
    for (let i = 0; i < 20; i++) tf.dispose(call(inputs));
    expect(counts()).toEqual(before);
    tf.dispose(inputs);
  });
}

/**
 * noLeak for a convolution gradient: the gradient of convLoss (SAME padding) with respect to the
 * filter or the input, for x, w and r of the given shapes (random values).
 */
export function convGradNoLeak(label: string, wrt: 'filter' | 'input', shapes: number[][]): void {
  noLeak(
    label,
    () => shapes.map((shape, i) => rnd(shape, i + 1)),
    ([x, w, r]) => {
      const loss = (xx: tf.Tensor, ww: tf.Tensor) => convLoss(xx as tf.Tensor4D, ww as tf.Tensor4D, r as tf.Tensor4D, 'same');
      return wrt === 'filter' ? tf.grad((ww: tf.Tensor) => loss(x, ww))(w) : tf.grad((xx: tf.Tensor) => loss(xx, w))(x);
    },
  );
}

/** A tensor of `shape` filled from the LCG seeded with `seed`. */
export const rnd = (shape: number[], seed: number) => tf.tensor(randomArray(sizeOf(shape), lcg(seed)), shape);

/**
 * The bits of every value, with NaN as one token: which NaN (sign, payload) an operation on NaNs
 * returns is left open by IEEE 754 and WebAssembly, and XNNPACK's compiled code picks operands in
 * an order of its own, so only NaN-ness is compared.
 */
export function bitsNaNAsOne(a: Float32Array): (number | 'NaN')[] {
  const u = new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
  return Array.from(u, (v, i) => (Number.isNaN(a[i]) ? 'NaN' : v));
}

/** The bits of every value (NaN payloads included). */
export function exactBits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength)));
}

/**
 * Inputs for the own convolution and GEMM: ordinary values, and with `edges` about one special
 * value per `every`.
 */
export function convGemmValues(n: number, seed: number, edges: boolean, every = 97): Float32Array {
  const out = new Float32Array(n);
  const next = lcgUint32(seed);
  const special = [0, -0, NaN, Infinity, -Infinity, 1e-40, -1e-42, 3e38, 1e-20];
  for (let i = 0; i < n; i++) {
    const s = next();
    out[i] = edges && (s >>> 4) % every === 0 ? special[s % special.length] : (s / 2 ** 32 - 0.5) * 2 ** ((s % 9) - 4);
  }
  return out;
}

/** A deterministic mix of ordinary values and edge cases (one in about 23 with `edges`). */
export function mixedValues(n: number, seed: number, edges: boolean): Float32Array {
  const out = new Float32Array(n);
  const next = lcgUint32(seed);
  const special = [0, -0, NaN, Infinity, -Infinity, 1e-40, -1e-42, 3e38, 1e-20];
  for (let i = 0; i < n; i++) {
    const s = next();
    out[i] = edges && s % 23 === 0 ? special[s % special.length] : (s / 2 ** 32 - 0.5) * 2 ** ((s % 13) - 8);
  }
  return out;
}
