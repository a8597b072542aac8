// `mnist-sym-wasm explain --submit`: the suite as one Slurm job (`explain --full` takes hours for
// its dense runs): an sbatch script that runs the same explain on a compute node with
// SLURM_CPUS_PER_TASK threads, into an absolute --out; `--wait` waits for it, `--dry-run` prints it.
import { join, resolve } from 'node:path';
import { CONFIG_FIELDS, CONFIG_KEYS, UserInputError } from '@mnist-sym-wasm/core';
import { givenConfigOptions } from '../config-options';
import { sbatchDirectives, shellWord, submitScript, writeScript, type SlurmOptions } from '../slurm';

/** The Slurm-only flags, refused without --submit. */
export const SLURM_ONLY = ['partition', 'time', 'cpusPerTask', 'wait', 'dryRun'] as const;

/** explain's arguments for the compute node (everything but the Slurm flags and --threads). */
function explainArgs(opts: Record<string, unknown>, outDir: string): string[] {
  const given = givenConfigOptions(opts);
  if (given.threads !== undefined) throw new UserInputError('explain --submit: threads come from --cpus-per-task (SLURM_CPUS_PER_TASK); drop --threads');
  const args: string[] = [];
  if (opts.full) args.push('--full');
  for (const [key, flag] of [['testImages', '--test-images'], ['orderSeeds', '--order-seeds'], ['perturbs', '--perturbs']] as const) {
    if (opts[key] !== undefined) args.push(flag, String(opts[key]));
  }
  if (opts.data !== undefined) args.push('--data', resolve(String(opts.data)));
  if (opts.json) args.push('--json');
  for (const key of CONFIG_KEYS) if (given[key] !== undefined) args.push(`--${CONFIG_FIELDS[key].flag}`, String(given[key]));
  args.push('--out', outDir);
  return args;
}

/** Submits (or with --dry-run prints) the explain job; `defaultOut` is explain's own default folder. */
export async function submitExplain(opts: Record<string, unknown> & SlurmOptions, defaultOut: string): Promise<void> {
  const outDir = resolve((opts.out as string | undefined) ?? defaultOut);
  const command = [process.execPath, resolve(process.argv[1]), 'explain', ...explainArgs(opts, outDir)];
  const script = [
    '#!/bin/bash',
    '# mnist-sym-wasm explain: written by `mnist-sym-wasm explain --submit`.',
    ...sbatchDirectives({ ...opts, jobName: opts.jobName ?? 'mnist-sym-wasm-explain' }, { output: join(outDir, 'slurm', '%j.out') }),
    'set -euo pipefail',
    'echo "explain on $(hostname), attempt ${SLURM_RESTART_COUNT:-0}"',
    '# A requeued job: Slurm ended the previous attempt, whose lock (maybe on another node) is stale.',
    `if [ "\${SLURM_RESTART_COUNT:-0}" -gt 0 ]; then rm -f ${shellWord(join(outDir, 'run.lock'))}; fi`,
    `exec ${command.map(shellWord).join(' ')} --threads "\${SLURM_CPUS_PER_TASK:-1}"`,
    '',
  ].join('\n');
  if (opts.dryRun) {
    process.stdout.write(script);
    return;
  }
  const scriptPath = writeScript(join(outDir, 'slurm'), 'explain.sbatch', script);
  const code = await submitScript(scriptPath, Boolean(opts.wait), (id) => {
    process.stdout.write(`submitted job ${id}; script ${scriptPath}; log ${join(outDir, 'slurm', `${id}.out`)}\n`);
    process.stdout.write(opts.wait ? 'waiting for it to finish...\n' : `the report will be ${join(outDir, 'report.html')}\n`);
  });
  if (!opts.wait) return;
  if (code !== 0) throw new UserInputError(`the explain job failed (sbatch exit ${code}); see ${join(outDir, 'slurm')}`);
  process.stdout.write(`report: ${join(outDir, 'report.html')}\n`);
}
