// The pthread worker script tfjs-backend-wasm ships as a string export (the package has no types for it).
declare module '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js' {
  export const wasmWorkerContents: string;
}
