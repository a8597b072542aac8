// Entry point of the mnist-sym-wasm binary (the committed bin file imports it): the command line,
// or a twin evaluation worker when started as one.
import { isMainThread, workerData } from 'node:worker_threads';

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === 'twin-eval') {
  // This file is also the twin evaluation workers' entry (see twin/twin-eval-pool.ts).
  const { runTwinEvalWorker } = await import('./twin/twin-eval-worker');
  runTwinEvalWorker();
} else {
  const { main } = await import('./main');
  process.exit(await main(process.argv));
}
