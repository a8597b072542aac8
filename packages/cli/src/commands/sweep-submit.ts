// `mnist-sym-wasm sweep submit`: the sweep as a Slurm array job. Writes an sbatch script (one array
// task per shard, the shard index from SLURM_ARRAY_TASK_ID, threads from SLURM_CPUS_PER_TASK),
// submits it with `sbatch --parsable`, and prints the job id and the merge command; `--wait` waits
// for the array (`sbatch --wait`), says which shards are incomplete, and merges. Shards skip runs
// that already have a row, so a requeued or rerun task finishes its shard without duplicating rows.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { CONFIG_FIELDS, CONFIG_KEYS, UserInputError } from '@mnist-sym-wasm/core';
import { addConfigOptions, givenConfigOptions } from '../config-options';

interface SubmitOptions {
  shards: string;
  out?: string;
  vary?: string[];
  seeds?: string;
  data?: string;
  partition?: string;
  time?: string;
  cpusPerTask?: string;
  jobName: string;
  dryRun?: boolean;
  wait?: boolean;
  partial?: boolean;
  [key: string]: unknown;
}

/** Single-quotes a word for bash. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function positiveInt(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 100_000) throw new UserInputError(`invalid --${name}: '${raw}' (expected a whole number >= 1)`);
  return Number(raw);
}

/** `sweep run` arguments that every array task shares (everything but --shard and --threads). */
function sweepRunArgs(opts: SubmitOptions, outDir: string): string[] {
  const args: string[] = [];
  const given = givenConfigOptions(opts);
  if (given.threads !== undefined) throw new UserInputError("sweep submit: threads come from --cpus-per-task (SLURM_CPUS_PER_TASK); drop --threads");
  for (const key of CONFIG_KEYS) if (given[key] !== undefined) args.push(`--${CONFIG_FIELDS[key].flag}`, String(given[key]));
  for (const axis of opts.vary ?? []) args.push('--vary', axis);
  if (opts.seeds !== undefined) args.push('--seeds', opts.seeds);
  if (opts.data !== undefined) args.push('--data', resolve(opts.data));
  args.push('--out', outDir);
  return args;
}

/** The sbatch script of the sweep: one array task per shard. */
export function sbatchScript(opts: SubmitOptions, outDir: string, shards: number, command: string[]): string {
  const cpus = positiveInt(opts.cpusPerTask, 'cpus-per-task');
  const directives = [
    `--job-name=${opts.jobName}`,
    `--array=0-${shards - 1}`,
    `--output=${join(outDir, 'slurm', '%A_%a.out')}`,
    '--open-mode=append', // a requeued task adds to its log
    '--requeue',
    ...(cpus ? [`--cpus-per-task=${cpus}`] : []),
    ...(opts.partition ? [`--partition=${opts.partition}`] : []),
    ...(opts.time ? [`--time=${opts.time}`] : []),
  ];
  const run = [...command, 'sweep', 'run', ...sweepRunArgs(opts, outDir)].map(shellWord).join(' ');
  return [
    '#!/bin/bash',
    `# mnist-sym-wasm sweep, ${shards} shard(s): written by \`mnist-sym-wasm sweep submit\`.`,
    ...directives.map((d) => `#SBATCH ${d}`),
    'set -euo pipefail',
    'echo "shard ${SLURM_ARRAY_TASK_ID}/' + shards + ' on $(hostname), attempt ${SLURM_RESTART_COUNT:-0}"',
    '# A requeued task: Slurm ended the previous attempt, whose shard lock (maybe on another node) is stale.',
    `if [ "\${SLURM_RESTART_COUNT:-0}" -gt 0 ]; then rm -f ${shellWord(outDir)}/"shard-\${SLURM_ARRAY_TASK_ID}-of-${shards}.lock"; fi`,
    `exec ${run} --shard "\${SLURM_ARRAY_TASK_ID}/${shards}" --threads "\${SLURM_CPUS_PER_TASK:-1}"`,
    '',
  ].join('\n');
}

