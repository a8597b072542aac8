// What this browser can run, detected in one place: WebAssembly SIMD (required: the engine's
// results are pinned to the SIMD build) and cross-origin isolation (needed by the threaded build).

/** The tiny SIMD module tfjs-backend-wasm itself validates to decide on its SIMD build. */
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253, 15, 26, 11]);

/** Browser capabilities relevant to the engine. */
export interface Capabilities {
  webAssembly: boolean;
  simd: boolean;
  crossOriginIsolated: boolean;
  workers: boolean;
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
    workers: typeof Worker === 'function',
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
