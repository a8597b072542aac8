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
export function initEngine(options: EngineOptions = {}): Promise<EngineInfo> {
  return initEngineOn({ ...options, wasmPaths: options.wasmPaths ?? shippedWasmPaths() });
}
