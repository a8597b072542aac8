// The PyTorch CPU baseline for `bench`: finds a python3 that imports torch (PATH first, then
// Debian's /usr/bin/python3, where `apt-get install python3-torch` puts it) and runs
// bench_pytorch.py (embedded in the bundle as text) at a given thread count.
import { spawnSync } from 'node:child_process';
import script from './bench_pytorch.py';

/** A python3 that imports torch, and torch's version. */
export interface TorchPython {
  python: string;
  version: string;
}

/** What bench_pytorch.py prints. */
export interface TorchTiming {
  version: string;
  threads: number;
  stepMs: number[];
  evalImagesPerSecond: number | null;
}

const CANDIDATES = ['python3', '/usr/bin/python3'];

/** The first candidate python3 that imports torch, or null. */
export function findTorchPython(): TorchPython | null {
  for (const python of CANDIDATES) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { python, version: r.stdout.trim() };
  }
  return null;
}

/** Times the PyTorch model (seed architecture and init, Adam, batch 50) at `threads` threads. */
export function timePytorch(torch: TorchPython, threads: number, samples: number, warmup: number, evalImages: number): TorchTiming {
  const r = spawnSync(torch.python, ['-', String(threads), String(samples), String(warmup), String(evalImages)], {
    input: script,
    encoding: 'utf8',
    maxBuffer: 16 * 2 ** 20,
  });
  if (r.status !== 0) throw new Error(`the PyTorch baseline failed (exit ${r.status}): ${r.stderr.trim().split('\n').pop() ?? ''}`);
  return JSON.parse(r.stdout) as TorchTiming;
}
