// Trains the question's network for a few steps with @mnist-sym-wasm/core from plain Node ESM,
// listens to the run's events, saves a checkpoint and loads it back.
// Usage: node examples/train-node.mjs [MNIST folder with the four IDX files, raw or .gz] [threads]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint, initEngine, loadMnist, resolveConfig, runExperiment } from '@mnist-sym-wasm/core';

const dir = process.argv[2] || new URL('../fixtures/mnist-small/', import.meta.url).pathname;
const threads = process.argv[3] === undefined || process.argv[3] === 'auto' ? 'auto' : Number(process.argv[3]);
const read = (name) => new Uint8Array(readFileSync(join(dir, `${name}.gz`)));

const files = {
  trainImages: read('train-images-idx3-ubyte'),
  trainLabels: read('train-labels-idx1-ubyte'),
  testImages: read('t10k-images-idx3-ubyte'),
  testLabels: read('t10k-labels-idx1-ubyte'),
};
// Any field left out keeps the question's value (see DEFAULT_CONFIG); unknown keys are refused.
const config = resolveConfig({ steps: 20, evalEvery: 10, evalTrain: 200, validationSize: 100, widths: [16, 32, 32] });
const data = loadMnist(files, config.validationSize);
const engine = await initEngine({ threads });
console.log(`engine: ${engine.threads} thread(s), SIMD ${engine.simd}`);

let saved = null;
const summary = await runExperiment(config, data, {
  onEvent: (event) => {
    if (event.type === 'eval') console.log(`step ${event.record.step}: test accuracy ${event.record.test.toFixed(4)}`);
  },
  checkpointAt: (step) => step === config.steps,
  onCheckpoint: (checkpoint) => {
    saved = encodeCheckpoint(checkpoint); // bytes: write them wherever you like
  },
});
console.log(`weightsSha256 ${summary.weightsSha256}`);

const restored = decodeCheckpoint(saved);
console.log(`checkpoint: ${saved.length} bytes, step ${restored.trainer.step}`);
