// The run's output folder: config.json first, then the seed-format CSV and metrics.jsonl appended
// as evaluations arrive, and summary.json last, so a folder without summary.json is visibly an
// unfinished run. Whole files are written atomically (temp file + rename).
import { appendFileSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_FILES, toJson, UserInputError } from '@mnist-sym-wasm/core';

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

/** Writes one run's files. Refuses a folder that already holds a run, so nothing is overwritten. */
export class RunDirectory {
  constructor(readonly dir: string) {}

  /** Creates the folder (or accepts an empty one) and checks it is writable. */
  open(): void {
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (e) {
      throw new UserInputError(`cannot create output directory '${this.dir}': ${describe(e)}`);
    }
    const existing = Object.values(RUN_FILES).filter((f) => existsSync(join(this.dir, f)));
    if (existing.length > 0) {
      throw new UserInputError(`output directory '${this.dir}' already holds a run (${existing[0]}); choose another --out`);
    }
  }

  /** Writes a whole file atomically. */
  writeAtomic(name: string, text: string): void {
    const path = join(this.dir, name);
    const tmp = `${path}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, text);
      renameSync(tmp, path);
    } catch (e) {
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
