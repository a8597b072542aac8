// initEngine as core's neutral entry (browsers, bundlers) exports it: the tfjs .wasm binaries
// default to the copies the build ships beside dist/index.js. The literal
// `new URL('./file.wasm', import.meta.url)` form is what bundlers (Vite, webpack 5, Parcel) detect:
// they emit the files with the app and rewrite the URLs, so an app needs no wasmPaths of its own.
import { initEngine as initEngineOn, type EngineInfo, type EngineOptions } from './engine';

/** URLs of the binaries beside the built entry (copied there by tsup.config.ts). */
function shippedWasmPaths(): Record<string, string> {
  return {
    'tfjs-backend-wasm.wasm': new URL('./tfjs-backend-wasm.wasm', import.meta.url).href,
    'tfjs-backend-wasm-simd.wasm': new URL('./tfjs-backend-wasm-simd.wasm', import.meta.url).href,
    'tfjs-backend-wasm-threaded-simd.wasm': new URL('./tfjs-backend-wasm-threaded-simd.wasm', import.meta.url).href,
  };
}

/**
 * Starts (once) and returns the engine. In a browser pass `allowThreads: crossOriginIsolated` and a
 * `spawnHelper` to use threads; `wasmPaths` overrides where the .wasm binaries are fetched from.
 * Throws if the wasm backend cannot start: no silent fallback.
 */
export async function initEngine(options: EngineOptions = {}): Promise<EngineInfo> {
  const restore = options.allowThreads && typeof options.threads === 'number' ? sizePthreadPool(options.threads) : () => {};
  try {
    return await initEngineOn({ ...options, wasmPaths: options.wasmPaths ?? shippedWasmPaths() });
  } finally {
    restore();
  }
}

/**
 * tfjs-backend-wasm's threaded build sizes its pthread pool once, when it loads, from
 * navigator.hardwareConcurrency / 2 (one thread on a 2-core machine, whatever setThreadsCount
 * asks; core's Node entry patches os.cpus() for the same reason). While the engine starts,
 * navigator reports 2 * `threads`; returns what puts it back.
 */
function sizePthreadPool(threads: number): () => void {
  const nav = (globalThis as { navigator?: object }).navigator;
  if (!nav) return () => {};
  const own = Object.getOwnPropertyDescriptor(nav, 'hardwareConcurrency');
  try {
    Object.defineProperty(nav, 'hardwareConcurrency', { value: 2 * threads, configurable: true });
  } catch {
    return () => {}; // not configurable here: the pool follows the real core count
  }
  return () => {
    if (own) Object.defineProperty(nav, 'hardwareConcurrency', own);
    else delete (nav as { hardwareConcurrency?: number }).hardwareConcurrency;
  };
}
