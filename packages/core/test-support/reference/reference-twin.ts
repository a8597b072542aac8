// The width-1 twin in the float64 reference: the same reference model at widths 1, 1, 1, trained by
// the reference Adam with the twin's per-tensor lr and epsilon multipliers (twin/twin.ts), plus the maps
// between a dense parameter set with equal copies and its twin. Used to prove the equivalence.
import { denseToTwin, twinScales, twinToDense } from '../../src/twin/twin';
import { REF_PARAM_KEYS, refDims, type RefParams, type RefShape } from './reference-model';

/** The twin's shape: one unit per layer. */
export function refTwinShape(shape: RefShape): RefShape {
  return { ...shape, c1: 1, c2: 1, f1: 1 };
}

/** lrScale/epsScale for refAdamStep, keyed like RefParams, for the twin of `shape`. */
export function refTwinAdamScales(shape: RefShape): {
  lrScale: Record<keyof RefParams, number>;
  epsScale: Record<keyof RefParams, number>;
} {
  const s = twinScales([shape.c1, shape.c2, shape.f1]);
  const lrScale = {} as Record<keyof RefParams, number>;
  const epsScale = {} as Record<keyof RefParams, number>;
  REF_PARAM_KEYS.forEach((key, i) => {
    lrScale[key] = s.lrScale[i];
    epsScale[key] = s.epsScale[i];
  });
  return { lrScale, epsScale };
}

/** The twin of a dense parameter set whose copies are equal. */
export function refDenseToTwin(dense: RefParams, shape: RefShape): RefParams {
  const { ph2, pw2 } = refDims(shape);
  return fromList(denseToTwin(toList(dense), [shape.c1, shape.c2, shape.f1], ph2 * pw2, shape.classes));
}

/** The dense parameter set (all copies equal) that a twin stands for. */
export function refTwinToDense(twin: RefParams, shape: RefShape): RefParams {
  const { ph2, pw2 } = refDims(shape);
  return fromList(twinToDense(toList(twin), [shape.c1, shape.c2, shape.f1], ph2 * pw2, shape.classes));
}

function toList(p: RefParams): Float64Array[] {
  return REF_PARAM_KEYS.map((k) => p[k]);
}

function fromList(list: Float64Array[]): RefParams {
  const p = {} as RefParams;
  REF_PARAM_KEYS.forEach((k, i) => {
    p[k] = list[i];
  });
  return p;
}
