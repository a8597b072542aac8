// symmetryReport on constructed weights whose groups are known by construction: each test changes
// one slice in TF layout and checks that exactly the copy sets that contain it see it.
import { describe, expect, it } from 'vitest';
import { paramShapes, seedModelShape, type ModelShape } from '../dense/model';
import { MT19937 } from '../random/prng';
import { measure, SYMMETRY_KEYS, symmetryReport, type SymmetryKey } from './symmetry';

const SHAPE: ModelShape = seedModelShape([3, 4, 5]);
const [C1, C2, F1] = SHAPE.widths;
const TAPS = 25;

/** The seed's constant init (W = 0, b = 0.1) for SHAPE. */
function constantParams(w = 0): Float32Array[] {
  return paramShapes(SHAPE).map((s, i) => new Float32Array(s.reduce((a, b) => a * b, 1)).fill(i % 2 ? 0.1 : w));
}

function groupsOf(params: Float32Array[], tol = 1e-6): Record<SymmetryKey, [number, number]> {
  const r = symmetryReport(SHAPE, params, tol);
  return Object.fromEntries(SYMMETRY_KEYS.map((k) => [k, [r[k].groups, r[k].groupsTol]])) as Record<SymmetryKey, [number, number]>;
}

const ALL_ONE = Object.fromEntries(SYMMETRY_KEYS.map((k) => [k, [1, 1]]));

