// The twin's WebAssembly evaluation pass (assembly/twin-eval.ts) gives bitwise the logits of the
// TypeScript pass (twinForward without pooling winners): real images, constructed edge images,
// parameters far from the constant init, the constant init itself, and non-finite parameters.
import { describe, expect, it } from 'vitest';
import type { Split } from '../data/mnist';
import { initialParams, seedModelShape } from '../dense/model';
import { TwinEvalWasm } from './twin-eval-wasm';
import { sparseImages, twinForward, twinGeometry, twinParams, TwinActivations, type TwinGeometry } from './twin-net';
import { TwinChunkScorer } from './twin-trainer';
import { lcgUint32 } from '../../../../test/lcg';
import { loadSmallMnist } from '../../../../test/small-mnist';

/** Images built to hit the borders: blank, full, single pixels in the corners, a frame, random dust. */
function edgeImages(): Split {
  const n = 8;
  const images = new Uint8Array(n * 784);
  const set = (i: number, y: number, x: number, v: number) => (images[i * 784 + y * 28 + x] = v);
  images.fill(255, 784, 2 * 784); // image 1: every pixel on
  set(2, 0, 0, 200);
  set(3, 27, 27, 17);
  set(4, 0, 27, 255);
  set(4, 27, 0, 1);
  for (let k = 0; k < 28; k++) {
    set(5, 0, k, 90);
    set(5, 27, k, 91);
    set(5, k, 0, 92);
    set(5, k, 27, 93);
  }
  const next = lcgUint32(12345);
  for (let p = 0; p < 784; p++) {
    const state = next();
    if (state % 5 === 0) set(6, (p / 28) | 0, p % 28, state >>> 24);
  }
  set(7, 13, 13, 128); // one pixel in the middle
  return { count: n, images, labels: new Uint8Array(n) };
}

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
}

/** The TypeScript pass's logits, and per image whether its fc1 unit is active (h > 0). */
function typescriptLogits(
  g: TwinGeometry,
  params: Float32Array[],
  split: Split,
): { logits: Float32Array; active: boolean[]; conv1Active: boolean[]; conv2Active: boolean[] } {
  const images = sparseImages(split, 28, 28);
  const p = twinParams(g, params);
  const act = new TwinActivations(g);
  const out = new Float32Array(split.count * 10);
  const active: boolean[] = [];
  const conv1Active: boolean[] = [];
  const conv2Active: boolean[] = [];
  for (let i = 0; i < split.count; i++) {
    twinForward(g, p, images, i, act, out, i * 10, null);
    active.push(act.h > 0);
    conv1Active.push(act.conv1Active);
    conv2Active.push(act.conv2Active);
  }
  return { logits: out, active, conv1Active, conv2Active };
}

