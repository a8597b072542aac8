// `sweep run --shard i/n` + `sweep merge` through the built CLI: two shards share one folder, the
// merge refuses an incomplete sweep unless --partial, and the merged table equals the runs' results.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { QUICK, runCli, tempDir } from './helpers';

describe('sweep in two shards', () => {
  const out = join(tempDir(), 'sweep');
  const args = [
    'sweep',
    'run',
    ...QUICK,
    '--widths',
    '2,3,4',
    '--steps',
    '3',
    '--eval-every',
    '0',
    '--vary',
    'pool-ties=first,random',
    '--seeds',
    '0-1',
    '--out',
    out,
  ];
  const first = runCli([...args, '--shard', '0/2']);
  const early = runCli(['sweep', 'merge', out]);
  const second = runCli([...args, '--shard', '1/2']);
  const again = runCli([...args, '--shard', '1/2']);
  const merged = runCli(['sweep', 'merge', out, '--json']);

  test('each shard runs its share; a re-run skips finished runs', () => {
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^2 run\(s\) finished/);
    expect(second.status).toBe(0);
    expect(again.stdout).toMatch(/^0 run\(s\) finished/);
  });

  test('merge refuses an incomplete sweep, then combines the shards in plan order', () => {
    expect(early.status).toBe(2);
    expect(early.stderr).toMatch(/sweep incomplete: 2 of 4 runs missing \(first: 1, 3\)/);
    expect(early.stderr).toContain('; shard 1/2 never started; pass --partial');
    expect(merged.status).toBe(0);
    const table = JSON.parse(merged.stdout);
    expect(table.missing).toEqual([]);
    expect(table.rows.map((r: { index: number }) => r.index)).toEqual([0, 1, 2, 3]);
    expect(table.rows.map((r: { varied: unknown }) => r.varied)).toEqual([
      { poolTies: 'first', seed: 0 },
      { poolTies: 'first', seed: 1 },
      { poolTies: 'random', seed: 0 },
      { poolTies: 'random', seed: 1 },
    ]);
    const row2 = JSON.parse(readFileSync(join(out, 'rows', 'run-00002.json'), 'utf8'));
    expect(table.rows[2].weightsSha256).toBe(row2.summary.weightsSha256);
    expect(table.rows[0].groups['conv1.out']).toBe(1);
    const csv = readFileSync(join(out, 'sweep.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^index;poolTies;seed;steps;train;test/);
    expect(csv).toHaveLength(5);
  });
});

describe('sweep of twin runs: curves and dead units', () => {
  const out = join(tempDir(), 'twin-sweep');
  const args = ['sweep', 'run', ...QUICK, '--model', 'twin', '--steps', '20', '--eval-every', '10', '--vary', 'lr=1e-4,0.1', '--out', out];
  const run = runCli(args);
  const merged = runCli(['sweep', 'merge', out]);

  test('row files hold each evaluation, and the table says whether fc1 died and from which step', () => {
    expect(run.status).toBe(0);
    expect(merged.status).toBe(0);
    const row = (i: number) => JSON.parse(readFileSync(join(out, 'rows', `run-0000${i}.json`), 'utf8'));
    // lr 1e-4 barely moves the constant init in 20 steps: fc1 (bias 0.1) stays active on every image.
    expect(row(0).curve.map((c: { step: number; fc1ActiveMin: number }) => [c.step, c.fc1ActiveMin])).toEqual([
      [0, 1],
      [10, 1],
      [20, 1],
    ]);
    expect(row(0).row.fc1Dead).toEqual({ dead: 0, units: 1, firstStep: null });
    // lr 0.1 kills the twin's unit before step 10.
    expect(row(1).curve.map((c: { fc1ActiveMin: number }) => c.fc1ActiveMin)).toEqual([1, 0, 0]);
    expect(row(1).row.fc1Dead).toEqual({ dead: 1, units: 1, firstStep: 10 });
    expect(row(1).summary.deadUnits.fc1).toEqual({ units: 1, dead: 1, died: [{ step: 10, units: [[0, 0]] }] });
    const csv = readFileSync(join(out, 'sweep.csv'), 'utf8').trim().split('\n');
    const col = csv[0].split(';').indexOf('fc1 dead');
    expect(csv.slice(1).map((l) => l.split(';')[col])).toEqual(['0/1', '1/1 from 10']);
  });
});
