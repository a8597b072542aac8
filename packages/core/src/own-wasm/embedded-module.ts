// The project's own WebAssembly modules (packages/core/assembly, embedded as base64 by
// scripts/build-wasm.mjs): compiling one once per thread, and laying out its memory (an arena that
// only grows; growing detaches older views, so callers take views after their allocations), with
// named scratch blocks reused from call to call.

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

/** Exports every module has (memory only when the module defines its own). */
export interface ArenaExports {
  memory?: WebAssembly.Memory;
  heapStart(): number;
}

/** An instance of an embedded module and a bump allocator over its memory. */
export class WasmArena<X extends ArenaExports> {
  readonly module: WebAssembly.Module;
  readonly exports: X;
  readonly memory: WebAssembly.Memory;
  private top: number;
  private readonly slots = new Map<string, { at: number; bytes: number }>();

  /** `memory`: for modules built to import one (a shared memory, see heap-kernels.ts). */
  constructor(base64: string, memory?: WebAssembly.Memory) {
    this.module = compileEmbedded(base64);
    this.exports = new WebAssembly.Instance(this.module, memory ? { env: { memory } } : {}).exports as unknown as X;
    this.memory = memory ?? (this.exports.memory as WebAssembly.Memory);
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

  /**
   * The address of a named scratch block of at least `bytes`, kept across calls; outgrown, it is
   * reserved again, larger (the arena only grows, so the old block is left unused).
   */
  scratch(name: string, bytes: number): number {
    let slot = this.slots.get(name);
    if (!slot || slot.bytes < bytes) this.slots.set(name, (slot = { at: this.alloc(bytes), bytes }));
    return slot.at;
  }

  f32(at: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, length);
  }
}

/** True when this runtime compiles WebAssembly SIMD (a tiny module with one v128 op). */
export function hasWasmSimd(): boolean {
  try {
    // (module (func (result v128) v128.const i32x4 0 0 0 0))
    return WebAssembly.validate(
      new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11]),
    );
  } catch {
    return false;
  }
}