/** Plan indices without a row, grouped by the shard that owns them (index mod shards). */
export function incompleteShards(outDir: string, shards: number): Map<number, number[]> {
  const out = new Map<number, number[]>();
  const planPath = join(outDir, 'plan.json');
  if (!existsSync(planPath)) {
    for (let s = 0; s < shards; s++) out.set(s, []);
    return out;
  }
  const planSize = (JSON.parse(readFileSync(planPath, 'utf8')) as { planSize: number }).planSize;
  const rowsDir = join(outDir, 'rows');
  const done = new Set(existsSync(rowsDir) ? readdirSync(rowsDir).flatMap((f) => (/^run-(\d+)\.json$/.exec(f) ? [Number(/^run-(\d+)/.exec(f)![1])] : [])) : []);
  for (let i = 0; i < planSize; i++) {
    if (done.has(i)) continue;
    const shard = i % shards;
    out.set(shard, [...(out.get(shard) ?? []), i]);
  }
  return out;
}

function sbatchPath(): string {
  const found = spawnSync('sh', ['-c', 'command -v sbatch'], { encoding: 'utf8' });
  if (found.status !== 0) throw new UserInputError("sbatch not found: 'sweep submit' needs a Slurm client on PATH (or use --dry-run to print the script)");
  return found.stdout.trim();
}

/** The commander definition of `sweep submit`. */
export function sweepSubmitCommand(): Command {
  const submit = new Command('submit')
    .description('submit the sweep to Slurm as an array job (one task per shard), then merge with `sweep merge`')
    .requiredOption('--shards <n>', 'array tasks (shards); task i runs plan indices = i mod n')
    .option('--vary <key=v1,v2,...>', "a config key and its values (repeatable; use '|' between values that hold commas)", (v: string, acc: string[] = []) => [...acc, v])
    .option('--seeds <list>', 'seeds: a,b,c or first-last (default: --seed)')
    .option('--data <dir>', 'folder with the four MNIST IDX files, visible from the compute nodes (default: the embedded MNIST)')
    .option('--out <dir>', 'sweep folder on a file system the compute nodes share (default: runs/sweep)')
    .option('--partition <name>', 'Slurm partition (default: the cluster default)')
    .option('--time <limit>', 'time limit per array task, as sbatch --time (e.g. 2:00:00)')
    .option('--cpus-per-task <n>', 'CPUs per array task; each shard runs that many threads (default: Slurm default, 1)')
    .option('--job-name <name>', 'Slurm job name', 'mnist-sym-wasm-sweep')
    .option('--wait', 'wait for every array task, report incomplete shards, then merge')
    .option('--partial', 'with --wait: merge even if some shards are incomplete')
    .addOption(new Option('--dry-run', 'print the sbatch script and submit nothing'));
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
    const sbatch = sbatchPath();
    mkdirSync(join(outDir, 'slurm'), { recursive: true });
    const scriptPath = join(outDir, 'slurm', 'sweep.sbatch');
    writeFileSync(`${scriptPath}.tmp-${process.pid}`, script);
    renameSync(`${scriptPath}.tmp-${process.pid}`, scriptPath);
    const merge = `mnist-sym-wasm sweep merge ${shellWord(outDir)}`;
    const code = await new Promise<number>((done, fail) => {
      const child = spawn(sbatch, ['--parsable', ...(opts.wait ? ['--wait'] : []), scriptPath], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      let printed = false;
      child.stdout.on('data', (chunk: Buffer) => {
        const id = chunk.toString().trim().split(';')[0];
        if (!printed && id) {
          printed = true;
          process.stdout.write(`submitted job ${id} (${shards} array task(s)); script ${scriptPath}\n`);
          process.stdout.write(opts.wait ? 'waiting for the array to finish...\n' : `when it has finished: ${merge}\n`);
        }
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', fail);
      child.on('close', (status) => {
        if (!printed && status !== 0) fail(new UserInputError(`sbatch failed: ${stderr.trim().split('\n').at(-1) ?? `exit ${status}`}`));
        else done(status ?? 1);
      });
    });
    if (!opts.wait) return;
    const incomplete = incompleteShards(outDir, shards);
    if (incomplete.size > 0) {
      const list = [...incomplete.keys()].sort((a, b) => a - b);
      process.stderr.write(`incomplete shard(s): ${list.join(', ')} (logs: ${join(outDir, 'slurm')}); rerun them: sbatch --array=${list.join(',')} ${scriptPath}\n`);
      if (!opts.partial) throw new UserInputError(`sweep incomplete: ${list.length} of ${shards} shard(s) did not finish (sbatch exit ${code}); merge anyway with ${merge} --partial`);
    }
    const merged = spawnSync(command[0], [command[1], 'sweep', 'merge', outDir, ...(opts.partial ? ['--partial'] : [])], { stdio: 'inherit' });
    if (merged.status !== 0) process.exitCode = merged.status ?? 1;
  });
  submit.exitOverride();
  return submit;
}
