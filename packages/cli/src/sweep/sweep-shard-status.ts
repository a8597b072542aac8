// Each sweep shard's state on disk (`<out>/shards/shard-<i>-of-<n>.json`: running, done or failed
// with its error), so that `sweep merge` can name the shards behind missing runs and say what
// happened to them, whatever ran them (Slurm, a Kubernetes Job, a shell loop).
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../run/checkpoint-files';

export type ShardState = 'running' | 'done' | 'failed';

export interface ShardStatus {
  shard: number;
  count: number;
  state: ShardState;
  /** Runs of this shard finished so far (rows written, by this attempt or an earlier one). */
  finished: number;
  runs: number;
  host: string;
  pid: number;
  updated: string;
  error?: string;
}

function statusPath(outDir: string, shard: number, count: number): string {
  return join(outDir, 'shards', `shard-${shard}-of-${count}.json`);
}

/** Records a shard's state (atomically; the folder is created on first use). */
export function writeShardStatus(outDir: string, status: Omit<ShardStatus, 'host' | 'pid' | 'updated'>): void {
  mkdirSync(join(outDir, 'shards'), { recursive: true });
  const full: ShardStatus = { ...status, host: hostname(), pid: process.pid, updated: new Date().toISOString() };
  writeFileAtomic(statusPath(outDir, status.shard, status.count), `${JSON.stringify(full, null, 1)}\n`);
}

/** The shard states recorded in a sweep folder (unreadable files are skipped: they only inform). */
export function readShardStatuses(outDir: string): ShardStatus[] {
  const dir = join(outDir, 'shards');
  if (!existsSync(dir)) return [];
  const out: ShardStatus[] = [];
  for (const f of readdirSync(dir).filter((name) => /^shard-\d+-of-\d+\.json$/.test(name))) {
    try {
      const s = JSON.parse(readFileSync(join(dir, f), 'utf8')) as ShardStatus;
      if (Number.isInteger(s.shard) && Number.isInteger(s.count) && ['running', 'done', 'failed'].includes(s.state)) out.push(s);
    } catch {
      // a half-written or foreign file: say nothing of that shard
    }
  }
  return out;
}

/**
 * One line per shard that owns missing runs, when the folders say how the plan was sharded:
 * "shard 1/2 failed on HOST: <error>", "shard 0/2 running or stopped (2 of 3 runs, last update T)",
 * "shard 1/2 never started". Empty when no shard count is recorded.
 */
export function describeIncompleteShards(statuses: ShardStatus[], missing: number[]): string[] {
  const counts = [...new Set(statuses.map((s) => s.count))];
  if (counts.length !== 1) return [];
  const count = counts[0];
  const byShard = new Map(statuses.filter((s) => s.count === count).map((s) => [s.shard, s]));
  const shards = [...new Set(missing.map((i) => i % count))].sort((a, b) => a - b);
  return shards.map((shard) => {
    const s = byShard.get(shard);
    const name = `shard ${shard}/${count}`;
    if (!s) return `${name} never started`;
    if (s.state === 'failed') return `${name} failed on ${s.host}: ${s.error ?? 'unknown error'}`;
    if (s.state === 'running') return `${name} running or stopped (${s.finished} of ${s.runs} runs, last update ${s.updated} on ${s.host})`;
    return `${name} done but its rows are missing (moved or deleted?)`;
  });
}
