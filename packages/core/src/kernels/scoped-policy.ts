// A setting that kernels read while one computation runs. tfjs kernels receive only inputs and
// attributes, so a run's policy (the max-pool tie rule, the bias gradients' summation order) is
// installed around the gradient computation that uses it and restored afterwards, even on throw;
// each Trainer passes its own, so nothing carries over from one run to another.

/** One kernel policy: `current` is what kernels read; `run` scopes another value around `fn`. */
export interface ScopedPolicy<P> {
  readonly current: P;
  /** Sets `current` (outside any `run`: the engine-wide default). */
  set(policy: P): void;
  /** Runs `fn` (synchronous: the wasm backend runs kernels eagerly) with `policy`, then restores the previous one. */
  run<T>(policy: P, fn: () => T): T;
}

/** A policy starting at `initial`; `check` refuses a policy before it is installed. */
export function scopedPolicy<P>(initial: P, check: (policy: P) => void): ScopedPolicy<P> {
  let current = initial;
  return {
    get current() {
      return current;
    },
    set(policy) {
      check(policy);
      current = policy;
    },
    run(policy, fn) {
      check(policy);
      const previous = current;
      current = policy;
      try {
        return fn();
      } finally {
        current = previous;
      }
    },
  };
}
