// The long proof that symmetric execution changes no bit of the question's run (too long for CI):
// trains the seed config for --steps (default 20000) twice through the installed CLI, once with
// --symmetric-exec off (every unit computed) and once with the default (once per copy set), both
// evaluated at step 0 and after the last step, and compares the weights hash, the CSV and the
// metrics records (wall times aside). Exits 1 when anything differs.
//
//   node scripts/symmetric-proof.mjs [--steps N] [--threads N] [--out DIR]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { steps: { type: 'string', default: '20000' }, threads: { type: 'string', default: 'auto' }, out: { type: 'string' } },
});
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages/cli/bin/mnist-sym-wasm.js');
const base = values.out ?? mkdtempSync(join(tmpdir(), 'symmetric-proof-'));

function train(exec) {
  const out = join(base, `symmetric-exec-${exec}`);
  const args = [
    'train',
    '--steps',
    values.steps,
    '--eval-every',
    values.steps,
    '--threads',
    values.threads,
    '--symmetric-exec',
    exec,
    '--out',
    out,
  ];
  process.stderr.write(`mnist-sym-wasm ${args.join(' ')}\n`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) {
    process.stderr.write(`symmetric-proof: train --symmetric-exec ${exec} exited ${r.status}\n`);
    process.exit(2);
  }
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const { elapsedMs: _e, ...rest } = JSON.parse(l);
      return JSON.stringify(rest);
    });
  return { summary, csv: readFileSync(join(out, 'validation-curve-accuracy.csv'), 'utf8'), metrics, minutes: (Date.now() - t0) / 60000 };
}

const plain = train('off');
const fast = train('on');
const same = {
  weightsSha256: plain.summary.weightsSha256 === fast.summary.weightsSha256,
  csv: plain.csv === fast.csv,
  metrics: JSON.stringify(plain.metrics) === JSON.stringify(fast.metrics),
};
console.log(
  JSON.stringify(
    {
      steps: Number(values.steps),
      weightsSha256: { off: plain.summary.weightsSha256, on: fast.summary.weightsSha256 },
      stepPaths: { off: plain.summary.stepPaths, on: fast.summary.stepPaths },
      minutes: { off: plain.minutes, on: fast.minutes },
      same,
    },
    null,
    2,
  ),
);
process.exit(Object.values(same).every(Boolean) ? 0 : 1);
