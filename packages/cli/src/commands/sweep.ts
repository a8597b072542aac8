// `mnist-sym-wasm sweep run|merge`: a sweep over seeds and config values (core's sweepPlan).
// `run --shard i/n` runs only its share, so a cluster array job (Slurm --array=0-(n-1) with
// --shard $SLURM_ARRAY_TASK_ID/n, a Kubernetes indexed Job with $JOB_COMPLETION_INDEX) spreads it;
// every shard writes plan.json and one rows/run-<index>.json per finished run into the shared --out
// (finished runs are skipped on a re-run). `merge` combines any number of such folders into one table.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import {
  initEngine,
  loadMnist,
  mergeSweepRows,
  parseShard,
  parseSweepAxis,
  runExperiment,
  shardRuns,
  sweepPlan,
  sweepRow,
  SYMMETRY_KEYS,
  toJson,
  UserInputError,
  validateAgainstData,
  type EvalRecord,
  type RunSummary,
  type SweepRow,
  type SweepTable,
} from '@mnist-sym-wasm/core';
import { startTwinEvalPool } from '../twin/twin-eval-pool';
import { removeStaleTemps, writeFileAtomic } from '../run/checkpoint-files';
import { addConfigOptions, givenConfigOptions } from '../config-options';
import { embeddedMnistDir, readMnistFiles } from '../mnist-files';
import { createOutputDir } from '../run/run-directory';
import { lockRunFolder } from '../run/run-lock';
import { readPlanFile, readRowFile } from '../sweep/sweep-files';
import { describeIncompleteShards, readShardStatuses, writeShardStatus } from '../sweep/sweep-shard-status';

function seedList(raw: string | undefined, fallback: number): number[] {
  if (raw === undefined) return [fallback];
  const range = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(raw);
  const seeds = range
    ? Array.from({ length: Math.max(0, Number(range[2]) - Number(range[1]) + 1) }, (_, i) => Number(range[1]) + i)
    : raw.split(',').map((s) => (/^\s*\d+\s*$/.test(s) ? Number(s) : NaN));
  if (seeds.length === 0 || seeds.some((s) => !Number.isSafeInteger(s) || s > 0xffffffff)) {
    throw new UserInputError(`invalid seeds: '${raw}' (expected a,b,c or first-last)`);
  }
  return seeds;
}

