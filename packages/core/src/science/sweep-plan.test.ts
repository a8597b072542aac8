// Sweep plans: cartesian product over --vary axes and seeds, shards that partition the plan, and
// merging rows from shards (duplicates that agree, conflicts, missing runs).
import { describe, expect, it } from 'vitest';
import { mergeSweepRows, parseShard, parseSweepAxis, shardRuns, sweepPlan, type SweepRow } from './sweep-plan';

function row(index: number, hash = `h${index}`): SweepRow {
  return { index, varied: {}, steps: 1, train: 0.1, test: 0.1, loss: 1, firstNanStep: null, groups: {}, weightsSha256: hash, msPerStep: 1 };
}

describe('sweep plans', () => {
  it('parses axes by config key or flag, with | for values holding commas', () => {
    expect(parseSweepAxis('pool-ties=first,random')).toEqual(['poolTies', ['first', 'random']]);
    expect(parseSweepAxis('widths=4,8,16|8,16,32')).toEqual(['widths', ['4,8,16', '8,16,32']]);
    expect(() => parseSweepAxis('colour=red')).toThrow(/unknown config key 'colour'/);
    expect(() => parseSweepAxis('init=')).toThrow(/expected key=v1,v2/);
  });

  it('expands axes x seeds in a fixed order and validates every config once', () => {
    const plan = sweepPlan({ steps: '5' }, [parseSweepAxis('init=constant,truncated-normal'), parseSweepAxis('perturb=0,1e-3')], [0, 7]);
    expect(plan).toHaveLength(8);
    expect(plan.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(plan[3].varied).toEqual({ init: 'constant', perturb: 1e-3, seed: 7 });
    expect(plan[4].varied).toEqual({ init: 'truncated-normal', perturb: 0, seed: 0 });
    expect(plan.every((r) => r.config.steps === 5)).toBe(true);
    expect(() => sweepPlan({}, [parseSweepAxis('loss=seed,bogus')], [0])).toThrow(/invalid loss: 'bogus'/);
    expect(() => sweepPlan({}, [parseSweepAxis('seed=1,2')], [0])).toThrow(/may appear once/);
  });

  it('splits the plan into disjoint shards that cover it', () => {
    const plan = sweepPlan({}, [parseSweepAxis('lr=1e-4,1e-3,1e-2')], [0, 1, 2]);
    const shards = [0, 1, 2, 3].map((i) => shardRuns(plan, parseShard(`${i}/4`)).map((r) => r.index));
    expect(shards.flat().sort((a, b) => a - b)).toEqual(plan.map((r) => r.index));
    expect(shards[1]).toEqual([1, 5]);
    expect(() => parseShard('4/4')).toThrow(/0 <= i < n/);
    expect(() => parseShard('1')).toThrow(/expected i\/n/);
  });

  it('merges shards in plan order, accepts agreeing duplicates, reports missing runs, rejects conflicts', () => {
    const merged = mergeSweepRows(5, [
      [row(3), row(0)],
      [row(1), row(3)],
    ]);
    expect(merged.rows.map((r) => r.index)).toEqual([0, 1, 3]);
    expect(merged.missing).toEqual([2, 4]);
    expect(() => mergeSweepRows(5, [[row(1)], [row(1, 'other')]])).toThrow(/two different results/);
    expect(() => mergeSweepRows(2, [[row(2)]])).toThrow(/outside the plan/);
  });
});
