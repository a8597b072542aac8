// The own convolution and GEMM (own-wasm/heap-kernels.ts, behind the wasm Conv2D and
// BatchMatMul) against XNNPACK's (the stock tfjs-backend-wasm kernels), bitwise (NaN as NaN), on
// the model's shapes, on the shapes the convolution-gradient kernels give Conv2D and on every
// transpose form of matMul, with edge values (NaN, infinities, signed zeros, denormals); against a
// float64 loop for the arithmetic itself; and on 1 and 2 threads (a helper thread started like the
// CLI starts it), bitwise.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/engine';
import { Worker } from 'node:worker_threads';
import { setMatMulOwnWasm } from '../kernels/BatchMatMul';
import { setConv2DOwnWasm } from '../kernels/Conv2D';
import { HeapKernels, type ConvGeometry, type TfjsHeapModule } from './heap-kernels';
import { lcgUint32 } from '../../../../test/lcg';
import { winogradFilter } from '../dense/winograd';

beforeAll(async () => {
  await initEngine();
});

afterAll(() => {
  setConv2DOwnWasm(true);
  setMatMulOwnWasm(true);
});

/**
 * The bits of every value, with NaN as one token: which NaN (sign, payload) an operation on NaNs
 * returns is left open by IEEE 754 and WebAssembly, and XNNPACK's compiled code picks operands in
 * an order of its own, so only NaN-ness is compared.
 */
function bits(a: Float32Array): (number | 'NaN')[] {
  const u = new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
  return Array.from(u, (v, i) => (Number.isNaN(a[i]) ? 'NaN' : v));
}