/** Runs this shard's runs of the sweep; returns the rows it wrote (skipping finished ones). */
export async function sweepRunShard(opts: Record<string, unknown>, log: (line: string) => void): Promise<SweepRow[]> {
  const given = givenConfigOptions(opts);
  const axes = ((opts.vary as string[] | undefined) ?? []).map(parseSweepAxis);
  const plan = sweepPlan(given, axes, seedList(opts.seeds as string | undefined, Number(given.seed ?? 0)));
  const shard = parseShard((opts.shard as string | undefined) ?? '0/1');
  const outDir = (opts.out as string | undefined) ?? 'runs/sweep';
  // Everything checkable is checked before the folder is created or changed.
  const sizes = new Set(plan.map((r) => r.config.validationSize));
  if (sizes.size > 1)
    throw new UserInputError(
      `invalid vary: validation-size cannot vary within a sweep (got ${[...sizes].join(', ')}); run one sweep per size`,
    );
  const data = loadMnist(readMnistFiles((opts.data as string | undefined) ?? embeddedMnistDir()), plan[0].config.validationSize);
  for (const run of plan) validateAgainstData(run.config, data);
  const planText = `${toJson({ planSize: plan.length, runs: plan }, 1)}\n`;
  const planPath = join(outDir, 'plan.json');
  createOutputDir(outDir);
  createOutputDir(join(outDir, 'rows'));
  // Shards share the folder; each shard has one writer (a second runner of the same shard is refused).
  lockRunFolder(outDir, `sweep run --shard ${shard.index}/${shard.count}`, `shard-${shard.index}-of-${shard.count}.lock`);
  if (existsSync(planPath) && readFileSync(planPath, 'utf8') !== planText) {
    throw new UserInputError(`'${outDir}' holds a different sweep (plan.json differs); choose another --out`);
  }
  writeFileAtomic(planPath, planText);
  removeStaleTemps(join(outDir, 'rows'));
  const all = shardRuns(plan, shard);
  const mine = all.filter((r) => !existsSync(join(outDir, 'rows', rowFile(r.index))));
  const status = { shard: shard.index, count: shard.count, runs: all.length, finished: all.length - mine.length };
  writeShardStatus(outDir, { ...status, state: mine.length === 0 ? 'done' : 'running' });
  if (mine.length === 0) return [];
  const rows: SweepRow[] = [];
  try {
    const engine = await initEngine({ threads: plan[0].config.threads });
    for (const run of mine) {
      // As in `train`: the twin's evaluations on the engine's threads (bitwise the same results).
      const twinEvalPool =
        run.config.model === 'twin' && engine.threads > 1
          ? startTwinEvalPool(data, run.config, engine.threads - 1, process.argv[1])
          : undefined;
      const curve: ReturnType<typeof curvePoint>[] = [];
      let summary: RunSummary;
      try {
        summary = await runExperiment(run.config, data, {
          twinEvalPool,
          onEvent: (e) => {
            if (e.type === 'eval') curve.push(curvePoint(e.record));
          },
        });
      } finally {
        await twinEvalPool?.close();
      }
      const row = sweepRow(run, summary);
      writeFileAtomic(join(outDir, 'rows', rowFile(run.index)), `${toJson({ row, summary, curve }, 1)}\n`);
      rows.push(row);
      status.finished += 1;
      writeShardStatus(outDir, { ...status, state: status.finished === all.length ? 'done' : 'running' });
      log(`run ${run.index} ${JSON.stringify(run.varied)}: test ${(100 * summary.final.test).toFixed(2)}%`);
    }
  } catch (e) {
    writeShardStatus(outDir, { ...status, state: 'failed', error: e instanceof Error ? e.message : String(e) });
    throw e;
  }
  return rows;
}

/**
 * One evaluation in a row file's `curve`: accuracies and, when recorded, the smallest fraction of
 * evaluated images on which an fc1 copy group was active (0: a dead group).
 */
function curvePoint(r: EvalRecord): { step: number; train: number | null; test: number; fc1ActiveMin?: number } {
  const groups = r.activity?.fc1.groups;
  return {
    step: r.step,
    train: r.train,
    test: r.test,
    ...(groups ? { fc1ActiveMin: Math.min(...groups.map((g) => g.active)) } : {}),
  };
}

function rowFile(index: number): string {
  return `run-${String(index).padStart(5, '0')}.json`;
}

/** Merges sweep folders (each with plan.json and rows/) into one table. */
export function sweepMerge(dirs: string[]): SweepTable & { planSize: number } {
  let planText: string | null = null;
  let planSize = 0;
  const rowSets: SweepRow[][] = [];
  for (const dir of dirs) {
    const path = join(dir, 'plan.json');
    if (!existsSync(path)) throw new UserInputError(`'${dir}' is not a sweep folder (no plan.json)`);
    const plan = readPlanFile(path);
    if (planText !== null && plan.text !== planText) throw new UserInputError(`'${dir}' belongs to a different sweep (plan.json differs)`);
    planText = plan.text;
    planSize = plan.planSize;
    const rowsDir = join(dir, 'rows');
    const files = existsSync(rowsDir) ? readdirSync(rowsDir).filter((f) => /^run-\d+\.json$/.test(f)) : [];
    rowSets.push(files.map((f) => readRowFile(join(rowsDir, f), plan.planSize)));
  }
  return { planSize, ...mergeSweepRows(planSize, rowSets) };
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return 'n/a';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : String(v);
  return Array.isArray(v) ? v.join(',') : String(v);
}

