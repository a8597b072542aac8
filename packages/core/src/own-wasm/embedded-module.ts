// The project's own WebAssembly modules (packages/core/assembly, embedded as base64 by
// scripts/build-wasm.mjs): compiling one once per thread, and, for a module with its own memory,
// laying that memory out (an arena that only grows; growing detaches older views, so callers take
// views after their allocations). The heap kernels use tfjs's memory instead (heap-kernels.ts).

const compiled = new Map<string, WebAssembly.Module>();

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** The compiled module of an embedded base64 binary (compiled once per thread). */
export function compileEmbedded(base64: string): WebAssembly.Module {
  let module = compiled.get(base64);
  if (!module) compiled.set(base64, (module = new WebAssembly.Module(decodeBase64(base64))));
  return module;
}

/** Exports every module with its own memory has. */
export interface ArenaExports {
  memory: WebAssembly.Memory;
  heapStart(): number;
}

/** An instance of an embedded module and a bump allocator over its memory. */
export class WasmArena<X extends ArenaExports> {
  readonly exports: X;
  readonly memory: WebAssembly.Memory;
  private top: number;

  constructor(base64: string) {
    this.exports = new WebAssembly.Instance(compileEmbedded(base64), {}).exports as unknown as X;
    this.memory = this.exports.memory;
    this.top = this.exports.heapStart();
  }

  /** Reserves `bytes` (16-byte aligned) and returns the byte address, growing the memory as needed. */
  alloc(bytes: number): number {
    const at = this.top;
    this.top = (at + bytes + 15) & ~15;
    const memory = this.memory;
    if (this.top > memory.buffer.byteLength) memory.grow(Math.ceil((this.top - memory.buffer.byteLength) / 65536));
    return at;
  }
}

/** True when this runtime compiles WebAssembly SIMD (a tiny module with one v128 op). */
export function hasWasmSimd(): boolean {
  try {
    // (module (func (result v128) v128.const i32x4 0 0 0 0))
    return WebAssembly.validate(
      new Uint8Array([
        0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 11,
      ]),
    );
  } catch {
    return false;
  }
}
