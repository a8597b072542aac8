// The project's only randomness source: MT19937 bit-compatible with numpy's legacy RandomState.
//
// Why MT19937 and not something faster: the 2016 script reshuffled MNIST with numpy's global
// RandomState, so `--seed N` must reproduce `np.random.seed(N)` draw for draw. Everything else
// (initial weights, tie pools) uses derived streams of the same generator so there is one PRNG
// to audit.

/** Number of 32-bit words in the MT19937 state. */
const N = 624;
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

// ---------------------------------------------------------------------------------------------
// Natural log for gauss(). numpy calls the C library's log(), so numpy's own normals depend on the
// platform's libm. V8's Math.log (fdlibm) differs from glibc's in the last bit for ~3% of the
// values gauss() feeds it. A correctly rounded log is platform-independent and matches glibc
// 2.36 on ~99.97% of those inputs (glibc misrounds some near-ties). Matching glibc on the rest
// would need its exact table-driven algorithm including its FMA code path.
// Verified correctly rounded against Python's decimal on 1.2M inputs (uniform, near 1, near the
// table centres, near sqrt(2), subnormal, huge); ~0.1 us per call, against ~0.015 for Math.log.

// ln 2 = LN2_HI + LN2_LO with LN2_HI's last 11 bits zero, so k * LN2_HI is exact for |k| < 2048.
const LN2_HI = 0.6931471805598903; // 0x1.62e42fefa3800p-1
const LN2_LO = 5.497923018708371e-14; // 0x1.ef35793c76730p-45
const SPLIT = 134217729; // 2^27 + 1: Veltkamp splitting, for exact products without FMA
const THIRD_HI = 1 / 3;
const THIRD_LO = 1.850371707708594e-17; // 1/3 - THIRD_HI
const THIRD_H = SPLIT * THIRD_HI - (SPLIT * THIRD_HI - THIRD_HI); // THIRD_HI split in halves
const THIRD_L = THIRD_HI - THIRD_H;
/** The log table covers c = i/128 for i = 90..181, i.e. m in [sqrt(1/2), sqrt(2)). */
const TABLE_FIRST = 90;
const TABLE_SIZE = 92;

/** Exact a*b = hi + lo written into out (Dekker); used to build the table. */
function twoProd(a: number, b: number, out: Float64Array): void {
  const p = a * b;
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  out[0] = p;
  out[1] = ah * bh - p + ah * bl + al * bh + al * bl;
}

/**
 * log(i/128) as double-doubles: 2 atanh(s), s = (c-1)/(c+1), summed term by term in
 * double-double. Slow (40 terms) but run once, at load, for 92 values.
 */
function buildLogTable(): { hi: Float64Array; lo: Float64Array } {
  const hi = new Float64Array(TABLE_SIZE);
  const lo = new Float64Array(TABLE_SIZE);
  const pr = new Float64Array(2);
  const ddMul = (ah: number, al: number, bh: number, bl: number): [number, number] => {
    twoProd(ah, bh, pr);
    const lo = pr[1] + ah * bl + al * bh;
    const hi = pr[0] + lo;
    return [hi, lo - (hi - pr[0])];
  };
  const ddAdd = (ah: number, al: number, bh: number, bl: number): [number, number] => {
    const s = ah + bh;
    const bb = s - ah;
    const lo = ah - (s - bb) + (bh - bb) + al + bl;
    const hi = s + lo;
    return [hi, lo - (hi - s)];
  };
  for (let i = TABLE_FIRST; i < TABLE_FIRST + TABLE_SIZE; i++) {
    const c = i / 128;
    const den = c + 1; // exact: c has at most 8 significant bits
    const sHi = (c - 1) / den;
    twoProd(sHi, den, pr);
    const sLo = (c - 1 - pr[0] - pr[1]) / den;
    const [zHi, zLo] = ddMul(sHi, sLo, sHi, sLo);
    let [tHi, tLo] = [0, 0];
    for (let j = 39; j >= 0; j--) {
      const d = 2 * j + 1;
      twoProd(1 / d, d, pr);
      const coefLo = (1 - pr[0] - pr[1]) / d; // 1/d - fl(1/d)
      [tHi, tLo] = ddMul(tHi, tLo, zHi, zLo);
      [tHi, tLo] = ddAdd(tHi, tLo, 1 / d, coefLo);
    }
    [hi[i - TABLE_FIRST], lo[i - TABLE_FIRST]] = ddMul(tHi, tLo, 2 * sHi, 2 * sLo);
  }
  return { hi, lo };
}

