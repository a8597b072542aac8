// oneGroupReport (a network in orbit form, without reading its weights) equals symmetryReport of
// the full parameters of such networks, and differs from it once a copy set splits.
import { describe, expect, it } from 'vitest';
import { seedModelShape } from '../dense/model';
import { expandOrbit, orbitSizes } from '../dense/symmetric-orbit';
import { MT19937 } from '../random/prng';
import { oneGroupReport, symmetryReport } from './symmetry';

describe('oneGroupReport', () => {
  for (const widths of [
    [32, 64, 1024],
    [4, 8, 12],
  ] as [number, number, number][]) {
    it(`equals symmetryReport of orbit-form parameters, widths ${widths}`, () => {
      const shape = seedModelShape(widths);
      const rng = new MT19937(3);
      const full = expandOrbit(
        shape,
        orbitSizes(shape).map((n) => Float32Array.from({ length: n }, () => rng.gauss())),
      );
      for (const tol of [0, 1e-6]) expect(oneGroupReport(shape)).toEqual(symmetryReport(shape, full, tol));
      full[2][5] += 1; // one conv2 weight: conv2's copy sets split
      expect(symmetryReport(shape, full, 0)).not.toEqual(oneGroupReport(shape));
    });
  }
});
