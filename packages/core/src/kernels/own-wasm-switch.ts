// Which kernels take the project's own WebAssembly path: one switch per kernel, all on by default.
// Tests and benchmarks turn one off to compare it with the stock (XNNPACK or tfjs formula) path;
// the stock kernel set (register_wasm_kernels.ts) turns them all off. A setting the kernels read,
// never a result they pass back.

/** The kernels with an own-WebAssembly path that can be switched off. */
export type SwitchableKernel = 'Conv2D' | 'BatchMatMul' | 'MaxPoolGrad' | 'ReluGrad';

const ownWasm: Record<SwitchableKernel, boolean> = { Conv2D: true, BatchMatMul: true, MaxPoolGrad: true, ReluGrad: true };

/** Whether `kernel` takes its own-WebAssembly path (where that path applies). */
export function ownWasmOn(kernel: SwitchableKernel): boolean {
  return ownWasm[kernel];
}

/** Switches `kernel`'s own-WebAssembly path on or off. */
export function setOwnWasm(kernel: SwitchableKernel, on: boolean): void {
  ownWasm[kernel] = on;
}
