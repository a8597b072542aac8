// The engine from TypeScript (strict; compiles with moduleResolution node16 or bundler, without
// skipLibCheck): typed config, events and summary, and a checkpoint round trip.
// Usage: tsc -p . && node build/train-typescript.js [MNIST folder with the four IDX .gz files] [threads]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  initEngine,
  loadMnist,
  resolveConfig,
  runExperiment,
  type ExperimentConfig,
  type MnistFiles,
  type RunEvent,
  type RunSummary,
} from '@mnist-sym-wasm/core';

const dir = process.argv[2] || 'mnist';
const threads: number | 'auto' = process.argv[3] === undefined || process.argv[3] === 'auto' ? 'auto' : Number(process.argv[3]);
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(join(dir, `${name}.gz`)));

const files: MnistFiles = {
  trainImages: read('train-images-idx3-ubyte'),
  trainLabels: read('train-labels-idx1-ubyte'),
  testImages: read('t10k-images-idx3-ubyte'),
  testLabels: read('t10k-labels-idx1-ubyte'),
};
const config: ExperimentConfig = resolveConfig({ steps: 20, evalEvery: 10, evalTrain: 200, validationSize: 100, widths: [16, 32, 32] });
const data = loadMnist(files, config.validationSize);
const engine = await initEngine({ threads });
console.log(`engine: ${engine.threads} thread(s), SIMD ${engine.simd}`);

const saved: { checkpoint?: Uint8Array } = {};
const summary: RunSummary = await runExperiment(config, data, {
  onEvent: (event: RunEvent) => {
    if (event.type === 'eval') console.log(`step ${event.record.step}: test accuracy ${event.record.test.toFixed(4)}`);
  },
  checkpointAt: (step) => step === config.steps,
  onCheckpoint: (checkpoint) => {
    saved.checkpoint = encodeCheckpoint(checkpoint); // bytes: write them wherever you like
  },
});
console.log(`weightsSha256 ${summary.weightsSha256}`);
if (saved.checkpoint) console.log(`checkpoint: step ${decodeCheckpoint(saved.checkpoint).trainer.step}`);
