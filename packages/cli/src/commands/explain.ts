// `mnist-sym-wasm explain`: runs the side-by-side suite (core's explainSuite) one run after another,
// then writes report.json (everything measured), report.md and a self-contained report.html whose
// findings are computed from those runs. The quick default finishes in minutes on 2 cores; --full
// (or --steps etc.) runs the seed's protocol.
import { join } from 'node:path';
import { Command } from 'commander';
import {
  initEngine,
  explainSuite,
  loadMnist,
  resolveConfig,
  runExperiment,
  suiteFindings,
  suiteTable,
  toJson,
  UserInputError,
  validateAgainstData,
  type EvalRecord,
  type MnistData,
  type SuiteResult,
} from '@mnist-sym-wasm/core';
import { writeFileAtomic } from '../run/checkpoint-files';
import { addConfigOptions, givenConfigOptions } from '../config-options';
import { renderHtml, renderMarkdown, type ExplainReport } from '../render/explain-report';
import { embeddedMnistDir, readMnistFiles } from '../mnist-files';
import { createOutputDir } from '../run/run-directory';
import { addSlurmOptions } from '../sweep/slurm';
import { SLURM_ONLY, submitExplain } from './explain-submit';
import { lockRunFolder } from '../run/run-lock';
import { startTwinEvalPool } from '../twin/twin-eval-pool';

/** The quick default: short runs, evaluation on subsets (all overridable by the config flags). */
export const QUICK_PROTOCOL = { steps: 100, evalEvery: 20, evalTrain: 1000 } as const;
const QUICK_TEST_IMAGES = 1000;

function numberList(raw: string, name: string): number[] {
  const parts = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const out = parts.map(Number);
  if (parts.length === 0 || out.some((x) => !Number.isFinite(x) || x < 0)) {
    throw new UserInputError(`invalid ${name}: '${raw}' (expected a comma-separated list of numbers >= 0)`);
  }
  return out;
}

/** The first `count` images of a split (the quick suite scores a test subset). */
function firstImages(data: MnistData, count: number): MnistData {
  const n = Math.min(count, data.test.count);
  const px = data.rows * data.cols;
  return { ...data, test: { count: n, images: data.test.images.subarray(0, n * px), labels: data.test.labels.subarray(0, n) } };
}

/** explain's default output folder: runs/explain-<timestamp>. */
function defaultExplainDir(): string {
  return join('runs', `explain-${new Date().toISOString().replace(/[:.]/g, '-').replace(/Z$/, '')}`);
}

