// Long runs that survive, through the BUILT CLI in child processes: SIGINT/SIGTERM/double Ctrl-C/
// kill -9 at random steps, then `train --resume`, must end with the CSV, metrics (timings aside),
// summary and TensorBoard scalars of the uninterrupted run; damaged checkpoints and unsafe config
// changes are refused without touching the folder; a kill during a checkpoint write leaves the
// previous one valid; event files are checked by a reader written here; `eval` matches the run.
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, rmSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CLI, FIXTURE, runCli, tempDir } from './helpers';

// A model that moves (truncated-normal init, stable loss, large lr) so the CSV lines differ.
const FLAGS = [
  '--data',
  FIXTURE,
  '--validation-size',
  '100',
  '--widths',
  '4,4,8',
  '--eval-train',
  '100',
  '--init',
  'truncated-normal',
  '--loss',
  'stable',
  '--lr',
  '0.03',
  '--eval-every',
  '10',
];
const STEPS = 35;
const TRAIN = ['train', ...FLAGS, '--steps', String(STEPS), '--checkpoint-every', '15', '--keep', '2', '--tensorboard', '--json'];

interface Child {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  lastStep: number;
}

/**
 * Runs the CLI; once a `step` event >= atStep is on stdout (or `stderrMark` on stderr), sends the
 * given signals (50 ms apart).
 */
function runAndSignal(
  args: string[],
  opts: { atStep?: number; stderrMark?: string; signals?: NodeJS.Signals[]; gapMs?: number; env?: Record<string, string> },
): Promise<Child> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...opts.env } });
    const out: Child = { code: null, signal: null, stdout: '', stderr: '', lastStep: 0 };
    let sent = false;
    const fire = () => {
      if (sent || !opts.signals) return;
      sent = true;
      opts.signals.forEach((s, i) => setTimeout(() => child.kill(s), (opts.gapMs ?? 50) * i));
    };
    let pending = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out.stdout += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const event = JSON.parse(line);
        if (event.type === 'step') {
          out.lastStep = event.step;
          if (opts.atStep !== undefined && event.step >= opts.atStep) fire();
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      out.stderr += chunk;
      if (opts.stderrMark && out.stderr.includes(opts.stderrMark)) fire();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ ...out, code, signal }));
  });
}

/** After a kill -9: `--resume` reports the stale lock and how to clear it; then clear it as told. */
function clearStaleLock(dir: string): void {
  const refused = runCli(['train', '--resume', dir, '--json']);
  expect(refused.status, refused.stderr).toBe(2);
  expect(refused.stderr).toMatch(
    new RegExp(`^error: '${dir}' has a stale lock: pid \\d+ .* is no longer running .*remove '${dir}/run.lock' and retry\n$`),
  );
  rmSync(join(dir, 'run.lock'));
}

/** Everything a run folder says about its results, wall-clock fields removed. */
function results(dir: string) {
  const noTime = (r: Record<string, unknown>) => {
    const { elapsedMs: _e, msPerStep: _m, wallMs: _w, ...rest } = r;
    return rest;
  };
  return {
    csv: readFileSync(join(dir, 'validation-curve-accuracy.csv'), 'utf8'),
    metrics: readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => noTime(JSON.parse(l))),
    summary: noTime(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'))),
    config: readFileSync(join(dir, 'config.json'), 'utf8'),
    tensorboard: readEvents(eventFile(dir))
      .slice(1)
      .map((e) => ({ step: e.step, scalars: e.scalars })),
  };
}

