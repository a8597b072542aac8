// Sweeps over seeds and config values, split into shards for cluster array jobs (Slurm
// --array, Kubernetes indexed Jobs): the plan (every run, numbered), which runs a shard owns, one
// result row per run, and the merge of the shards' rows into one table. Pure; the CLI does the I/O.
import { CONFIG_FIELDS, CONFIG_KEYS, resolveConfig, type ExperimentConfig } from '../config';
import { ConfigError } from '../errors';
import type { RunSummary } from '../run/run-experiment';
import { SYMMETRY_KEYS } from './symmetry';

/** One run of a sweep. Its index is its position in the full plan, the same on every shard. */
export interface SweepRun {
  index: number;
  /** The varied values (config keys; `seed` included), for the table. */
  varied: Record<string, unknown>;
  config: ExperimentConfig;
}

/** `--vary` values for one key: config key or flag name, then the raw values. */
export type SweepAxis = [key: string, values: string[]];

/**
 * Parses `key=v1,v2,...` (values separated by `|` instead when any value holds a comma, e.g.
 * `widths=4,8,16|8,16,32`). The key may be the config key or its flag name.
 */
export function parseSweepAxis(spec: string): SweepAxis {
  const eq = spec.indexOf('=');
  if (eq <= 0 || eq === spec.length - 1) throw new ConfigError(`invalid vary: '${spec}' (expected key=v1,v2,...)`);
  const name = spec.slice(0, eq).trim();
  const key = CONFIG_KEYS.find((k) => k === name || CONFIG_FIELDS[k].flag === name);
  if (!key) throw new ConfigError(`invalid vary: unknown config key '${name}'`);
  const rest = spec.slice(eq + 1);
  const values = (rest.includes('|') ? rest.split('|') : rest.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  if (values.length === 0) throw new ConfigError(`invalid vary: '${spec}' has no values`);
  return [key, values];
}

/**
 * Every run: the cartesian product of the axes (first axis outermost) times the seeds (innermost),
 * over `base` (raw values, resolved with the defaults). Each config is validated here, once.
 */
export function sweepPlan(base: Record<string, unknown>, axes: SweepAxis[], seeds: number[]): SweepRun[] {
  const keys = axes.map((a) => a[0]);
  if (new Set([...keys, 'seed']).size !== keys.length + 1)
    throw new ConfigError('invalid vary: each key (and seed, given by --seeds) may appear once');
  let combos: Record<string, unknown>[] = [{}];
  for (const [key, values] of axes) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [key]: v })));
  const runs: SweepRun[] = [];
  for (const combo of combos) {
    for (const seed of seeds) {
      const config = resolveConfig({ ...base, ...combo, seed });
      const varied = Object.fromEntries([...keys.map((k) => [k, config[k as keyof ExperimentConfig]]), ['seed', seed]]);
      runs.push({ index: runs.length, varied, config });
    }
  }
  return runs;
}

/** A shard `i/n`: 0 <= i < n (array-job indices are 0-based: Slurm --array=0-(n-1), JOB_COMPLETION_INDEX). */
export interface Shard {
  index: number;
  count: number;
}

/** Parses `i/n`. */
export function parseShard(raw: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(raw);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) throw new ConfigError(`invalid shard: '${raw}' (expected i/n with 0 <= i < n)`);
  return { index, count };
}

/** The runs shard i of n owns: plan indices congruent to i mod n (balanced when runs cost alike). */
export function shardRuns(plan: SweepRun[], shard: Shard): SweepRun[] {
  return plan.filter((r) => r.index % shard.count === shard.index);
}

/** One finished run, as a table row. */
export interface SweepRow {
  index: number;
  varied: Record<string, unknown>;
  steps: number;
  train: number | null;
  test: number;
  loss: number | null;
  firstNanStep: number | null;
  /** Bitwise groups per copy set of the final weights. */
  groups: Record<string, number>;
  weightsSha256: string;
  msPerStep: number;
  /** fc1 units dead at the end (summary.deadUnits), and the earliest step one died; absent when not recorded. */
  fc1Dead?: { dead: number; units: number; firstStep: number | null };
}

/** The row of a finished run. */
export function sweepRow(run: SweepRun, summary: RunSummary): SweepRow {
  return {
    index: run.index,
    varied: run.varied,
    steps: summary.steps,
    train: summary.final.train,
    test: summary.final.test,
    loss: summary.final.loss,
    firstNanStep: summary.firstNanStep,
    groups: Object.fromEntries(SYMMETRY_KEYS.map((k) => [k, summary.symmetry[k].groups])),
    weightsSha256: summary.weightsSha256,
    msPerStep: summary.msPerStep,
    ...(summary.deadUnits
      ? {
          fc1Dead: {
            dead: summary.deadUnits.fc1.dead,
            units: summary.deadUnits.fc1.units,
            firstStep: summary.deadUnits.fc1.died[0]?.step ?? null,
          },
        }
      : {}),
  };
}

/** The merged table, in plan order, and which planned runs have no row yet. */
export interface SweepTable {
  rows: SweepRow[];
  missing: number[];
}

/**
 * Merges rows from any number of shards (duplicates allowed when they agree bitwise: a re-run
 * shard). Throws when one run has two different results.
 */
export function mergeSweepRows(planSize: number, rowSets: SweepRow[][]): SweepTable {
  const byIndex = new Map<number, SweepRow>();
  for (const row of rowSets.flat()) {
    if (!Number.isInteger(row.index) || row.index < 0 || row.index >= planSize) {
      throw new ConfigError(`sweep merge: row index ${row.index} is outside the plan (0..${planSize - 1})`);
    }
    const seen = byIndex.get(row.index);
    if (seen && seen.weightsSha256 !== row.weightsSha256) {
      throw new ConfigError(
        `sweep merge: run ${row.index} has two different results (weights ${seen.weightsSha256.slice(0, 12)} vs ${row.weightsSha256.slice(0, 12)})`,
      );
    }
    byIndex.set(row.index, row);
  }
  const rows = [...byIndex.values()].sort((a, b) => a.index - b.index);
  const missing: number[] = [];
  for (let i = 0; i < planSize; i++) if (!byIndex.has(i)) missing.push(i);
  return { rows, missing };
}
