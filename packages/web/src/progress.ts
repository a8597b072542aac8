// How a run's progress reads: accuracies as percentages, the ETA as a clock, and the one-line
// progress (step, rate over active time, ETA, last batch loss and test accuracy). Pure text.

/** An accuracy as a percentage with two decimals, 'n/a' when there is none. */
export function pct(x: number | null): string {
  return x === null || Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(2)}%`;
}

/** Seconds as m:ss or h:mm:ss, '--:--' when not finite. */
export function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const mmss = `${String(m).padStart(h ? 2 : 1, '0')}:${String(s % 60).padStart(2, '0')}`;
  return h ? `${h}:${mmss}` : mmss;
}

/** Where a run is, as its progress line needs it. */
export interface ProgressState {
  /** The run's config (its total steps). */
  config: { steps: number };
  steps: number;
  /** Step this session started from (the checkpoint's when resuming), for the rate. */
  firstStep: number;
  /** Milliseconds trained before the current stretch, and when that stretch began (performance.now()). */
  activeMs: number;
  resumedAt: number;
  paused: boolean;
  lastLoss: number;
  lastTest: string;
}

/** The progress line at time `now` (performance.now()). */
export function progressLine(r: ProgressState, now: number): string {
  const active = r.activeMs + (r.paused ? 0 : now - r.resumedAt);
  const done = r.steps - r.firstStep;
  const rate = done / (active / 1000);
  const eta = (r.config.steps - r.steps) / rate;
  return (
    `step ${r.steps}/${r.config.steps} · ${done > 0 ? rate.toFixed(2) : '–'} steps/s · ETA ${done > 0 ? clock(eta) : '--:--'}` +
    ` · batch loss ${done > 0 ? r.lastLoss.toPrecision(5) : 'n/a'} · test ${r.lastTest}${r.paused ? ' · paused' : ''}`
  );
}
