// The convolution gradients' exact zero skipping (Conv2DBackpropFilter.ts, Conv2DBackpropInput.ts,
// on assembly/kernels/zero-skip.ts): on by default; tests and benchmarks turn it off to compare it
// with the full sums, and read how often each path ran.

let zeroSkip = true;

/** How many convolution-gradient calls skipped zeros, and how many took the full path. */
export const zeroSkipCounts = { filterSkipped: 0, filterFull: 0, inputSkipped: 0, inputFull: 0 };

/** Switches the zero skipping on or off (the full path gives the same bits, more slowly). */
export function setConvGradZeroSkip(on: boolean): void {
  zeroSkip = on;
}

/** Whether the convolution gradients may skip zero terms. */
export function convGradZeroSkip(): boolean {
  return zeroSkip;
}
