// The same engine from CommonJS: require('@mnist-sym-wasm/core') loads core's CommonJS build.
// Usage: node examples/train-commonjs.cjs [MNIST folder with the four IDX files, raw or .gz] [threads]
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { initEngine, loadMnist, resolveConfig, runExperiment } = require('@mnist-sym-wasm/core');

async function main() {
  const dir = process.argv[2] || join(__dirname, '../fixtures/mnist-small');
  const threads = process.argv[3] === undefined || process.argv[3] === 'auto' ? 'auto' : Number(process.argv[3]);
  const read = (name) => new Uint8Array(readFileSync(join(dir, `${name}.gz`)));
  const data = loadMnist(
    {
      trainImages: read('train-images-idx3-ubyte'),
      trainLabels: read('train-labels-idx1-ubyte'),
      testImages: read('t10k-images-idx3-ubyte'),
      testLabels: read('t10k-labels-idx1-ubyte'),
    },
    100,
  );
  const config = resolveConfig({ steps: 20, evalEvery: 10, evalTrain: 200, validationSize: 100, widths: [16, 32, 32] });
  const engine = await initEngine({ threads });
  const summary = await runExperiment(config, data);
  console.log(`engine: ${engine.threads} thread(s), SIMD ${engine.simd}`);
  console.log(`final test accuracy ${summary.final.test}`);
  console.log(`weightsSha256 ${summary.weightsSha256}`);
}

main().catch((error) => {
  console.error(`error: ${error.message}`);
  process.exit(1);
});
