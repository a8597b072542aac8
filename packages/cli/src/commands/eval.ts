// `mnist-sym-wasm eval --checkpoint PATH`: accuracy, mean loss and the symmetry report of a saved
// model on one split (all its images), collected first and then printed (or --json).
import { dirname, join } from 'node:path';
import { Command, Option } from 'commander';
import {
  initEngine,
  dataFingerprint,
  loadMnist,
  symmetryReport,
  DataError,
  Trainer,
  TwinTrainer,
  UserInputError,
  type EvalConvKind,
  type ExperimentConfig,
  type MnistData,
  type SymmetryReport,
} from '@mnist-sym-wasm/core';
import { CHECKPOINT_DIR, OPTIONS_FILE, readCheckpointFile, readCheckpointOptions } from '../run/checkpoint-files';
import { embeddedMnistDir, readMnistFiles } from '../mnist-files';
import { toJson } from '../run/run-directory';
import { formatSymmetryTable } from '../render/symmetry-table';

const SPLITS = ['train', 'test', 'validation'] as const;
type SplitName = (typeof SPLITS)[number];

/** What `eval` reports. */
export interface EvalReport {
  checkpoint: string;
  step: number;
  split: SplitName;
  images: number;
  accuracy: number;
  loss: number;
  weightsSha256: string;
  /** Whether the data evaluated on is the data the checkpoint was trained on. */
  sameDataAsTraining: boolean;
  /** How conv2 was computed (dense model; null for the twin, which has its own float64 pass). */
  evalConv: EvalConvKind | null;
  symmetry: SymmetryReport;
  config: ExperimentConfig;
}

/** Loads the checkpoint and scores its model on the whole split. */
export async function evaluateCheckpoint(path: string, split: SplitName, dataDir?: string, evalConv?: EvalConvKind): Promise<EvalReport> {
  const checkpoint = readCheckpointFile(path);
  const config = checkpoint.config;
  // Default data: what the run recorded beside its checkpoints, else the embedded MNIST.
  const optionsPath = join(dirname(path), '..', CHECKPOINT_DIR, OPTIONS_FILE);
  const recorded = readCheckpointOptions(join(dirname(path), '..'));
  const dir = dataDir ?? recorded?.dataPath ?? embeddedMnistDir();
  let data: MnistData;
  try {
    data = loadMnist(readMnistFiles(dir), config.validationSize);
  } catch (e) {
    if (dataDir === undefined && recorded?.dataPath && e instanceof DataError) {
      throw new DataError(
        `the data the run recorded in '${optionsPath}' cannot be read (${e.message}); pass --data with that MNIST folder`,
      );
    }
    throw e;
  }
  const sameData = dataFingerprint(data) === checkpoint.data;
  // Which data is used, and why, for messages that name the real cause.
  const source =
    dataDir !== undefined
      ? `'${dataDir}'`
      : recorded
        ? `'${dir}' (recorded in '${optionsPath}')`
        : `the embedded MNIST (no '${optionsPath}' beside the checkpoint records its data)`;
  const images = data[split];
  if (images.count === 0) throw new UserInputError(`the ${split} split is empty (validation size ${config.validationSize})`);
  await initEngine({ threads: config.threads });
  const trainer = config.model === 'twin' ? new TwinTrainer(config, data) : new Trainer(config, data);
  try {
    trainer.importState(checkpoint.trainer);
    // Checkpoints written before --eval-conv existed have no evalConv: the default then.
    const conv = trainer instanceof Trainer ? (evalConv ?? config.evalConv ?? 'winograd') : null;
    const score =
      conv && trainer instanceof Trainer ? trainer.evaluate(images, images.count, conv) : trainer.evaluate(images, images.count);
    return {
      checkpoint: path,
      step: checkpoint.trainer.step,
      split,
      images: score.images,
      accuracy: score.accuracy,
      loss: score.loss,
      weightsSha256: trainer.weightsSha256(),
      sameDataAsTraining: sameData,
      evalConv: conv,
      symmetry: symmetryReport(trainer.shape, trainer.paramValues(), config.symTol),
      config,
    };
  } catch (e) {
    if (e instanceof RangeError && !sameData) {
      // The data order saved in the checkpoint indexes another train split: the data is the problem.
      throw new DataError(
        `checkpoint '${path}' was trained on other MNIST data than ${source} (${e.message}); pass --data with the folder it was trained on`,
      );
    }
    if (e instanceof RangeError) throw new UserInputError(`checkpoint '${path}' does not fit its own config: ${e.message}`);
    throw e;
  } finally {
    trainer.dispose();
  }
}

/** Human-readable report. */
export function formatEvalReport(r: EvalReport): string {
  const lines = [
    `checkpoint       ${r.checkpoint}`,
    `step             ${r.step}`,
    `split            ${r.split} (${r.images} images${r.sameDataAsTraining ? '' : ', NOT the data the model was trained on'})`,
    `accuracy         ${(100 * r.accuracy).toFixed(2)}%${r.evalConv ? ` (conv2: ${r.evalConv})` : ''}`,
    `loss             ${r.loss}`,
    `weights sha256   ${r.weightsSha256}`,
    '',
    'symmetry (groups = distinct copies; 1 = still fully symmetric)',
    formatSymmetryTable(r.symmetry, r.config.symTol),
  ];
  return `${lines.join('\n')}\n`;
}

/** The commander definition of `eval`. */
export function evalCommand(): Command {
  return new Command('eval')
    .description('accuracy, loss and symmetry report of a saved checkpoint on one split')
    .requiredOption('--checkpoint <path>', "checkpoint file (a run folder's checkpoints/step-*.ckpt)")
    .addOption(new Option('--split <name>', 'split to evaluate (all its images)').choices(SPLITS).default('test'))
    .option('--data <dir>', 'MNIST folder (default: the one the run recorded, else the embedded MNIST)')
    .addOption(
      new Option('--eval-conv <kind>', "conv2 by winograd or direct sums (default: the run's setting)").choices(['winograd', 'direct']),
    )
    .option('--json', 'print the report as JSON')
    .action(async (opts: { checkpoint: string; split: SplitName; data?: string; evalConv?: EvalConvKind; json?: boolean }) => {
      const report = await evaluateCheckpoint(opts.checkpoint, opts.split, opts.data, opts.evalConv);
      process.stdout.write(opts.json ? `${toJson(report)}\n` : formatEvalReport(report));
    });
}
