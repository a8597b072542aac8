// BatchMatMul (kernels/BatchMatMul.ts) through tf.matMul: the transposes re-expressed around the
// stock kernel against tfjs-backend-cpu (every transpose form, rank 2 and 3, odd and degenerate
// sizes) and for tensor leaks; the own GEMM (own-wasm/heap-kernels.ts's batchMatMul,
// assembly/kernels/BatchMatMul.ts) against XNNPACK's, bitwise (NaN as NaN), with edge values, and
// against a float64 loop. Inputs come from a local LCG.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../engine/engine';
import {
  bitsNaNAsOne as bits,
  kernelsRun,
  noLeak,
  on,
  randomArray,
  relErr,
  rnd,
  sizeOf,
  convGemmValues as values,
} from '../../test-support/kernel-test-support';
import { setOwnWasm } from './own-wasm-switch';
import { lcg } from '../../../../test/lcg';

beforeAll(async () => {
  await initEngine();
  expect(tf.getBackend()).toBe('wasm');
});

afterEach(async () => {
  if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');
});

afterAll(() => {
  setOwnWasm('BatchMatMul', true);
});

describe('BatchMatMul (transposes re-expressed around the stock kernel) vs tfjs-backend-cpu', () => {
  interface MatCase {
    name: string;
    a: number[];
    b: number[];
  }
  /** Operand shapes for C = op(A) op(B) with op(A) [m,k], op(B) [k,n] and an optional batch prefix. */
  function shapesFor(batchA: number[], batchB: number[], m: number, k: number, n: number, ta: boolean, tb: boolean): MatCase {
    return {
      name: `a ${JSON.stringify([...batchA, ...(ta ? [k, m] : [m, k])])} b ${JSON.stringify([...batchB, ...(tb ? [n, k] : [k, n])])}`,
      a: [...batchA, ...(ta ? [k, m] : [m, k])],
      b: [...batchB, ...(tb ? [n, k] : [k, n])],
    };
  }
  async function compare(c: MatCase, ta: boolean, tb: boolean, seed: number): Promise<number[]> {
    const rand = lcg(seed);
    const a = randomArray(sizeOf(c.a), rand);
    const b = randomArray(sizeOf(c.b), rand);
    let shapeW: number[] = [];
    const [w] = await on('wasm', () => {
      const out = tf.matMul(tf.tensor(a, c.a), tf.tensor(b, c.b), ta, tb);
      shapeW = out.shape;
      return out;
    });
    let shapeC: number[] = [];
    const [cpu] = await on('cpu', () => {
      const out = tf.matMul(tf.tensor(a, c.a), tf.tensor(b, c.b), ta, tb);
      shapeC = out.shape;
      return out;
    });
    expect(shapeW, 'output shape').toEqual(shapeC);
    expect(relErr(w, cpu), `${c.name} ta=${ta} tb=${tb}`).toBeLessThan(1e-5);
    return shapeW;
  }
  const COMBOS: [boolean, boolean][] = [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ];

  for (const [ta, tb] of COMBOS) {
    it(`fc1-like rank 2, [50 x 3136] . [3136 x 96], transposeA=${ta} transposeB=${tb}`, async () => {
      const shape = await compare(shapesFor([], [], 50, 3136, 96, ta, tb), ta, tb, 11);
      expect(shape).toEqual([50, 96]);
    });
  }

  it('the fc1 backward products of the seed model (scaled): flat^T . dh and dh . W^T', async () => {
    // dW = flat^T dh: a [50, 3136] transposed, b [50, 128]; dx = dh W^T: a [50, 128], b [3136, 128] transposed.
    await compare({ name: 'dW', a: [50, 3136], b: [50, 128] }, true, false, 12);
    await compare({ name: 'dx', a: [50, 128], b: [3136, 128] }, false, true, 13);
  });

  it('a transposed matMul on wasm is one engine-level BatchMatMul (inner Transposes bypass the engine) with the right values', async () => {
    const a = tf.ones([4, 3]);
    const b = tf.ones([5, 3]);
    // Transpose inside our kernel goes through the registered wasm kernel directly (not the
    // engine), so the profile shows only BatchMatMul; the check is on the result's values.
    const names = await kernelsRun(() => tf.matMul(a, b, false, true));
    expect(names).toEqual(['BatchMatMul']);
    const out = tf.matMul(a, b, false, true);
    expect(out.shape).toEqual([4, 5]);
    expect(Array.from(out.dataSync())).toEqual(new Array(20).fill(3));
    tf.dispose([a, b, out]);
  });

  for (const [ta, tb] of COMBOS) {
    it(`odd sizes and degenerate rows/cols, transposeA=${ta} transposeB=${tb}`, async () => {
      // m = 1 or n = 1 make some of the kernel's transposes no-ops (identity, shared data).
      for (const [m, k, n] of [
        [7, 13, 5],
        [1, 17, 9],
        [9, 17, 1],
        [1, 5, 1],
        [6, 1, 4],
      ]) {
        await compare(shapesFor([], [], m, k, n, ta, tb), ta, tb, 100 + m * 31 + n);
      }
    });
  }

  for (const [ta, tb] of COMBOS) {
    it(`rank 3, batch 1 (our path) and batch 3 / broadcast batch (stock path), transposeA=${ta} transposeB=${tb}`, async () => {
      expect(await compare(shapesFor([1], [1], 17, 23, 11, ta, tb), ta, tb, 21)).toEqual([1, 17, 11]);
      expect(await compare(shapesFor([3], [3], 17, 23, 11, ta, tb), ta, tb, 22)).toEqual([3, 17, 11]);
      expect(await compare(shapesFor([1], [3], 17, 23, 11, ta, tb), ta, tb, 23)).toEqual([3, 17, 11]);
      expect(await compare(shapesFor([2], [1], 17, 23, 11, ta, tb), ta, tb, 24)).toEqual([2, 17, 11]);
    });
  }

  for (const [ta, tb] of COMBOS) {
    it(`mixed ranks (rank-3 batch-1 with rank 2), transposeA=${ta} transposeB=${tb}`, async () => {
      expect(await compare(shapesFor([1], [], 8, 12, 6, ta, tb), ta, tb, 31)).toEqual([1, 8, 6]);
      expect(await compare(shapesFor([], [1], 8, 12, 6, ta, tb), ta, tb, 32)).toEqual([1, 8, 6]);
    });
  }
});