/** The table's columns: varied keys, then the results. */
function tableCells(rows: SweepRow[]): { head: string[]; body: string[][] } {
  const keys = rows.length ? Object.keys(rows[0].varied) : [];
  const head = [
    'index',
    ...keys,
    'steps',
    'train',
    'test',
    'firstNaN',
    'fc1 dead',
    ...SYMMETRY_KEYS.map((k) => `groups ${k}`),
    'msPerStep',
    'weightsSha256',
  ];
  const body = rows.map((r) => [
    String(r.index),
    ...keys.map((k) => cell(r.varied[k])),
    String(r.steps),
    r.train === null ? 'n/a' : r.train.toFixed(6),
    r.test.toFixed(6),
    cell(r.firstNanStep),
    r.fc1Dead ? `${r.fc1Dead.dead}/${r.fc1Dead.units}${r.fc1Dead.firstStep === null ? '' : ` from ${r.fc1Dead.firstStep}`}` : 'n/a',
    ...SYMMETRY_KEYS.map((k) => String(r.groups[k])),
    r.msPerStep.toFixed(2),
    r.weightsSha256,
  ]);
  return { head, body };
}

export interface MergeOptions {
  out?: string;
  partial?: boolean;
  json?: boolean;
}

/**
 * `sweep merge`: combines the folders' rows into sweep.json, sweep.csv and sweep.md (in `out`,
 * default the first folder) and prints the table; an incomplete sweep is refused unless `partial`,
 * naming the missing runs and what became of the shards that owe them.
 */
export function mergeSweepFolders(dirs: string[], opts: MergeOptions): void {
  const table = sweepMerge(dirs);
  if (table.missing.length > 0 && !opts.partial) {
    const shards = describeIncompleteShards(dirs.flatMap(readShardStatuses), table.missing);
    throw new UserInputError(
      `sweep incomplete: ${table.missing.length} of ${table.planSize} runs missing (first: ${table.missing.slice(0, 5).join(', ')})${shards.length ? `; ${shards.join('; ')}` : ''}; pass --partial to merge anyway`,
    );
  }
  const out = opts.out ?? dirs[0];
  createOutputDir(out);
  const { head, body } = tableCells(table.rows);
  writeFileAtomic(join(out, 'sweep.json'), `${toJson(table, 1)}\n`);
  writeFileAtomic(join(out, 'sweep.csv'), `${[head, ...body].map((r) => r.join(';')).join('\n')}\n`);
  const md = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');
  writeFileAtomic(join(out, 'sweep.md'), `${md}\n`);
  process.stdout.write(opts.json ? `${toJson(table)}\n` : `${md}\n${table.missing.length ? `missing: ${table.missing.join(', ')}\n` : ''}`);
}

/** The commander definition of `sweep` with its `run` and `merge` subcommands. */
export function sweepCommand(): Command {
  const sweep = new Command('sweep').description(
    'run a sweep over seeds and config values in shards (cluster array jobs), then merge the shards',
  );
  const run = new Command('run')
    .description("run this shard's share of the sweep (base config from the flags)")
    .option(
      '--vary <key=v1,v2,...>',
      "a config key and its values (repeatable; use '|' between values that hold commas)",
      (v: string, acc: string[] = []) => [...acc, v],
    )
    .option('--seeds <list>', 'seeds: a,b,c or first-last (default: --seed)')
    .option('--shard <i/n>', 'run only plan indices = i mod n (0 <= i < n)', '0/1')
    .option('--data <dir>', 'folder with the four MNIST IDX files (default: the embedded MNIST)')
    .option('--out <dir>', 'sweep folder shared by all shards (default: runs/sweep)');
  addConfigOptions(run);
  run.action(async (opts: Record<string, unknown>) => {
    const rows = await sweepRunShard(opts, (line) => process.stderr.write(`${line}\n`));
    process.stdout.write(`${rows.length} run(s) finished in this shard\n`);
  });
  const merge = new Command('merge')
    .description('combine the rows of sweep folders into sweep.json, sweep.csv and sweep.md')
    .argument('<dirs...>', 'sweep folders (one shared folder, or one per shard)')
    .option('--out <dir>', 'where to write the merged table (default: the first folder)')
    .option('--partial', 'write the table even if some planned runs have no result yet')
    .option('--json', 'print the merged table as JSON');
  merge.action((dirs: string[], opts: MergeOptions) => mergeSweepFolders(dirs, opts));
  sweep.addCommand(run);
  sweep.addCommand(merge);
  for (const c of [run, merge]) c.exitOverride();
  return sweep;
}
