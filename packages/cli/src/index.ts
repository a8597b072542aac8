// Entry point of the mnist-sym-wasm binary. Core must load after node-globals (see there), so the
// commands are imported dynamically, after the globals exist.
import './node-globals';
import { isMainThread, workerData } from 'node:worker_threads';

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === 'twin-eval') {
  // This file is also the twin evaluation workers' entry (see twin-eval-pool.ts).
  const { runTwinEvalWorker } = await import('./twin-eval-worker');
  runTwinEvalWorker();
} else {
  const { main } = await import('./main');
  process.exit(await main(process.argv));
}
