// One writer per run folder, through the BUILT CLI with real processes racing: two `train` runs on
// one --out, two `--resume` of one folder, a `--resume` while the run still writes (paused in the
// middle of a checkpoint write), a stale lock left by a killed run, and locks held for `sweep run`
// shards and `explain`. The second writer gets a one-line error naming the holder, exit 2, and
// nothing of the first run changes.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CLI, FIXTURE, runCli, tempDir } from './helpers';

// Every unit computed: these tests need runs that last a while (a symmetric step takes microseconds here).
const FLAGS = [
  '--data',
  FIXTURE,
  '--validation-size',
  '100',
  '--eval-train',
  '100',
  '--widths',
  '2,2,2',
  '--eval-every',
  '10',
  '--symmetric-exec',
  'off',
];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts the CLI; `started` resolves once `mark` appears on stdout or stderr (at once without one, or at exit). */
function start(args: string[], mark?: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
  const out: Result = { code: null, stdout: '', stderr: '' };
  let onMark: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    onMark = resolve;
    if (!mark) resolve();
  });
  const seen = () => mark && (out.stdout.includes(mark) || out.stderr.includes(mark)) && onMark();
  child.stdout.on('data', (c: Buffer) => {
    out.stdout += c;
    seen();
  });
  child.stderr.on('data', (c: Buffer) => {
    out.stderr += c;
    seen();
  });
  const done = new Promise<Result>((resolve) =>
    child.on('close', (code) => {
      onMark();
      resolve({ ...out, code });
    }),
  );
  return { child, started, done };
}

function expectRefused(r: Result, pattern: RegExp) {
  expect(r.code, r.stdout + r.stderr).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
}

/** The steps of a run's CSV, which a single writer leaves strictly increasing. */
function csvSteps(dir: string): number[] {
  return readFileSync(join(dir, 'validation-curve-accuracy.csv'), 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => Number(l.split(';')[0]));
}

