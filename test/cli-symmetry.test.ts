// Symmetry diagnostics through the built CLI: `symmetry` in metrics.jsonl and summary.json, the
// table in the printed summary, and --sym-tol recorded in the config.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { QUICK, runCli, tempDir } from './helpers';

const KEYS = ['conv1.out', 'conv2.out', 'conv2.in', 'fc1.in', 'fc1.out', 'fc2.in'];

describe('symmetry diagnostics in train', () => {
  const out = join(tempDir(), 'run');
  const r = runCli(['train', ...QUICK, '--steps', '3', '--eval-every', '2', '--widths', '4,8,16', '--sym-tol', '1e-5', '--out', out]);

  test('are stored per evaluation and for the final weights', () => {
    expect(r.status).toBe(0);
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.config.symTol).toBe(1e-5);
    for (const s of [...metrics.map((m) => m.symmetry), summary.symmetry]) {
      expect(Object.keys(s)).toEqual(KEYS);
      expect(KEYS.map((k) => s[k].copies)).toEqual([4, 8, 4, 8, 16, 16]);
      expect(KEYS.map((k) => [s[k].groups, s[k].groupsTol, s[k].maxRelDiff])).toEqual(KEYS.map(() => [1, 1, 0]));
    }
  });

  test('are printed as a table in the summary and inline in the progress lines', () => {
    expect(r.stdout).toMatch(/copy set\s+copies\s+groups\s+groups@1e-5\s+maxRelDiff/);
    expect(r.stdout).toMatch(/fc1\.out\s+16\s+1\s+1\s+0/);
    expect(r.stderr).toMatch(/groups conv1\.out 1\/4 conv2\.out 1\/8/);
  });

  test('reject a negative tolerance with a one-line error', () => {
    const bad = runCli(['train', ...QUICK, '--sym-tol', '-1', '--out', join(out, 'x')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/invalid sym-tol: '-1'/);
  });
});
