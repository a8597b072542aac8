// Summarises a sweep folder of twin runs (rows/run-*.json, written by `mnist-sym-wasm sweep run`)
// into the table of docs/ANSWER.md's section on dead units: per (order, lr), test accuracy at steps
// 1000, 7000 and 20000 (min / median / max over seeds) and the runs whose fc1 unit died (with the
// step). `--json FILE` also writes the compact per-run rows (docs/report/twin-order-sweep.json).
// Usage: node scripts/dead-unit-table.mjs SWEEP_DIR [--json FILE]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, flag, jsonPath] = process.argv.slice(2);
if (!dir || (flag !== undefined && (flag !== '--json' || !jsonPath))) {
  process.stderr.write('usage: node scripts/dead-unit-table.mjs SWEEP_DIR [--json FILE]\n');
  process.exit(2);
}
const STEPS = [1000, 7000, 20000];
const files = readdirSync(join(dir, 'rows')).filter((f) => /^run-\d+\.json$/.test(f));
const runs = files
  .map((f) => JSON.parse(readFileSync(join(dir, 'rows', f), 'utf8')))
  .map(({ row, summary, curve }) => {
    const at = Object.fromEntries(STEPS.map((s) => [s, curve.find((c) => c.step === s)?.test ?? null]));
    const dead = summary.deadUnits?.fc1 ?? null;
    return {
      index: row.index,
      ...row.varied,
      testAt: at,
      best: Math.max(...curve.map((c) => c.test)),
      fc1Dead: dead ? dead.dead : null,
      fc1DiedAt: dead?.died[0]?.step ?? null,
      firstNanStep: summary.firstNanStep,
      weightsSha256: summary.weightsSha256,
    };
  })
  .sort((a, b) => a.index - b.index);

const pct = (x) => (x === null ? 'n/a' : (100 * x).toFixed(2));
const spread = (xs) => {
  const v = xs.filter((x) => x !== null).sort((a, b) => a - b);
  if (v.length === 0) return 'n/a';
  const mid = v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  return `${pct(v[0])} / ${pct(mid)} / ${pct(v[v.length - 1])}`;
};
const groups = new Map();
for (const r of runs) {
  const key = `${r.order} ${r.lr}`;
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(r);
}
const lines = [
  '| order | lr | runs (seeds) | test % at 1000 | at 7000 | at 20000 (min / median / max) | fc1 unit died | died at step |',
  '|---|---|---|---|---|---|---|---|',
];
for (const rs of groups.values()) {
  const died = rs.filter((r) => r.fc1Dead);
  lines.push(
    `| ${rs[0].order} | ${rs[0].lr} | ${rs.length} (${rs.map((r) => r.seed).join(',')}) | ${STEPS.map((s) => spread(rs.map((r) => r.testAt[s]))).join(' | ')} | ${died.length} of ${rs.length} | ${died.map((r) => `${r.fc1DiedAt} (seed ${r.seed})`).join(', ') || '-'} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
if (jsonPath) writeFileSync(jsonPath, `${JSON.stringify({ sweep: dir, runs }, null, 1)}\n`);
