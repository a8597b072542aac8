// The config checks that need the data: sizes that must fit the splits.
import type { ExperimentConfig } from '../config';
import { ConfigError } from '../errors';
import type { MnistData } from './mnist';

/** Checks what can only be checked against the data (sizes), with one-line messages. */
export function validateAgainstData(config: ExperimentConfig, data: MnistData): void {
  if (config.batch > data.train.count) {
    throw new ConfigError(`invalid batch: ${config.batch} exceeds the train split (${data.train.count} images)`);
  }
  if (config.evalTrain !== 'all' && config.evalTrain > data.train.count) {
    throw new ConfigError(`invalid eval-train: ${config.evalTrain} exceeds the train split (${data.train.count} images)`);
  }
}