describe('TwinEvalWasm', () => {
  const g = twinGeometry(28, 28);
  const data = loadSmallMnist();
  const splits = { test: data.test, edges: edgeImages() };
  const paramSets: Record<string, Float32Array[]> = {};
  for (const [b1, seed] of [
    [0.1, 1],
    [-0.05, 2],
    [0, 3],
  ] as const) {
    const params = initialParams(seedModelShape([1, 1, 1]), { init: 'truncated-normal', seed, perturb: 0.3 });
    params[1][0] = b1; // pool1's background relu(b1) > 0, then 0
    paramSets[`random, b1 ${b1}`] = params;
  }
  paramSets['constant init'] = initialParams(seedModelShape([1, 1, 1]), { init: 'constant', seed: 0, perturb: 0 });
  const huge = initialParams(seedModelShape([1, 1, 1]), { init: 'truncated-normal', seed: 4, perturb: 1e30 });
  paramSets['overflowing (inf, NaN)'] = huge;
  const withNaN = initialParams(seedModelShape([1, 1, 1]), { init: 'truncated-normal', seed: 5, perturb: 0.3 });
  withNaN[2][7] = NaN;
  paramSets['a NaN weight'] = withNaN;
  // Convolutions active on some images only: positive taps, negative biases (conv1 on ~3/4 of the
  // fixture's test images, conv2 on ~2/5).
  const partly = initialParams(seedModelShape([1, 1, 1]), { init: 'truncated-normal', seed: 9, perturb: 0.3 });
  partly[0] = partly[0].map(Math.abs);
  partly[1][0] = -4;
  partly[2] = partly[2].map(Math.abs);
  partly[3][0] = -1;
  paramSets['convolutions active on some images'] = partly;

  for (const [splitName, split] of Object.entries(splits)) {
    for (const [paramName, params] of Object.entries(paramSets)) {
      it(`matches twinForward bitwise, and its active counts (fc1, conv1, conv2): ${splitName} images, ${paramName}`, () => {
        const want = typescriptLogits(g, params, split);
        const wasm = new TwinEvalWasm(g, 64);
        const images = sparseImages(split, 28, 28);
        const p = twinParams(g, params);
        const got: number[] = [];
        const gotActive: number[][] = [];
        const wantActive: number[][] = [];
        const among = (flags: boolean[], first: number, count: number) => flags.slice(first, first + count).filter(Boolean).length;
        // Uneven ranges, so that first/count offsets are exercised.
        for (let first = 0; first < split.count; first += 37) {
          const count = Math.min(37, split.count - first);
          got.push(...bits(wasm.logitsOf(p, images, first, count)));
          gotActive.push([wasm.active, ...wasm.convActive]);
          wantActive.push([among(want.active, first, count), among(want.conv1Active, first, count), among(want.conv2Active, first, count)]);
        }
        expect(got).toEqual(bits(want.logits));
        expect(gotActive).toEqual(wantActive);
      });
    }
  }

  it('counts conv channels active on some images and not on others (the comparisons above are not vacuous)', () => {
    const mixed = (flags: boolean[]) => flags.some(Boolean) && !flags.every(Boolean);
    const runs = Object.values(paramSets).map((params) => typescriptLogits(g, params, splits.test));
    expect(runs.some((r) => mixed(r.conv1Active))).toBe(true);
    expect(runs.some((r) => mixed(r.conv2Active))).toBe(true);
  });

  it('is what TwinChunkScorer uses here, with the same scores as the TypeScript pass', () => {
    const fast = new TwinChunkScorer(g);
    const slow = new TwinChunkScorer(g, { wasm: false });
    expect(fast.usesWasm).toBe(true);
    expect(slow.usesWasm).toBe(false);
    const images = sparseImages(data.test, 28, 28);
    const p = twinParams(g, paramSets['random, b1 0.1']);
    for (const loss of ['seed', 'epsilon', 'stable'] as const) {
      expect(fast.score(p, images, data.test.labels, 10, 150, loss)).toEqual(slow.score(p, images, data.test.labels, 10, 150, loss));
    }
  });

  it('counts a dead fc1 unit (never active) and a live one on both passes', () => {
    const fast = new TwinChunkScorer(g);
    const slow = new TwinChunkScorer(g, { wasm: false });
    const images = sparseImages(data.test, 28, 28);
    const crafted = (b3: number, w3: number) => {
      const params = paramSets['random, b1 0.1'].map((a) => a.slice());
      params[4].fill(w3);
      params[5][0] = b3;
      return twinParams(g, params);
    };
    // fc1 = b3 + sum(pool2 * w3) with pool2 >= 0: w3 = 0 leaves the bias's sign.
    for (const scorer of [fast, slow]) {
      expect(scorer.score(crafted(-0.5, 0), images, data.test.labels, 0, 200, 'seed').active).toBe(0);
      expect(scorer.score(crafted(0, 0), images, data.test.labels, 0, 200, 'seed').active).toBe(0);
      expect(scorer.score(crafted(0.5, 0), images, data.test.labels, 0, 200, 'seed').active).toBe(200);
      expect(scorer.score(crafted(-1e30, 1), images, data.test.labels, 0, 200, 'seed').active).toBe(0);
    }
    // fc1 = b3 + the sum of pool2 (w3 = 1): b3 = minus the median sum leaves about half active.
    const act = new TwinActivations(g);
    const sums = Array.from({ length: 200 }, (_, i) => {
      twinForward(g, crafted(0, 1), images, i, act, new Float32Array(10), 0, null);
      return act.h;
    }).sort((a, b) => a - b);
    const p = crafted(-sums[100], 1);
    const some = fast.score(p, images, data.test.labels, 0, 200, 'seed').active;
    expect(some).toBe(slow.score(p, images, data.test.labels, 0, 200, 'seed').active);
    expect([some > 0, some < 200]).toEqual([true, true]);
  });

  it('refuses image sides that are not multiples of 4', () => {
    expect(() => new TwinEvalWasm(twinGeometry(30, 28), 10)).toThrow(/multiples of 4/);
  });
});
