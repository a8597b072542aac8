// Cutting a run's CSV and metrics.jsonl back to a checkpoint: lines after it, a line a kill cut
// short, and an old final evaluation that a longer --steps no longer has all go; missing lines
// are refused before either file changes.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '@mnist-sym-wasm/core';
import { truncateRunLogs } from './resume';

const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

function runDir(steps: number[], tail = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'msw-resume-'));
  made.push(dir);
  writeFileSync(join(dir, 'validation-curve-accuracy.csv'), steps.map((s) => `${s};0.100000;0.200000\n`).join('') + tail);
  writeFileSync(
    join(dir, 'metrics.jsonl'),
    steps.map((s) => `${JSON.stringify({ step: s, test: 0.2 })}\n`).join('') + (tail ? '{"step": 9' : ''),
  );
  return dir;
}

const read = (dir: string) => ({
  csv: readFileSync(join(dir, 'validation-curve-accuracy.csv'), 'utf8'),
  metrics: readFileSync(join(dir, 'metrics.jsonl'), 'utf8'),
});

describe('truncateRunLogs', () => {
  it('keeps the evaluations up to the checkpoint and drops later and torn lines', () => {
    const dir = runDir([0, 10, 20, 30], '40;0.1');
    const records = truncateRunLogs(dir, resolveConfig({ steps: 50, evalEvery: 10 }), 25);
    expect(records.map((r) => r.step)).toEqual([0, 10, 20]);
    expect(read(dir).csv).toBe('0;0.100000;0.200000\n10;0.100000;0.200000\n20;0.100000;0.200000\n');
    expect(read(dir).metrics.trim().split('\n')).toHaveLength(3);
  });

  it('drops an old final evaluation that is not on the longer schedule', () => {
    const dir = runDir([0, 10, 20, 30, 35]);
    truncateRunLogs(dir, resolveConfig({ steps: 50, evalEvery: 10 }), 35);
    expect(
      read(dir)
        .csv.split('\n')
        .map((l) => l.split(';')[0]),
    ).toEqual(['0', '10', '20', '30', '']);
  });

  it('refuses missing lines without changing either file', () => {
    const dir = runDir([0, 20, 30]);
    const before = read(dir);
    expect(() => truncateRunLogs(dir, resolveConfig({ steps: 50, evalEvery: 10 }), 30)).toThrow(
      /holds evaluations \[0,20,30\] but the checkpoint at step 30 needs \[0,10,20,30\]/,
    );
    expect(read(dir)).toEqual(before);
  });
});
