// Trains in a module Web Worker: fetch the IDX bytes, start the engine (threads when the page is
// cross-origin isolated), run the protocol, post each evaluation and the final weights hash.
import { initEngine, loadMnist, resolveConfig, runExperiment, type HeapKernelsHelperData } from '@mnist-sym-wasm/core';

export type WorkerMessage = { kind: 'log'; text: string } | { kind: 'done'; weightsSha256: string } | { kind: 'error'; text: string };

// The worker's global scope (tsconfig's lib is the page's DOM, which types `self` as a window).
const scope = self as unknown as { postMessage(message: WorkerMessage): void; crossOriginIsolated: boolean; location: Location };
const post = (message: WorkerMessage) => scope.postMessage(message);
const FILES = {
  trainImages: 'train-images-idx3-ubyte.gz',
  trainLabels: 'train-labels-idx1-ubyte.gz',
  testImages: 't10k-images-idx3-ubyte.gz',
  testLabels: 't10k-labels-idx1-ubyte.gz',
};

async function bytes(name: string): Promise<Uint8Array> {
  const response = await fetch(new URL(`mnist/${name}`, new URL(import.meta.env.BASE_URL, scope.location.origin)));
  if (!response.ok) throw new Error(`mnist/${name}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Core's own kernels run on helper workers that share the engine's memory (threaded build only). */
function spawnHelper(source: string, data: HeapKernelsHelperData): void {
  new Worker(URL.createObjectURL(new Blob([source], { type: 'text/javascript' }))).postMessage(data);
}

async function main(): Promise<void> {
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(Object.values(FILES).map(bytes));
  const config = resolveConfig({ steps: 20, evalEvery: 10, evalTrain: 200, validationSize: 100, widths: [16, 32, 32] });
  const data = loadMnist({ trainImages, trainLabels, testImages, testLabels }, config.validationSize);
  const threads = scope.crossOriginIsolated ? Math.min(navigator.hardwareConcurrency, 4) : 1;
  const engine = await initEngine({ threads, allowThreads: threads > 1, spawnHelper });
  post({ kind: 'log', text: `engine: ${engine.threads} thread(s), SIMD ${engine.simd}` });
  const summary = await runExperiment(config, data, {
    onEvent: (event) => {
      if (event.type === 'eval') post({ kind: 'log', text: `step ${event.record.step}: test accuracy ${event.record.test.toFixed(4)}` });
    },
  });
  post({ kind: 'done', weightsSha256: summary.weightsSha256 });
}

main().catch((error: unknown) => post({ kind: 'error', text: error instanceof Error ? error.message : String(error) }));
