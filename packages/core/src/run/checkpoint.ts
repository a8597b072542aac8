// Checkpoints as bytes: everything a run needs to continue bitwise (config, trainer state, the run
// loop's running totals) in one self-checking binary, so any front end can save and resume a run.
//
// Layout (all integers little-endian):
//   0   8 bytes  magic "MNSWCKPT"
//   8   u32      format version (CHECKPOINT_FORMAT)
//   12  u32      total byte length, checksum included
//   16  u32      header length H
//   20  H bytes  header: UTF-8 JSON (see CheckpointHeader), zero-padded to a multiple of 4
//                (config, step, Adam scalars, sampler position + MT19937, other RNG streams, run totals)
//   ..           arrays listed in header.arrays, back to back, raw little-endian bytes
//   end-32       SHA-256 of every byte before it
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex } from '@noble/hashes/utils';
import type { BatchSamplerState } from '../data/batches';
import { CONFIG_KEYS, DEFAULT_CONFIG, type ExperimentConfig } from '../config';
import { CheckpointError } from '../errors';
import type { MnistData } from '../data/mnist';
import type { MT19937State } from '../random/prng';
import type { EvalRecord } from './run-events';
import type { TrainerState } from './trainer-state';
import type { EvalPath, StepPath } from '../dense/trainer';
import { CORE_VERSION } from '../version';

/** Format version this build writes and reads. */
export const CHECKPOINT_FORMAT = 1;

const MAGIC = [0x4d, 0x4e, 0x53, 0x57, 0x43, 0x4b, 0x50, 0x54]; // "MNSWCKPT"
const FIXED = 20;
const HASH = 32;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The run loop's running totals at the checkpoint, so the resumed summary equals an uninterrupted one. */
export interface RunProgress {
  /** First step whose batch loss was NaN, or null. */
  firstNanStep: number | null;
  /** Loss of the last training batch (null before step 1). */
  lastLoss: number | null;
  /** Summed wall time of the training steps done (msPerStep = stepMs / steps at the end). */
  stepMs: number;
  /** Wall time of the run so far, evaluations included (continues elapsedMs/wallMs). */
  elapsedMs: number;
  /** The last evaluation done (the one at the checkpoint's step when it is an evaluation step). */
  lastEval: EvalRecord | null;
  /**
   * Every evaluation up to the checkpoint's step, in order (the metrics.jsonl records; the CSV lines
   * follow from them), so a front end without the run's files (the web page) can rebuild both.
   * Absent when unknown: written by an older build, or a run resumed from such a checkpoint.
   */
  evals?: EvalRecord[];
  /** How each evaluation so far ran, by step (RunSummary.evalPaths); absent when written by an older build. */
  evalPaths?: [step: number, path: EvalPath][];
  /** How the steps so far ran (RunSummary.stepPaths); absent when written by an older build. */
  stepPaths?: Record<StepPath, number>;
}

/** One checkpoint, decoded. */
export interface Checkpoint {
  /** CORE_VERSION of the engine that wrote it. */
  engineVersion: string;
  /** The resolved config of the run. */
  config: ExperimentConfig;
  /** {@link dataFingerprint} of the MNIST data the run trained on. */
  data: string;
  /** Parameters, Adam state, step, data order with its RNG. */
  trainer: TrainerState;
  run: RunProgress;
}

/**
 * Config keys a resumed run may change without breaking the resume guarantee:
 * - `threads`: results are bitwise identical for any thread count;
 * - `steps`: training state does not depend on it; only where the run ends (and so the last
 *   evaluation) moves. The resumed run equals an uninterrupted run with the NEW step count.
 * Everything else changes the weights, the data, or the CSV/metrics lines already written.
 */
export const RESUME_SAFE_KEYS: readonly (keyof ExperimentConfig)[] = ['steps', 'threads', 'symmetricExec'];

interface ArrayEntry {
  name: string;
  dtype: 'float32' | 'uint32';
  length: number;
}

interface CheckpointHeader {
  engineVersion: string;
  config: ExperimentConfig;
  data: string;
  step: number;
  adam: { step: number; beta1Power: number; beta2Power: number };
  sampler: Omit<BatchSamplerState, 'arrangement'>;
  /** TrainerState.rngs (the pool-tie and reduce-order streams, when drawn from). */
  rngs: Record<string, MT19937State>;
  run: RunProgress;
  arrays: ArrayEntry[];
}