/** Ordinary values, and with `edges` about one special value per `every`. */
function values(n: number, seed: number, edges: boolean, every = 97): Float32Array {
  const out = new Float32Array(n);
  const next = lcgUint32(seed);
  const special = [0, -0, NaN, Infinity, -Infinity, 1e-40, -1e-42, 3e38, 1e-20];
  for (let i = 0; i < n; i++) {
    const s = next();
    out[i] = edges && (s >>> 4) % every === 0 ? special[s % special.length] : (s / 2 ** 32 - 0.5) * 2 ** ((s % 9) - 4);
  }
  return out;
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** conv2d with the own kernel and with XNNPACK's, as float32 arrays. */
function both(xShape: number[], wShape: number[], pad: 'same' | 'valid' | number, seed: number, edges: boolean) {
  // About one special value per four outputs' worth of terms: outputs both NaN and finite.
  const every = 4 * wShape[0] * wShape[1] * wShape[2];
  const x = tf.tensor4d(values(size(xShape), seed, edges, every), xShape as [number, number, number, number]);
  const w = tf.tensor4d(values(size(wShape), seed + 1, edges, every), wShape as [number, number, number, number]);
  setConv2DOwnWasm(true);
  const own = tf.conv2d(x, w, 1, pad);
  setConv2DOwnWasm(false);
  const stock = tf.conv2d(x, w, 1, pad);
  setConv2DOwnWasm(true);
  const r = { own: own.dataSync() as Float32Array, stock: stock.dataSync() as Float32Array, shape: own.shape, x, w };
  tf.dispose([own, stock]);
  return r;
}

const CASES: { name: string; x: number[]; w: number[]; pad: 'same' | 'valid' | number }[] = [
  { name: 'conv2 forward', x: [6, 14, 14, 32], w: [5, 5, 32, 64], pad: 'same' },
  { name: 'conv2 dW as a convolution', x: [32, 14, 14, 7], w: [14, 14, 7, 64], pad: 2 },
  { name: 'conv2 dx as a convolution', x: [3, 14, 14, 64], w: [5, 5, 64, 32], pad: 2 },
  { name: 'conv1 dW as a convolution', x: [1, 28, 28, 5], w: [28, 28, 5, 32], pad: 2 },
  { name: 'odd pixel count, valid padding', x: [1, 7, 9, 5], w: [3, 2, 5, 16], pad: 'valid' },
  { name: 'conv1 forward (one input channel)', x: [3, 28, 28, 1], w: [5, 5, 1, 32], pad: 'same' },
  { name: 'three input channels, odd pixel count', x: [1, 9, 7, 3], w: [3, 3, 3, 16], pad: 'same' },
];

describe('own Conv2D', () => {
  for (const edges of [false, true]) {
    for (const c of CASES) {
      it(`is bitwise XNNPACK's: ${c.name}${edges ? ', with edge values' : ''}`, () => {
        const r = both(c.x, c.w, c.pad, 7 + c.x[3], edges);
        expect(r.own.length).toBeGreaterThan(0);
        if (edges) expect(r.stock.some(Number.isNaN) && r.stock.some(Number.isFinite)).toBe(true);
        expect(bits(r.own)).toEqual(bits(r.stock));
        tf.dispose([r.x, r.w]);
      });
    }
  }

  it('computes the convolution (float64 loop, ordinary values)', () => {
    const xs = [2, 6, 5, 8],
      ws = [3, 3, 8, 16];
    const r = both(xs, ws, 'same', 3, false);
    const x = r.x.dataSync(),
      w = r.w.dataSync();
    const [n, h, wd, c] = xs,
      co = ws[3];
    let worst = 0;
    for (let b = 0; b < n; b++)
      for (let oy = 0; oy < h; oy++)
        for (let ox = 0; ox < wd; ox++)
          for (let o = 0; o < co; o++) {
            let s = 0;
            for (let ky = 0; ky < 3; ky++)
              for (let kx = 0; kx < 3; kx++) {
                const iy = oy + ky - 1,
                  ix = ox + kx - 1;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                for (let k = 0; k < c; k++) s += x[((b * h + iy) * wd + ix) * c + k] * w[((ky * 3 + kx) * c + k) * co + o];
              }
            worst = Math.max(worst, Math.abs(s - r.own[((b * h + oy) * wd + ox) * co + o]));
          }
    expect(worst).toBeLessThan(1e-4);
    tf.dispose([r.x, r.w]);
  });
});

describe('own convolution inside the filter gradient (Conv2DBackpropFilter as a Conv2D)', () => {
  const GRADS: { name: string; x: number[]; w: number[]; pad: 'same' | 'valid' }[] = [
    { name: 'conv2 (seed shapes, batch 6)', x: [6, 14, 14, 32], w: [5, 5, 32, 64], pad: 'same' },
    { name: 'conv1 (one input channel, batch 8)', x: [8, 28, 28, 1], w: [5, 5, 1, 32], pad: 'same' },
    { name: 'valid padding, odd sizes', x: [5, 9, 7, 3], w: [3, 2, 3, 16], pad: 'valid' },
  ];
  for (const edges of [false, true]) {
    for (const c of GRADS) {
      it(`gives the bits of XNNPACK's: ${c.name}${edges ? ', with edge values' : ''}`, () => {
        const every = 200; // specials in x and dy often enough that some outputs are NaN
        const x = tf.tensor4d(values(size(c.x), 31, edges, every), c.x as [number, number, number, number]);
        const w = tf.tensor4d(values(size(c.w), 32, edges, every), c.w as [number, number, number, number]);
        const dy = tf.tensor(values(size(tf.conv2d(x, w, 1, c.pad).shape), 33, edges, every), tf.conv2d(x, w, 1, c.pad).shape);
        const dW = (own: boolean) => {
          setConv2DOwnWasm(own);
          const g = tf.grad((f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, f as tf.Tensor4D, 1, c.pad), dy)))(w);
          const r = g.dataSync() as Float32Array;
          g.dispose();
          return r;
        };
        const own = dW(true);
        const stock = dW(false);
        setConv2DOwnWasm(true);
        if (edges) expect(stock.some(Number.isNaN)).toBe(true); // the edge values reach the outputs
        expect(bits(own)).toEqual(bits(stock));
        tf.dispose([x, w, dy]);
      });
    }
  }
});

