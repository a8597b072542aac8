// The `train` command end to end, through the built CLI: files and formats, determinism, and the
// seed's protocol details (step-0 line, final line, nan train column).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { QUICK, runCli, tempDir } from './helpers';

function readRun(dir: string) {
  return {
    csv: readFileSync(join(dir, 'validation-curve-accuracy.csv'), 'utf8'),
    metrics: readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l)),
    config: JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')),
    summary: JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')),
  };
}

describe('mnist-sym-wasm train on the small fixture', () => {
  const base = tempDir();
  const args = [...QUICK, '--steps', '5', '--eval-every', '2', '--widths', '4,4,8'];
  const first = runCli(['train', ...args, '--out', join(base, 'a')]);
  const second = runCli(['train', ...args, '--out', join(base, 'b')]);

  test('exits 0 and prints a summary', () => {
    expect(first.stderr).not.toMatch(/\n\s+at /);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/weights sha256\s+[0-9a-f]{64}/);
    expect(first.stdout).toMatch(/test accuracy\s+\d+\.\d\d%/);
  });

  test('writes the CSV in the question format at steps 0, every 2, and after the last', () => {
    const { csv } = readRun(join(base, 'a'));
    const lines = csv.trimEnd().split('\n');
    expect(lines.map((l) => l.split(';')[0])).toEqual(['0', '2', '4', '5']);
    for (const line of lines) expect(line).toMatch(/^\d+;\d\.\d{6};\d\.\d{6}$/);
  });

  test('metrics.jsonl, config.json and summary.json agree with each other and the CSV', () => {
    const run = readRun(join(base, 'a'));
    expect(run.metrics.map((m: { step: number }) => m.step)).toEqual([0, 2, 4, 5]);
    expect(run.metrics[0].batchLoss).toBeNull();
    expect(typeof run.metrics[1].batchLoss).toBe('number');
    expect(run.config.config).toMatchObject({ steps: 5, evalEvery: 2, widths: [4, 4, 8], loss: 'seed', init: 'constant' });
    expect(run.summary.steps).toBe(5);
    expect(run.summary.firstNanStep).toBeNull();
    expect(run.summary.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(run.summary.msPerStep).toBeGreaterThan(0);
    const last = run.metrics[run.metrics.length - 1];
    expect(run.summary.final).toEqual({ step: 5, train: last.train, test: last.test, loss: last.batchLoss });
    expect(run.csv.trimEnd().split('\n').pop()).toBe(`5;${last.train.toFixed(6)};${last.test.toFixed(6)}`);
    expect(run.summary.config).toEqual(run.config.config);
  });

  test('the same config gives the same weights and the same files, bitwise', () => {
    expect(second.status).toBe(0);
    const a = readRun(join(base, 'a'));
    const b = readRun(join(base, 'b'));
    expect(b.summary.weightsSha256).toBe(a.summary.weightsSha256);
    expect(b.csv).toBe(a.csv);
    const strip = (ms: { elapsedMs?: number }[]) => ms.map(({ elapsedMs: _e, ...rest }) => rest);
    expect(strip(b.metrics)).toEqual(strip(a.metrics));
  });

  test('a different seed with truncated-normal init changes the weights; eval-train 0 writes nan', () => {
    const out = join(base, 'c');
    const r = runCli([
      'train',
      ...QUICK,
      '--steps',
      '2',
      '--widths',
      '4,4,8',
      '--init',
      'truncated-normal',
      '--seed',
      '7',
      '--eval-train',
      '0',
      '--eval-every',
      '0',
      '--out',
      out,
    ]);
    expect(r.status).toBe(0);
    const run = readRun(out);
    expect(run.summary.weightsSha256).not.toBe(readRun(join(base, 'a')).summary.weightsSha256);
    expect(run.csv).toMatch(/^2;nan;\d\.\d{6}\n$/);
    expect(run.summary.final.train).toBeNull();
  });

  test('--json prints one JSON event per line: start, steps, evals, end', () => {
    const r = runCli(['train', ...QUICK, '--steps', '2', '--widths', '4,4,8', '--json', '--out', join(base, 'd')]);
    expect(r.status).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // Evaluations come in step order; on more than one thread a symmetric network's are scored
    // while training goes on, so they may come after later steps' events.
    expect(events[0].type).toBe('start');
    expect(events.at(-1).type).toBe('end');
    expect(events.filter((e) => e.type === 'step').map((e) => e.step)).toEqual([1, 2]);
    expect(events.filter((e) => e.type === 'eval').map((e) => e.record.step)).toEqual([0, 2]);
    expect(events.length).toBe(6);
    expect(events[5].summary.weightsSha256).toBe(readRun(join(base, 'd')).summary.weightsSha256);
  });

  test('the default output folder is runs/<timestamp> under the working directory', () => {
    const cwd = tempDir();
    const r = runCli(['train', ...QUICK, '--steps', '1', '--widths', '2,2,2', '--eval-every', '0'], cwd);
    expect(r.status).toBe(0);
    const match = r.stdout.match(/output\s+(runs\/\S+)/);
    expect(match).not.toBeNull();
    expect(existsSync(join(cwd, match![1], 'summary.json'))).toBe(true);
  });

  test('--eval-conv direct and winograd train the same weights and score alike; the config records it', () => {
    // Widths where evaluation's Winograd kernel runs (conv2: 16 -> 32 channels); random init so
    // that conv2's channels differ.
    const common = [...QUICK, '--steps', '6', '--eval-every', '3', '--widths', '16,32,32', '--init', 'truncated-normal', '--lr', '1e-3'];
    const runs = ['winograd', 'direct'].map((kind) => {
      const out = join(base, `conv-${kind}`);
      const r = runCli(['train', ...common, '--eval-conv', kind, '--out', out]);
      expect(r.status).toBe(0);
      return readRun(out);
    });
    const [winograd, direct] = runs;
    expect(winograd.config.config.evalConv).toBe('winograd');
    expect(direct.config.config.evalConv).toBe('direct');
    expect(winograd.summary.weightsSha256).toBe(direct.summary.weightsSha256);
    expect(winograd.metrics.map((m: { step: number }) => m.step)).toEqual(direct.metrics.map((m: { step: number }) => m.step));
    for (let i = 0; i < winograd.metrics.length; i++) {
      expect(Math.abs(winograd.metrics[i].test - direct.metrics[i].test)).toBeLessThanOrEqual(0.002);
      expect(Math.abs(winograd.metrics[i].train - direct.metrics[i].train)).toBeLessThanOrEqual(0.005);
    }
  });
});
