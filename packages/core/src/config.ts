// The one experiment configuration: typed fields with the seed script's values as defaults, and
// the single resolver that every front end (CLI flags, URL parameters, JSON) goes through.
import { ConfigError } from './errors';

/** Weight initialisation: the question's constant 0, or its commented-out truncated normal. */
export type InitScheme = 'constant' | 'truncated-normal';
/** `seed`: the question's -sum(y*log(softmax*1e-7)); `epsilon`: log(softmax+1e-7); `stable`: from logits. */
export type LossKind = 'seed' | 'epsilon' | 'stable';
/** `tf0`: TF 0.11/0.12 next_batch (first epoch in file order); `tf1`: TF >= 1.1 (shuffled from the start). */
export type BatchOrderKind = 'tf0' | 'tf1';
/** `dense`: the seed's network; `twin`: its width-1 twin (one unit per layer, see docs/TWIN.md). */
export type ModelKind = 'dense' | 'twin';
/** conv2 in evaluation: Winograd's F(2x2, 5x5) fused with bias, ReLU and pool, or training's direct sums. */
export type EvalConvKind = 'winograd' | 'direct';
/** `on`: layers whose units are bitwise copies compute one representative (same bits); `off`: every unit. */
export type SymmetricExecKind = 'on' | 'off';
/** Which tied maximum of a max-pool window receives the gradient (TensorFlow's CPU kernel: first). */
export type PoolTieKind = 'first' | 'last' | 'random';
/** `fixed`: every reduction sums its terms in one order (as TF's CPU kernels); `shuffled`: see ExperimentConfig.reduceOrder. */
export type ReduceOrderKind = 'fixed' | 'shuffled';
/** Which reductions `reduceOrder: 'shuffled'` applies to: bias gradients, conv filter gradients, or both. */
export type ReduceShuffleKind = 'bias' | 'filter' | 'all';

/** Everything that determines a run. Two runs with equal configs produce bitwise-equal results. */
export interface ExperimentConfig {
  // --- model ---
  /** Widths of conv1, conv2 and fc1 (the seed: 32, 64, 1024); for the twin, the widths it stands for. */
  widths: [number, number, number];
  /** The network trained: the dense CNN, or its width-1 twin with per-tensor Adam multipliers. */
  model: ModelKind;
  /** Weight initialisation scheme (biases are always 0.1). */
  init: InitScheme;
  /** Adds perturb * N(0, 1) (stream deriveStream(seed, 3)) to every initial weight (not bias); 0 = none. */
  perturb: number;
  /** Max-pool gradient tie rule: first (TF CPU), last (stock tfjs wasm), random (seeded, deriveStream(seed, 2)). */
  poolTies: PoolTieKind;
  /**
   * 'shuffled' emulates 2016 GPU kernels' atomic-add reductions: each output of the reductions
   * `reduceShuffle` names sums its terms in float32, one at a time, in an order drawn for that
   * output at that step (numpy's permutation, stream deriveStream(seed, 4)); 'fixed' = row order.
   */
  reduceOrder: ReduceOrderKind;
  /**
   * Reductions shuffled by reduceOrder 'shuffled': 'bias' = every layer's bias gradient (TF's CUDA
   * BiasAddGrad), each term added on its own; 'filter' = both convolutions' filter gradients (cuDNN's
   * non-deterministic backward-filter algorithms), per-image partial sums added in a drawn order;
   * 'all' = both. fc weight gradients are never shuffled (cuBLAS's GEMM was deterministic).
   */
  reduceShuffle: ReduceShuffleKind;
  // --- objective and optimiser ---
  /** Loss formula. */
  loss: LossKind;
  /** Adam learning rate (TensorFlow's ApplyAdam, beta1 0.9, beta2 0.999, epsilon 1e-8). */
  lr: number;
  // --- training schedule ---
  /** Number of training steps (Adam updates). */
  steps: number;
  /** Images per training batch. */
  batch: number;
  /** Batch order semantics. */
  order: BatchOrderKind;
  /** Seed of every random stream (data order reshuffles, truncated-normal init). */
  seed: number;
  // --- data and evaluation ---
  /** Images at the start of the training file held out as validation (TF's read_data_sets: 5000). */
  validationSize: number;
  /** Evaluate every N steps (and at step 0 and after the last); 0 = once, after the last step. */
  evalEvery: number;
  /** Train images evaluated: 'all' = the whole train split, N = its first N, 0 = skip. */
  evalTrain: number | 'all';
  /**
   * How evaluation computes conv2 (+ bias, ReLU, pool): 'winograd' (F(2x2, 5x5), faster:
   * docs/BENCHMARKS.md measures it; rounding differently from the direct sums) or 'direct' (the training forward's sums).
   * Training never depends on it; evaluation metrics may differ in their last bits.
   */
  evalConv: EvalConvKind;
  /** Relative tolerance of the symmetry diagnostics' `groupsTol` (see science/symmetry.ts; 0 = exact value equality). */
  symTol: number;
  // --- engine (does not change results) ---
  /** WebAssembly threads: 'auto' = every core. Results are bitwise identical for any value. */
  threads: number | 'auto';
  /**
   * Exact symmetric execution (dense model): while a layer's units are bitwise copies of one another
   * (constant init keeps them so), evaluation computes one representative and copies it: the same
   * bits, faster. 'off' computes every unit (dense/symmetric-exec.ts).
   */
  symmetricExec: SymmetricExecKind;
}

