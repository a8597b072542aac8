// Thread count never changes results: 1, 2 and 3 WebAssembly threads (tfjs's and the own kernels'
// helpers, and the evaluation pools' workers) give the same weights, CSV and evaluation metrics
// (losses included: evaluation's fused and Winograd kernels run on the helpers too at these widths).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { QUICK, runCliAsync, tempDir } from './helpers';

/** Trains `train ...QUICK ...args --threads N --out <new folder>` and reads what the run wrote. */
async function trainAndRead(args: string[], threads: number) {
  const out = join(tempDir(), `t${threads}`);
  const r = await runCliAsync(['train', ...QUICK, ...args, '--threads', String(threads), '--out', out]);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.status, r.stderr).toBe(0);
  return {
    summary: JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')),
    csv: readFileSync(join(out, 'validation-curve-accuracy.csv'), 'utf8'),
    // Every evaluation record but its wall time.
    metrics: readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => {
        const { elapsedMs: _e, ...rest } = JSON.parse(l);
        return JSON.stringify(rest);
      }),
    progress: r.stderr + r.stdout,
  };
}

test('--threads 1, 2 and 3: bitwise-identical weights and CSV, and the summary records the threads used', async () => {
  const args = ['--steps', '4', '--eval-every', '2', '--widths', '16,32,32', '--init', 'truncated-normal'];
  const runs = [await trainAndRead(args, 1), await trainAndRead(args, 2), await trainAndRead(args, 3)];
  expect(runs.map((r) => r.summary.engine.threads)).toEqual([1, 2, 3]);
  // The own convolution and GEMM ran on as many threads (helpers on the threaded build's shared heap).
  expect(runs.map((r) => r.summary.engine.kernelThreads)).toEqual([1, 2, 3]);
  expect(runs.map((r) => r.summary.engine.simd)).toEqual([true, true, true]);
  expect(new Set(runs.map((r) => r.summary.weightsSha256)).size).toBe(1);
  expect(new Set(runs.map((r) => r.csv)).size).toBe(1);
  expect(runs[0].metrics.length).toBe(3); // steps 0, 2, 4
  expect(runs[1].metrics).toEqual(runs[0].metrics);
  expect(runs[2].metrics).toEqual(runs[0].metrics);
});

test('--reduce-order shuffled --reduce-shuffle all: the drawn summation orders give the same bits on 1 and 2 threads', async () => {
  const args = (order: string) => [
    '--steps',
    '4',
    '--eval-every',
    '2',
    '--widths',
    '16,32,32',
    '--reduce-order',
    order,
    '--reduce-shuffle',
    'all',
  ];
  const one = await trainAndRead(args('shuffled'), 1);
  const two = await trainAndRead(args('shuffled'), 2);
  const fixed = await trainAndRead(args('fixed'), 2);
  expect([one.summary.engine.kernelThreads, two.summary.engine.kernelThreads]).toEqual([1, 2]);
  expect(two.summary.config.reduceShuffle).toBe('all');
  expect(two.summary.weightsSha256).toBe(one.summary.weightsSha256);
  expect(two.csv).toBe(one.csv);
  // The orders were really drawn: the fixed order ends on other weights.
  expect(fixed.summary.weightsSha256).not.toBe(one.summary.weightsSha256);
});

test('symmetric execution (the seed geometry, constant init, 500 steps): once per copy set on 1 and 2 threads = every unit computed', async () => {
  const args = (exec: string) => ['--steps', '500', '--eval-every', '50', '--symmetric-exec', exec];
  const plain = await trainAndRead(args('off'), 2);
  const fast = [await trainAndRead(args('on'), 1), await trainAndRead(args('on'), 2)];
  expect(plain.summary.stepPaths).toEqual({ symmetric: 0, plain: 500 });
  expect(plain.summary.evalPaths).toEqual({ symmetric: 0, 'partly-symmetric': 0, plain: 11 });
  for (const r of fast) {
    expect(r.summary.stepPaths).toEqual({ symmetric: 500, plain: 0 });
    expect(r.summary.evalPaths).toEqual({ symmetric: 11, 'partly-symmetric': 0, plain: 0 });
    expect(r.summary.weightsSha256).toBe(plain.summary.weightsSha256);
    expect(r.csv).toBe(plain.csv);
    expect(r.metrics).toEqual(plain.metrics);
    expect(r.progress).toMatch(/eval symmetric; steps symmetric/);
  }
  // Not vacuous: the network learned something in those steps.
  expect(plain.metrics.length).toBe(11);
  expect(plain.summary.final.test).toBeGreaterThan(0.15);
}, 600_000);