const { hi: LOG_C_HI, lo: LOG_C_LO } = buildLogTable();

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // index of the exponent word

/**
 * Correctly rounded ln(x) for finite x > 0 (unless within ~2^-85 relative of a rounding tie).
 * x = 2^k m, m in [sqrt(1/2), sqrt(2)), c = i/128 nearest m: log x = k ln2 + log c + 2 atanh(s),
 * s = (m-c)/(m+c), |s| < 2^-8, everything carried in double-double and rounded once.
 */
function logRounded(x: number): number {
  if (!(x > 0) || x === Infinity) return Math.log(x);
  let k = 0;
  if (x < 2.2250738585072014e-308) {
    x *= 18014398509481984; // 2^54: bring subnormals into the normal range
    k = -54;
  }
  f64[0] = x;
  const hiWord = u32[HIGH];
  k += (hiWord >>> 20) - 1023;
  u32[HIGH] = (hiWord & 0x000fffff) | 0x3ff00000;
  let m = f64[0]; // in [1, 2)
  if (m > Math.SQRT2) {
    m *= 0.5;
    k++;
  }
  const i = Math.round(m * 128);
  const c = i * 0.0078125;
  const d = m - c; // exact (Sterbenz)
  // den = m + c as hi + lo (Knuth two-sum)
  const den = m + c;
  let bb = den - m;
  const denLo = m - (den - bb) + (c - bb);
  // s = d / (den + denLo) as sHi + sLo, from the exact product sHi * den.
  const sHi = d / den;
  let t = SPLIT * sHi;
  const sh = t - (t - sHi);
  const sl = sHi - sh;
  t = SPLIT * den;
  const dh = t - (t - den);
  const dl = den - dh;
  const p = sHi * den;
  const pLo = sh * dh - p + sh * dl + sl * dh + sl * dl;
  const sLo = (d - p - pLo - sHi * denLo) / den;
  // z = s^2 (hi + lo)
  const zHi = sHi * sHi;
  const zLo = sh * sh - zHi + 2 * sh * sl + sl * sl + 2 * sHi * sLo;
  // q = z/3 (hi + lo); |q| < 2^-18, so the rest of the series (< 2^-36) needs only doubles.
  t = SPLIT * zHi;
  const zh = t - (t - zHi);
  const zl = zHi - zh;
  const qHi = zHi * THIRD_HI;
  const qLo = zh * THIRD_H - qHi + zh * THIRD_L + zl * THIRD_H + zl * THIRD_L + zHi * THIRD_LO + zLo * THIRD_HI;
  const tail = zHi * zHi * (0.2 + zHi * (1 / 7 + zHi * (1 / 9 + zHi * (1 / 11))));
  // T = 1 + q + tail; r = 2s * T
  const tHi = 1 + qHi;
  const tLo = qHi - (tHi - 1) + qLo + tail;
  const s2h = 2 * sHi;
  t = SPLIT * s2h;
  const ah = t - (t - s2h);
  const al = s2h - ah;
  t = SPLIT * tHi;
  const th = t - (t - tHi);
  const tl = tHi - th;
  const rHi = s2h * tHi;
  const rLo = ah * th - rHi + ah * tl + al * th + al * tl + s2h * tLo + 2 * sLo * tHi;
  // k ln2 + log c + r: two exact two-sums for the big parts, the small parts added once.
  const a = k * LN2_HI;
  const b = LOG_C_HI[i - TABLE_FIRST];
  const h1 = a + b;
  bb = h1 - a;
  const e1 = a - (h1 - bb) + (b - bb);
  const h2 = h1 + rHi;
  bb = h2 - h1;
  const e2 = h1 - (h2 - bb) + (rHi - bb);
  return h2 + (e1 + e2 + rLo + LOG_C_LO[i - TABLE_FIRST] + k * LN2_LO);
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
