// Training batch order: TensorFlow's DataSet.next_batch (0.11/0.12 and >= 1.1), index for index.
import { DataError } from '../errors';
import { MT19937, permutation, type MT19937State } from '../random/prng';

/**
 * `'tf0'`: TF 0.11/0.12 — first epoch in file order; at an epoch end the incomplete tail is
 * dropped and the whole set reshuffled. `'tf1'`: TF >= 1.1 `next_batch(shuffle=True)` — shuffled
 * before the first batch; a batch that crosses an epoch end takes the rest of the old epoch
 * followed by the start of the reshuffled one.
 */
export type BatchOrder = 'tf0' | 'tf1';

/** Plain JSON snapshot of a {@link BatchSampler}, exact (for checkpoints). */
export interface BatchSamplerState {
  order: BatchOrder;
  count: number;
  batchSize: number;
  epochsCompleted: number;
  indexInEpoch: number;
  /** The current arrangement: position -> index into the split, a permutation of 0..count-1. */
  arrangement: number[];
  /** The sampler's rng, which only the sampler draws from. */
  rng: MT19937State;
}

/**
 * Yields the split indices of each training batch exactly as TensorFlow's `DataSet.next_batch`
 * does with numpy's global RandomState seeded like `rng` (pass `new MT19937(seed)` to reproduce
 * `np.random.seed(seed)`). TensorFlow permutes the image array itself; this keeps the same
 * permutation as an index array ("arrangement"), composed with each reshuffle the way
 * `images = images[perm]` composes.
 *
 * The sampler owns `rng`: nothing else may draw from it, and its state is part of
 * {@link BatchSampler.getState}.
 */
export class BatchSampler {
  private arrangement: Uint32Array;
  private epochsCompleted = 0;
  private indexInEpoch = 0;

  /** Throws {@link DataError} unless 1 <= batchSize <= count. */
  constructor(
    readonly count: number,
    readonly batchSize: number,
    readonly order: BatchOrder,
    private readonly rng: MT19937,
  ) {
    if (!Number.isInteger(count) || count < 1 || count > 0xffffffff) {
      throw new DataError(`batch sampler: the split must hold at least 1 example, got ${count}`);
    }
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > count) {
      throw new DataError(`batch size must be between 1 and the ${count} training examples, got ${batchSize}`);
    }
    if (order !== 'tf0' && order !== 'tf1') {
      throw new DataError(`batch order must be 'tf0' or 'tf1', got ${JSON.stringify(order)}`);
    }
    this.arrangement = new Uint32Array(count);
    for (let i = 0; i < count; i++) this.arrangement[i] = i;
  }

  /** Epochs fully started and finished so far (TF's `epochs_completed`). */
  get epochs(): number {
    return this.epochsCompleted;
  }

  /** `images = images[perm]` on the arrangement, reusing perm's buffer. */
  private reshuffle(): void {
    const perm = permutation(this.count, this.rng);
    for (let i = 0; i < perm.length; i++) perm[i] = this.arrangement[perm[i]];
    this.arrangement = perm;
  }

  /**
   * The next batch: `batchSize` indices into the split, in batch order. Returns a fresh array
   * each call, so callers may keep or modify it. With 'tf1' a batch that wraps an epoch end can
   * contain the same index twice, as in TensorFlow.
   */
  next(): Uint32Array {
    const n = this.count;
    const b = this.batchSize;
    const start = this.indexInEpoch;
    if (this.order === 'tf0') {
      this.indexInEpoch += b;
      if (this.indexInEpoch > n) {
        this.epochsCompleted++;
        this.reshuffle();
        this.indexInEpoch = b;
        return this.arrangement.slice(0, b);
      }
      return this.arrangement.slice(start, this.indexInEpoch);
    }
    if (this.epochsCompleted === 0 && start === 0) this.reshuffle();
    if (start + b > n) {
      this.epochsCompleted++;
      const out = new Uint32Array(b);
      out.set(this.arrangement.subarray(start, n));
      this.reshuffle();
      this.indexInEpoch = b - (n - start);
      out.set(this.arrangement.subarray(0, this.indexInEpoch), n - start);
      return out;
    }
    this.indexInEpoch += b;
    return this.arrangement.slice(start, this.indexInEpoch);
  }

  /** Exact snapshot; restoring it with {@link setState} continues with identical batches. */
  getState(): BatchSamplerState {
    return {
      order: this.order,
      count: this.count,
      batchSize: this.batchSize,
      epochsCompleted: this.epochsCompleted,
      indexInEpoch: this.indexInEpoch,
      arrangement: Array.from(this.arrangement),
      rng: this.rng.getState(),
    };
  }

  /**
   * Restores a snapshot taken from a sampler with the same order, count and batch size.
   * Validates everything (the arrangement must be a permutation) before changing anything;
   * throws RangeError otherwise.
   */
  setState(state: BatchSamplerState): void {
    const s = state;
    for (const key of ['order', 'count', 'batchSize'] as const) {
      if (s[key] !== this[key]) {
        throw new RangeError(`batch sampler state: ${key} is ${JSON.stringify(s[key])}, this sampler has ${JSON.stringify(this[key])}`);
      }
    }
    if (!Number.isInteger(s.epochsCompleted) || s.epochsCompleted < 0) {
      throw new RangeError(`batch sampler state: epochsCompleted must be an integer >= 0, got ${s.epochsCompleted}`);
    }
    if (!Number.isInteger(s.indexInEpoch) || s.indexInEpoch < 0 || s.indexInEpoch > this.count) {
      throw new RangeError(`batch sampler state: indexInEpoch must be an integer 0..${this.count}, got ${s.indexInEpoch}`);
    }
    if (!Array.isArray(s.arrangement) || s.arrangement.length !== this.count) {
      throw new RangeError(`batch sampler state: arrangement must hold ${this.count} indices`);
    }
    const seen = new Uint8Array(this.count);
    for (const k of s.arrangement) {
      if (!Number.isInteger(k) || k < 0 || k >= this.count || seen[k]) {
        throw new RangeError(`batch sampler state: arrangement is not a permutation of 0..${this.count - 1}`);
      }
      seen[k] = 1;
    }
    const rng = MT19937.fromState(s.rng); // validates before we touch our own state
    this.rng.setState(rng.getState());
    this.arrangement = Uint32Array.from(s.arrangement);
    this.epochsCompleted = s.epochsCompleted;
    this.indexInEpoch = s.indexInEpoch;
  }
}