/** Runs the suite and writes the report files into `outDir`; returns the report. */
export async function explain(
  opts: Record<string, unknown>,
  log: (line: string) => void,
): Promise<{ report: ExplainReport; outDir: string }> {
  const full = Boolean(opts.full);
  const given = givenConfigOptions(opts);
  const base = resolveConfig({ ...(full ? {} : QUICK_PROTOCOL), ...given });
  const testRaw = opts.testImages as string | undefined;
  if (testRaw !== undefined && !/^\s*[1-9]\d*\s*$/.test(testRaw))
    throw new UserInputError(`invalid test-images: '${testRaw}' (expected an integer >= 1)`);
  const testImages = testRaw === undefined ? (full ? Infinity : QUICK_TEST_IMAGES) : Number(testRaw);
  const orderSeeds = numberList((opts.orderSeeds as string | undefined) ?? (full ? '1,2,3,4' : '1,2'), 'order-seeds');
  const perturbs = numberList((opts.perturbs as string | undefined) ?? (full ? '1e-10,1e-6,1e-3' : '1e-3'), 'perturbs');
  const outDir = (opts.out as string | undefined) ?? defaultExplainDir();
  const all = loadMnist(readMnistFiles((opts.data as string | undefined) ?? embeddedMnistDir()), base.validationSize);
  const data = Number.isFinite(testImages) ? firstImages(all, testImages) : all;
  const entries = explainSuite(base, { orderSeeds, perturbs, denseLosses: full });
  for (const entry of entries) validateAgainstData(entry.config, data);
  // Checked before anything is written; then one writer for the folder while the suite runs.
  createOutputDir(outDir);
  lockRunFolder(outDir, 'explain');
  const engine = await initEngine({ threads: base.threads });
  const started = performance.now();
  const results: SuiteResult[] = [];
  for (const [i, entry] of entries.entries()) {
    const records: EvalRecord[] = [];
    const t0 = performance.now();
    // The twin's evaluations go to worker threads as in `train` (bitwise the same results).
    const pool =
      entry.config.model === 'twin' && engine.threads > 1
        ? startTwinEvalPool(data, entry.config, engine.threads - 1, process.argv[1])
        : undefined;
    const summary = await runExperiment(entry.config, data, {
      twinEvalPool: pool,
      onEvent: (e) => e.type === 'eval' && records.push(e.record),
    }).finally(() => pool?.close());
    results.push({ entry, records, summary });
    log(
      `[${i + 1}/${entries.length}] ${entry.id}: test ${(100 * summary.final.test).toFixed(2)}% in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  const trainImages = base.evalTrain === 'all' ? data.train.count : base.evalTrain;
  const report: ExplainReport = {
    generated: new Date().toISOString(),
    protocol: { steps: base.steps, evalEvery: base.evalEvery, trainImages, testImages: data.test.count, widths: base.widths },
    findings: suiteFindings(results),
    table: suiteTable(results),
    results,
    wallMs: performance.now() - started,
  };
  writeFileAtomic(join(outDir, 'report.json'), `${toJson(report, 1)}\n`);
  writeFileAtomic(join(outDir, 'report.md'), renderMarkdown(report));
  writeFileAtomic(join(outDir, 'report.html'), renderHtml(report));
  return { report, outDir };
}

/** The commander definition of `explain`. */
export function explainCommand(): Command {
  const command = new Command('explain')
    .description(
      'run the side-by-side suite (init, dense vs twin, tie rules, perturbations, losses, data orders) and write report.html/.md/.json',
    )
    .option(
      '--full',
      "the seed's whole protocol for every run, the other losses on the dense network too (20000 steps, full evaluations: hours for the dense runs)",
    )
    .option('--test-images <n>', `test images scored at each evaluation (quick default: ${QUICK_TEST_IMAGES}; --full: all)`)
    .option('--order-seeds <list>', 'seeds of the shuffled data orders run on the twin (quick: 1,2; full: 1,2,3,4)')
    .option(
      '--perturbs <list>',
      'perturbation sizes added to the dense constant init (quick: 1e-3; full: 1e-10,1e-6,1e-3: even 1e-10 breaks the symmetry, see docs/ANSWER.md)',
    )
    .option('--data <dir>', 'folder with the four MNIST IDX files (default: the embedded MNIST)')
    .option('--out <dir>', 'output folder (default: runs/explain-<timestamp>)')
    .option('--json', 'print the report as JSON on stdout instead of the findings')
    .option('--submit', 'submit this explain to Slurm as one job instead of running it here (with the options below)');
  addSlurmOptions(command, 'mnist-sym-wasm-explain');
  addConfigOptions(command);
  command.action(async (opts: Record<string, unknown>) => {
    if (opts.submit) return submitExplain(opts, defaultExplainDir());
    const stray = SLURM_ONLY.find((key) => opts[key] !== undefined);
    if (stray) throw new UserInputError(`--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --submit`);
    const { report, outDir } = await explain(opts, (line) => process.stderr.write(`${line}\n`));
    if (opts.json) process.stdout.write(`${toJson(report)}\n`);
    else process.stdout.write(`${report.findings.map((f) => `- ${f}`).join('\n')}\n\nreport: ${join(outDir, 'report.html')}\n`);
  });
  return command;
}