/** The seed script's values. */
export const DEFAULT_CONFIG: Readonly<ExperimentConfig> = Object.freeze({
  widths: [32, 64, 1024] as [number, number, number],
  model: 'dense',
  init: 'constant',
  perturb: 0,
  poolTies: 'first',
  reduceOrder: 'fixed',
  reduceShuffle: 'bias',
  loss: 'seed',
  lr: 1e-4,
  steps: 20000,
  batch: 50,
  order: 'tf0',
  seed: 0,
  validationSize: 5000,
  evalEvery: 100,
  evalTrain: 'all',
  evalConv: 'winograd',
  symTol: 1e-6,
  threads: 'auto',
  symmetricExec: 'on',
});

/** How one config field is described, parsed and validated; front ends derive flags from this. */
export interface ConfigField<K extends keyof ExperimentConfig> {
  /** Command-line flag name (URL parameters use the config key, which is its camelCase). */
  flag: string;
  /** Placeholder for the value in help text. */
  valueName: string;
  /** One-line help. */
  help: string;
  /** Turns a raw value (string from a flag/URL, or a JSON value) into a valid field value. */
  parse: (raw: unknown, name: string) => ExperimentConfig[K];
}

function fail(name: string, raw: unknown, expected: string): never {
  const shown = typeof raw === 'string' ? `'${raw}'` : JSON.stringify(raw);
  throw new ConfigError(`invalid ${name}: ${shown} (expected ${expected})`);
}