describe('no leaks: 20 calls of each kernel, results disposed', () => {
  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    noLeak(
      `BatchMatMul transposeA=${ta} transposeB=${tb} (rank 2, and m = 1)`,
      () => [rnd(ta ? [300, 50] : [50, 300], 4), rnd(tb ? [64, 300] : [300, 64], 5), rnd(ta ? [300, 1] : [1, 300], 6)],
      ([a, b, v]) => [tf.matMul(a, b, ta, tb), tf.matMul(v, b, ta, tb)],
    );
  }
  noLeak(
    'BatchMatMul rank 3 batch 3 (stock path)',
    () => [rnd([3, 7, 9], 7), rnd([3, 5, 9], 8)],
    ([a, b]) => tf.matMul(a, b, false, true),
  );
});

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** matMul with the own GEMM and with XNNPACK's, as float32 arrays. */
function bothMatMul(aShape: number[], bShape: number[], tA: boolean, tB: boolean, seed: number, edges: boolean) {
  const k = tA ? aShape[0] : aShape[1];
  const a = tf.tensor2d(values(size(aShape), seed, edges, 4 * k), aShape as [number, number]);
  const b = tf.tensor2d(values(size(bShape), seed + 1, edges, 4 * k), bShape as [number, number]);
  setOwnWasm('BatchMatMul', true);
  const own = tf.matMul(a, b, tA, tB);
  setOwnWasm('BatchMatMul', false);
  const stock = tf.matMul(a, b, tA, tB);
  setOwnWasm('BatchMatMul', true);
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
