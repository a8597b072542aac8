// What this browser can run, detected in one place, and the one choice of tfjs build made from it:
// WebAssembly SIMD is required (the engine's results are pinned to the SIMD builds); the threaded
// SIMD build also needs cross-origin isolation, a global SharedArrayBuffer and a shared
// WebAssembly.Memory that can be posted to a worker (its pthreads share the heap that way).

/** The tiny SIMD module tfjs-backend-wasm itself validates to decide on its SIMD build. */
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253, 15, 26, 11]);

/** Browser capabilities relevant to the engine. */
export interface Capabilities {
  webAssembly: boolean;
  simd: boolean;
  crossOriginIsolated: boolean;
  /** A global `SharedArrayBuffer` constructor (WebKit 2.50 lacks it even when isolated). */
  sharedArrayBuffer: boolean;
  /** A shared WebAssembly.Memory can be made and posted (structured-cloned) to another thread. */
  sharedMemory: boolean;
  workers: boolean;
  /** `navigator.hardwareConcurrency` (what the browser reports; WebKit may report more than the machine has). */
  cores: number;
}

/** Whether a shared WebAssembly.Memory can be made and posted; the clone check is synchronous. */
function canPostSharedMemory(): boolean {
  try {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    if (typeof SharedArrayBuffer !== 'function' || !(memory.buffer instanceof SharedArrayBuffer)) return false;
    const channel = new MessageChannel();
    channel.port1.postMessage(memory); // throws DataCloneError where shared memory may not cross threads
    channel.port1.close();
    channel.port2.close();
    return true;
  } catch {
    return false;
  }
}

/** Detects the capabilities of the current global scope (page or worker). */
export function detectCapabilities(): Capabilities {
  const webAssembly = typeof WebAssembly === 'object' && typeof WebAssembly.validate === 'function';
  let simd = false;
  try {
    simd = webAssembly && WebAssembly.validate(SIMD_PROBE);
  } catch {
    simd = false;
  }
  return {
    webAssembly,
    simd,
    crossOriginIsolated: Boolean(globalThis.crossOriginIsolated),
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    sharedMemory: webAssembly && canPostSharedMemory(),
    workers: typeof Worker === 'function',
    cores: Math.max(1, Math.floor(Number(globalThis.navigator?.hardwareConcurrency) || 1)),
  };
}

/** The one-line reason this browser cannot run the engine, or null when it can. */
export function unsupportedReason(c: Capabilities): string | null {
  if (!c.webAssembly) return 'this browser has no WebAssembly support; the engine needs WebAssembly with SIMD';
  if (!c.simd) {
    return 'this browser has no WebAssembly SIMD support; the engine runs only on the SIMD build (results are pinned to it bitwise)';
  }
  if (!c.workers) return 'this browser cannot start Web Workers; the engine runs in one';
  return null;
}

/** The tfjs-backend-wasm builds the engine may run (both SIMD; results are equal bitwise). */
export type Build = 'threaded-simd' | 'simd';

/** Which build to run, on how many threads, and why (shown on the page with the engine line). */
export interface BuildChoice {
  build: Build;
  threads: number;
  reason: string;
}

/** Why the threaded build cannot run here, or null when it can. */
export function noThreadsReason(c: Capabilities): string | null {
  if (!c.crossOriginIsolated) {
    return 'the page is not cross-origin isolated (serve it with the COOP/COEP headers `mnist-sym-wasm serve` sends)';
  }
  if (!c.sharedArrayBuffer) return 'this browser has no global SharedArrayBuffer, although the page is cross-origin isolated';
  if (!c.sharedMemory) return 'this browser cannot post a shared WebAssembly.Memory to a worker';
  if (!c.workers) return 'this scope cannot start the Web Workers the threads run in';
  return null;
}

/**
 * The best build that runs: threaded SIMD with `threads` threads ('auto' = every core the browser
 * reports), else single-threaded SIMD. `threadedFailed` is the threaded build's own start error
 * (`the threaded SIMD build failed to start: …`) when it was tried and failed in this browser; the
 * page then retries on a fresh worker and this is the reason shown.
 */
export function chooseBuild(c: Capabilities, threads: number | 'auto', threadedFailed?: string): BuildChoice {
  const wanted = threads === 'auto' ? c.cores : threads;
  const single = (why: string): BuildChoice => ({ build: 'simd', threads: 1, reason: `single-threaded SIMD build: ${why}` });
  if (wanted <= 1) return single(threads === 'auto' ? 'the browser reports 1 core' : 'threads=1 asked for');
  const blocked = noThreadsReason(c);
  if (blocked) return single(blocked);
  if (threadedFailed) return single(threadedFailed);
  return {
    build: 'threaded-simd',
    threads: wanted,
    reason: `threaded SIMD build, ${wanted} threads (${threads === 'auto' ? 'threads=auto: every core the browser reports' : `threads=${threads}`})`,
  };
}
