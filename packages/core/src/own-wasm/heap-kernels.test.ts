// The heap-kernels module itself (own-wasm/heap-kernels.ts): on a shared heap like the threaded
// tfjs build's, the own convolution, GEMM and Winograd give the same bits on 1 and 2 threads (a
// helper thread started like the CLI starts it) and the helper really computes chunks; a helper
// that fails on its chunk makes the job throw instead of hanging. Each kernel against its
// reference is tested in kernels/<Kernel>.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/engine';
import { Worker } from 'node:worker_threads';
import { HeapKernels, type ConvGeometry, type TfjsHeapModule } from './heap-kernels';
import { bitsNaNAsOne as bits, convGemmValues as values } from '../../test-support/kernel-test-support';
import { winogradFilter } from '../dense/winograd';

beforeAll(async () => {
  await initEngine();
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
      pool.conv2D(x, w, outs[0], g);
      pool.batchMatMul(a, b, outs[1], 50, 3136, 64);
      pool.batchMatMul(a2, b2, outs[2], 3136, 50, 1000);
      pool.conv2D(x1, w1, outs[3], g1); // one input channel (conv1)
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
        pool.batchMatMul(a, b, out, 64, 3136, 64);
      } catch (e) {
        error = e;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(String(error)).toMatch(/heap kernels: a helper thread failed/);
    pool.stop();
  });
});
