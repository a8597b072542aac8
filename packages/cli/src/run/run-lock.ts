// One writer per run folder: a lock file, linked into place atomically, that names its holder (pid,
// host, command, start time) and goes when the holder exits. A second writer is refused with a
// one-line error naming the holder; a lock left by a killed run is reported as stale with how to
// clear it, never taken over silently (on a shared or network folder a pid tells nothing about
// another machine, or another container sharing this host name).
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UserInputError } from '@mnist-sym-wasm/core';

/** The lock file of a run folder (train, --resume, explain). */
export const LOCK_FILE = 'run.lock';

/** What a lock file holds. */
export interface LockHolder {
  pid: number;
  host: string;
  /** What is writing, e.g. 'train' or 'sweep run --shard 0/2'. */
  command: string;
  started: string;
}

/** A held lock; released at process exit, or earlier by release(). */
export interface RunLock {
  readonly path: string;
  release(): void;
}

/** Whether a process with this pid runs on this host (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
    return Number.isSafeInteger(h?.pid) && h.pid > 0 && typeof h.host === 'string' ? h : null;
  } catch {
    return null; // unreadable or damaged (a lock is linked into place whole, never seen half-written)
  }
}

function refusal(dir: string, path: string): string {
  const h = readHolder(path);
  const clear = `remove '${path}' and retry`;
  if (!h) return `'${dir}' is locked ('${path}' names no holder: damaged?); if no mnist-sym-wasm command is writing there, ${clear}`;
  const who = `pid ${h.pid} on ${h.host} (${h.command}, since ${h.started})`;
  if (h.host === hostname() && !processAlive(h.pid)) {
    return `'${dir}' has a stale lock: ${who} is no longer running (killed?); if no other process is writing there, ${clear}`;
  }
  return `'${dir}' is in use by ${who}; wait for it to finish, or choose another folder (if it is not running, ${clear})`;
}

/**
 * Takes the lock `name` in the existing folder `dir` for `command`, or throws a one-line
 * UserInputError naming the holder. Nothing else in the folder is touched either way.
 */
export function lockRunFolder(dir: string, command: string, name = LOCK_FILE): RunLock {
  const path = join(dir, name);
  const me: LockHolder = { pid: process.pid, host: hostname(), command, started: new Date().toISOString() };
  // The holder is written to a file of our own first, then linked into place: link() is atomic and
  // fails if the lock exists, so a lock is never seen without its holder.
  const mine = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(mine, `${JSON.stringify(me)}\n`);
  } catch (e) {
    rmSync(mine, { force: true });
    throw new UserInputError(
      `cannot write into '${dir}': cannot write '${mine}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  try {
    linkSync(mine, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new UserInputError(refusal(dir, path));
    throw new UserInputError(`cannot write into '${dir}': cannot create '${path}': ${code ?? (e as Error).message}`);
  } finally {
    rmSync(mine, { force: true });
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    // Only our own lock: never one a user cleared and another run then took.
    const holder = readHolder(path);
    if (holder?.pid === process.pid && holder.host === me.host) rmSync(path, { force: true });
  };
  // 'exit' also runs on process.exit() (a second Ctrl-C) and after an uncaught error; only a kill
  // that ends the process at once (SIGKILL, power loss) leaves the lock behind, to be reported.
  process.on('exit', release);
  return { path, release };
}
