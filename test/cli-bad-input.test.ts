// Bad input to `train`: each case gets a one-line error naming the problem, a non-zero exit, no
// stack trace, and no run that looks successful (no summary.json); existing runs stay intact.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { FIXTURE, QUICK, runCli, tempDir } from './helpers';

const NAMES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

/** A data folder with the fixture's four files (raw), one of them replaced by `mutate`. */
function dataDirWith(name: string, mutate: (bytes: Buffer) => Buffer): string {
  const dir = tempDir('msw-data-');
  for (const n of NAMES) {
    const raw = gunzipSync(readFileSync(join(FIXTURE, `${n}.gz`)));
    writeFileSync(join(dir, n), n === name ? mutate(Buffer.from(raw)) : raw);
  }
  return dir;
}

function expectOneLineError(r: { status: number | null; stderr: string; stdout: string }, pattern: RegExp) {
  expect(r.status).not.toBe(0);
  expect(r.status).not.toBeNull();
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('(run with --help'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('bad flags', () => {
  const cases: [string[], RegExp][] = [
    [['--bogus'], /unknown option '--bogus'/],
    [['--steps', '-5'], /invalid steps: '-5'/],
    [['--steps', '1.5'], /invalid steps: '1\.5'/],
    [['--lr', 'abc'], /invalid lr: 'abc'/],
    [['--lr', '0'], /invalid lr: '0'/],
    [['--init', 'foo'], /invalid init: 'foo' \(expected constant\|truncated-normal\)/],
    [['--loss', 'mse'], /invalid loss: 'mse'/],
    [['--order', 'tf2'], /invalid order: 'tf2'/],
    [['--batch', '0'], /invalid batch: '0'/],
    [['--batch', '5000'], /invalid batch: 5000 exceeds the train split \(1000 images\)/],
    [['--eval-train', 'some'], /invalid eval-train: 'some'/],
    [['--eval-conv', 'fast'], /invalid eval-conv: 'fast' \(expected winograd\|direct\)/],
    [['--eval-train', '1001'], /invalid eval-train: 1001 exceeds the train split/],
    [['--widths', '1,2'], /invalid widths: '1,2'/],
    [['--threads', '0'], /invalid threads: '0'/],
    [['--seed', '-1'], /invalid seed: '-1'/],
    [['--validation-size', '1100'], /validation size must be between 0 and/],
  ];
  for (const [flags, pattern] of cases) {
    test(flags.join(' '), () => {
      const out = join(tempDir(), 'run');
      const r = runCli(['train', ...QUICK, '--steps', '1', '--widths', '2,2,2', ...flags, '--out', out]);
      expectOneLineError(r, pattern);
      expect(existsSync(join(out, 'summary.json'))).toBe(false);
    });
  }

  test('a flag without its value', () => {
    const r = runCli(['train', ...QUICK, '--out', join(tempDir(), 'run'), '--steps']);
    expectOneLineError(r, /option '--steps <n>' argument missing/);
  });

  test('an unknown command', () => {
    const r = runCli(['frobnicate']);
    expectOneLineError(r, /unknown command 'frobnicate'/);
  });
});

describe('bad data', () => {
  const run = (data: string) =>
    runCli(['train', '--data', data, '--validation-size', '100', '--steps', '1', '--out', join(tempDir(), 'run')]);

  test('a missing data directory', () =>
    expectOneLineError(run('/nonexistent/mnist'), /data directory '\/nonexistent\/mnist' does not exist/));
  test('a directory without the files', () =>
    expectOneLineError(run(tempDir()), /has no train-images-idx3-ubyte \(or train-images-idx3-ubyte\.gz\)/));
  test('a file instead of a directory', () => expectOneLineError(run(join(FIXTURE, 'README.md')), /is not a directory|does not exist/));
  test('bad magic number', () =>
    expectOneLineError(
      run(
        dataDirWith('train-images-idx3-ubyte', (b) => {
          b.writeUInt32BE(0x12345678, 0);
          return b;
        }),
      ),
      /train-images-idx3-ubyte: .*magic/,
    ));
  test('truncated image data', () =>
    expectOneLineError(
      run(dataDirWith('t10k-images-idx3-ubyte', (b) => b.subarray(0, b.length - 100))),
      /t10k-images-idx3-ubyte: .*truncated/,
    ));
  test('wrong count (labels and images disagree)', () =>
    expectOneLineError(
      run(
        dataDirWith('train-labels-idx1-ubyte', (b) =>
          Buffer.concat([
            (() => {
              const h = Buffer.from(b.subarray(0, 8));
              h.writeUInt32BE(b.readUInt32BE(4) - 1, 4);
              return h;
            })(),
            b.subarray(8, b.length - 1),
          ]),
        ),
      ),
      /train-labels-idx1-ubyte|train-images-idx3-ubyte/,
    ));
  test('corrupted gzip', () => {
    const dir = tempDir('msw-data-');
    for (const n of NAMES) copyFileSync(join(FIXTURE, `${n}.gz`), join(dir, `${n}.gz`));
    const gz = readFileSync(join(dir, 'train-labels-idx1-ubyte.gz'));
    gz[gz.length - 12] ^= 0xff;
    writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gz);
    expectOneLineError(run(dir), /train-labels-idx1-ubyte/);
  });
});

describe('bad output folder', () => {
  test('--out under a regular file cannot be created', () => {
    const file = join(tempDir(), 'plain-file');
    writeFileSync(file, 'x');
    const r = runCli(['train', ...QUICK, '--steps', '1', '--widths', '2,2,2', '--out', join(file, 'run')]);
    expectOneLineError(r, /cannot create output directory .*plain-file\/run/);
  });

  test('a folder that already holds a run is refused and left intact', () => {
    const out = join(tempDir(), 'run');
    const ok = runCli(['train', ...QUICK, '--steps', '1', '--widths', '2,2,2', '--out', out]);
    expect(ok.status).toBe(0);
    const before = ['validation-curve-accuracy.csv', 'metrics.jsonl', 'config.json', 'summary.json'].map((f) =>
      readFileSync(join(out, f), 'utf8'),
    );
    const again = runCli(['train', ...QUICK, '--steps', '2', '--widths', '2,2,2', '--out', out]);
    expectOneLineError(again, /already holds a run/);
    const after = ['validation-curve-accuracy.csv', 'metrics.jsonl', 'config.json', 'summary.json'].map((f) =>
      readFileSync(join(out, f), 'utf8'),
    );
    expect(after).toEqual(before);
  });

  test('an empty existing folder is accepted', () => {
    const out = join(tempDir(), 'empty');
    mkdirSync(out);
    expect(runCli(['train', ...QUICK, '--steps', '1', '--widths', '2,2,2', '--out', out]).status).toBe(0);
  });
});

describe('help and version', () => {
  test('--version prints the package version', () => {
    const r = runCli(['--version']);
    expect(r.status).toBe(0);
    const pkg = JSON.parse(readFileSync(join(__dirname, '../packages/cli/package.json'), 'utf8'));
    expect(r.stdout.trim()).toBe(pkg.version);
  });
  test('train --help lists every config flag with its default', () => {
    const r = runCli(['train', '--help']);
    expect(r.status).toBe(0);
    for (const flag of [
      '--init',
      '--loss',
      '--steps',
      '--batch',
      '--lr',
      '--order',
      '--seed',
      '--eval-every',
      '--eval-train',
      '--data',
      '--out',
      '--threads',
      '--json',
    ]) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toMatch(/--steps <n>.*\(default: 20000\)/);
  });
});
