// fc1's copy groups and activity records, and the dead-unit summary over crafted record sequences:
// a unit that dies, one that dies and revives, one never active, groups that split and die apart.
import { describe, expect, it } from 'vitest';
import { seedModelShape } from '../dense/model';
import { convGroups, deadUnits, fc1Activity, fc1Groups, rangeSize, toRanges, type UnitActivity } from './unit-activity';

/** A record whose groups are the given ranges with the given active fractions. */
function rec(step: number, groups: [number, number, number][], images = 100): { step: number; activity: { fc1: UnitActivity } } {
  return { step, activity: { fc1: { images, groups: groups.map(([a, b, active]) => ({ units: [[a, b]], active })) } } };
}

describe('toRanges', () => {
  it('joins consecutive units', () => {
    expect(toRanges([])).toEqual([]);
    expect(toRanges([0, 1, 2, 5, 7, 8])).toEqual([
      [0, 2],
      [5, 5],
      [7, 8],
    ]);
    expect(rangeSize(toRanges([0, 1, 2, 5, 7, 8]))).toBe(6);
  });
});

describe('fc1Groups', () => {
  const shape = seedModelShape([1, 1, 4], 8, 4); // fc1.W: 2 positions x 1 channel = 2 rows, 4 units
  const params = () => {
    const w3 = new Float32Array(2 * 4);
    const b3 = new Float32Array([0.1, 0.2, 0.1, 0.2]);
    w3.set([1, 2, 1, 2, 3, 4, 3, 4]); // row 0: units 0..3, row 1: units 0..3
    return [new Float32Array(25), new Float32Array(1), new Float32Array(25), new Float32Array(1), w3, b3];
  };

  it('groups units whose fc1 column and bias are bitwise equal, in order of first unit', () => {
    expect(fc1Groups(shape, params())).toEqual([
      [0, 2],
      [1, 3],
    ]);
  });

  it('tells a bias, a weight, and -0 from 0 apart', () => {
    const p = params();
    p[5][3] = 0.25;
    expect(fc1Groups(shape, p)).toEqual([[0, 2], [1], [3]]);
    const q = params();
    q[4][4 + 2] = 3.0000002;
    expect(fc1Groups(shape, q)).toEqual([[0], [1, 3], [2]]);
    const z = params();
    z[4].fill(0);
    z[5].fill(0);
    z[4][1] = -0;
    expect(fc1Groups(shape, z)).toEqual([[0, 2, 3], [1]]);
  });
});

describe('convGroups', () => {
  it("groups conv1's and conv2's output channels whose filter and bias are bitwise equal", () => {
    const shape = seedModelShape([3, 2, 1], 4, 4);
    const w1 = new Float32Array(25 * 3); // [5][5][1][3]: channel c at every third value
    const w2 = new Float32Array(25 * 3 * 2); // [5][5][3][2]
    for (let t = 0; t < 25; t++) {
      w1.set([t, t + 1, t], 3 * t);
      w2.set([0.5, 0.5, 1, 1, 2, 2], 6 * t);
    }
    const params = [w1, new Float32Array([0.1, 0.1, 0.1]), w2, new Float32Array([0.2, 0.3]), new Float32Array(1), new Float32Array(1)];
    expect(convGroups(shape, params, 0)).toEqual([[0, 2], [1]]);
    expect(convGroups(shape, params, 1)).toEqual([[0], [1]]); // equal filters, different biases
    params[3][1] = 0.2;
    expect(convGroups(shape, params, 1)).toEqual([[0, 1]]);
  });
});

describe('fc1Activity', () => {
  it('gives each group the largest active count of its units, as a fraction', () => {
    const a = fc1Activity([[0, 2], [1]], [10, 0, 30], 40);
    expect(a).toEqual({
      images: 40,
      groups: [
        {
          units: [
            [0, 0],
            [2, 2],
          ],
          active: 0.75,
        },
        { units: [[1, 1]], active: 0 },
      ],
    });
  });
});

describe('deadUnits', () => {
  it('finds no dead unit when the unit is active at the end', () => {
    expect(deadUnits([rec(0, [[0, 0, 1]]), rec(100, [[0, 0, 0.5]]), rec(200, [[0, 0, 0.01]])])).toEqual({ units: 1, dead: 0, died: [] });
  });

  it('dates a death at the first evaluation from which the unit stayed inactive', () => {
    const records = [rec(0, [[0, 0, 1]]), rec(100, [[0, 0, 0.3]]), rec(200, [[0, 0, 0]]), rec(300, [[0, 0, 0]])];
    expect(deadUnits(records)).toEqual({ units: 1, dead: 1, died: [{ step: 200, units: [[0, 0]] }] });
  });

  it('does not count a unit that was inactive for a while and revived', () => {
    const records = [rec(0, [[0, 0, 1]]), rec(100, [[0, 0, 0]]), rec(200, [[0, 0, 0]]), rec(300, [[0, 0, 0.001]])];
    expect(deadUnits(records)!.dead).toBe(0);
  });

  it('dates a unit that revived and died again at its second death', () => {
    const records = [rec(0, [[0, 0, 0]]), rec(100, [[0, 0, 0.2]]), rec(200, [[0, 0, 0]]), rec(300, [[0, 0, 0]])];
    expect(deadUnits(records)!.died).toEqual([{ step: 200, units: [[0, 0]] }]);
  });

  it('dates a unit never active at the first evaluation', () => {
    expect(deadUnits([rec(0, [[0, 3, 0]]), rec(100, [[0, 3, 0]])])).toEqual({ units: 4, dead: 4, died: [{ step: 0, units: [[0, 3]] }] });
  });

  it('follows units through groups that split: each unit dies on its own', () => {
    const records = [
      rec(0, [[0, 3, 1]]),
      rec(100, [
        [0, 1, 0],
        [2, 3, 0.5],
      ]),
      rec(200, [
        [0, 0, 0],
        [1, 1, 0],
        [2, 2, 0],
        [3, 3, 0.1],
      ]),
      rec(300, [
        [0, 2, 0],
        [3, 3, 0.2],
      ]),
    ];
    expect(deadUnits(records)).toEqual({
      units: 4,
      dead: 3,
      died: [
        { step: 100, units: [[0, 1]] },
        { step: 200, units: [[2, 2]] },
      ],
    });
  });

  it('skips records without activity (older builds) or over no images; null when the last has none', () => {
    const old = { step: 100 };
    expect(deadUnits([rec(0, [[0, 0, 0]]), old, rec(200, [[0, 0, 0]])])!.died).toEqual([{ step: 0, units: [[0, 0]] }]);
    expect(deadUnits([rec(0, [[0, 0, 1]]), rec(100, [[0, 0, 0]], 0), rec(200, [[0, 0, 0]])])!.died).toEqual([
      { step: 200, units: [[0, 0]] },
    ]);
    expect(deadUnits([rec(0, [[0, 0, 0]]), old])).toBeNull();
    expect(deadUnits([])).toBeNull();
  });
});
