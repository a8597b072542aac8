// `sweep submit` and `explain --submit` against a real Slurm: a one-node cluster of Debian's
// slurm-wlm and munge, started by scripts/slurm-cluster.sh for this file and stopped after it. A
// small sweep goes through `sweep submit --wait`; one array task is requeued midway (killed and run
// again); the merged table must equal the same sweep run locally shard by shard. A tiny explain runs
// as a job. Skipped, with a notice, without Slurm.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CLI, FIXTURE, QUICK, ROOT, runCli, tempDir } from './helpers';
import { explainSuite } from '../packages/core/src/science/explain-suite';

const CLUSTER = join(ROOT, 'scripts/slurm-cluster.sh');
const onPath = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
const HAS_SLURM =
  ['sbatch', 'scontrol', 'squeue'].every(onPath) &&
  existsSync('/usr/sbin/slurmctld') &&
  existsSync('/usr/sbin/munged') &&
  process.getuid?.() === 0;
if (!HAS_SLURM) {
  console.warn('\n[slurm-sweep.test] SKIPPED: Slurm is absent (apt-get install slurm-wlm munge, as root); the Slurm tests did not run.\n');
}

/** A tiny explain suite (seconds). */
const EXPLAIN = [
  '--validation-size',
  '100',
  '--widths',
  '4,8,16',
  '--steps',
  '6',
  '--eval-every',
  '3',
  '--eval-train',
  '100',
  '--test-images',
  '100',
  '--perturbs',
  '1e-3',
  '--order-seeds',
  '1',
];
/** The sweep: 2 shards of 3 runs of a second or so. */
const SWEEP = ['--widths', '2,3,4', '--steps', '30', '--eval-every', '0', ...QUICK, '--vary', 'pool-ties=first,random', '--seeds', '0-2'];

type Row = Record<string, unknown>;
const untimed = (rows: Row[]) => rows.map(({ msPerStep: _, ...rest }) => rest);

test('--dry-run prints the array script: one task per shard, shard and threads from Slurm', () => {
  const out = join(tempDir(), 'sweep');
  const r = runCli([
    'sweep',
    'submit',
    ...SWEEP,
    '--shards',
    '3',
    '--cpus-per-task',
    '2',
    '--partition',
    'gpu',
    '--time',
    '1:00:00',
    '--out',
    out,
    '--dry-run',
  ]);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^#!\/bin\/bash\n/);
  for (const line of [
    '#SBATCH --array=0-2',
    '#SBATCH --cpus-per-task=2',
    '#SBATCH --partition=gpu',
    '#SBATCH --time=1:00:00',
    '#SBATCH --requeue',
  ]) {
    expect(r.stdout).toContain(line);
  }
  expect(r.stdout).toContain(`--out ${out} --shard "\${SLURM_ARRAY_TASK_ID}/3" --threads "\${SLURM_CPUS_PER_TASK:-1}"`);
  expect(existsSync(out)).toBe(false); // a dry run writes nothing
  const bad = runCli(['sweep', 'submit', ...SWEEP, '--shards', '0', '--out', out, '--dry-run']);
  expect(bad.status).toBe(2);
  expect(bad.stderr).toBe("error: invalid --shards: '0' (expected a whole number >= 1)\n");
});

test('explain --submit --dry-run prints one job running the same explain with Slurm threads; Slurm flags need --submit', () => {
  const out = join(tempDir(), 'explain');
  const r = runCli(['explain', ...EXPLAIN, '--full', '--submit', '--cpus-per-task', '2', '--out', out, '--dry-run']);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain('#SBATCH --cpus-per-task=2');
  expect(r.stdout).not.toContain('--array');
  expect(r.stdout).toMatch(
    /\nexec \S+ \S+ explain --full --test-images 100 --order-seeds 1 --perturbs 1e-3 .*--out \S+ --threads "\$\{SLURM_CPUS_PER_TASK:-1\}"\n/,
  );
  expect(existsSync(out)).toBe(false);
  const stray = runCli(['explain', ...EXPLAIN, '--wait', '--out', out]);
  expect(stray.status).toBe(2);
  expect(stray.stderr).toBe('error: --wait needs --submit\n');
});

