// `mnist-sym-wasm sweep submit`: the sweep as a Slurm array job. Writes an sbatch script (one array
// task per shard, the shard index from SLURM_ARRAY_TASK_ID, threads from SLURM_CPUS_PER_TASK),
// submits it with `sbatch --parsable`, and prints the job id and the merge command; `--wait` waits
// for the array (`sbatch --wait`), says which shards are incomplete, and merges. Shards skip runs
// that already have a row, so a requeued or rerun task finishes its shard without duplicating rows.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { UserInputError } from '@mnist-sym-wasm/core';
import { addConfigOptions } from '../config-options';
import { mergeSweepFolders, sweepMerge } from './sweep';
import {
  addSlurmOptions,
  forwardedConfigFlags,
  positiveInt,
  sbatchDirectives,
  shellWord,
  slurmScript,
  submitScript,
  writeScript,
  type SlurmOptions,
} from '../sweep/slurm';

interface SubmitOptions extends SlurmOptions {
  shards: string;
  out?: string;
  vary?: string[];
  seeds?: string;
  data?: string;
  partial?: boolean;
  [key: string]: unknown;
}

/** `sweep run` arguments that every array task shares (everything but --shard and --threads). */
function sweepRunArgs(opts: SubmitOptions, outDir: string): string[] {
  const args = forwardedConfigFlags(opts, 'sweep submit');
  for (const axis of opts.vary ?? []) args.push('--vary', axis);
  if (opts.seeds !== undefined) args.push('--seeds', opts.seeds);
  if (opts.data !== undefined) args.push('--data', resolve(opts.data));
  args.push('--out', outDir);
  return args;
}

/** The sbatch script of the sweep: one array task per shard. */
export function sbatchScript(opts: SubmitOptions, outDir: string, shards: number, command: string[]): string {
  const run = [...command, 'sweep', 'run', ...sweepRunArgs(opts, outDir)].map(shellWord).join(' ');
  return slurmScript({
    title: `mnist-sym-wasm sweep, ${shards} shard(s): written by \`mnist-sym-wasm sweep submit\`.`,
    directives: sbatchDirectives(opts, { array: shards, output: join(outDir, 'slurm', '%A_%a.out') }),
    who: `shard \${SLURM_ARRAY_TASK_ID}/${shards}`,
    staleLock: `${shellWord(outDir)}/"shard-\${SLURM_ARRAY_TASK_ID}-of-${shards}.lock"`,
    command: `${run} --shard "\${SLURM_ARRAY_TASK_ID}/${shards}"`,
  });
}

/** Shards that owe runs (plan index mod shards), in order; every shard when none wrote the plan. */
function incompleteShards(outDir: string, shards: number): number[] {
  if (!existsSync(join(outDir, 'plan.json'))) return Array.from({ length: shards }, (_, i) => i);
  return [...new Set(sweepMerge([outDir]).missing.map((index) => index % shards))].sort((a, b) => a - b);
}

/** The commander definition of `sweep submit`. */
export function sweepSubmitCommand(): Command {
  const submit = new Command('submit')
    .description('submit the sweep to Slurm as an array job (one task per shard), then merge with `sweep merge`')
    .requiredOption('--shards <n>', 'array tasks (shards); task i runs plan indices = i mod n')
    .option(
      '--vary <key=v1,v2,...>',
      "a config key and its values (repeatable; use '|' between values that hold commas)",
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option('--seeds <list>', 'seeds: a,b,c or first-last (default: --seed)')
    .option('--data <dir>', 'folder with the four MNIST IDX files, visible from the compute nodes (default: the embedded MNIST)')
    .option('--out <dir>', 'sweep folder on a file system the compute nodes share (default: runs/sweep)')
    .option('--partial', 'with --wait: merge even if some shards are incomplete');
  addSlurmOptions(submit, 'mnist-sym-wasm-sweep');
  addConfigOptions(submit);
  submit.action(async (opts: SubmitOptions) => {
    const shards = positiveInt(opts.shards, 'shards')!;
    const outDir = resolve(opts.out ?? 'runs/sweep');
    const command = [process.execPath, resolve(process.argv[1])];
    const script = sbatchScript(opts, outDir, shards, command);
    if (opts.dryRun) {
      process.stdout.write(script);
      return;
    }
    const scriptPath = writeScript(join(outDir, 'slurm'), 'sweep.sbatch', script);
    const merge = `mnist-sym-wasm sweep merge ${shellWord(outDir)}`;
    const code = await submitScript(scriptPath, Boolean(opts.wait), (id) => {
      process.stdout.write(`submitted job ${id} (${shards} array task(s)); script ${scriptPath}\n`);
      process.stdout.write(opts.wait ? 'waiting for the array to finish...\n' : `when it has finished: ${merge}\n`);
    });
    if (!opts.wait) return;
    const incomplete = incompleteShards(outDir, shards);
    if (incomplete.length > 0) {
      process.stderr.write(
        `incomplete shard(s): ${incomplete.join(', ')} (logs: ${join(outDir, 'slurm')}); rerun them: sbatch --array=${incomplete.join(',')} ${scriptPath}\n`,
      );
      if (!opts.partial)
        throw new UserInputError(
          `sweep incomplete: ${incomplete.length} of ${shards} shard(s) did not finish (sbatch exit ${code}); merge anyway with ${merge} --partial`,
        );
    }
    mergeSweepFolders([outDir], { partial: opts.partial });
  });
  submit.exitOverride();
  return submit;
}