/** sha256 of every file under dir, by relative path. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[path.slice(dir.length)] = createHash('sha256').update(readFileSync(path)).digest('hex');
  }
  return out;
}

function eventFile(dir: string): string {
  const names = readdirSync(dir).filter((n) => n.startsWith('events.out.tfevents.'));
  expect(names).toHaveLength(1);
  return join(dir, names[0]);
}

// ---- An independent TFRecord + Event reader (bitwise CRC32C, hand-rolled protobuf decoding). ----

function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function masked(bytes: Uint8Array): number {
  const c = crc32cBitwise(bytes);
  return (((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0;
}

type Field = { no: number; wire: number; int?: bigint; bytes?: Uint8Array; f64?: number; f32?: number };

function protoFields(buf: Uint8Array): Field[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const fields: Field[] = [];
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = buf[i++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const f: Field = { no: key >> 3, wire: key & 7 };
    if (f.wire === 0) f.int = varint();
    else if (f.wire === 1) {
      f.f64 = view.getFloat64(i, true);
      i += 8;
    } else if (f.wire === 5) {
      f.f32 = view.getFloat32(i, true);
      i += 4;
    } else if (f.wire === 2) {
      const n = Number(varint());
      f.bytes = buf.subarray(i, i + n);
      i += n;
    } else throw new Error(`unexpected wire type ${f.wire}`);
    fields.push(f);
  }
  expect(i).toBe(buf.length);
  return fields;
}

interface ParsedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars: Record<string, number>;
}

function readEvents(path: string): ParsedEvent[] {
  const buf = new Uint8Array(readFileSync(path));
  const view = new DataView(buf.buffer);
  const events: ParsedEvent[] = [];
  for (let i = 0; i < buf.length; ) {
    const length = Number(view.getBigUint64(i, true));
    expect(view.getUint32(i + 8, true), 'length CRC').toBe(masked(buf.subarray(i, i + 8)));
    const data = buf.subarray(i + 12, i + 12 + length);
    expect(view.getUint32(i + 12 + length, true), 'data CRC').toBe(masked(data));
    i += 16 + length;
    const event: ParsedEvent = { wallTime: NaN, step: 0, scalars: {} };
    for (const f of protoFields(data)) {
      if (f.no === 1) event.wallTime = f.f64!;
      else if (f.no === 2) event.step = Number(f.int);
      else if (f.no === 3) event.fileVersion = new TextDecoder().decode(f.bytes);
      else if (f.no === 5) {
        for (const v of protoFields(f.bytes!)) {
          expect(v.no).toBe(1); // Summary.value
          const value = protoFields(v.bytes!);
          const tag = new TextDecoder().decode(value.find((x) => x.no === 1)!.bytes);
          event.scalars[tag] = value.find((x) => x.no === 2)!.f32!;
        }
      } else throw new Error(`unexpected Event field ${f.no}`);
    }
    events.push(event);
  }
  return events;
}

// ---------------------------------------------------------------------------------------------

let root: string;
let full: string;
let expected: ReturnType<typeof results>;

/** A deterministic pick of "random" steps (logged in assertion messages). */
function randomSteps(count: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: count }, () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return 1 + (x % 20); // well before step 35, so a loaded machine still stops mid-run
  });
}