/** A pid that was just used and is no longer running. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('two writers, one folder', () => {
  test('two train runs started together: one runs, the other is refused and changes nothing', async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const out = join(tempDir(), 'run');
      const args = ['train', ...FLAGS, '--steps', '40', '--json', '--out', out];
      const [a, b] = await Promise.all([start(args).done, start(args).done]);
      const results = [a, b].sort((x, y) => (x.code ?? 99) - (y.code ?? 99));
      expect(
        results.map((r) => r.code),
        a.stderr + b.stderr,
      ).toEqual([0, 2]);
      // The refused one met the lock, or (when it came late) the finished run.
      expectRefused(results[1], /is in use by pid \d+ on .* \(train, since |already holds a run/);
      expect(csvSteps(out)).toEqual([0, 10, 20, 30, 40]);
      expect(readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(5);
      expect(existsSync(join(out, 'summary.json'))).toBe(true);
      expect(existsSync(join(out, 'run.lock'))).toBe(false);
    }
  });

  test('a train on a folder another train is writing names the holder, and the first run is unharmed', async () => {
    const out = join(tempDir(), 'run');
    const first = start(['train', ...FLAGS, '--steps', '60', '--json', '--out', out], '"type":"step"');
    await first.started;
    const second = runCli(['train', ...FLAGS, '--steps', '5', '--out', out]);
    expectRefused(
      { code: second.status, stdout: second.stdout, stderr: second.stderr },
      new RegExp(`'${out}' is in use by pid ${first.child.pid} on ${hostname()} \\(train, since .*remove '${out}/run.lock'`),
    );
    const done = await first.done;
    expect(done.code, done.stderr).toBe(0);
    expect(csvSteps(out)).toEqual([0, 10, 20, 30, 40, 50, 60]);
  });

  test('two --resume of one folder at once: one continues, the other is refused', async () => {
    const base = join(tempDir(), 'run');
    const cut = start(['train', ...FLAGS, '--steps', '40', '--checkpoint-every', '10', '--json', '--out', base], '"step":12,');
    await cut.started;
    cut.child.kill('SIGINT');
    expect((await cut.done).code).toBe(130);
    const [a, b] = await Promise.all([
      start(['train', '--resume', base, '--json']).done,
      start(['train', '--resume', base, '--json']).done,
    ]);
    const results = [a, b].sort((x, y) => (x.code ?? 99) - (y.code ?? 99));
    expect(
      results.map((r) => r.code),
      a.stderr + b.stderr,
    ).toEqual([0, 2]);
    expectRefused(results[1], /is in use by pid \d+ on .* \(train --resume, since /);
    expect(csvSteps(base)).toEqual([0, 10, 20, 30, 40]);
  });

  test('--resume while the run is in the middle of a checkpoint write is refused and removes none of its files', async () => {
    const out = join(tempDir(), 'run');
    const first = start(
      ['train', ...FLAGS, '--steps', '30', '--checkpoint-every', '10', '--json', '--out', out],
      'test: paused mid-write',
      {
        MNIST_SYM_WASM_TEST_PAUSE_WRITE: 'step-00000020.ckpt:3000',
      },
    );
    await first.started;
    const temps = readdirSync(join(out, 'checkpoints')).filter((f) => f.includes('.tmp-'));
    expect(temps).toEqual([`step-00000020.ckpt.tmp-${first.child.pid}`]);
    const second = runCli(['train', '--resume', out]);
    expectRefused({ code: second.status, stdout: second.stdout, stderr: second.stderr }, new RegExp(`in use by pid ${first.child.pid} `));
    expect(readdirSync(join(out, 'checkpoints'))).toContain(temps[0]);
    const done = await first.done;
    expect(done.code, done.stderr).toBe(0);
    expect(csvSteps(out)).toEqual([0, 10, 20, 30]);
  });
});

describe('stale and planted locks', () => {
  test('a lock left by a killed run is reported as stale with how to clear it', () => {
    const out = join(tempDir(), 'run');
    const ok = runCli(['train', ...FLAGS, '--steps', '10', '--checkpoint-every', '5', '--out', out]);
    expect(ok.status, ok.stderr).toBe(0);
    const pid = deadPid();
    writeFileSync(
      join(out, 'run.lock'),
      `${JSON.stringify({ pid, host: hostname(), command: 'train', started: '2026-01-01T00:00:00.000Z' })}\n`,
    );
    const before = readFileSync(join(out, 'summary.json'), 'utf8');
    const r = runCli(['train', '--resume', out, '--steps', '20']);
    expectRefused(
      { code: r.status, stdout: r.stdout, stderr: r.stderr },
      new RegExp(`has a stale lock: pid ${pid} on .* is no longer running .*remove '${out}/run.lock' and retry`),
    );
    expect(readFileSync(join(out, 'summary.json'), 'utf8')).toBe(before);
    rmSync(join(out, 'run.lock'));
    const again = runCli(['train', '--resume', out, '--steps', '20']);
    expect(again.status, again.stderr).toBe(0);
    expect(csvSteps(out)).toEqual([0, 10, 20]);
  });

  // The test process itself is the live holder.
  const live = () => `${JSON.stringify({ pid: process.pid, host: hostname(), command: 'test', started: '2026-01-01T00:00:00.000Z' })}\n`;

  test('a sweep shard being run is refused to a second runner of the same shard; other shards go on', () => {
    const out = tempDir();
    writeFileSync(join(out, 'shard-0-of-2.lock'), live());
    const args = ['sweep', 'run', ...FLAGS, '--steps', '2', '--eval-every', '0', '--seeds', '0-1', '--out', out];
    const r = runCli([...args, '--shard', '0/2']);
    expectRefused({ code: r.status, stdout: r.stdout, stderr: r.stderr }, new RegExp(`in use by pid ${process.pid} .*shard-0-of-2.lock`));
    expect(existsSync(join(out, 'rows', 'run-00000.json'))).toBe(false);
    const other = runCli([...args, '--shard', '1/2']);
    expect(other.status, other.stderr).toBe(0);
    expect(readdirSync(join(out, 'rows'))).toEqual(['run-00001.json']);
  });

  test('explain into a folder another writer holds is refused', () => {
    const out = tempDir();
    writeFileSync(join(out, 'run.lock'), live());
    const r = runCli(['explain', ...FLAGS, '--steps', '2', '--out', out]);
    expectRefused({ code: r.status, stdout: r.stdout, stderr: r.stderr }, new RegExp(`in use by pid ${process.pid} `));
    expect(readdirSync(out)).toEqual(['run.lock']);
  });
});
