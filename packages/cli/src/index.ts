// Entry point of the mnist-sym-wasm binary (the committed bin file imports it): the command line,
// or an evaluation worker (twin or dense) when started as one.
import { isMainThread, workerData } from 'node:worker_threads';

const workerKind = isMainThread ? undefined : (workerData as { kind?: string } | null)?.kind;
if (workerKind === 'twin-eval') {
  // This file is also the twin evaluation workers' entry (see twin/twin-eval-pool.ts).
  const { runTwinEvalWorker } = await import('./twin/twin-eval-worker');
  runTwinEvalWorker();
} else if (workerKind === 'dense-eval') {
  // ... and the dense evaluation workers' (see run/dense-eval-pool.ts).
  const { runDenseEvalWorker } = await import('./run/dense-eval-worker');
  runDenseEvalWorker();
} else {
  const { main } = await import('./main');
  process.exit(await main(process.argv));
}
