// `mnist-sym-wasm explain`: runs core's explain suite (each run at a length where its effect shows),
// then writes report.json (findings with their thresholds, every evaluation), report.md and a
// self-contained report.html. The quick default takes about 3 minutes on 2 cores; --full (or
// --steps etc.) gives every run the same protocol.
import { join } from 'node:path';
import { Command } from 'commander';
import {
  explainReport,
  explainSuite,
  firstTestImages,
  initEngine,
  loadMnist,
  QUICK_PERTURBS,
  QUICK_TEST_IMAGES,
  runExplainSuite,
  toJson,
  UserInputError,
  validateAgainstData,
  type ExplainReport,
} from '@mnist-sym-wasm/core';
import { writeFileAtomic } from '../run/checkpoint-files';
import { addConfigOptions, givenConfigOptions } from '../config-options';
import { renderHtml, renderMarkdown } from '../render/explain-report';
import { embeddedMnistDir, readMnistFiles } from '../mnist-files';
import { createOutputDir } from '../run/run-directory';
import { addSlurmOptions } from '../sweep/slurm';
import { SLURM_ONLY, submitExplain } from './explain-submit';
import { lockRunFolder } from '../run/run-lock';
import { startTwinEvalPool, type ClosableTwinEvalPool } from '../twin/twin-eval-pool';

function numberList(raw: string, name: string, allowEmpty = false): number[] {
  const parts = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const out = parts.map(Number);
  if ((parts.length === 0 && !allowEmpty) || out.some((x) => !Number.isFinite(x) || x < 0)) {
    throw new UserInputError(`invalid ${name}: '${raw}' (expected a comma-separated list of numbers >= 0)`);
  }
  return out;
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
  const testRaw = opts.testImages as string | undefined;
  if (testRaw !== undefined && !/^\s*[1-9]\d*\s*$/.test(testRaw))
    throw new UserInputError(`invalid test-images: '${testRaw}' (expected an integer >= 1)`);
  const orderRaw = opts.orderSeeds as string | undefined;
  const perturbRaw = opts.perturbs as string | undefined;
  const plan = explainSuite({
    full: Boolean(opts.full),
    overrides: givenConfigOptions(opts),
    testImages: testRaw === undefined ? undefined : Number(testRaw),
    perturbs: perturbRaw === undefined ? undefined : numberList(perturbRaw, 'perturbs'),
    orderSeeds: orderRaw === undefined ? undefined : numberList(orderRaw, 'order-seeds', true),
  });
  const outDir = (opts.out as string | undefined) ?? defaultExplainDir();
  const first = plan.entries[0].config;
  const data = firstTestImages(
    loadMnist(readMnistFiles((opts.data as string | undefined) ?? embeddedMnistDir()), first.validationSize),
    plan.testImages,
  );
  for (const entry of plan.entries) validateAgainstData(entry.config, data);
  // Checked before anything is written; then one writer for the folder while the suite runs.
  createOutputDir(outDir);
  lockRunFolder(outDir, 'explain');
  const engine = await initEngine({ threads: first.threads });
  const generated = new Date().toISOString();
  const started = performance.now();
  let pool: ClosableTwinEvalPool | undefined;
  const results = await runExplainSuite(plan, data, {
    // The twin's evaluations go to worker threads as in `train` (bitwise the same results).
    twinEvalPool: (entry) => {
      pool =
        entry.config.model === 'twin' && engine.threads > 1
          ? startTwinEvalPool(data, entry.config, engine.threads - 1, process.argv[1])
          : undefined;
      return pool;
    },
    onRunEnd: async (i, entry, result, ms) => {
      await pool?.close();
      pool = undefined;
      if (result)
        log(
          `[${i + 1}/${plan.entries.length}] ${entry.id}: ${result.summary.steps} steps, test ${(100 * result.summary.final.test).toFixed(2)}% in ${(ms / 1000).toFixed(1)} s`,
        );
    },
  });
  const report = explainReport(plan, results, data.test.count, { generated, wallMs: performance.now() - started });
  writeFileAtomic(join(outDir, 'report.json'), `${toJson(report, 1)}\n`);
  writeFileAtomic(join(outDir, 'report.md'), renderMarkdown(report));
  writeFileAtomic(join(outDir, 'report.html'), renderHtml(report));
  return { report, outDir };
}

/** The commander definition of `explain`. */
export function explainCommand(): Command {
  const command = new Command('explain')
    .description(
      'run the side-by-side suite (symmetric dense and twin, random init, perturbations, tie rules, shuffled bias sums) and write report.html/.md/.json',
    )
    .option(
      '--full',
      "the seed's whole protocol for every run, plus the other losses and 4 data orders (20000 steps, full evaluations: hours for the dense runs)",
    )
    .option('--test-images <n>', `test images scored at each evaluation (quick default: ${QUICK_TEST_IMAGES}; --full: all)`)
    .option('--order-seeds <list>', 'seeds of shuffled data orders run on the twin (quick: none; full: 1,2,3,4)')
    .option(
      '--perturbs <list>',
      `perturbation sizes added to the dense constant init (quick: ${QUICK_PERTURBS.join(',')}; full: 1e-10,1e-6,1e-3,1e-30)`,
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
    else {
      const mark = (shown: boolean | null) => (shown === null ? '-' : shown ? '+' : '?');
      const lines = report.findings.map((f) => `${mark(f.shown)} ${f.text}`);
      process.stdout.write(
        `${lines.join('\n')}\n\n(+ shown by the runs, ? not shown, - measured)\nreport: ${join(outDir, 'report.html')}\n`,
      );
    }
  });
  return command;
}