beforeAll(async () => {
  root = tempDir('msw-ckpt-');
  full = join(root, 'full');
  const r = await runAndSignal([...TRAIN, '--out', full], {});
  expect(r.code, r.stderr).toBe(0);
  expected = results(full);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('interrupt and resume through the CLI', () => {
  test('the uninterrupted run wrote its checkpoints and options', () => {
    expect(readdirSync(join(full, 'checkpoints')).sort()).toEqual(['options.json', 'step-00000030.ckpt', 'step-00000035.ckpt']);
    expect(
      expected.csv
        .trimEnd()
        .split('\n')
        .map((l) => l.split(';')[0]),
    ).toEqual(['0', '10', '20', '30', '35']);
    expect(
      new Set(
        expected.csv
          .trimEnd()
          .split('\n')
          .map((l) => l.split(';')[2]),
      ).size,
    ).toBeGreaterThan(1);
  });

  const seed = Number(process.env.MSW_RESUME_SEED ?? Date.now() % 100000);
  const cases: { name: string; atStep: number; signals: NodeJS.Signals[]; gapMs?: number; code: number | null }[] = [
    ...randomSteps(3, seed).map((s) => ({
      name: `SIGINT at step >= ${s} (seed ${seed})`,
      atStep: s,
      signals: ['SIGINT'] as NodeJS.Signals[],
      code: 130,
    })),
    { name: 'SIGTERM', atStep: randomSteps(1, seed + 1)[0], signals: ['SIGTERM'], code: 143 },
    // 5 ms apart: the second usually lands before the stop checkpoint (exit at once, resume from 15).
    { name: 'double Ctrl-C after the first checkpoint', atStep: 17, signals: ['SIGINT', 'SIGINT'], gapMs: 5, code: 130 },
    { name: 'kill -9 after a checkpoint (a crash)', atStep: 18, signals: ['SIGKILL'], code: null },
  ];
  for (const c of cases) {
    test(`${c.name}, then --resume, equals the uninterrupted run`, async () => {
      const dir = join(root, c.name.replace(/\W+/g, '-'));
      const r = await runAndSignal([...TRAIN, '--out', dir], { atStep: c.atStep, signals: c.signals, gapMs: c.gapMs });
      expect(r.code, r.stderr).toBe(c.code);
      expect(r.lastStep).toBeLessThan(STEPS);
      expect(existsSync(join(dir, 'summary.json'))).toBe(false);
      if (c.signals.length === 1 && c.code !== null) {
        expect(r.stderr).toMatch(
          new RegExp(`interrupted by ${c.signals[0]} after step ${r.lastStep}; checkpoint .*step-0*${r.lastStep}\\.ckpt`),
        );
        expect(r.stderr).toContain(`resume with: mnist-sym-wasm train --resume ${dir}`);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
      if (c.code === null)
        clearStaleLock(dir); // a kill -9 leaves the run's lock behind
      else expect(existsSync(join(dir, 'run.lock'))).toBe(false); // any exit that runs code gives it back
      const resumed = runCli(['train', '--resume', dir, '--json']);
      expect(resumed.status, resumed.stderr).toBe(0);
      expect(results(dir), `interrupted after step ${r.lastStep}`).toEqual(expected);
      expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
    });
  }

  test('a kill -9 in the middle of a checkpoint write leaves the previous checkpoint valid', async () => {
    const dir = join(root, 'atomic');
    const r = await runAndSignal([...TRAIN, '--out', dir], {
      stderrMark: 'test: paused mid-write',
      signals: ['SIGKILL'],
      env: { MNIST_SYM_WASM_TEST_PAUSE_WRITE: 'step-00000030.ckpt:20000' },
    });
    expect(r.signal).toBe('SIGKILL');
    const files = readdirSync(join(dir, 'checkpoints')).sort();
    expect(files.filter((f) => f.endsWith('.ckpt'))).toEqual(['step-00000015.ckpt']);
    const temp = files.find((f) => f.startsWith('step-00000030.ckpt.tmp-'));
    expect(temp, files.join(',')).toBeDefined();
    expect(readFileSync(join(dir, 'checkpoints', temp!)).length).toBeLessThan(
      readFileSync(join(full, 'checkpoints/step-00000030.ckpt')).length,
    );
    const check = runCli(['eval', '--checkpoint', join(dir, 'checkpoints/step-00000015.ckpt'), '--json']);
    expect(check.status, check.stderr).toBe(0);
    expect(JSON.parse(check.stdout).step).toBe(15);
    clearStaleLock(dir);
    const resumed = runCli(['train', '--resume', dir, '--json']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(results(dir)).toEqual(expected);
    expect(readdirSync(join(dir, 'checkpoints')).some((f) => f.includes('.tmp-'))).toBe(false);
  });

  test('resuming with more steps equals an uninterrupted run of that length (the old final line goes)', async () => {
    const longer = join(root, 'longer');
    const r = await runAndSignal(['train', ...FLAGS, '--steps', '50', '--tensorboard', '--json', '--out', longer], {});
    expect(r.code, r.stderr).toBe(0);
    const dir = join(root, 'extended');
    cpSync(full, dir, { recursive: true });
    const resumed = runCli(['train', '--resume', dir, '--steps', '50', '--threads', '1', '--json']);
    expect(resumed.status, resumed.stderr).toBe(0);
    const got = results(dir);
    const want = results(longer);
    expect(
      got.csv
        .trimEnd()
        .split('\n')
        .map((l) => l.split(';')[0]),
    ).toEqual(['0', '10', '20', '30', '40', '50']);
    expect(got.csv).toBe(want.csv);
    expect(got.metrics).toEqual(want.metrics);
    expect(got.tensorboard).toEqual(want.tensorboard);
    // --threads may change: only the recorded engine and config say so.
    expect({ ...got.summary, config: null, engine: null }).toEqual({ ...want.summary, config: null, engine: null });
  });
});

describe('the width-1 twin with random pool ties', () => {
  test('interrupted and resumed equals uninterrupted, and eval reproduces its final scores', async () => {
    const twin = [
      'train',
      ...FLAGS,
      '--model',
      'twin',
      '--pool-ties',
      'random',
      '--steps',
      '150',
      '--checkpoint-every',
      '50',
      '--tensorboard',
      '--json',
    ];
    const whole = join(root, 'twin-whole');
    const cut = join(root, 'twin-cut');
    // ~3 ms a step: 150 steps leave a signal sent at step 12 time to land.
    const a = await runAndSignal([...twin, '--out', whole], {});
    expect(a.code, a.stderr).toBe(0);
    const b = await runAndSignal([...twin, '--out', cut], { atStep: 12, signals: ['SIGINT'] });
    expect(b.code, b.stderr).toBe(130);
    const resumed = runCli(['train', '--resume', cut, '--json']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(results(cut)).toEqual(results(whole));
    const summary = JSON.parse(readFileSync(join(whole, 'summary.json'), 'utf8'));
    const r = runCli(['eval', '--checkpoint', join(whole, 'checkpoints/step-00000150.ckpt'), '--json']);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect([report.accuracy, report.weightsSha256]).toEqual([summary.final.test, summary.weightsSha256]);
  });
});

describe('refusals leave the run folder untouched', () => {
  const refuse = (dir: string, args: string[], pattern: RegExp) => {
    const before = snapshot(dir);
    const r = runCli(args);
    expect(r.status, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(snapshot(dir)).toEqual(before);
  };

  test('unsafe config changes, too few steps, a different --out', () => {
    const dir = join(root, 'refuse-config');
    cpSync(full, dir, { recursive: true });
    refuse(
      dir,
      ['train', '--resume', dir, '--lr', '0.02'],
      /error: cannot resume with a different config \(lr 0\.03 -> 0\.02\); only steps, threads and symmetricExec may change/,
    );
    refuse(dir, ['train', '--resume', dir, '--eval-train', '50', '--widths', '4,4,9'], /widths 4,4,8 -> 4,4,9, evalTrain 100 -> 50/);
    refuse(dir, ['train', '--resume', dir, '--steps', '20'], /cannot resume with steps 20: the checkpoint is already at step 35/);
    refuse(dir, ['train', '--resume', dir, '--out', join(root, 'elsewhere')], /--out and --resume name different folders/);
    refuse(dir, ['train', '--resume', join(dir, 'checkpoints')], /holds no checkpoint/);
    refuse(dir, ['train', '--resume', dir, '--keep', '0'], /invalid keep: '0' \(expected an integer >= 1\)/);
    const bad = runCli(['train', ...FLAGS, '--checkpoint-every', 'x', '--out', join(root, 'never')]);
    expect(bad.stderr).toMatch(/^error: invalid checkpoint-every: 'x' \(expected an integer >= 0\)\n$/);
    expect(existsSync(join(root, 'never'))).toBe(false);
    // Other data (the fixture's test files as training files) has another fingerprint.
    const other = join(root, 'other-data');
    mkdirSync(other);
    for (const [to, from] of [
      ['train', 't10k'],
      ['t10k', 't10k'],
    ]) {
      for (const kind of ['images-idx3', 'labels-idx1']) {
        copyFileSync(join(FIXTURE, `${from}-${kind}-ubyte.gz`), join(other, `${to}-${kind}-ubyte.gz`));
      }
    }
    refuse(dir, ['train', '--resume', dir, '--data', other], /was trained on different MNIST data/);
  });

  test('corrupted, truncated and foreign checkpoints', () => {
    const dir = join(root, 'refuse-bytes');
    cpSync(full, dir, { recursive: true });
    const newest = join(dir, 'checkpoints/step-00000035.ckpt');
    const good = readFileSync(newest);
    const flipped = Buffer.from(good);
    flipped[Math.floor(flipped.length / 2)] ^= 1;
    writeFileSync(newest, flipped);
    refuse(
      dir,
      ['train', '--resume', dir],
      /step-00000035\.ckpt': checkpoint is corrupted \(SHA-256 checksum mismatch\); to resume from step 30 instead, remove that file/,
    );
    refuse(dir, ['eval', '--checkpoint', newest], /checkpoint is corrupted/);
    writeFileSync(newest, good.subarray(0, good.length - 1000));
    refuse(dir, ['train', '--resume', dir], /checkpoint is truncated \(\d+ of \d+ bytes\)/);
    writeFileSync(newest, '{"step": 35, "weights": []}\n');
    refuse(dir, ['train', '--resume', dir], /not a mnist-sym-wasm checkpoint/);
    refuse(dir, ['eval', '--checkpoint', join(dir, 'config.json')], /not a mnist-sym-wasm checkpoint/);
    writeFileSync(newest, good);
    const r = runCli(['train', '--resume', dir, '--json']);
    expect(r.status, r.stderr).toBe(0); // restored: resuming a finished run just rewrites its summary
    expect(results(dir)).toEqual(expected);
  });
});

describe('TensorBoard files and eval', () => {
  test('the event file parses with checked CRCs and holds the evaluations as scalars', () => {
    expect(crc32cBitwise(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    const events = readEvents(eventFile(full));
    expect(events[0].fileVersion).toBe('brain.Event:2');
    const metrics = readFileSync(join(full, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.slice(1).map((e) => e.step)).toEqual(metrics.map((m) => m.step));
    const f32 = Math.fround;
    metrics.forEach((m, i) => {
      const s = events[i + 1].scalars;
      expect(s.training_accuracy).toBe(f32(m.train));
      expect(s.test_accuracy).toBe(f32(m.test));
      if (m.batchLoss === null) expect(s.loss).toBeUndefined();
      else expect(s.loss).toBe(f32(m.batchLoss));
      for (const [key, stat] of Object.entries(m.symmetry as Record<string, { groups: number; groupsTol: number }>)) {
        expect(s[`symmetry/${key}/groups`]).toBe(stat.groups);
        expect(s[`symmetry/${key}/groups_tol`]).toBe(stat.groupsTol);
      }
      expect(events[i + 1].wallTime).toBeGreaterThan(1.6e9);
    });
  });

  test("eval on the final checkpoint reproduces the run's final test accuracy, loss and weights", () => {
    const summary = JSON.parse(readFileSync(join(full, 'summary.json'), 'utf8'));
    const last = JSON.parse(readFileSync(join(full, 'metrics.jsonl'), 'utf8').trim().split('\n').pop()!);
    const r = runCli(['eval', '--checkpoint', join(full, 'checkpoints/step-00000035.ckpt'), '--split', 'test', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ step: 35, split: 'test', images: 200, sameDataAsTraining: true });
    expect(report.accuracy).toBe(summary.final.test);
    expect(report.loss).toBe(last.testLoss);
    expect(report.weightsSha256).toBe(summary.weightsSha256);
    expect(report.symmetry).toEqual(summary.symmetry);
    const human = runCli(['eval', '--checkpoint', join(full, 'checkpoints/step-00000035.ckpt'), '--split', 'validation']);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/split\s+validation \(100 images\)/);
    expect(human.stdout).toMatch(/accuracy\s+\d+\.\d\d% \(conv2: winograd\)/);
    // --eval-conv overrides the run's setting: direct sums, the same weights, near the same loss.
    const direct = runCli([
      'eval',
      '--checkpoint',
      join(full, 'checkpoints/step-00000035.ckpt'),
      '--split',
      'test',
      '--eval-conv',
      'direct',
      '--json',
    ]);
    expect(direct.status, direct.stderr).toBe(0);
    const d = JSON.parse(direct.stdout);
    expect([report.evalConv, d.evalConv]).toEqual(['winograd', 'direct']);
    expect(d.weightsSha256).toBe(report.weightsSha256);
    expect(Math.abs(d.loss - report.loss)).toBeLessThan(1e-5 * Math.abs(report.loss));
    const bad = runCli(['eval', '--checkpoint', join(full, 'checkpoints/step-00000035.ckpt'), '--eval-conv', 'fft']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr.trim()).toMatch(/^error: option '--eval-conv <kind>' argument 'fft' is invalid/);
  });
});
