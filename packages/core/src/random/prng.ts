// The project's only randomness source: MT19937 bit-compatible with numpy's legacy RandomState.
//
// Why MT19937 and not something faster: the 2016 script reshuffled MNIST with numpy's global
// RandomState, so `--seed N` must reproduce `np.random.seed(N)` draw for draw. Everything else
// (initial weights, tie pools) uses derived streams of the same generator so there is one PRNG
// to audit.
import { logRounded } from './correctly-rounded-log';

/** Number of 32-bit words in the MT19937 state. */
const N = 624;
export const MT19937_WORDS = N;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/**
 * Plain JSON-serialisable snapshot of an {@link MT19937}, the same fields as numpy's
 * `RandomState.get_state()`: `('MT19937', key, pos, has_gauss, cached_gaussian)`.
 */
export interface MT19937State {
  kind: 'MT19937';
  /** The 624 state words, each an integer 0..2^32-1. */
  key: number[];
  /** Index of the next word to temper, 0..624 (624 means "regenerate before the next draw"). */
  pos: number;
  /** Whether `gauss` holds the second value of the last polar Box–Muller pair. */
  hasGauss: boolean;
  /** The cached normal value (0 when `hasGauss` is false, as numpy keeps it). */
  gauss: number;
}

function checkUint32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${what} must be an integer between 0 and 4294967295, got ${String(value)}`);
  }
  return value;
}

/**
 * Mersenne Twister MT19937, bit-compatible with numpy's legacy `np.random.RandomState`
 * (and therefore with the module-level `np.random.*` functions TensorFlow 0.12 used).
 *
 * `new MT19937(s)` equals `np.random.seed(s)` / `RandomState(s)` (init_genrand);
 * {@link MT19937.fromArray} equals `RandomState([k0, k1, ...])` (init_by_array).
 */
export class MT19937 {
  private readonly mt = new Uint32Array(N);
  /** The same words as int32 (generate, shuffleFast). */
  private readonly mi = new Int32Array(this.mt.buffer);
  private pos = N;
  private hasGauss = false;
  private cachedGauss = 0;

  /** Seeds like `np.random.seed(seed)`: `seed` must be an integer 0..2^32-1. */
  constructor(seed: number) {
    this.initGenrand(checkUint32(seed, 'seed'));
  }

  /**
   * Seeds like `np.random.RandomState(key)` with a 1-D array of uint32 (init_by_array).
   * Used for derived streams: different keys give statistically independent sequences.
   */
  static fromArray(key: ArrayLike<number>): MT19937 {
    if (key.length === 0) throw new RangeError('seed array must be non-empty');
    const words = Uint32Array.from(key, (k, i) => checkUint32(k, `seed array[${i}]`));
    const rng = new MT19937(0);
    rng.initByArray(words);
    return rng;
  }

  /** Restores a generator from {@link MT19937.getState} output (e.g. a checkpoint). */
  static fromState(state: MT19937State): MT19937 {
    const rng = new MT19937(0);
    rng.setState(state);
    return rng;
  }

  private initGenrand(seed: number): void {
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1];
      // Math.imul keeps the 32-bit wrap-around the C code gets from uint32 arithmetic.
      mt[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
    this.pos = N;
    this.hasGauss = false;
    this.cachedGauss = 0;
  }

  private initByArray(key: Uint32Array): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1];
      mt[i] = ((mt[i] ^ Math.imul(prev ^ (prev >>> 30), 1664525)) + key[j] + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1];
      mt[i] = ((mt[i] ^ Math.imul(prev ^ (prev >>> 30), 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1];
        i = 1;
      }
    }
    mt[0] = 0x80000000; // MSB set so the state can never be all zeros.
    this.pos = N;
    this.hasGauss = false;
    this.cachedGauss = 0;
  }

  // The same bits as on uint32s, on an int32 view: V8 then keeps every word in a register instead of
  // boxing those above 2^31 (measured: ~2.4x faster generate + temper).
  private generate(): void {
    const mt = this.mi;
    const upper = UPPER_MASK | 0;
    const a = MATRIX_A | 0;
    let kk = 0;
    for (; kk < N - M; kk++) {
      const y = (mt[kk] & upper) | (mt[kk + 1] & LOWER_MASK);
      mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (-(y & 1) & a);
    }
    for (; kk < N - 1; kk++) {
      const y = (mt[kk] & upper) | (mt[kk + 1] & LOWER_MASK);
      mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (-(y & 1) & a);
    }
    const y = (mt[N - 1] & upper) | (mt[0] & LOWER_MASK);
    mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (-(y & 1) & a);
    this.pos = 0;
  }

  /** Next raw 32-bit output (numpy's `random_raw()` / `randint(0, 2**32, dtype=uint32)`). */
  nextUint32(): number {
    if (this.pos >= N) this.generate();
    return temper(this.mt[this.pos++]) >>> 0;
  }

  /**
   * {@link shuffleInPlace}'s draws and swaps with the state in locals and int32 arithmetic (V8 then
   * boxes no uint32 above 2^31): about 1.5x faster than calling randomInterval, for the ~2M draws
   * per step of shuffled reduction orders. Arrays of at most 2^31 elements.
   */
  shuffleFast(arr: Uint32Array | Int32Array | number[]): void {
    const mt = this.mi;
    let pos = this.pos;
    for (let i = arr.length - 1; i > 0; i--) {
      const mask = allOnesMask(i);
      let j: number;
      do {
        if (pos >= N) {
          this.generate();
          pos = 0;
        }
        j = temper(mt[pos++]) & mask; // mask < 2^31: the low bits of the uint32 output, as randomInterval takes them
      } while (j > i);
      const t = arr[j];
      arr[j] = arr[i];
      arr[i] = t;
    }
    this.pos = pos;
  }

  /** Uniform double in [0, 1) with 53 random bits, numpy's `random_sample()`. */
  nextDouble(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /**
   * Standard normal, numpy's legacy `standard_normal()` (legacy_gauss): polar Box–Muller that
   * returns `f * x2` and caches `f * x1` for the next call. The cache is part of the state.
   *
   * Uniform draws and control flow are bit-identical to numpy's, so the stream never drifts. The
   * value itself uses a correctly rounded log, where numpy uses the C library's: on glibc about
   * 3.5 in 10,000 results differ from numpy's by 1-2 ulp (glibc misrounds near-ties).
   */
  gauss(): number {
    if (this.hasGauss) {
      const g = this.cachedGauss;
      this.hasGauss = false;
      this.cachedGauss = 0;
      return g;
    }
    let x1: number;
    let x2: number;
    let r2: number;
    do {
      x1 = 2 * this.nextDouble() - 1;
      x2 = 2 * this.nextDouble() - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * logRounded(r2)) / r2);
    this.cachedGauss = f * x1;
    this.hasGauss = true;
    return f * x2;
  }

  /**
   * Copies the 624 state words into `out` and returns the position of the next word to temper
   * (0..624): the raw state, for a kernel that draws from the stream elsewhere (setWords takes it back).
   */
  copyWordsTo(out: Uint32Array): number {
    out.set(this.mt);
    return this.pos;
  }

  /** Takes the raw state back from {@link copyWordsTo}'s layout: the first 624 of `words`, and `pos`. The cached normal is kept. */
  setWords(words: Uint32Array, pos: number): void {
    if (words.length < N || !Number.isInteger(pos) || pos < 0 || pos > N)
      throw new RangeError('MT19937 words: 624 words and a position 0..624');
    this.mt.set(words.subarray(0, N));
    this.pos = pos;
  }

  /** Snapshot for checkpoints; a fresh object that shares nothing with the generator. */
  getState(): MT19937State {
    return {
      kind: 'MT19937',
      key: Array.from(this.mt),
      pos: this.pos,
      hasGauss: this.hasGauss,
      gauss: this.cachedGauss,
    };
  }

  /** Restores a snapshot from {@link getState}; validates it fully before changing anything. */
  setState(state: MT19937State): void {
    const s = state as Partial<MT19937State> | null;
    if (s === null || typeof s !== 'object' || s.kind !== 'MT19937') {
      throw new RangeError(`MT19937 state: expected kind 'MT19937', got ${JSON.stringify(s?.kind)}`);
    }
    if (!Array.isArray(s.key) || s.key.length !== N) {
      throw new RangeError(`MT19937 state: expected ${N} key words, got ${Array.isArray(s.key) ? s.key.length : typeof s.key}`);
    }
    s.key.forEach((k, i) => checkUint32(k, `MT19937 state key[${i}]`));
    if (!Number.isInteger(s.pos) || (s.pos as number) < 0 || (s.pos as number) > N) {
      throw new RangeError(`MT19937 state: pos must be an integer 0..${N}, got ${String(s.pos)}`);
    }
    if (typeof s.hasGauss !== 'boolean' || typeof s.gauss !== 'number' || !Number.isFinite(s.gauss)) {
      throw new RangeError('MT19937 state: hasGauss must be a boolean and gauss a finite number');
    }
    this.mt.set(s.key);
    this.pos = s.pos as number;
    this.hasGauss = s.hasGauss;
    this.cachedGauss = s.gauss;
  }
}

/** MT19937's tempering of one state word; the bits of the output (as int32: `>>> 0` for uint32). */
function temper(word: number): number {
  let y = word;
  y ^= y >>> 11;
  y ^= (y << 7) & 0x9d2c5680;
  y ^= (y << 15) & 0xefc60000;
  return y ^ (y >>> 18);
}

/** The smallest all-ones mask >= `max` (as int32: `>>> 0` for max >= 2^31). */
function allOnesMask(max: number): number {
  let mask = max;
  mask |= mask >>> 1;
  mask |= mask >>> 2;
  mask |= mask >>> 4;
  mask |= mask >>> 8;
  return mask | (mask >>> 16);
}

/**
 * numpy's `random_interval(max)`: uniform integer in [0, max] by masking to the smallest
 * all-ones mask >= max and rejecting values above max (not modulo, not Lemire).
 */
export function randomInterval(rng: MT19937, max: number): number {
  if (max === 0) return 0;
  const mask = allOnesMask(max) >>> 0;
  let value: number;
  do {
    value = (rng.nextUint32() & mask) >>> 0;
  } while (value > max);
  return value;
}

/**
 * Shuffles in place exactly like numpy's legacy `RandomState.shuffle` on a 1-D array:
 * Fisher–Yates from the end, `j = random_interval(i)` for i = n-1 down to 1.
 * Arrays longer than 2^32 elements would take numpy's 64-bit path and are not supported.
 */
export function shuffleInPlace(arr: Uint32Array | Int32Array | number[], rng: MT19937): void {
  if (arr.length > 0xffffffff) throw new RangeError(`shuffleInPlace: array too long (${arr.length})`);
  if (arr.length <= 0x80000000) {
    rng.shuffleFast(arr);
    return;
  }
  for (let i = arr.length - 1; i > 0; i--) {
    const j = randomInterval(rng, i);
    const t = arr[j];
    arr[j] = arr[i];
    arr[i] = t;
  }
}

/** `np.random.permutation(n)`: arange(n) shuffled by {@link shuffleInPlace}. */
export function permutation(n: number, rng: MT19937): Uint32Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RangeError(`permutation: n must be an integer between 0 and 4294967295, got ${String(n)}`);
  }
  const arr = new Uint32Array(n);
  for (let i = 0; i < n; i++) arr[i] = i;
  shuffleInPlace(arr, rng);
  return arr;
}

/**
 * `count` samples of a normal with mean 0 and the given stddev, truncated like
 * `tf.truncated_normal`: a standard normal draw is kept only if |x| < 2 (TensorFlow's kernel
 * test, so values are strictly inside 2 stddev) and redrawn otherwise; kept values are scaled
 * and rounded to float32.
 *
 * TensorFlow draws from Philox, so these are NOT TensorFlow's values: only the distribution
 * matches. They are reproducible from the rng's state.
 */
export function truncatedNormal(rng: MT19937, count: number, stddev: number): Float32Array {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`truncatedNormal: count must be a non-negative integer, got ${String(count)}`);
  }
  if (!Number.isFinite(stddev) || stddev < 0) {
    throw new RangeError(`truncatedNormal: stddev must be a finite number >= 0, got ${String(stddev)}`);
  }
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    let x: number;
    do x = rng.gauss();
    while (Math.abs(x) >= 2);
    out[i] = x * stddev;
  }
  return out;
}

/**
 * An independent stream for one purpose (1 = weight init, 2 = pool tie-breaking, 3 = init
 * perturbation, 4 = shuffled reduction orders, ...) seeded by
 * init_by_array([seed, stream]), i.e. `np.random.RandomState([seed, stream])`.
 * The data order stream is NOT derived: it is `new MT19937(seed)`, so `--seed N` reproduces the
 * reshuffles numpy made after `np.random.seed(N)`.
 */
export function deriveStream(seed: number, stream: number): MT19937 {
  checkUint32(seed, 'seed');
  checkUint32(stream, 'stream');
  return MT19937.fromArray([seed, stream]);
}