describe('symmetryReport', () => {
  it('sees one group per copy set, with the widths as copy counts, for the constant init', () => {
    const r = symmetryReport(SHAPE, constantParams(0.25), 1e-6);
    expect(groupsOf(constantParams(0.25))).toEqual(ALL_ONE);
    expect(SYMMETRY_KEYS.map((k) => r[k].copies)).toEqual([C1, C2, C1, C2, F1, F1]);
    for (const k of SYMMETRY_KEYS) expect(r[k].maxRelDiff).toBe(0);
  });

  it('conv1.out: filter j is conv1.W[:,:,0,j] plus conv1.b[j]', () => {
    const p = constantParams(0.5);
    p[0][7 * C1 + 2] = 0.75; // tap 7 of filter 2
    expect(groupsOf(p)['conv1.out']).toEqual([2, 2]);
    const q = constantParams(0.5);
    q[1][1] = 0.2; // only the bias of filter 1
    expect(groupsOf(q)['conv1.out']).toEqual([2, 2]);
    expect(groupsOf(q)['conv2.in']).toEqual([1, 1]);
  });

  it('conv2.in vs conv2.out: slices over input channel i and output channel o', () => {
    // W2[t,i,o] = 1 + group(i): input copies {0,2} vs {1}; every output filter holds all i equally.
    const p = constantParams();
    const inGroup = [0, 1, 0];
    for (let t = 0; t < TAPS; t++) for (let i = 0; i < C1; i++) for (let o = 0; o < C2; o++) p[2][(t * C1 + i) * C2 + o] = 1 + inGroup[i];
    const g = groupsOf(p);
    expect(g['conv2.in']).toEqual([2, 2]);
    expect(g['conv2.out']).toEqual([1, 1]);
    // W2[t,i,o] = 1 + group(o): output copies {0,1} vs {2} vs {3}; input slices all equal.
    const outGroup = [0, 0, 1, 2];
    for (let t = 0; t < TAPS; t++) for (let i = 0; i < C1; i++) for (let o = 0; o < C2; o++) p[2][(t * C1 + i) * C2 + o] = 1 + outGroup[o];
    const h = groupsOf(p);
    expect(h['conv2.out']).toEqual([3, 3]);
    expect(h['conv2.in']).toEqual([1, 1]);
    expect(h['conv1.out']).toEqual([1, 1]);
  });

  it('fc1.in compares channel c over all 49 positions; fc1.out compares columns with the bias', () => {
    const p = constantParams(0.5);
    // Channel 2 at the last position only, the same for every unit: fc1.in splits, fc1.out does not.
    for (let u = 0; u < F1; u++) p[4][(48 * C2 + 2) * F1 + u] = 0.25;
    expect(groupsOf(p)['fc1.in']).toEqual([2, 2]);
    expect(groupsOf(p)['fc1.out']).toEqual([1, 1]);
    // Unit 3 alone at one row: fc1.out splits; channel copies now differ at that row, for channel 0.
    const q = constantParams(0.5);
    q[4][(10 * C2 + 0) * F1 + 3] = 0.25;
    expect(groupsOf(q)['fc1.out']).toEqual([2, 2]);
    expect(groupsOf(q)['fc1.in']).toEqual([2, 2]);
    const b = constantParams(0.5);
    b[5][4] = 0.3; // fc1.b[4]
    expect(groupsOf(b)['fc1.out']).toEqual([2, 2]);
    expect(groupsOf(b)['fc2.in']).toEqual([1, 1]);
  });

  it('fc2.in: rows of fc2.W; fc2.b is not part of any copy', () => {
    const p = constantParams(0.5);
    for (let k = 0; k < 10; k++) p[6][1 * 10 + k] = k; // row 1 differs
    p[6][3 * 10 + 9] = 0.25; // row 3 differs at one class
    p[7][0] = 5; // fc2.b
    expect(groupsOf(p)['fc2.in']).toEqual([3, 3]);
    expect(groupsOf(p)['fc1.out']).toEqual([1, 1]);
  });

  it('separates bitwise groups from tolerance groups and measures maxRelDiff against the largest value', () => {
    const p = constantParams(0.5);
    p[0][3 * C1 + 1] = Math.fround(0.5 * (1 + 2 ** -20)); // ~9.5e-7 relative
    const r = symmetryReport(SHAPE, p, 1e-6);
    expect(r['conv1.out'].groups).toBe(2);
    expect(r['conv1.out'].groupsTol).toBe(1);
    expect(r['conv1.out'].maxRelDiff).toBeCloseTo(2 ** -21 / (0.5 * (1 + 2 ** -20)), 15);
    expect(symmetryReport(SHAPE, p, 1e-7)['conv1.out'].groupsTol).toBe(2);
    expect(symmetryReport(SHAPE, p, 0)['conv1.out'].groupsTol).toBe(2);
  });

  it('treats -0 and 0 as different bits but equal within any tolerance; NaN as its own group', () => {
    const p = constantParams(0);
    p[6][2 * 10] = -0;
    expect(groupsOf(p, 0)['fc2.in']).toEqual([2, 1]);
    p[6][4 * 10] = NaN;
    const r = symmetryReport(SHAPE, p, 1e-6)['fc2.in'];
    expect([r.groups, r.groupsTol]).toEqual([3, 2]);
    expect(r.maxRelDiff).toBeNaN();
  });

  it('counts thousands of distinct copies (hash buckets), and collapses near-equal ones with a tolerance', () => {
    const rng = new MT19937(7);
    const len = 16;
    const copies = 3000;
    const base = Float32Array.from({ length: len }, () => rng.gauss());
    const distinct = measure(copies, len, 1e-6, (j, out) => {
      for (let e = 0; e < len; e++) out[e] = base[e] + (e === j % len ? j : 0);
    });
    expect(distinct.groups).toBe(copies);
    expect(distinct.groupsTol).toBe(copies);
    // Copy j = 1000 + j * 1e-4 in element 0 (float32 spacing there is 6.1e-5): bitwise distinct, equal within 1e-3.
    const near = measure(50, len, 1e-3, (j, out) => {
      out.set(base);
      out[0] = 1000 + j * 1e-4;
    });
    expect(near.groups).toBe(50);
    expect(near.groupsTol).toBe(1);
    expect(near.maxRelDiff).toBeCloseTo((49 * 1e-4) / 1000.0049, 6);
  });
});
