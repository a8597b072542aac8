// Dead units: how often each copy group of fc1, and of conv1's and conv2's channels, is active
// (ReLU output > 0, somewhere in the image for a channel) at an evaluation, and which fc1 units
// stayed inactive on every evaluated image from some evaluation to the end of a run.
// Pure arithmetic on typed arrays and records, no tfjs.
import type { ModelShape } from '../dense/model';

/** Units as inclusive index ranges [first, last], ascending. */
export type UnitRanges = [number, number][];

/** One evaluation's fc1 activity, as stored in metrics.jsonl under `activity.fc1`. */
export interface UnitActivity {
  /** Images the fractions are over (the evaluated train images and the test images). */
  images: number;
  /**
   * fc1's units grouped as the copy set `fc1.out` (bitwise equal fc1.W[:, u] and fc1.b[u]), groups
   * in order of their first unit: the units, and the fraction of images on which the group was
   * active (the largest over its units: copies compute the same value, so they agree).
   */
  groups: { units: UnitRanges; active: number }[];
}

/** The dead units of a run, as stored in summary.json under `deadUnits.fc1`. */
export interface DeadUnits {
  /** Units in the layer (1 for the twin, which stands for all the dense copies). */
  units: number;
  /** Units inactive on every evaluated image at every evaluation from some evaluation to the end. */
  dead: number;
  /** Dead units by the step of the first evaluation from which they stayed inactive, earliest first. */
  died: { step: number; units: UnitRanges }[];
}

/** The ranges of sorted unit indices. */
export function toRanges(units: number[]): UnitRanges {
  const out: UnitRanges = [];
  for (const u of units) {
    const last = out[out.length - 1];
    if (last && last[1] === u - 1) last[1] = u;
    else out.push([u, u]);
  }
  return out;
}

/** Number of units in ranges. */
export function rangeSize(ranges: UnitRanges): number {
  return ranges.reduce((n, [a, b]) => n + b - a + 1, 0);
}

/**
 * fc1's units grouped by the bits of their copy (fc1.W[:, u] and fc1.b[u]; symmetry.ts's `fc1.out`),
 * groups in order of first unit; params in PARAM_NAMES order.
 */
export function fc1Groups(shape: ModelShape, params: Float32Array[]): number[][] {
  return copyGroups(params[4], params[5], shape.widths[2]);
}

/**
 * The output channels of conv1 (layer 0) or conv2 (layer 1) grouped by the bits of their copy (the
 * filter W[..., c] and b[c]; symmetry.ts's `conv1.out`, `conv2.out`), groups in order of first channel.
 */
export function convGroups(shape: ModelShape, params: Float32Array[], layer: 0 | 1): number[][] {
  return copyGroups(params[2 * layer], params[2 * layer + 1], shape.widths[layer]);
}

/** The units (last axis, `width` wide) of weights and bias grouped by the bits of their column and bias. */
function copyGroups(weights: Float32Array, bias: Float32Array, width: number): number[][] {
  const f1 = width;
  const w3 = new Uint32Array(weights.buffer, weights.byteOffset, weights.length);
  const b3 = new Uint32Array(bias.buffer, bias.byteOffset, bias.length);
  const rows = w3.length / f1;
  const same = (a: number, b: number) => {
    if (b3[a] !== b3[b]) return false;
    for (let r = 0; r < rows; r++) if (w3[r * f1 + a] !== w3[r * f1 + b]) return false;
    return true;
  };
  const hashes = new Int32Array(f1).fill(0x811c9dc5);
  for (let r = 0; r < rows; r++) for (let u = 0; u < f1; u++) hashes[u] = Math.imul(hashes[u] ^ w3[r * f1 + u], 0x01000193);
  const groups: number[][] = [];
  const byHash = new Map<number, number[][]>();
  for (let u = 0; u < f1; u++) {
    const h = Math.imul(hashes[u] ^ b3[u], 0x01000193);
    const candidates = byHash.get(h) ?? [];
    const group = candidates.find((g) => same(g[0], u));
    if (group) {
      group.push(u);
      continue;
    }
    const fresh = [u];
    candidates.push(fresh);
    byHash.set(h, candidates);
    groups.push(fresh);
  }
  return groups;
}

/** The activity record of a layer from its copy groups and each unit's count of active images out of `images`. */
export function fc1Activity(groups: number[][], activeCounts: ArrayLike<number>, images: number): UnitActivity {
  return {
    images,
    groups: groups.map((units) => {
      let most = 0;
      for (const u of units) most = Math.max(most, activeCounts[u]);
      return { units: toRanges(units), active: images > 0 ? most / images : 0 };
    }),
  };
}

/**
 * The dead units of a layer (fc1's units, or conv1's or conv2's channels) after a run's evaluations
 * (in step order): a unit is dead when its group's active fraction was 0 at the last evaluation and
 * at every one back to some evaluation, the step it died. Evaluations without that layer's activity
 * record (written before it existed) or over no images are skipped; null when the last evaluation
 * has none.
 */
export function deadUnits(
  records: { step: number; activity?: { fc1: UnitActivity; conv1?: UnitActivity; conv2?: UnitActivity } }[],
  layer: 'fc1' | 'conv1' | 'conv2' = 'fc1',
): DeadUnits | null {
  const of = (r: (typeof records)[number]) => r.activity?.[layer];
  const usable = records.filter((r) => (of(r)?.images ?? 0) > 0);
  if (usable.length === 0 || usable[usable.length - 1] !== records[records.length - 1]) return null;
  let units = 0;
  for (const r of usable) for (const g of of(r)!.groups) for (const [, b] of g.units) units = Math.max(units, b + 1);
  const deadSince: (number | null)[] = new Array(units).fill(null);
  for (const r of usable) {
    for (const g of of(r)!.groups) {
      for (const [a, b] of g.units) {
        for (let u = a; u <= b; u++) {
          if (g.active > 0) deadSince[u] = null;
          else deadSince[u] ??= r.step;
        }
      }
    }
  }
  const byStep = new Map<number, number[]>();
  deadSince.forEach((step, u) => {
    if (step === null) return;
    const list = byStep.get(step) ?? [];
    list.push(u);
    byStep.set(step, list);
  });
  const died = [...byStep.entries()].sort((a, b) => a[0] - b[0]).map(([step, us]) => ({ step, units: toRanges(us) }));
  return { units, dead: died.reduce((n, d) => n + rangeSize(d.units), 0), died };
}
