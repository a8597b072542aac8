// Faults and bad files through the BUILT CLI: a failed start leaves nothing that blocks its retry;
// an output folder on procfs fails at once; damaged sweep rows and plans, unwritable output folders,
// a checkpoint moved away from its data or holding an invalid config are refused with one line
// naming the file (and the field), exit 2, never as an internal failure (70).
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint } from '@mnist-sym-wasm/core';
import { describe, expect, test } from 'vitest';
import { FIXTURE, QUICK, runCli, tempDir } from './helpers';

const SMALL = [...QUICK, '--widths', '2,2,2'];

function expectOneLineError(r: { status: number | null; stderr: string; stdout: string }, pattern: RegExp) {
  expect(r.status, r.stdout + r.stderr).toBe(2);
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('(run with --help'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).not.toMatch(/internal failure/);
  expect(lines[0]).toMatch(pattern);
}

describe('a failed start leaves nothing that blocks its retry', () => {
  for (const [flag, value, message] of [
    ['--batch', '60000', /invalid batch: 60000 exceeds the train split \(\d+ images\)/],
    ['--eval-train', '55001', /invalid eval-train: 55001 exceeds the train split \(\d+ images\)/],
  ] as const) {
    test(`${flag} ${value} is refused before anything is written; the same --out then works`, () => {
      const out = join(tempDir(), 'run');
      expectOneLineError(runCli(['train', ...SMALL, '--steps', '1', flag, value, '--out', out]), message);
      expect(existsSync(out)).toBe(false);
      const retry = runCli(['train', ...SMALL, '--steps', '1', '--out', out]);
      expect(retry.status, retry.stderr).toBe(0);
    });
  }

  test("a folder holding only a failed start's config.json is reused", () => {
    const out = tempDir();
    writeFileSync(join(out, 'config.json'), '{"config": {}}\n');
    const r = runCli(['train', ...SMALL, '--steps', '1', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).config.steps).toBe(1);
  });

  test('a folder with a checkpoint but no metrics still holds a run', () => {
    const out = tempDir();
    mkdirSync(join(out, 'checkpoints'));
    writeFileSync(join(out, 'checkpoints', 'step-00000005.ckpt'), 'x');
    expectOneLineError(runCli(['train', ...SMALL, '--steps', '1', '--out', out]), /already holds a run \(.*step-00000005\.ckpt\)/);
  });

  test('sweep run and explain check every run against the data before creating --out', () => {
    const out = join(tempDir(), 'sweep');
    expectOneLineError(
      runCli(['sweep', 'run', ...SMALL, '--steps', '1', '--vary', 'batch=50,60000', '--out', out]),
      /invalid batch: 60000/,
    );
    expect(existsSync(out)).toBe(false);
    expectOneLineError(runCli(['explain', ...SMALL, '--steps', '1', '--batch', '60000', '--out', out]), /invalid batch: 60000/);
    expect(existsSync(out)).toBe(false);
  });

  test('sweep run --vary validation-size=100,200 is refused before any run', () => {
    const out = join(tempDir(), 'sweep');
    const r = runCli(['sweep', 'run', ...SMALL, '--steps', '1', '--vary', 'validation-size=100,200', '--out', out]);
    expectOneLineError(r, /validation-size cannot vary within a sweep \(got 100, 200\)/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('output folders that cannot be written', () => {
  const fast = { timeout: 60_000 };
  test('--out /proc/x fails at once for train, sweep run and explain', fast, () => {
    for (const args of [
      ['train', ...SMALL, '--steps', '1'],
      ['sweep', 'run', ...SMALL, '--steps', '1'],
      ['explain', ...SMALL, '--steps', '1'],
    ]) {
      const t0 = Date.now();
      expectOneLineError(runCli([...args, '--out', '/proc/msw-test/x']), /cannot create output directory '\/proc\/msw-test\/x': ENOENT/);
      expect(Date.now() - t0).toBeLessThan(20_000);
    }
  });

  test('an --out under a regular file is exit 2 for sweep run, sweep merge and explain', () => {
    const root = tempDir();
    const file = join(root, 'plain-file');
    writeFileSync(file, 'x');
    const sweep = join(root, 'sweep');
    expect(runCli(['sweep', 'run', ...SMALL, '--steps', '1', '--eval-every', '0', '--out', sweep]).status).toBe(0);
    expectOneLineError(
      runCli(['sweep', 'run', ...SMALL, '--steps', '1', '--out', join(file, 'sweep')]),
      /cannot create output directory '.*plain-file\/sweep': ENOTDIR/,
    );
    expectOneLineError(
      runCli(['sweep', 'merge', sweep, '--out', join(file, 'merged')]),
      /cannot create output directory '.*plain-file\/merged': ENOTDIR/,
    );
    expectOneLineError(
      runCli(['explain', ...SMALL, '--steps', '1', '--out', join(file, 'report')]),
      /cannot create output directory '.*plain-file\/report': ENOTDIR/,
    );
  });
});

describe('damaged sweep files', () => {
  const sweep = join(tempDir(), 'sweep');
  const made = runCli(['sweep', 'run', ...SMALL, '--steps', '1', '--eval-every', '0', '--seeds', '0-1', '--out', sweep]);
  const row = join('rows', 'run-00001.json');
  const damaged = (file: string, text: (old: string) => string) => {
    const dir = join(tempDir(), 'copy');
    cpSync(sweep, dir, { recursive: true });
    writeFileSync(join(dir, file), text(readFileSync(join(dir, file), 'utf8')));
    return runCli(['sweep', 'merge', dir]);
  };
  const field = (key: string, value: unknown) => (old: string) => {
    const json = JSON.parse(old);
    json.row[key] = value;
    return JSON.stringify(json);
  };

  test('the sweep is made, and merges', () => {
    expect(made.status, made.stderr).toBe(0);
    expect(runCli(['sweep', 'merge', sweep]).status).toBe(0);
  });
  test('a row that is not JSON', () =>
    expectOneLineError(
      damaged(row, () => '{"row":\n  oops'),
      /sweep file '.*run-00001\.json' is damaged: not valid JSON$/,
    ));
  test('a row whose test accuracy is not a number', () =>
    expectOneLineError(
      damaged(row, field('test', 'abc')),
      /sweep file '.*run-00001\.json' is damaged: field 'row\.test' is missing or not a number/,
    ));
  test('a row without its weights hash', () =>
    expectOneLineError(damaged(row, field('weightsSha256', undefined)), /'.*run-00001\.json' is damaged: field 'row\.weightsSha256'/));
  test('a row whose index is outside the plan', () =>
    expectOneLineError(
      damaged(row, field('index', 7)),
      /'.*run-00001\.json' is damaged: field 'row\.index' is missing or not an index of the plan \(0\.\.1\)/,
    ));
  test('a plan that is not JSON', () =>
    expectOneLineError(
      damaged('plan.json', (t) => t.slice(0, 20)),
      /sweep file '.*plan\.json' is damaged: not valid JSON$/,
    ));
  test('a plan whose size is not a number', () =>
    expectOneLineError(
      damaged('plan.json', (t) => t.replace(/"planSize":\s*2/, '"planSize":"x"')),
      /'.*plan\.json' is damaged: field 'planSize'/,
    ));
});

describe('checkpoints away from their data, or with an invalid config', () => {
  const run = join(tempDir(), 'run');
  const made = runCli(['train', ...SMALL, '--steps', '5', '--checkpoint-every', '5', '--out', run]);
  const ckpt = join(run, 'checkpoints', 'step-00000005.ckpt');

  test('eval of a checkpoint moved out of its folder blames the data, not the checkpoint', () => {
    expect(made.status, made.stderr).toBe(0);
    const moved = join(tempDir(), 'moved.ckpt');
    cpSync(ckpt, moved);
    const r = runCli(['eval', '--checkpoint', moved]);
    expectOneLineError(
      r,
      /was trained on other MNIST data than the embedded MNIST \(no '.*options\.json' beside the checkpoint records its data\).*pass --data/,
    );
    expect(r.stderr).not.toMatch(/does not fit its own config/);
    expect(runCli(['eval', '--checkpoint', moved, '--data', FIXTURE]).status).toBe(0);
  });

  test("eval when the run's recorded data folder is gone says so", () => {
    const data = join(tempDir(), 'data');
    cpSync(FIXTURE, data, { recursive: true });
    const other = join(tempDir(), 'run');
    expect(runCli(['train', ...SMALL, '--data', data, '--steps', '5', '--checkpoint-every', '5', '--out', other]).status).toBe(0);
    rmSync(data, { recursive: true });
    expectOneLineError(
      runCli(['eval', '--checkpoint', join(other, 'checkpoints', 'step-00000005.ckpt')]),
      /the data the run recorded in '.*options\.json' cannot be read \(data directory '.*data' does not exist\); pass --data/,
    );
  });

  test('a damaged checkpoints/options.json is refused by --resume and eval, field named', () => {
    const dir = join(tempDir(), 'copy');
    cpSync(run, dir, { recursive: true });
    const options = join(dir, 'checkpoints', 'options.json');
    writeFileSync(options, JSON.stringify({ ...JSON.parse(readFileSync(options, 'utf8')), keep: 'three' }));
    expectOneLineError(
      runCli(['train', '--resume', dir, '--steps', '10']),
      /options\.json' is damaged: field 'keep' is missing or not an integer >= 1/,
    );
    writeFileSync(options, '{"data": ');
    expectOneLineError(
      runCli(['eval', '--checkpoint', join(dir, 'checkpoints', 'step-00000005.ckpt')]),
      /cannot read '.*options\.json': not valid JSON/,
    );
  });

  test('a checkpoint whose config holds lr "abc" under a valid checksum is refused, field named', () => {
    const bad = join(tempDir(), 'bad.ckpt');
    const checkpoint = decodeCheckpoint(new Uint8Array(readFileSync(ckpt)));
    (checkpoint.config as unknown as Record<string, unknown>).lr = 'abc';
    writeFileSync(bad, encodeCheckpoint(checkpoint));
    expectOneLineError(
      runCli(['eval', '--checkpoint', bad, '--data', FIXTURE]),
      /bad\.ckpt': checkpoint config field 'lr' is invalid: invalid lr: 'abc'/,
    );
    (checkpoint.config as unknown as Record<string, unknown>).lr = '0.1';
    writeFileSync(bad, encodeCheckpoint(checkpoint));
    expectOneLineError(
      runCli(['eval', '--checkpoint', bad, '--data', FIXTURE]),
      /checkpoint config field 'lr' holds "0\.1", not a resolved value/,
    );
    (checkpoint.config as unknown as Record<string, unknown>).lr = 1e-4;
    (checkpoint.config as unknown as Record<string, unknown>).colour = 'red';
    writeFileSync(bad, encodeCheckpoint(checkpoint));
    expectOneLineError(
      runCli(['eval', '--checkpoint', bad, '--data', FIXTURE]),
      /checkpoint config field 'colour' is invalid: unknown config key 'colour'/,
    );
  });
});
