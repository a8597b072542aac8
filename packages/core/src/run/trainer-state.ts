// What every trainer (dense and twin) saves and restores: its state as plain data for checkpoints,
// and its named RNG streams.
import type { AdamState } from '../dense/adam';
import type { BatchSamplerState } from '../data/batches';
import { MT19937, type MT19937State } from '../random/prng';

/**
 * Everything a Trainer's future depends on, as plain data (checkpoints). The weight-init stream is
 * not here: it is drawn from only in the constructor, and its effect is the params.
 */
export interface TrainerState {
  /** Training steps done. */
  step: number;
  /** Parameter values in PARAM_NAMES order (copies). */
  params: Float32Array[];
  /** Adam's m, v (copies), beta powers and step. */
  adam: AdamState;
  /** The data order: arrangement, epoch position and its MT19937. */
  sampler: BatchSamplerState;
  /**
   * Every other RNG stream training draws from, by name: `poolTies` (deriveStream(seed, 2)) with
   * pool ties 'random', `reduceOrder` (deriveStream(seed, 4)) with reduce order 'shuffled'.
   * Absent or {} when the run has none.
   */
  rngs?: Record<string, MT19937State>;
}

/** A trainer's RNG streams by their TrainerState.rngs name; undefined = not drawn from in this run. */
export type RngStreams = Record<string, MT19937 | undefined>;

/** The named RNG streams of a trainer's state (see TrainerState.rngs). */
export function rngStates(streams: RngStreams): Record<string, MT19937State> {
  const out: Record<string, MT19937State> = {};
  for (const [name, rng] of Object.entries(streams)) if (rng) out[name] = rng.getState();
  return out;
}

/** Validates `state.rngs` against the trainer's streams; returns the setter to apply after all checks. */
export function prepareRngImport(streams: RngStreams, state: TrainerState): () => void {
  const have = Object.keys(state.rngs ?? {})
    .sort()
    .join(',');
  const want = Object.keys(streams)
    .filter((name) => streams[name])
    .sort()
    .join(',');
  if (have !== want) throw new RangeError(`trainer state: RNG streams [${have}] do not match this run's [${want}]`);
  const restored = Object.entries(state.rngs ?? {}).map(([name, s]) => [name, MT19937.fromState(s)] as const); // validates
  return () => {
    for (const [name, rng] of restored) streams[name]!.setState(rng.getState());
  };
}