/** matMul with the own GEMM and with XNNPACK's, as float32 arrays. */
function bothMatMul(aShape: number[], bShape: number[], tA: boolean, tB: boolean, seed: number, edges: boolean) {
  const k = tA ? aShape[0] : aShape[1];
  const a = tf.tensor2d(values(size(aShape), seed, edges, 4 * k), aShape as [number, number]);
  const b = tf.tensor2d(values(size(bShape), seed + 1, edges, 4 * k), bShape as [number, number]);
  setMatMulOwnWasm(true);
  const own = tf.matMul(a, b, tA, tB);
  setMatMulOwnWasm(false);
  const stock = tf.matMul(a, b, tA, tB);
  setMatMulOwnWasm(true);
  const r = { own: own.dataSync() as Float32Array, stock: stock.dataSync() as Float32Array };
  tf.dispose([a, b, own, stock]);
  return r;
}

const MATMULS: { name: string; a: number[]; b: number[]; tA: boolean; tB: boolean }[] = [
  { name: 'fc1 forward (few rows, many columns)', a: [10, 392], b: [392, 256], tA: false, tB: false },
  { name: "fc1's weight gradient (a transposed)", a: [10, 392], b: [10, 128], tA: true, tB: false },
  { name: 'many rows, odd count', a: [301, 37], b: [37, 48], tA: false, tB: false },
  { name: 'columns in a part panel (fc1 forward as run: w3T times images^T)', a: [97, 300], b: [300, 50], tA: false, tB: false },
  { name: 'columns in a full and a part panel', a: [7, 30], b: [30, 20], tA: false, tB: false },
  { name: 'b transposed (XNNPACK fallback on one side)', a: [12, 64], b: [32, 64], tA: false, tB: true },
  { name: 'both transposed', a: [64, 12], b: [32, 64], tA: true, tB: true },
];

describe('own matMul', () => {
  for (const edges of [false, true]) {
    for (const c of MATMULS) {
      it(`is bitwise XNNPACK's: ${c.name}${edges ? ', with edge values' : ''}`, () => {
        const r = bothMatMul(c.a, c.b, c.tA, c.tB, 11 + c.a[1], edges);
        expect(r.own.length).toBeGreaterThan(0);
        if (edges) expect(r.stock.some(Number.isNaN) && r.stock.some(Number.isFinite)).toBe(true);
        expect(bits(r.own)).toEqual(bits(r.stock));
      });
    }
  }

  it('computes the product (float64 loop, ordinary values)', () => {
    const [m, k, n] = [9, 21, 32];
    const a = tf.tensor2d(values(m * k, 5, false), [m, k]);
    const b = tf.tensor2d(values(k * n, 6, false), [k, n]);
    const out = tf.matMul(a, b);
    const [av, bv, ov] = [a.dataSync(), b.dataSync(), out.dataSync()];
    let worst = 0;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) s += av[i * k + q] * bv[q * n + j];
        worst = Math.max(worst, Math.abs(s - ov[i * n + j]));
      }
    expect(worst).toBeLessThan(1e-4);
    tf.dispose([a, b, out]);
  });
});

/** A shared heap like the threaded tfjs build's: a shared memory and a bump allocator. */
function sharedHeap(): TfjsHeapModule {
  const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
  let top = 64;
  return {
    wasmMemory: memory,
    _malloc(bytes: number) {
      const at = top;
      top = (top + bytes + 15) & ~15;
      if (top > memory.buffer.byteLength) memory.grow(Math.ceil((top - memory.buffer.byteLength) / 65536));
      return at;
    },
    _free() {},
  };
}

