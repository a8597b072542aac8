// `bench` runs end to end and reports what it measured (speed itself is never asserted here).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { runCli, tempDir } from './helpers';

test('bench times the engine at 1 and 2 threads and the stock wasm kernels in one run and writes JSON', () => {
  const out = join(tempDir(), 'bench.json');
  const r = runCli([
    'bench',
    '--threads',
    '1,2',
    '--samples',
    '2',
    '--warmup',
    '0',
    '--eval-images',
    '1000',
    '--cpu-steps',
    '0',
    '--subjects',
    'engine,stock-wasm,tfjs-cpu',
    '--out',
    out,
  ]);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/\| engine \| wasm \| 1 \| 2 \| [\d.]+ \| 1\.00 \| \d+ \| \d+ \| 0 \| \d+ \|/);
  expect(r.stdout).toMatch(/\| engine \| wasm \| 2 \| 2 \| [\d.]+ \| [\d.]+ \| \d+ \|/);
  expect(r.stdout).toMatch(/\| stock-wasm \| wasm \| 1 \| 2 \| [\d.]+ \| [\d.]+ \|/);
  const report = JSON.parse(readFileSync(out, 'utf8'));
  expect(report.results.map((x: { subject: string; threads: number }) => `${x.subject}/${x.threads}`)).toEqual([
    'engine/1',
    'engine/2',
    'stock-wasm/1',
  ]);
  expect(report.results[0].stepMs).toHaveLength(2);
  expect(report.results[0].evalImagesPerSecond).toBeGreaterThan(0);
  // Evaluation is timed with the config's conv2 (Winograd) and with direct sums, engine rows only.
  expect(report.results[0].evalDirectImagesPerSecond).toBeGreaterThan(0);
  expect(report.results[2].evalDirectImagesPerSecond).toBe(null);
  expect(report.machine.cores).toBeGreaterThan(0);
  // No tensor may survive a training step.
  expect(report.results.map((x: { tensorsGrowth: number }) => x.tensorsGrowth)).toEqual([0, 0, 0]);
  expect(report.peakRssMiB).toBeGreaterThan(0);
});

test('bench times the shuffled summation orders against the fixed one in the same run, leaking no tensor', () => {
  const out = join(tempDir(), 'bench-shuffled.json');
  const r = runCli([
    'bench',
    '--threads',
    '2',
    '--samples',
    '2',
    '--warmup',
    '0',
    '--eval-images',
    '0',
    '--cpu-steps',
    '0',
    '--subjects',
    'engine,engine-shuffled-bias,engine-shuffled-filter,engine-shuffled-all',
    '--out',
    out,
  ]);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.status).toBe(0);
  const report = JSON.parse(readFileSync(out, 'utf8'));
  expect(report.results.map((x: { subject: string; threads: number }) => `${x.subject}/${x.threads}`)).toEqual([
    'engine/2',
    'engine-shuffled-bias/2',
    'engine-shuffled-filter/2',
    'engine-shuffled-all/2',
  ]);
  expect(report.results.map((x: { tensorsGrowth: number }) => x.tensorsGrowth)).toEqual([0, 0, 0, 0]);
  for (const kind of ['bias', 'filter', 'all']) {
    expect(r.stdout).toMatch(new RegExp(`\\| engine-shuffled-${kind} \\| wasm \\| 2 \\| 2 \\| [\\d.]+ \\|`));
    expect(r.stdout).toMatch(new RegExp(`engine-shuffled-${kind}: [\\d.]+ x the fixed-order step \\(engine\\), 2 thread\\(s\\)`));
  }
});

test('bench rejects a bad count with one line', () => {
  const r = runCli(['bench', '--samples', '0']);
  expect(r.status).not.toBe(0);
  expect(r.stderr.trim()).toBe("error: invalid samples: '0' (expected an integer >= 1)");
  const p = runCli(['bench', '--protocol-steps', '0']);
  expect(p.status).not.toBe(0);
  expect(p.stderr.trim()).toBe("error: invalid protocol-steps: '0' (expected an integer >= 1)");
});

test('bench --profile reports one step kernel by kernel, in the table and the JSON, at every thread count', () => {
  const out = join(tempDir(), 'bench-profile.json');
  const r = runCli([
    'bench',
    '--threads',
    '1,2',
    '--subjects',
    // The full step, kernel by kernel (engine's constant-init step runs once per copy set, no tfjs kernels).
    'engine-plain',
    '--samples',
    '1',
    '--warmup',
    '1',
    '--eval-images',
    '0',
    '--cpu-steps',
    '0',
    '--profile',
    '--out',
    out,
  ]);
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/profile of one step: engine-plain, 1 thread\(s\), [\d.]+ ms/);
  expect(r.stdout).toMatch(/profile of one step: engine-plain, 2 thread\(s\), [\d.]+ ms/);
  expect(r.stdout).toMatch(/\| Conv2D \| [\d.]+ \| \d+% \|/);
  const report = JSON.parse(readFileSync(out, 'utf8'));
  for (const result of report.results) {
    const names = result.profile.map((p: { name: string }) => p.name);
    for (const kernel of ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad', '(outside kernels)'])
      expect(names).toContain(kernel);
    expect(result.profile.every((p: { ms: number }) => p.ms >= 0)).toBe(true);
  }
});

/** True when a python3 on this machine imports torch (bench's PyTorch baseline can run). */
function hasTorch(): boolean {
  return ['python3', '/usr/bin/python3'].some((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
}

test('bench times the PyTorch CPU baseline at each thread count when torch is installed, else says it is not', () => {
  const out = join(tempDir(), 'bench-torch.json');
  const r = runCli([
    'bench',
    '--threads',
    '1,2',
    '--subjects',
    'pytorch',
    '--samples',
    '2',
    '--warmup',
    '1',
    '--eval-images',
    '1000',
    '--cpu-steps',
    '0',
    '--out',
    out,
  ]);
  expect(r.status).toBe(0);
  const report = JSON.parse(readFileSync(out, 'utf8'));
  if (!hasTorch()) {
    console.log('[cli-bench] PyTorch not installed here: only the "not installed" report is checked');
    expect(report.pytorch).toMatch(/^not installed/);
    expect(report.results).toEqual([]);
    return;
  }
  expect(report.pytorch).toMatch(/^\d+\.\d+/);
  expect(report.results.map((x: { subject: string; threads: number }) => `${x.subject}/${x.threads}`)).toEqual(['pytorch/1', 'pytorch/2']);
  for (const row of report.results) {
    expect(row.stepMs).toHaveLength(2);
    expect(row.medianStepMs).toBeGreaterThan(0);
    expect(row.evalImagesPerSecond).toBeGreaterThan(0);
  }
  expect(r.stdout).toMatch(/\| pytorch \| torch [^|]+ cpu \| 2 \| 2 \| [\d.]+ \|/);
});

test('bench refuses an unusable --out with one line before benchmarking anything', () => {
  const dir = tempDir();
  for (const [out, message] of [
    [join(dir, 'missing', 'bench.json'), /^error: invalid --out: folder '.*missing' does not exist\n$/],
    [dir, /^error: invalid --out: '.*' is a folder \(expected a file path\)\n$/],
  ] as const) {
    const r = runCli(['bench', '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  }
});