function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (raw: unknown, name: string): number => {
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*[+-]?\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      fail(name, raw, max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`);
    }
    return n;
  };
}

function positiveFinite(raw: unknown, name: string): number {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n <= 0) fail(name, raw, 'a positive number');
  return n;
}

function nonNegativeFinite(raw: unknown, name: string): number {
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n < 0) fail(name, raw, 'a number >= 0');
  return n;
}

function oneOf<T extends string>(choices: readonly T[]) {
  return (raw: unknown, name: string): T => {
    if (typeof raw !== 'string' || !(choices as readonly string[]).includes(raw)) fail(name, raw, choices.join('|'));
    return raw as T;
  };
}

function parseWidths(raw: unknown, name: string): [number, number, number] {
  const parts = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : null;
  if (parts?.length !== 3) fail(name, raw, 'three widths a,b,c');
  const check = integer(1, 65536);
  return [check(parts[0], name), check(parts[1], name), check(parts[2], name)];
}

function parseEvalTrain(raw: unknown, name: string): number | 'all' {
  if (raw === 'all') return 'all';
  try {
    return integer(0)(raw, name);
  } catch {
    fail(name, raw, "'all' or an integer >= 0");
  }
}

function parseThreads(raw: unknown, name: string): number | 'auto' {
  if (raw === 'auto') return 'auto';
  try {
    return integer(1, 64)(raw, name);
  } catch {
    fail(name, raw, "'auto' or an integer from 1 to 64");
  }
}

/** Every field of ExperimentConfig; typed so a new field cannot be forgotten by any front end. */
export const CONFIG_FIELDS: { [K in keyof ExperimentConfig]: ConfigField<K> } = {
  widths: { flag: 'widths', valueName: 'a,b,c', help: 'widths of conv1, conv2, fc1', parse: parseWidths },
  model: {
    flag: 'model',
    valueName: 'dense|twin',
    help: 'dense: the seed CNN; twin: its width-1 twin (equal to the dense net while all copies are equal), far faster',
    parse: oneOf(['dense', 'twin'] as const),
  },
  init: {
    flag: 'init',
    valueName: 'constant|truncated-normal',
    help: 'weight init: constant 0 (the question) or truncated normal, stddev 0.01',
    parse: oneOf(['constant', 'truncated-normal'] as const),
  },
  perturb: {
    flag: 'perturb',
    valueName: 'x',
    help: 'add x * unit normal noise (seeded) to every initial weight, to break the symmetry',
    parse: nonNegativeFinite,
  },
  poolTies: {
    flag: 'pool-ties',
    valueName: 'first|last|random',
    help: 'which tied maximum of a max-pool window gets the gradient: first (TF CPU), last (tfjs wasm), random (seeded)',
    parse: oneOf(['first', 'last', 'random'] as const),
  },
  reduceOrder: {
    flag: 'reduce-order',
    valueName: 'fixed|shuffled',
    help: 'fixed: reductions sum in row order; shuffled: each output in a seeded random float32 order per step (GPU atomic adds)',
    parse: oneOf(['fixed', 'shuffled'] as const),
  },
  reduceShuffle: {
    flag: 'reduce-shuffle',
    valueName: 'bias|filter|all',
    help: 'reductions that --reduce-order shuffled shuffles: bias gradients, conv filter gradients, or all (both)',
    parse: oneOf(['bias', 'filter', 'all'] as const),
  },
  loss: {
    flag: 'loss',
    valueName: 'seed|epsilon|stable',
    help: 'seed: -sum(y*log(p*1e-7)) as written (NaN included); epsilon: log(p+1e-7); stable: from logits',
    parse: oneOf(['seed', 'epsilon', 'stable'] as const),
  },
  lr: { flag: 'lr', valueName: 'x', help: 'Adam learning rate', parse: positiveFinite },
  steps: { flag: 'steps', valueName: 'n', help: 'training steps', parse: integer(0) },
  batch: { flag: 'batch', valueName: 'n', help: 'images per batch', parse: integer(1) },
  order: {
    flag: 'order',
    valueName: 'tf0|tf1',
    help: 'batch order: tf0 = first epoch in file order (TF 0.12), tf1 = shuffled from the start (TF >= 1.1)',
    parse: oneOf(['tf0', 'tf1'] as const),
  },
  seed: { flag: 'seed', valueName: 'n', help: 'seed of every random stream (numpy-compatible MT19937)', parse: integer(0, 0xffffffff) },
  validationSize: {
    flag: 'validation-size',
    valueName: 'n',
    help: 'training-file images held out as validation',
    parse: integer(0),
  },
  evalEvery: {
    flag: 'eval-every',
    valueName: 'n',
    help: 'evaluate every n steps (0 = once, after the last step)',
    parse: integer(0),
  },
  evalTrain: {
    flag: 'eval-train',
    valueName: 'n|all',
    help: 'train images to evaluate: all, the first n, or 0 to skip',
    parse: parseEvalTrain,
  },
  evalConv: {
    flag: 'eval-conv',
    valueName: 'winograd|direct',
    help: "evaluation's conv2 (dense model): winograd (F(2x2,5x5), faster, rounds differently) or direct (training's sums)",
    parse: oneOf(['winograd', 'direct'] as const),
  },
  symTol: {
    flag: 'sym-tol',
    valueName: 'x',
    help: 'relative tolerance for the symmetry groups (groupsTol); exact bitwise groups are always reported too',
    parse: nonNegativeFinite,
  },
  threads: { flag: 'threads', valueName: 'n|auto', help: 'WebAssembly threads (results do not depend on it)', parse: parseThreads },
  symmetricExec: {
    flag: 'symmetric-exec',
    valueName: 'on|off',
    help: 'compute one representative of units that are bitwise copies, then copy it (same bits, faster); off: every unit',
    parse: oneOf(['on', 'off'] as const),
  },
};

/** Config keys in a stable order (for display and serialisation). */
export const CONFIG_KEYS = Object.keys(CONFIG_FIELDS) as (keyof ExperimentConfig)[];

/**
 * Resolves a partial config (raw strings from flags/URL parameters, or typed values from JSON)
 * against the defaults. Rejects unknown keys and invalid values with a one-line ConfigError.
 */
export function resolveConfig(partial: Record<string, unknown> = {}): ExperimentConfig {
  const out: Record<string, unknown> = { ...DEFAULT_CONFIG, widths: [...DEFAULT_CONFIG.widths] };
  for (const [key, raw] of Object.entries(partial)) {
    if (raw === undefined) continue;
    if (!Object.hasOwn(CONFIG_FIELDS, key)) {
      throw new ConfigError(`unknown config key '${key}' (known: ${CONFIG_KEYS.join(', ')})`);
    }
    const field = CONFIG_FIELDS[key as keyof ExperimentConfig] as ConfigField<keyof ExperimentConfig>;
    out[key] = field.parse(raw, field.flag);
  }
  return out as unknown as ExperimentConfig;
}
