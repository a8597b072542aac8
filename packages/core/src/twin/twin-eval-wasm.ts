// The twin's evaluation forward pass on the project's own WebAssembly (assembly/twin-eval.ts,
// embedded at build time): bitwise the logits of twinForward(..., ties = null), about twice as
// fast. One instance per thread; each split's sparse images are copied into its memory once.
import { TWIN_EVAL_WASM_BASE64 } from '../own-wasm/generated/twin-eval-wasm';
import { WasmArena, type ArenaExports } from '../own-wasm/embedded-module';
import type { SparseImages, TwinGeometry, TwinParams } from './twin-net';

interface TwinEvalExports extends ArenaExports {
  paramHeader(): number;
  reverseTaps(k: number, kr: number): void;
  evalImages(
    H: number,
    W: number,
    classes: number,
    first: number,
    count: number,
    offsets: number,
    rIndex: number,
    values: number,
    box: number,
    params: number,
    k1r: number,
    k2r: number,
    z1: number,
    z2: number,
    logits: number,
    convActive: number,
  ): number;
}

/** Where a split's images sit in the module's memory (byte addresses). */
interface SplitInMemory {
  offsets: number;
  rIndex: number;
  values: number;
  box: number;
}

/** True when the wasm path applies (the padded-buffer pass needs H and W multiples of 4). */
export function twinEvalWasmFits(g: TwinGeometry): boolean {
  return g.H % 4 === 0 && g.W % 4 === 0 && (g.H + 8) * (g.W + 8) < 0x10000;
}

/** One thread's evaluator: logits of a range of a split's images for one parameter set. */
export class TwinEvalWasm {
  private readonly arena: WasmArena<TwinEvalExports>;
  private readonly x: TwinEvalExports;
  private readonly splits = new WeakMap<SparseImages, SplitInMemory>();
  private readonly params: number;
  private readonly k1r: number;
  private readonly k2r: number;
  private readonly z1: number;
  private readonly z2: number;
  private readonly logits: number;
  private readonly convActiveAt: number;
  private paramsSet: TwinParams | null = null;
  /** Images of the last logitsOf call whose fc1 unit was active (ReLU output > 0). */
  active = 0;
  /** Images of the last logitsOf call whose conv1 and conv2 channels were active (a pooled ReLU output > 0). */
  convActive: [number, number] = [0, 0];

  constructor(
    private readonly g: TwinGeometry,
    /** Most images one logits() call scores. */
    private readonly maxImages: number,
  ) {
    if (!twinEvalWasmFits(g)) throw new RangeError(`twin wasm evaluation needs image sides that are multiples of 4 (got ${g.H}x${g.W})`);
    this.arena = new WasmArena<TwinEvalExports>(TWIN_EVAL_WASM_BASE64);
    this.x = this.arena.exports;
    const paramSlots = this.x.paramHeader() + 2 * g.classes + g.H2 * g.W2 + (g.H1 + 4) * (g.W1 + 4);
    this.params = this.arena.alloc(8 * paramSlots);
    this.k1r = this.arena.alloc(8 * 25);
    this.k2r = this.arena.alloc(8 * 25);
    this.z1 = this.arena.alloc(8 * (g.H + 4) * (g.W + 4));
    this.z2 = this.arena.alloc(8 * (g.H1 + 4) * (g.W1 + 4));
    this.logits = this.arena.alloc(4 * maxImages * g.classes);
    this.convActiveAt = this.arena.alloc(8);
  }

  private load(images: SparseImages): SplitInMemory {
    let s = this.splits.get(images);
    if (s) return s;
    const count = images.offsets.length - 1;
    const entries = images.offsets[count];
    const PW = this.g.W + 4;
    s = {
      offsets: this.arena.alloc(4 * (count + 1)),
      rIndex: this.arena.alloc(2 * entries),
      values: this.arena.alloc(4 * entries),
      box: this.arena.alloc(2 * images.box.length),
    };
    const buffer = this.arena.memory.buffer;
    new Uint32Array(buffer, s.offsets, count + 1).set(images.offsets);
    new Float32Array(buffer, s.values, entries).set(images.value);
    new Uint16Array(buffer, s.box, images.box.length).set(images.box);
    const rIndex = new Uint16Array(buffer, s.rIndex, entries);
    const W = this.g.W;
    for (let e = 0; e < entries; e++) {
      const pix = images.index[e];
      const y = (pix / W) | 0;
      rIndex[e] = (y + 4) * PW + (pix - y * W) + 4;
    }
    this.splits.set(images, s);
    return s;
  }

  private setParams(p: TwinParams): void {
    if (this.paramsSet === p) return;
    const g = this.g;
    const block = new Float64Array(
      this.arena.memory.buffer,
      this.params,
      this.x.paramHeader() + 2 * g.classes + g.H2 * g.W2 + p.base2Padded.length,
    );
    block.set(p.w1, 0);
    block[25] = p.b1;
    block.set(p.w2, 26);
    block[51] = p.background1;
    block[52] = p.b3;
    let at = this.x.paramHeader();
    block.set(p.w4, at);
    block.set(p.b4, (at += g.classes));
    block.set(p.w3, (at += g.classes));
    block.set(p.base2Padded, at + g.H2 * g.W2);
    this.x.reverseTaps(this.params, this.k1r);
    this.x.reverseTaps(this.params + 8 * 26, this.k2r);
    this.paramsSet = p;
  }

  /**
   * Logits (classes per image) of images first .. first + count - 1; a view valid until the next
   * call. Also sets `active` and `convActive`.
   */
  logitsOf(p: TwinParams, images: SparseImages, first: number, count: number): Float32Array {
    if (count > this.maxImages) throw new RangeError(`at most ${this.maxImages} images per call`);
    const s = this.load(images);
    this.setParams(p);
    const g = this.g;
    this.active = this.x.evalImages(
      g.H,
      g.W,
      g.classes,
      first,
      count,
      s.offsets,
      s.rIndex,
      s.values,
      s.box,
      this.params,
      this.k1r,
      this.k2r,
      this.z1,
      this.z2,
      this.logits,
      this.convActiveAt,
    );
    const counts = new Int32Array(this.arena.memory.buffer, this.convActiveAt, 2);
    this.convActive = [counts[0], counts[1]];
    return new Float32Array(this.arena.memory.buffer, this.logits, count * g.classes);
  }
}
