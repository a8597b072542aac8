// The run's output folder: config.json first, then the seed-format CSV and metrics.jsonl appended
// as evaluations arrive, and summary.json last, so a folder without summary.json is visibly an
// unfinished run. Whole files are written atomically (temp file + rename); one writer at a time
// (run/run-lock.ts).
import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { RUN_FILES, toJson, UserInputError } from '@mnist-sym-wasm/core';
import { listCheckpoints } from './checkpoint-files';
import { lockRunFolder, type RunLock } from './run-lock';

// File names and JSON serialisation live in core, shared with the web page's downloads.
export { RUN_FILES, toJson };

/** Default output folder: runs/<UTC timestamp>. */
export function defaultRunDir(now = new Date()): string {
  return join('runs', now.toISOString().replace(/[:.]/g, '-').replace(/Z$/, ''));
}

function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.code}` : String(err.message ?? e);
}

/**
 * Creates `dir` and its missing parents one level at a time. Not mkdirSync's recursive mode: on
 * procfs (`/proc/x`) its mkdir answers ENOENT below an existing parent, and Node retries forever.
 */
export function createOutputDir(dir: string): void {
  const missing: string[] = [];
  let at = resolve(dir);
  while (!existsSync(at)) {
    missing.unshift(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  try {
    if (existsSync(at) && !statSync(at).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    for (const d of missing) {
      try {
        mkdirSync(d);
      } catch (e) {
        // Another process (a racing writer, a sibling shard) made it first: fine if it is a folder.
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(d).isDirectory()) throw e;
      }
    }
  } catch (e) {
    throw new UserInputError(`cannot create output directory '${dir}': ${describe(e)}`);
  }
}

/** The files that make a folder hold a run; a lone config.json is what a failed start left. */
function runEvidence(dir: string): string | null {
  const file = [RUN_FILES.csv, RUN_FILES.metrics, RUN_FILES.summary].find((f) => existsSync(join(dir, f)));
  if (file) return file;
  const checkpoints = listCheckpoints(dir);
  return checkpoints.length > 0 ? checkpoints[checkpoints.length - 1].path : null;
}

/** Writes one run's files. Refuses a folder that already holds a run, so nothing is overwritten. */
export class RunDirectory {
  private lock: RunLock | null = null;

  constructor(readonly dir: string) {}

  /**
   * Creates the folder (or accepts one without a run: empty, or a failed start's config.json),
   * takes its lock, and checks it is writable.
   */
  open(): void {
    createOutputDir(this.dir);
    this.lockFor('train');
    const existing = runEvidence(this.dir);
    if (existing) {
      const unfinished = !existsSync(join(this.dir, RUN_FILES.summary)) && listCheckpoints(this.dir).length === 0;
      const advice = unfinished ? ' (an unfinished run without a checkpoint: it cannot be resumed)' : '';
      throw new UserInputError(`output directory '${this.dir}' already holds a run (${existing})${advice}; choose another --out`);
    }
  }

  /** Takes the folder's lock (open() does; a resume calls it before reading the run). */
  lockFor(command: string): void {
    this.lock ??= lockRunFolder(this.dir, command);
  }

  /** Gives the lock back (also done at process exit). */
  release(): void {
    this.lock?.release();
    this.lock = null;
  }

  /** Writes a whole file atomically. */
  writeAtomic(name: string, text: string): void {
    const path = join(this.dir, name);
    const tmp = `${path}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, text);
      renameSync(tmp, path);
    } catch (e) {
      try {
        rmSync(tmp, { force: true }); // e.g. a full disk: no partial temp file left behind
      } catch {
        // the original error is the one to report
      }
      throw new UserInputError(`cannot write '${path}': ${describe(e)}`);
    }
  }

  /** Appends to a file (created on first use). */
  append(name: string, text: string): void {
    const path = join(this.dir, name);
    try {
      appendFileSync(path, text);
    } catch (e) {
      throw new UserInputError(`cannot write '${path}': ${describe(e)}`);
    }
  }
}
