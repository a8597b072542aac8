// Column sums on the project's own WebAssembly (assembly/sum-rows.ts): a float32 tensor summed
// over every axis but the last, in the order tfjs-backend-wasm's Sum adds (row after row), without
// its transpose. Used by kernels/Sum.ts for the bias gradients.
import { SUM_ROWS_WASM_BASE64 } from '../generated/sum-rows-wasm';
import { WasmArena, type ArenaExports } from './embedded-module';

interface SumRowsExports extends ArenaExports {
  sumRows(x: number, out: number, rows: number, cols: number): void;
}

let arena: WasmArena<SumRowsExports> | null = null;

/** Writes into `out` (cols values) the column sums of `x` (rows x cols, row-major). */
export function sumRowsWasm(x: Float32Array, rows: number, cols: number, out: Float32Array): void {
  arena ??= new WasmArena<SumRowsExports>(SUM_ROWS_WASM_BASE64);
  const at = { x: arena.scratch('x', 4 * x.length), out: arena.scratch('out', 4 * cols) };
  arena.f32(at.x, x.length).set(x);
  arena.exports.sumRows(at.x, at.out, rows, cols);
  out.set(arena.f32(at.out, cols));
}