describe('own convolution, GEMM, Winograd and zero-skipping gradients on helper threads', () => {
  it('give the same bits with a helper as without, and the helper computes chunks', async () => {
    const heap = sharedHeap();
    const pool = new HeapKernels(heap);
    expect(pool.shared).toBe(true);
    const put = (v: Float32Array) => {
      const at = heap._malloc(4 * v.length);
      pool.f32(at, v.length).set(v);
      return at;
    };
    const g: ConvGeometry = { batch: 8, h: 14, w: 14, c: 32, kh: 5, kw: 5, co: 64, oh: 14, ow: 14, padTop: 2, padLeft: 2 };
    const x = put(values(8 * 14 * 14 * 32, 21, true, 3200));
    const w = put(values(5 * 5 * 32 * 64, 22, true, 3200));
    const a = put(values(50 * 3136, 23, true, 12544));
    const b = put(values(3136 * 64, 24, true, 12544));
    const a2 = put(values(3136 * 50, 25, true, 200));
    const b2 = put(values(50 * 1000, 26, true, 200));
    const g1: ConvGeometry = { batch: 20, h: 28, w: 28, c: 1, kh: 5, kw: 5, co: 32, oh: 28, ow: 28, padTop: 2, padLeft: 2 };
    const x1 = put(values(20 * 28 * 28, 27, true, 400));
    const w1 = put(values(5 * 5 * 32, 28, true, 400));
    const u = put(winogradFilter(values(5 * 5 * 32 * 64, 29, true, 3200), 32, 64));
    const bias = put(values(64, 30, false));
    const b1 = put(values(32, 31, false));
    // A mostly-zero output gradient for the zero-skipping convolution gradients.
    const dyValues = values(8 * 14 * 14 * 64, 32, false).map((v, i) => ((i * 7919) % 10 < 8 ? 0 : v));
    const dy = put(dyValues);
    const wr = put(values(5 * 5 * 64 * 32, 33, false));
    const xg = put(values(8 * 14 * 14 * 32, 34, false));
    const gdx: ConvGeometry = { ...g, c: 64, co: 32 };
    const sizes = [
      8 * 14 * 14 * 64,
      50 * 64,
      3136 * 1000,
      20 * 28 * 28 * 32,
      8 * 7 * 7 * 64,
      20 * 14 * 14 * 32,
      5 * 5 * 32 * 64,
      8 * 14 * 14 * 32,
    ];
    const outs = sizes.map((n) => heap._malloc(4 * n));
    const run = () => {
      pool.conv(x, w, outs[0], g);
      pool.gemm(a, b, outs[1], 50, 3136, 64);
      pool.gemm(a2, b2, outs[2], 3136, 50, 1000);
      pool.conv(x1, w1, outs[3], g1); // one input channel (conv1)
      pool.winogradConvPool(x, u, bias, outs[4], { batch: 8, h: 14, w: 14, c: 32, co: 64 }); // evaluation's conv2
      pool.convPool(x1, w1, b1, outs[5], g1); // evaluation's conv1
      pool.filterGradZeroSkip(xg, dy, outs[6], g); // conv2's dW, zeros skipped
      pool.sparseInputConv(dy, wr, outs[7], gdx); // conv2's dx, zeros skipped
      return outs.map((at, i) => bits(pool.f32(at, sizes[i])));
    };
    const alone = run();
    expect(
      pool.startHelpers(1, (source, data) => {
        new Worker(source, { eval: true, workerData: data }).unref();
      }),
    ).toBe(1);
    // The helper starts asynchronously: run until it has taken part (each run is checked).
    for (let i = 0; i < 300 && pool.helperChunks() === 0; i++) {
      expect(run()).toEqual(alone);
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(pool.helperChunks()).toBeGreaterThan(0);
    expect(run()).toEqual(alone);
    pool.stop();
  });

  it('a helper that fails on its chunk makes the job throw instead of hanging', async () => {
    const heap = sharedHeap();
    const pool = new HeapKernels(heap);
    const put = (v: Float32Array) => {
      const at = heap._malloc(4 * v.length);
      pool.f32(at, v.length).set(v);
      return at;
    };
    const a = put(values(64 * 3136, 51, false));
    const b = put(values(3136 * 64, 52, false));
    const out = heap._malloc(4 * 64 * 64);
    // A helper whose module has no kernels: every chunk it takes throws.
    const empty = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    pool.startHelpers(1, (source, data) => {
      new Worker(source, { eval: true, workerData: { ...data, module: empty } }).unref();
    });
    let error: unknown = null;
    for (let i = 0; i < 300 && !error; i++) {
      try {
        pool.gemm(a, b, out, 64, 3136, 64);
      } catch (e) {
        error = e;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(String(error)).toMatch(/heap kernels: a helper thread failed/);
    pool.stop();
  });
});
