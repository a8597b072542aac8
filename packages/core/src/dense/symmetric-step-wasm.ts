// The symmetric step's gradients on the project's own WebAssembly (assembly/symmetric-step.ts,
// embedded at build time): bitwise symmetric-step.ts's symmetricGradients, with the loss head in
// between from head.ts, tens of times faster. One instance per trainer, on the calling thread; it
// owns its memory (a few MB for the seed geometry and batch).
import type { LossKind } from '../config';
import { PIXEL_SCALE } from '../data/mnist';
import { SYMMETRIC_STEP_WASM_BASE64 } from '../own-wasm/generated/symmetric-step-wasm';
import { hasWasmSimd, WasmArena, type ArenaExports } from '../own-wasm/embedded-module';
import { lossAndGradient } from './head';
import type { ModelShape } from './model';
import type { OrbitArrays } from './symmetric-orbit';
import { orbitSizes } from './symmetric-orbit';
import type { SymmetricGradients, SymmetricPoolTies } from './symmetric-step';

interface SymmetricStepExports extends ArenaExports {
  setup(n: number, h: number, w: number, k: number, c1: number, c2: number, f1: number, classes: number, base: number): number;
  paramSlot(i: number): number;
  gradSlot(i: number): number;
  pixelRow(b: number, r: number): number;
  logitsAt(): number;
  dlogitsAt(): number;
  forward(last: number): number;
  forwardEval(winograd: number, u: number): number;
  pixelsU8At(): number;
  loadPixelsU8(count: number, scale: number): void;
  a3(): number;
  conv1ActiveAt(): number;
  conv2ActiveAt(): number;
  backward(): number;
}

/** Evaluation's outputs: logits [count, classes] and fc1's outputs after ReLU [count]. */
export interface EvalOutputs {
  logits: Float32Array;
  hidden: Float32Array;
  /** Per image, 1 when conv1's channel is active (ReLU output > 0 somewhere), else 0. */
  conv1Active: Int32Array;
  /** The same for conv2's channel. */
  conv2Active: Int32Array;
}

/** True when this runtime runs the module (WebAssembly SIMD). */
export function symmetricStepWasmAvailable(): boolean {
  return hasWasmSimd();
}

/** The symmetric step's gradients for one geometry and batch size. */
export class SymmetricStepWasm {
  private readonly arena: WasmArena<SymmetricStepExports>;
  private readonly x: SymmetricStepExports;
  private readonly sizes: number[];

  constructor(
    private readonly shape: ModelShape,
    private readonly batch: number,
  ) {
    this.arena = new WasmArena<SymmetricStepExports>(SYMMETRIC_STEP_WASM_BASE64);
    this.x = this.arena.exports;
    const [c1, c2, f1] = shape.widths;
    const base = this.arena.alloc(0);
    const bytes = this.x.setup(batch, shape.height, shape.width, shape.kernel, c1, c2, f1, shape.classes, base);
    this.arena.alloc(bytes);
    new Uint8Array(this.arena.memory.buffer, base, bytes).fill(0);
    this.sizes = orbitSizes(shape);
  }

  /** Where the 36 transformed conv2 values go (allocated on first Winograd evaluation). */
  private uAt = 0;

  private writeParams(params: OrbitArrays): void {
    const buffer = this.arena.memory.buffer;
    params.forEach((a, i) => new Float32Array(buffer, this.x.paramSlot(i), a.length).set(a));
  }

  /** The first `count` images of float32 pixels [count, height*width] into conv1's input. */
  private writePixels(pixels: Float32Array, count: number): void {
    const buffer = this.arena.memory.buffer;
    const { height: h, width: w } = this.shape;
    for (let b = 0; b < count; b++) {
      for (let r = 0; r < h; r++)
        new Float32Array(buffer, this.x.pixelRow(b, r), w).set(pixels.subarray((b * h + r) * w, (b * h + r + 1) * w));
    }
  }

  /**
   * Evaluation's logits [count, classes] and fc1's outputs [count] (views, valid until the next
   * call) for `count` (<= the batch size) images of uint8 pixels (count * height * width bytes,
   * image after image, as a Split holds them), converted in the module to gatherPixels's float32
   * values (u * PIXEL_SCALE); conv2 by Winograd when `winogradU` (the copy set's 36 transformed
   * filter values) is given, else by direct sums. Null when a value on the way is not finite.
   */
  evalForwardBytes(params: OrbitArrays, bytes: Uint8Array, count: number, winogradU: Float32Array | null): EvalOutputs | null {
    this.checkCount(count);
    new Uint8Array(this.arena.memory.buffer, this.x.pixelsU8At(), bytes.length).set(bytes);
    this.x.loadPixelsU8(count, PIXEL_SCALE);
    return this.forwardLoaded(params, count, winogradU);
  }

  private checkCount(count: number): void {
    if (count > this.batch) throw new RangeError(`symmetric evaluation: ${count} images, built for ${this.batch}`);
  }

  /** The evaluation forward pass on the pixels in place. */
  private forwardLoaded(params: OrbitArrays, count: number, winogradU: Float32Array | null): EvalOutputs | null {
    this.writeParams(params);
    if (winogradU) {
      if (!this.uAt) this.uAt = this.arena.alloc(4 * 36);
      new Float32Array(this.arena.memory.buffer, this.uAt, 36).set(winogradU);
    }
    if (this.x.forwardEval(winogradU ? 1 : 0, this.uAt) !== 1) return null;
    const buffer = this.arena.memory.buffer;
    return {
      logits: new Float32Array(buffer, this.x.logitsAt(), count * this.shape.classes),
      hidden: new Float32Array(buffer, this.x.a3(), count),
      conv1Active: new Int32Array(buffer, this.x.conv1ActiveAt(), count),
      conv2Active: new Int32Array(buffer, this.x.conv2ActiveAt(), count),
    };
  }

  /** symmetricGradients(shape, params, pixels, labels, loss), computed here. */
  gradients(
    params: OrbitArrays,
    pixels: Float32Array,
    labels: Uint8Array,
    loss: LossKind,
    ties: SymmetricPoolTies = 'first',
  ): SymmetricGradients | null {
    if (labels.length !== this.batch) throw new RangeError(`symmetric step: batch of ${labels.length}, built for ${this.batch}`);
    const { shape, x } = this;
    this.writeParams(params);
    this.writePixels(pixels, this.batch);
    const buffer = this.arena.memory.buffer;
    const classes = shape.classes;
    if (x.forward(ties === 'last' ? 1 : 0) !== 1) return null;
    const logits = new Float32Array(buffer, x.logitsAt(), this.batch * classes);
    const head = lossAndGradient(loss, logits, labels, classes);
    if (!head.dlogits.every(Number.isFinite)) return null;
    new Float32Array(buffer, x.dlogitsAt(), head.dlogits.length).set(head.dlogits);
    if (x.backward() !== 1) return null;
    const grads = this.sizes.map((n, i) => new Float32Array(buffer, x.gradSlot(i), n).slice());
    return { loss: head.loss, grads };
  }
}