// JSON cannot hold NaN, +-Infinity or -0, which losses and records do: they travel tagged.
function encodeNumbers(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && (!Number.isFinite(value) || Object.is(value, -0))) return { $f64: String(value === 0 ? '-0' : value) };
  return value;
}

function decodeNumbers(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const tag = (value as { $f64?: unknown }).$f64;
    if (keys.length === 1 && typeof tag === 'string') {
      const n = tag === '-0' ? -0 : Number(tag);
      if (Number.isNaN(n) && tag !== 'NaN') throw new CheckpointError(`checkpoint header is malformed: bad number ${tag}`);
      return n;
    }
  }
  return value;
}

function bytesOf(a: Float32Array | Uint32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Encodes a checkpoint as self-checking bytes (see the layout at the top of this file). */
export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  if (!LITTLE_ENDIAN) throw new Error('checkpoints: big-endian platforms are not supported');
  const { trainer } = checkpoint;
  const { arrangement, ...sampler } = trainer.sampler;
  const arrays: { entry: ArrayEntry; data: Float32Array | Uint32Array }[] = [];
  const add = (name: string, data: Float32Array | Uint32Array) =>
    arrays.push({ entry: { name, dtype: data instanceof Float32Array ? 'float32' : 'uint32', length: data.length }, data });
  trainer.params.forEach((a, i) => add(`params/${i}`, a));
  trainer.adam.m.forEach((a, i) => add(`adam.m/${i}`, a));
  trainer.adam.v.forEach((a, i) => add(`adam.v/${i}`, a));
  add('sampler.arrangement', Uint32Array.from(arrangement));
  const header: CheckpointHeader = {
    engineVersion: checkpoint.engineVersion,
    config: checkpoint.config,
    data: checkpoint.data,
    step: trainer.step,
    adam: { step: trainer.adam.step, beta1Power: trainer.adam.beta1Power, beta2Power: trainer.adam.beta2Power },
    sampler,
    rngs: trainer.rngs ?? {},
    run: checkpoint.run,
    arrays: arrays.map((a) => a.entry),
  };
  const json = new TextEncoder().encode(JSON.stringify(header, encodeNumbers));
  const headerBytes = Math.ceil(json.length / 4) * 4;
  const body = arrays.reduce((n, a) => n + a.data.byteLength, 0);
  const total = FIXED + headerBytes + body + HASH;
  if (total > 0xffffffff) throw new Error('checkpoint larger than 4 GiB');
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(8, CHECKPOINT_FORMAT, true);
  view.setUint32(12, total, true);
  view.setUint32(16, json.length, true);
  out.set(json, FIXED);
  let offset = FIXED + headerBytes;
  for (const a of arrays) {
    out.set(bytesOf(a.data), offset);
    offset += a.data.byteLength;
  }
  out.set(sha256(out.subarray(0, offset)), offset);
  return out;
}

function malformed(what: string): never {
  throw new CheckpointError(`checkpoint header is malformed: ${what}`);
}

/**
 * Decodes and verifies checkpoint bytes. Throws {@link CheckpointError} with a one-line message
 * for foreign bytes, an unsupported format version, truncation, a checksum mismatch or a
 * malformed header. Sizes are checked against the model when the state is imported.
 */
