// fc1's activity (and the conv channels', when some are dead) as text: on every evaluation line,
// and the dead units in the run summary.
import { rangeSize, type DeadUnits, type UnitActivity } from '@mnist-sym-wasm/core';

function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

/** For an evaluation line: how often fc1 was active, and plainly when a unit is dead (active on no image). */
export function formatActivityInline(a: UnitActivity): string {
  if (a.groups.length === 1) return a.groups[0].active > 0 ? `fc1 active ${pct(a.groups[0].active)}` : 'fc1 DEAD (active on no image)';
  const units = a.groups.reduce((n, g) => n + rangeSize(g.units), 0);
  const dead = a.groups.filter((g) => g.active === 0).reduce((n, g) => n + rangeSize(g.units), 0);
  const live = a.groups.filter((g) => g.active > 0).map((g) => g.active);
  const range = live.length ? `active ${pct(Math.min(...live))}..${pct(Math.max(...live))}` : '';
  return `fc1 ${[dead ? `${dead}/${units} units DEAD (active on no image)` : '', range].filter(Boolean).join(', ')}`;
}

/**
 * For an evaluation line: the conv channels active on no evaluated image, e.g. 'conv1 3/32 channels
 * DEAD', or '' when every channel was active somewhere (the usual case: the line stays short).
 */
export function formatDeadChannels(activity: { conv1?: UnitActivity; conv2?: UnitActivity }): string {
  const parts: string[] = [];
  for (const layer of ['conv1', 'conv2'] as const) {
    const a = activity[layer];
    if (!a) continue;
    const channels = a.groups.reduce((n, g) => n + rangeSize(g.units), 0);
    const dead = a.groups.filter((g) => g.active === 0).reduce((n, g) => n + rangeSize(g.units), 0);
    if (dead > 0) parts.push(`${layer} ${dead}/${channels} channels DEAD`);
  }
  return parts.join(', ');
}

/** For the summary: 'none', or how many fc1 units died and from which evaluation on. */
export function formatDeadUnits(d: DeadUnits | undefined): string {
  if (!d) return 'n/a (not recorded)';
  if (d.dead === 0) return `none of ${d.units}`;
  const when = d.died.map((x) => `${rangeSize(x.units)} from step ${x.step}`);
  return `${d.dead} of ${d.units} DEAD (active on no evaluated image): ${when.join(', ')}`;
}
