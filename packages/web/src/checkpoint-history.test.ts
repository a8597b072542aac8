// The history a resumed page run starts with: cut to the resumed schedule, null when incomplete.
import { describe, expect, test } from 'vitest';
import { resolveConfig, type Checkpoint, type EvalRecord } from '@mnist-sym-wasm/core';
import { resumedHistory } from './checkpoint-history';

function checkpointAt(step: number, evalSteps: number[] | null): Checkpoint {
  const evals = evalSteps?.map((s) => ({ step: s }) as EvalRecord);
  return { trainer: { step }, run: { ...(evals ? { evals } : {}) } } as unknown as Checkpoint;
}

describe('resumedHistory', () => {
  test('keeps the evaluations up to the step on the resumed schedule', () => {
    const config = resolveConfig({ steps: 40, evalEvery: 10 });
    expect(resumedHistory(checkpointAt(25, [0, 10, 20]), config)!.map((r) => r.step)).toEqual([0, 10, 20]);
    // The old final evaluation (35) of a run extended from 35 to 40 steps is not on the new schedule.
    expect(resumedHistory(checkpointAt(35, [0, 10, 20, 30, 35]), config)!.map((r) => r.step)).toEqual([0, 10, 20, 30]);
  });

  test('null when the checkpoint carries no history or misses an evaluation', () => {
    const config = resolveConfig({ steps: 40, evalEvery: 10 });
    expect(resumedHistory(checkpointAt(25, null), config)).toBeNull();
    expect(resumedHistory(checkpointAt(25, [0, 20]), config)).toBeNull();
  });
});
