// `explain` through the built CLI on the small fixture with narrow widths (seconds): the three
// report files exist, the HTML is self-contained, and the numbers the text states are the ones the
// runs measured (report.json).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { FIXTURE, runCli, tempDir } from './helpers';

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

describe('explain on a tiny suite', () => {
  const out = join(tempDir(), 'explain');
  const r = runCli([
    'explain',
    '--data',
    FIXTURE,
    '--validation-size',
    '100',
    '--widths',
    '4,8,16',
    '--steps',
    '6',
    '--eval-every',
    '3',
    '--eval-train',
    '100',
    '--test-images',
    '100',
    '--perturbs',
    '1e-3',
    '--order-seeds',
    '1',
    '--out',
    out,
  ]);

  test('writes report.json, report.md and a self-contained report.html', () => {
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.status).toBe(0);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(5);
    expect(html.replace(/xmlns="http:\/\/www.w3.org\/2000\/svg"/g, '')).not.toMatch(/https?:|<script|<link/);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/^# Why does the constant-initialised CNN learn\?/);
  });

  test('states the numbers the runs measured', () => {
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    const ids = report.results.map((x: { entry: { id: string } }) => x.entry.id);
    expect(ids).toEqual([
      'dense-constant',
      'twin-constant',
      'dense-truncated-normal',
      'dense-ties-last',
      'dense-ties-random',
      'dense-perturb-0.001',
      'twin-loss-epsilon',
      'twin-loss-stable',
      'twin-order-tf1-seed-1',
    ]);
    expect(report.protocol).toEqual({ steps: 6, evalEvery: 3, trainImages: 100, testImages: 100, widths: [4, 8, 16] });
    for (const run of report.results) {
      expect(run.summary.steps).toBe(6);
      expect(run.records.map((e: { step: number }) => e.step)).toEqual([0, 3, 6]);
      expect(md).toContain(`| ${run.entry.id} | 6 | ${pct(run.summary.final.train)} | ${pct(run.summary.final.test)} |`);
    }
    const dense = report.results[0].summary;
    expect(report.findings[0]).toContain(`reached ${pct(dense.final.test)} test accuracy`);
    expect(md).toContain(report.findings[0]);
    expect(r.stdout).toContain(report.findings[0]);
    // The twin's multipliers in the text are those of the widths run.
    expect(report.findings[1]).toContain('lr multipliers 1, 1, 4, 1, 8, 1, 16, 1');
  });

  test('rejects bad sizes with one line before running anything', () => {
    const bad = runCli(['explain', '--test-images', '0', '--out', join(out, 'bad')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("error: invalid test-images: '0' (expected an integer >= 1)\n");
    const badList = runCli(['explain', '--perturbs', 'x', '--out', join(out, 'bad')]);
    expect(badList.stderr).toMatch(/^error: invalid perturbs: 'x'/);
  });
});