export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  if (!LITTLE_ENDIAN) throw new Error('checkpoints: big-endian platforms are not supported');
  const prefix = Math.min(bytes.length, MAGIC.length);
  for (let i = 0; i < prefix; i++) {
    if (bytes[i] !== MAGIC[i]) throw new CheckpointError('not a mnist-sym-wasm checkpoint (unknown file signature)');
  }
  if (bytes.length < FIXED + HASH) throw new CheckpointError(`checkpoint is truncated (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`checkpoint format version ${version} is not supported (this build reads version ${CHECKPOINT_FORMAT})`);
  }
  const total = view.getUint32(12, true);
  if (bytes.length < total) throw new CheckpointError(`checkpoint is truncated (${bytes.length} of ${total} bytes)`);
  if (bytes.length > total) throw new CheckpointError(`checkpoint is corrupted (${bytes.length - total} bytes after its end)`);
  const expected = bytes.subarray(total - HASH);
  const actual = sha256(bytes.subarray(0, total - HASH));
  if (bytesToHex(actual) !== bytesToHex(expected)) throw new CheckpointError('checkpoint is corrupted (SHA-256 checksum mismatch)');
  const jsonLength = view.getUint32(16, true);
  if (FIXED + jsonLength > total - HASH) malformed('header length out of range');
  let header: CheckpointHeader;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(FIXED, FIXED + jsonLength)), decodeNumbers);
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    malformed('not JSON');
  }
  if (
    !header ||
    typeof header !== 'object' ||
    !Array.isArray(header.arrays) ||
    !header.config ||
    !header.adam ||
    !header.sampler ||
    !header.run
  ) {
    malformed('missing fields');
  }
  let offset = FIXED + Math.ceil(jsonLength / 4) * 4;
  const arrays = new Map<string, Float32Array | Uint32Array>();
  for (const entry of header.arrays) {
    const length = entry?.length;
    if (!Number.isSafeInteger(length) || length < 0 || (entry.dtype !== 'float32' && entry.dtype !== 'uint32'))
      malformed('bad array entry');
    if (offset + 4 * length > total - HASH) malformed(`array ${entry.name} runs past the end`);
    // Copy into fresh, aligned buffers: the input may be any view.
    const copy = bytes.slice(offset, offset + 4 * length).buffer;
    arrays.set(String(entry.name), entry.dtype === 'float32' ? new Float32Array(copy) : new Uint32Array(copy));
    offset += 4 * length;
  }
  if (offset !== total - HASH) malformed('array sizes do not add up');
  const list = (prefix: string): Float32Array[] => {
    const out: Float32Array[] = [];
    for (let i = 0; arrays.has(`${prefix}/${i}`); i++) out.push(arrays.get(`${prefix}/${i}`) as Float32Array);
    if (out.length === 0 || out.some((a) => !(a instanceof Float32Array))) malformed(`no ${prefix} arrays`);
    return out;
  };
  const arrangement = arrays.get('sampler.arrangement');
  if (!(arrangement instanceof Uint32Array)) malformed('no sampler arrangement');
  return {
    engineVersion: String(header.engineVersion),
    config: header.config,
    data: String(header.data),
    trainer: {
      step: header.step,
      params: list('params'),
      adam: { ...header.adam, m: list('adam.m'), v: list('adam.v') },
      sampler: { ...header.sampler, arrangement: Array.from(arrangement) },
      rngs: header.rngs ?? {},
    },
    run: header.run,
  };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function shown(value: unknown): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

/**
 * Throws {@link CheckpointError} unless `config` may continue `checkpoint`: same engine version,
 * equal config up to {@link RESUME_SAFE_KEYS}, and at least as many steps as already done.
 */
export function checkResumeConfig(checkpoint: Checkpoint, config: ExperimentConfig): void {
  if (checkpoint.engineVersion !== CORE_VERSION) {
    throw new CheckpointError(
      `checkpoint was written by engine ${checkpoint.engineVersion}, this is ${CORE_VERSION}: results would not be bitwise the same`,
    );
  }
  // A field added after the checkpoint was written is absent from it: that run had its default.
  const saved = { ...DEFAULT_CONFIG, ...checkpoint.config } as unknown as Record<string, unknown>;
  const wanted = config as unknown as Record<string, unknown>;
  const keys = new Set([...CONFIG_KEYS, ...Object.keys(saved)] as string[]);
  const changed = [...keys].filter((k) => !(RESUME_SAFE_KEYS as readonly string[]).includes(k) && !same(saved[k], wanted[k]));
  if (changed.length > 0) {
    const list = changed.map((k) => `${k} ${shown(saved[k])} -> ${shown(wanted[k])}`).join(', ');
    throw new CheckpointError(
      `cannot resume with a different config (${list}); only ${RESUME_SAFE_KEYS.slice(0, -1).join(', ')} and ${RESUME_SAFE_KEYS.at(-1)} may change`,
    );
  }
  if (config.steps < checkpoint.trainer.step) {
    throw new CheckpointError(`cannot resume with steps ${config.steps}: the checkpoint is already at step ${checkpoint.trainer.step}`);
  }
}

const fingerprints = new WeakMap<MnistData, string>();

/** SHA-256 over the splits' sizes, labels and pixels: which data a checkpoint was trained on. */
export function dataFingerprint(data: MnistData): string {
  let hex = fingerprints.get(data);
  if (hex === undefined) {
    const h = sha256.create();
    h.update(new Uint8Array(new Uint32Array([data.rows, data.cols, data.train.count, data.validation.count, data.test.count]).buffer));
    for (const split of [data.train, data.validation, data.test]) {
      h.update(split.labels);
      h.update(split.images);
    }
    hex = bytesToHex(h.digest());
    fingerprints.set(data, hex);
  }
  return hex;
}
