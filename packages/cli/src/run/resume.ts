// `train --resume DIR`: picks the run's newest checkpoint, works out the resumed config (the saved
// one, with the flags given again on top, checked by core), and cuts the CSV and metrics.jsonl back
// to the checkpoint's step, so a resume after a crash never duplicates or loses a line.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkResumeConfig,
  evaluationSteps,
  resolveConfig,
  RUN_FILES,
  UserInputError,
  type Checkpoint,
  type EvalRecord,
  type ExperimentConfig,
} from '@mnist-sym-wasm/core';
import { CHECKPOINT_DIR, listCheckpoints, readCheckpointFile, removeStaleTemps, writeFileAtomic } from './checkpoint-files';

/** The checkpoint a resume continues. */
export interface ResumePoint {
  checkpoint: Checkpoint;
  path: string;
}

/** Refuses a --resume path that is not a folder. */
export function checkRunFolder(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserInputError(`cannot resume: '${dir}' is not a run folder`);
}

/** The newest checkpoint of the run in `dir`; a damaged one is refused, never skipped silently. */
export function loadResumePoint(dir: string): ResumePoint {
  checkRunFolder(dir);
  const all = listCheckpoints(dir);
  if (all.length === 0) {
    throw new UserInputError(
      `cannot resume: '${dir}' holds no checkpoint (${CHECKPOINT_DIR}/step-*.ckpt); a run stopped before its first checkpoint cannot be resumed: start it again with another --out`,
    );
  }
  const newest = all[all.length - 1];
  try {
    return { checkpoint: readCheckpointFile(newest.path), path: newest.path };
  } catch (e) {
    if (e instanceof UserInputError && all.length > 1) {
      const older = all[all.length - 2];
      throw new UserInputError(`${e.message}; to resume from step ${older.step} instead, remove that file`);
    }
    throw e;
  }
}

/** The saved config with the flags given on the command line on top; refused unless safe. */
export function resumedConfig(checkpoint: Checkpoint, flags: Record<string, unknown>): ExperimentConfig {
  const config = resolveConfig({ ...checkpoint.config, ...flags });
  checkResumeConfig(checkpoint, config);
  return config;
}

function linesOf(path: string): string[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  lines.pop(); // the text after the last newline: empty, or a line a kill cut short
  return lines;
}

/**
 * Keeps the CSV and metrics lines of the evaluations the resumed run counts as done: those at
 * evaluation steps of `config` up to the checkpoint's step. Rewrites both files atomically and
 * returns the kept metrics records (for the TensorBoard file). Refuses when lines are missing.
 */
export function truncateRunLogs(dir: string, config: ExperimentConfig, step: number): EvalRecord[] {
  const expected = evaluationSteps(config).filter((s) => s <= step);
  const wanted = new Set(expected);
  const cut = (name: string, stepOf: (line: string) => number): { path: string; kept: string[] } => {
    const path = join(dir, name);
    const lines = linesOf(path);
    const kept = lines.filter((line) => {
      try {
        return wanted.has(stepOf(line));
      } catch {
        return false;
      }
    });
    const steps = kept.map(stepOf);
    if (steps.length !== expected.length || steps.some((s, i) => s !== expected[i])) {
      throw new UserInputError(
        `cannot resume: '${path}' holds evaluations [${steps.join(',')}] but the checkpoint at step ${step} needs [${expected.join(',')}]`,
      );
    }
    return { path, kept };
  };
  // Check both files before changing either.
  const csv = cut(RUN_FILES.csv, (line) => {
    const s = line.split(';')[0];
    if (!/^\d+$/.test(s)) throw new Error('not a CSV line');
    return Number(s);
  });
  const metrics = cut(RUN_FILES.metrics, (line) => (JSON.parse(line) as EvalRecord).step);
  removeStaleTemps(dir);
  removeStaleTemps(join(dir, CHECKPOINT_DIR));
  for (const { path, kept } of [csv, metrics]) {
    const text = kept.map((l) => `${l}\n`).join('');
    if (!existsSync(path) || readFileSync(path, 'utf8') !== text) writeFileAtomic(path, text);
  }
  return metrics.kept.map((l) => JSON.parse(l) as EvalRecord);
}
