// Deterministic test data independent of the engine's PRNG: the Numerical Recipes LCG.

/** Successive 32-bit states of the LCG s -> 1664525 s + 1013904223 (mod 2^32). */
export function lcgUint32(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
}

/** Uniform in [-1, 1). */
export function lcg(seed: number): () => number {
  const next = lcgUint32(seed);
  return () => (next() / 2 ** 32) * 2 - 1;
}

/** Uniform in [0, 1). */
export function lcgUnit(seed: number): () => number {
  const next = lcgUint32(seed);
  return () => next() / 2 ** 32;
}
