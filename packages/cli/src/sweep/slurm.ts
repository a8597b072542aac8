// Slurm submission shared by `sweep submit` (an array job, one task per shard) and `explain
// --submit` (one job): the common sbatch options, the script's #SBATCH lines, and `sbatch` itself.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { CONFIG_FIELDS, CONFIG_KEYS, UserInputError } from '@mnist-sym-wasm/core';
import { givenConfigOptions } from '../config-options';

/** The sbatch settings a user picks. */
export interface SlurmOptions {
  partition?: string;
  time?: string;
  cpusPerTask?: string;
  jobName?: string;
  wait?: boolean;
  dryRun?: boolean;
}

/** Adds --partition, --time, --cpus-per-task, --job-name, --wait and --dry-run to `command`. */
export function addSlurmOptions(command: Command, jobName: string): Command {
  return command
    .option('--partition <name>', 'Slurm partition (default: the cluster default)')
    .option('--time <limit>', 'Slurm time limit per task, as sbatch --time (e.g. 2:00:00)')
    .option('--cpus-per-task <n>', 'CPUs per Slurm task; it runs that many threads (default: Slurm default, 1)')
    .option('--job-name <name>', 'Slurm job name', jobName)
    .option('--wait', 'wait until the Slurm job has finished')
    .addOption(new Option('--dry-run', 'print the sbatch script and submit nothing'));
}

/** Quotes a word for bash when it needs it. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A whole number >= 1 from a flag, or a one-line error. */
export function positiveInt(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 100_000)
    throw new UserInputError(`invalid --${name}: '${raw}' (expected a whole number >= 1)`);
  return Number(raw);
}

/** The #SBATCH lines: `output` is the log path (%A/%a/%j as sbatch expands them). */
export function sbatchDirectives(opts: SlurmOptions, job: { array?: number; output: string }): string[] {
  const cpus = positiveInt(opts.cpusPerTask, 'cpus-per-task');
  return [
    `--job-name=${opts.jobName ?? 'mnist-sym-wasm'}`,
    ...(job.array ? [`--array=0-${job.array - 1}`] : []),
    `--output=${job.output}`,
    '--open-mode=append', // a requeued task adds to its log
    '--requeue',
    ...(cpus ? [`--cpus-per-task=${cpus}`] : []),
    ...(opts.partition ? [`--partition=${opts.partition}`] : []),
    ...(opts.time ? [`--time=${opts.time}`] : []),
  ].map((d) => `#SBATCH ${d}`);
}

/**
 * The config flags given to `command` (e.g. 'sweep submit'), to pass on to the job; --threads is
 * refused, since a job's threads are its CPUs (SLURM_CPUS_PER_TASK).
 */
export function forwardedConfigFlags(opts: Record<string, unknown>, command: string): string[] {
  const given = givenConfigOptions(opts);
  if (given.threads !== undefined)
    throw new UserInputError(`${command}: threads come from --cpus-per-task (SLURM_CPUS_PER_TASK); drop --threads`);
  return CONFIG_KEYS.flatMap((key) => (given[key] === undefined ? [] : [`--${CONFIG_FIELDS[key].flag}`, String(given[key])]));
}

/**
 * A job script: its #SBATCH lines, a log line per attempt, the removal of the lock a requeued
 * attempt's predecessor left (Slurm has ended it, on whatever node it ran), then `exec command`
 * with the task's CPUs as threads. `who` and `staleLock` are shell text (they may expand variables).
 */
export function slurmScript(job: { title: string; directives: string[]; who: string; staleLock: string; command: string }): string {
  return [
    '#!/bin/bash',
    `# ${job.title}`,
    ...job.directives,
    'set -euo pipefail',
    `echo "${job.who} on $(hostname), attempt \${SLURM_RESTART_COUNT:-0}"`,
    '# A requeued attempt: Slurm ended the previous one, whose lock (maybe on another node) is stale.',
    `if [ "\${SLURM_RESTART_COUNT:-0}" -gt 0 ]; then rm -f ${job.staleLock}; fi`,
    `exec ${job.command} --threads "\${SLURM_CPUS_PER_TASK:-1}"`,
    '',
  ].join('\n');
}

/** Writes the script to `<dir>/<name>` atomically; returns its path. */
export function writeScript(dir: string, name: string, script: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(`${path}.tmp-${process.pid}`, script);
  renameSync(`${path}.tmp-${process.pid}`, path);
  return path;
}

function sbatchPath(): string {
  const found = spawnSync('sh', ['-c', 'command -v sbatch'], { encoding: 'utf8' });
  if (found.status !== 0)
    throw new UserInputError('sbatch not found: submitting needs a Slurm client on PATH (or use --dry-run to print the script)');
  return found.stdout.trim();
}

/**
 * `sbatch --parsable [--wait] script`: calls `submitted(jobId)` as soon as Slurm accepts the job,
 * and resolves with sbatch's exit code (with --wait: non-zero when a task failed).
 */
export function submitScript(scriptPath: string, wait: boolean, submitted: (jobId: string) => void): Promise<number> {
  const sbatch = sbatchPath();
  return new Promise<number>((done, fail) => {
    const child = spawn(sbatch, ['--parsable', ...(wait ? ['--wait'] : []), scriptPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let id = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (id) return;
      id = chunk.toString().trim().split(';')[0];
      if (id) submitted(id);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', fail);
    child.on('close', (status) => {
      if (!id && status !== 0) fail(new UserInputError(`sbatch failed: ${stderr.trim().split('\n').at(-1) ?? `exit ${status}`}`));
      else done(status ?? 1);
    });
  });
}
