// What `sweep merge` says about the shards behind missing runs, from their recorded states.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { describeIncompleteShards, readShardStatuses, writeShardStatus } from './sweep-shard-status';

test('names each shard behind missing runs: failed with its error, stopped with its progress, never started', () => {
  const dir = mkdtempSync(join(tmpdir(), 'msw-shards-'));
  writeShardStatus(dir, { shard: 0, count: 3, state: 'done', runs: 2, finished: 2 });
  writeShardStatus(dir, { shard: 1, count: 3, state: 'failed', runs: 2, finished: 1, error: 'out of memory' });
  writeShardStatus(dir, { shard: 2, count: 3, state: 'running', runs: 2, finished: 1 });
  const statuses = readShardStatuses(dir);
  expect(statuses.map((s) => s.state).sort()).toEqual(['done', 'failed', 'running']);
  const lines = describeIncompleteShards(statuses, [4, 5]);
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^shard 1\/3 failed on .+: out of memory$/);
  expect(lines[1]).toMatch(/^shard 2\/3 running or stopped \(1 of 2 runs, last update .+\)$/);
  expect(
    describeIncompleteShards(
      statuses.filter((s) => s.shard !== 2),
      [5],
    ),
  ).toEqual(['shard 2/3 never started']);
  expect(describeIncompleteShards(statuses, [])).toEqual([]);
  // Without a recorded shard count there is nothing to say.
  expect(describeIncompleteShards([], [1, 2])).toEqual([]);
});
