// Checks the MT19937 port against numpy's legacy RandomState: a committed golden fixture always,
// live numpy too when python3 + numpy are installed.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { MT19937, deriveStream, permutation, shuffleInPlace, truncatedNormal } from './prng';

const golden = JSON.parse(readFileSync(new URL('../../../../fixtures/numpy-golden.json', import.meta.url), 'utf8'));

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

/** Runs a python snippet that prints one JSON document. */
// biome-ignore lint/suspicious/noExplicitAny: numpy output, compared field by field against the port
function python(script: string): any {
  const r = spawnSync('python3', ['-c', script], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const draw = (n: number, f: () => number): number[] => Array.from({ length: n }, f);

/** Distance in units in the last place between two doubles of the same sign. */
function ulps(a: number, b: number): number {
  const view = new DataView(new ArrayBuffer(16));
  view.setFloat64(0, a);
  view.setFloat64(8, b);
  return Number(view.getBigInt64(0) - view.getBigInt64(8));
}

describe('MT19937 against the committed numpy fixture', () => {
  for (const seed of [0, 1234]) {
    const g = golden.seeds[String(seed)];
    test(`seed ${seed}: init_genrand state, raw, random_sample, standard_normal, permutation(20)`, () => {
      expect(new MT19937(seed).getState().key.slice(0, 5)).toEqual(g.keyHead);
      const a = new MT19937(seed);
      expect(draw(10, () => a.nextUint32())).toEqual(g.rawUint32);
      const b = new MT19937(seed);
      expect(draw(5, () => b.nextDouble())).toEqual(g.randomSample);
      const c = new MT19937(seed);
      expect(draw(5, () => c.gauss())).toEqual(g.standardNormal);
      expect(Array.from(permutation(20, new MT19937(seed)))).toEqual(g.permutation20);
    });
  }

  test('derived streams are init_by_array([seed, stream])', () => {
    for (const [key, expected] of Object.entries(golden.derived as Record<string, number[]>)) {
      const [seed, stream] = key.split(',').map(Number);
      const rng = deriveStream(seed, stream);
      expect(
        draw(5, () => rng.nextUint32()),
        key,
      ).toEqual(expected);
    }
  });

  test('permutation(55000) and two successive shuffles as next_batch does them (seed 0)', () => {
    const s = golden.shuffle55000;
    expect(Array.from(permutation(55000, new MT19937(0)).subarray(0, 50))).toEqual(s.permutationHead50);
    const rng = new MT19937(0);
    const perm1 = permutation(55000, rng);
    const perm2 = new Uint32Array(55000).map((_, i) => i);
    shuffleInPlace(perm2, rng);
    expect(Array.from(perm1.subarray(0, 50))).toEqual(s.shuffle1Head50);
    expect(Array.from(perm2.subarray(0, 50))).toEqual(s.shuffle2Head50);
    expect(Array.from(perm2.subarray(0, 50), (p) => perm1[p])).toEqual(s.composedHead50);
  });

  test('shuffleInPlace gives the same order for number[], Int32Array and Uint32Array', () => {
    const asNumbers = Array.from({ length: 1000 }, (_, i) => i);
    const asInt32 = Int32Array.from(asNumbers);
    shuffleInPlace(asNumbers, new MT19937(5));
    shuffleInPlace(asInt32, new MT19937(5));
    expect(Array.from(asInt32)).toEqual(asNumbers);
    expect(Array.from(permutation(1000, new MT19937(5)))).toEqual(asNumbers);
    expect(Array.from(permutation(0, new MT19937(5)))).toEqual([]);
    expect(Array.from(permutation(1, new MT19937(5)))).toEqual([0]);
  });
});

describe.skipIf(!hasNumpy)('MT19937 against live numpy', () => {
  const seeds = [0, 1, 1234, 2 ** 31, 2 ** 32 - 1];
  const longKey = Array.from({ length: 700 }, (_, i) => (i * 2654435761) % 2 ** 32);
  const ref = hasNumpy
    ? python(`
import json, math, numpy as np
from decimal import Decimal, getcontext
getcontext().prec = 50

def gauss_correctly_rounded_log(rs, n):
    # numpy's legacy_gauss, step for step, with a correctly rounded log instead of libm's.
    out, cached = [], None
    while len(out) < n:
        if cached is not None:
            out.append(cached)
            cached = None
            continue
        while True:
            x1 = 2.0 * rs.random_sample() - 1.0
            x2 = 2.0 * rs.random_sample() - 1.0
            r2 = x1 * x1 + x2 * x2
            if r2 < 1.0 and r2 != 0.0:
                break
        f = math.sqrt(-2.0 * float(Decimal(r2).ln()) / r2)
        cached = f * x1
        out.append(f * x2)
    return out

out = {}
for s in ${JSON.stringify(seeds)}:
    rs = np.random.RandomState(s)
    st = rs.get_state()
    raw = np.random.RandomState(s).randint(0, 2**32, size=1500, dtype=np.uint32)
    rs2 = np.random.RandomState(s)
    normals = rs2.standard_normal(2001)
    after = rs2.get_state()
    rs3 = np.random.RandomState(s)
    trunc = []
    while len(trunc) < 500:
        x = rs3.standard_normal()
        if abs(x) < 2: trunc.append(int(np.float32(x * 0.01).view(np.uint32)))
    out[str(s)] = {
        'key': [int(k) for k in st[1]], 'pos': int(st[2]),
        'raw': [int(v) for v in raw],
        'doubles': [float(v) for v in np.random.RandomState(s).random_sample(100)],
        'normals': [float(v) for v in normals],
        'normalsCR': gauss_correctly_rounded_log(np.random.RandomState(s), 2001),
        'after': {'key': [int(k) for k in after[1]], 'pos': int(after[2]), 'hasGauss': bool(after[3]), 'gauss': float(after[4])},
        'perm': [int(v) for v in np.random.RandomState(s).permutation(5000)],
        'truncBits': trunc,
        'derived1': [int(v) for v in np.random.RandomState([s, 1]).randint(0, 2**32, size=10, dtype=np.uint32)],
    }
out['longKey'] = [int(v) for v in np.random.RandomState(np.array(${JSON.stringify(longKey)}, dtype=np.int64)).randint(0, 2**32, size=10, dtype=np.uint32)]
print(json.dumps(out))
`)
    : undefined;

  test.each(seeds)('seed %i: state words, raw draws across regenerations, doubles, permutation', (seed) => {
    const r = ref[String(seed)];
    const rng = new MT19937(seed);
    const state = rng.getState();
    expect(state.key).toEqual(r.key);
    expect(state.pos).toBe(r.pos);
    expect(draw(1500, () => rng.nextUint32())).toEqual(r.raw);
    const d = new MT19937(seed);
    expect(draw(100, () => d.nextDouble())).toEqual(r.doubles);
    expect(Array.from(permutation(5000, new MT19937(seed)))).toEqual(r.perm);
    const derived = deriveStream(seed, 1);
    expect(draw(10, () => derived.nextUint32())).toEqual(r.derived1);
  });

  test.each(seeds)('seed %i: standard_normal = legacy_gauss with a correctly rounded log; state after', (seed) => {
    const r = ref[String(seed)];
    const rng = new MT19937(seed);
    const ours = draw(2001, () => rng.gauss());
    expect(ours).toEqual(r.normalsCR);
    // Our log is correctly rounded, glibc's misrounds rare near-ties: allow those, never drift.
    const off = ours.map((v, i) => Math.abs(ulps(v, r.normals[i])));
    expect(Math.max(...off)).toBeLessThanOrEqual(2);
    expect(off.filter((u) => u !== 0).length).toBeLessThanOrEqual(6);
    const after = rng.getState();
    expect(after.key).toEqual(r.after.key);
    expect(after.pos).toBe(r.after.pos);
    expect(after.hasGauss).toBe(r.after.hasGauss);
    expect(Math.abs(ulps(after.gauss, r.after.gauss))).toBeLessThanOrEqual(2);
  });

  test.each(seeds)('seed %i: truncatedNormal(0.01) equals the numpy rejection loop in float32', (seed) => {
    const ours = new Uint32Array(truncatedNormal(new MT19937(seed), 500, 0.01).buffer);
    const theirs: number[] = ref[String(seed)].truncBits;
    const mismatches = theirs.filter((bits, i) => bits !== ours[i]).length;
    expect(mismatches).toBeLessThanOrEqual(2); // only 1-ulp log differences surviving float32 rounding
  });

  test('init_by_array with a key longer than the state (700 words)', () => {
    const rng = MT19937.fromArray(longKey);
    expect(draw(10, () => rng.nextUint32())).toEqual(ref.longKey);
  });
});

describe('state and validation', () => {
  test('getState/setState round-trips through JSON mid-stream, including the gauss cache', () => {
    const a = new MT19937(42);
    draw(700, () => a.nextUint32()); // cross a regeneration
    a.gauss(); // leaves the second value of the pair cached
    const saved = JSON.parse(JSON.stringify(a.getState()));
    expect(saved.hasGauss).toBe(true);
    const b = new MT19937(7);
    b.setState(saved);
    const c = MT19937.fromState(saved);
    for (const other of [b, c]) {
      const probe = new MT19937(0);
      probe.setState(a.getState());
      expect(draw(5, () => other.gauss())).toEqual(draw(5, () => probe.gauss()));
      expect(draw(1000, () => other.nextUint32())).toEqual(draw(1000, () => probe.nextUint32()));
    }
    const d = MT19937.fromState(saved);
    expect(draw(3, () => a.gauss())).toEqual(draw(3, () => d.gauss()));
  });

  test('getState returns a copy', () => {
    const a = new MT19937(3);
    const s = a.getState();
    s.key[0] = 12345;
    expect(a.getState().key[0]).toBe(3);
  });

  test('bad seeds and states are rejected with RangeError', () => {
    for (const bad of [-1, 2 ** 32, 1.5, NaN, Infinity]) {
      expect(() => new MT19937(bad)).toThrow(RangeError);
      expect(() => deriveStream(bad, 1)).toThrow(RangeError);
      expect(() => deriveStream(1, bad)).toThrow(RangeError);
    }
    expect(() => new MT19937(-1)).toThrow('seed must be an integer between 0 and 4294967295, got -1');
    expect(() => MT19937.fromArray([])).toThrow(RangeError);
    const good = new MT19937(1).getState();
    expect(() => new MT19937(1).setState({ ...good, key: good.key.slice(1) })).toThrow(RangeError);
    expect(() => new MT19937(1).setState({ ...good, pos: 625 })).toThrow(RangeError);
    expect(() => new MT19937(1).setState({ ...good, key: [...good.key.slice(1), -1] })).toThrow(RangeError);
    expect(() => new MT19937(1).setState({ ...good, kind: 'PCG64' } as never)).toThrow(RangeError);
    expect(() => truncatedNormal(new MT19937(1), -1, 1)).toThrow(RangeError);
  });

  test('truncatedNormal stays strictly inside 2 stddev and looks normal', () => {
    const v = truncatedNormal(new MT19937(9), 20000, 0.01);
    let sum = 0;
    let sq = 0;
    for (const x of v) {
      expect(Math.abs(x)).toBeLessThan(0.02);
      sum += x;
      sq += x * x;
    }
    const mean = sum / v.length;
    // Truncating at 2 sigma leaves a std of 0.8796 sigma; bounds are ~4 standard errors.
    expect(Math.abs(mean)).toBeLessThan(0.00025);
    expect(Math.abs(Math.sqrt(sq / v.length - mean * mean) - 0.008796)).toBeLessThan(0.0002);
  });
});