describe.skipIf(!HAS_SLURM)('sweep submit on a one-node Slurm cluster', () => {
  const state = tempDir('msw-slurm-');
  const env = { ...process.env, SLURM_CONF: join(state, 'slurm.conf'), SLURM_PORT: String(7100 + (process.pid % 500) * 2) };

  beforeAll(() => {
    const started = spawnSync('bash', [CLUSTER, 'start', state], { env, encoding: 'utf8', timeout: 60_000 });
    expect(started.status, `${started.stdout}${started.stderr}`).toBe(0);
  }, 90_000);

  afterAll(() => {
    spawnSync('bash', [CLUSTER, 'stop', state], { env, timeout: 30_000 });
  });

  test('submit --wait survives a requeued task and merges the same table as local shards', async () => {
    const local = join(tempDir(), 'local');
    for (const shard of ['0/2', '1/2']) expect(runCli(['sweep', 'run', ...SWEEP, '--shard', shard, '--out', local]).status).toBe(0);
    const localTable = JSON.parse(runCli(['sweep', 'merge', local, '--json']).stdout);

    const out = join(tempDir(), 'cluster');
    const submit = spawn(process.execPath, [CLI, 'sweep', 'submit', ...SWEEP, '--shards', '2', '--out', out, '--wait'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    submit.stdout.on('data', (d) => (stdout += d));
    submit.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((done) => submit.on('close', done));

    // Requeue task 1 once it has finished its first run (plan index 1) and has more to do.
    const deadline = Date.now() + 180_000;
    while (!existsSync(join(out, 'rows', 'run-00001.json')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const job = /submitted job (\d+)/.exec(stdout)?.[1];
    expect(job, stdout + stderr).toBeDefined();
    expect(existsSync(join(out, 'rows', 'run-00005.json'))).toBe(false);
    const requeue = spawnSync('scontrol', ['requeue', `${job}_1`], { env, encoding: 'utf8' });
    expect(requeue.status, requeue.stderr).toBe(0);
    // Slurm holds a requeued job for 2 minutes (its BeginTime); release it once it is pending again.
    for (let i = 0; i < 100; i++) {
      const pending = spawnSync('squeue', ['-h', '-j', `${job}_1`, '-o', '%T'], { env, encoding: 'utf8' }).stdout.trim() === 'PENDING';
      if (pending && spawnSync('scontrol', ['update', `JobId=${job}_1`, 'StartTime=now'], { env }).status === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }

    expect(await exited, stdout + stderr).toBe(0);
    const log = readFileSync(join(out, 'slurm', `${job}_1.out`), 'utf8');
    expect(log).toContain('shard 1/2 on');
    expect(log).toMatch(/attempt 1/); // the requeued task ran again, skipping the run it had finished
    const table = JSON.parse(readFileSync(join(out, 'sweep.json'), 'utf8'));
    expect(table.missing).toEqual([]);
    expect(untimed(table.rows)).toEqual(untimed(localTable.rows));
  }, 300_000);

  test('explain --submit --wait runs the suite as a job and leaves its report', async () => {
    const out = join(tempDir(), 'explain');
    // Asynchronous: a worker blocked for this long misses vitest's own messages.
    const child = spawn(process.execPath, [CLI, 'explain', ...EXPLAIN, '--data', FIXTURE, '--submit', '--wait', '--out', out], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    expect(await new Promise((done) => child.on('close', done)), stdout + stderr).toBe(0);
    expect(stdout).toMatch(/^submitted job \d+/);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    // Every run of the quick suite (its plan, from core), not a count that drifts when the suite changes.
    expect(report.results).toHaveLength(explainSuite().entries.length);
    // --steps 6 gives every run that length (a uniform suite).
    expect(report.protocol.uniform).toBe(true);
    for (const run of report.results) expect(run.entry.config.steps).toBe(6);
  }, 300_000);
});
