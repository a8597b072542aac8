// `mnist-sym-wasm explain --submit`: the suite as one Slurm job (`explain --full` takes hours for
// its dense runs): an sbatch script that runs the same explain on a compute node with
// SLURM_CPUS_PER_TASK threads, into an absolute --out; `--wait` waits for it, `--dry-run` prints it.
import { join, resolve } from 'node:path';
import { UserInputError } from '@mnist-sym-wasm/core';
import {
  forwardedConfigFlags,
  sbatchDirectives,
  shellWord,
  slurmScript,
  submitScript,
  writeScript,
  type SlurmOptions,
} from '../sweep/slurm';

/** The Slurm-only flags, refused without --submit. */
export const SLURM_ONLY = ['partition', 'time', 'cpusPerTask', 'wait', 'dryRun'] as const;

/** explain's arguments for the compute node (everything but the Slurm flags and --threads). */
function explainArgs(opts: Record<string, unknown>, outDir: string): string[] {
  const config = forwardedConfigFlags(opts, 'explain --submit');
  const args: string[] = [];
  if (opts.full) args.push('--full');
  for (const [key, flag] of [
    ['testImages', '--test-images'],
    ['orderSeeds', '--order-seeds'],
    ['perturbs', '--perturbs'],
  ] as const) {
    if (opts[key] !== undefined) args.push(flag, String(opts[key]));
  }
  if (opts.data !== undefined) args.push('--data', resolve(String(opts.data)));
  if (opts.json) args.push('--json');
  args.push(...config, '--out', outDir);
  return args;
}

/** Submits (or with --dry-run prints) the explain job; `defaultOut` is explain's own default folder. */
export async function submitExplain(opts: Record<string, unknown> & SlurmOptions, defaultOut: string): Promise<void> {
  const outDir = resolve((opts.out as string | undefined) ?? defaultOut);
  const command = [process.execPath, resolve(process.argv[1]), 'explain', ...explainArgs(opts, outDir)];
  const script = slurmScript({
    title: 'mnist-sym-wasm explain: written by `mnist-sym-wasm explain --submit`.',
    directives: sbatchDirectives(
      { ...opts, jobName: opts.jobName ?? 'mnist-sym-wasm-explain' },
      { output: join(outDir, 'slurm', '%j.out') },
    ),
    who: 'explain',
    staleLock: shellWord(join(outDir, 'run.lock')),
    command: command.map(shellWord).join(' '),
  });
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
