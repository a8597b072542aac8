// The train-split check the page runs on the train labels alone, before fetching the images.
import { expect, test } from 'vitest';
import { encodeIdx, resolveConfig } from '@mnist-sym-wasm/core';
import { checkTrainSplit } from './data-source';

test('evalTrain or batch larger than the train split is refused with the message core gives; a fitting config passes', () => {
  const labels = encodeIdx([1000], new Uint8Array(1000));
  const config = (raw: Record<string, string>) => resolveConfig({ validationSize: '100', ...raw });
  expect(() => checkTrainSplit(config({ evalTrain: '900' }), labels)).not.toThrow();
  expect(() => checkTrainSplit(config({ evalTrain: 'all' }), labels)).not.toThrow();
  expect(() => checkTrainSplit(config({ evalTrain: '901' }), labels)).toThrow(
    'invalid eval-train: 901 exceeds the train split (900 images)',
  );
  expect(() => checkTrainSplit(config({ batch: '950' }), labels)).toThrow('invalid batch: 950 exceeds the train split (900 images)');
  // A validation size the file cannot hold is core's loadMnist's to report, after the download.
  expect(() => checkTrainSplit(resolveConfig({ validationSize: '1000', evalTrain: '5' }), labels)).not.toThrow();
});
