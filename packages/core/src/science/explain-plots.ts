// The explain report's plots as inline SVG text (no script, no external resource): the CLI puts
// them in report.html, the page's Answer view in its document, so both draw the same plots.
// Legends sit beside the plot area, never on the data; values spanning decades get a log axis.
import type { SuiteResult } from './explain-types';
import type { SymmetryKey } from './symmetry';

/** One line of a chart. */
export interface PlotSeries {
  name: string;
  points: [number, number][];
  /** Palette index (a run keeps its colour across charts). */
  color: number;
  dashed?: boolean;
}

/** One chart of the report. */
export interface ExplainPlot {
  id: string;
  title: string;
  svg: string;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** Escapes text for HTML and SVG. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceLinearTicks(lo: number, hi: number): number[] {
  const raw = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function tickText(v: number, log: boolean): string {
  if (log) return v >= 1e-3 && v <= 1e4 ? String(Number(v.toPrecision(3))) : `1e${Math.round(Math.log10(v))}`;
  return Math.abs(v) >= 1000 ? v.toFixed(0) : String(Number(v.toPrecision(6)));
}

/**
 * A line chart: axis labels, the legend in its own column right of the plot area, non-finite
 * points (and non-positive ones on a log axis) left out as gaps.
 */
export function svgLineChart(
  title: string,
  axes: { x: string; y: string; logY?: boolean; yMin?: number; yMax?: number },
  series: PlotSeries[],
): string {
  const W = 720;
  const L = 64;
  const R = 210;
  const T = 30;
  const B = 44;
  const H = Math.max(300, T + B + 16 * series.length + 10);
  const log = Boolean(axes.logY);
  const ok = (y: number) => Number.isFinite(y) && (!log || y > 0);
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && ok(y));
  const x0 = Math.min(0, ...all.map((p) => p[0]));
  const x1 = Math.max(x0 + 1, ...all.map((p) => p[0]));
  const tf = (y: number) => (log ? Math.log10(y) : y);
  let y0 = axes.yMin ?? (all.length ? Math.min(...all.map((p) => p[1])) : 0);
  let y1 = axes.yMax ?? (all.length ? Math.max(...all.map((p) => p[1])) : 1);
  if (log) {
    y0 = 10 ** Math.floor(Math.log10(y0));
    y1 = 10 ** Math.ceil(Math.log10(y1));
    if (y1 <= y0) y1 = y0 * 10;
  } else if (y1 - y0 < 1e-9) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const px = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const py = (y: number) => T + (1 - (tf(y) - tf(y0)) / (tf(y1) - tf(y0))) * (H - T - B);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="11" role="img" aria-label="${escapeHtml(title)}">`,
    `<text x="${(L + W - R) / 2}" y="18" text-anchor="middle" font-size="13">${escapeHtml(title)}</text>`,
    `<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#999"/>`,
  ];
  const yTicks: number[] = [];
  if (log) {
    const decades = Math.round(Math.log10(y1 / y0));
    const every = Math.max(1, Math.ceil(decades / 8));
    for (let e = Math.log10(y0); e <= Math.log10(y1) + 1e-9; e += every) yTicks.push(10 ** e);
  } else yTicks.push(...niceLinearTicks(y0, y1));
  for (const v of yTicks) {
    const y = py(v).toFixed(1);
    parts.push(
      `<line x1="${L}" x2="${W - R}" y1="${y}" y2="${y}" stroke="#eee"/><text x="${L - 6}" y="${Number(y) + 4}" text-anchor="end">${tickText(v, log)}</text>`,
    );
  }
  for (const v of niceLinearTicks(x0, x1)) {
    const x = px(v).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${H - B}" y2="${H - B + 4}" stroke="#999"/><text x="${x}" y="${H - B + 16}" text-anchor="middle">${tickText(v, false)}</text>`,
    );
  }
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">${escapeHtml(axes.x)}</text>`);
  const my = (T + H - B) / 2;
  parts.push(
    `<text x="14" y="${my}" transform="rotate(-90 14 ${my})" text-anchor="middle">${escapeHtml(axes.y)}${log ? ' (log scale)' : ''}</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[s.color % COLORS.length];
    const dash = s.dashed ? ' stroke-dasharray="5,3"' : '';
    let d = '';
    let pen = false;
    const dots: string[] = [];
    for (const [x, y] of s.points) {
      if (!ok(y)) {
        pen = false;
        continue;
      }
      const X = px(x).toFixed(1);
      const Y = py(y).toFixed(1);
      d += `${pen ? 'L' : 'M'}${X},${Y}`;
      dots.push(`<circle cx="${X}" cy="${Y}" r="1.8" fill="${color}"/>`);
      pen = true;
    }
    if (d) parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"${dash}/>`, ...dots);
    const ly = T + 10 + i * 16;
    parts.push(
      `<line x1="${W - R + 10}" x2="${W - R + 30}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${dash}/>`,
      `<text x="${W - R + 34}" y="${ly}">${escapeHtml(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/** The report's charts, from the runs. */
export function explainPlots(results: SuiteResult[]): ExplainPlot[] {
  const color = (r: SuiteResult) => results.indexOf(r);
  const dense = results.filter((r) => r.entry.config.model === 'dense');
  const twins = results.filter((r) => r.entry.config.model === 'twin');
  const denseEnd = Math.max(0, ...dense.map((r) => r.summary.steps));
  const upTo = (r: SuiteResult, end: number) => r.records.filter((e) => e.step <= end);
  const plots: ExplainPlot[] = [];
  const accuracy = (r: SuiteResult, end: number): PlotSeries => ({
    name: r.entry.id,
    color: color(r),
    dashed: r.entry.config.model === 'twin',
    points: upTo(r, end).map((e) => [e.step, 100 * e.test]),
  });
  if (dense.length > 0) {
    const title = `Test accuracy over the first ${denseEnd} steps (every run; twins dashed)`;
    const series = [...dense, ...twins].map((r) => accuracy(r, denseEnd));
    const axes = { x: 'training step', y: 'test accuracy (%)', yMin: 0, yMax: 100 };
    plots.push({ id: 'accuracy-early', title, svg: svgLineChart(title, axes, series) });
  }
  const twinEnd = Math.max(0, ...twins.map((r) => r.summary.steps));
  if (twins.length > 0 && twinEnd > denseEnd) {
    const title = `The symmetric network (width-1 twin) over ${twinEnd} steps`;
    const series = twins.map((r) => accuracy(r, twinEnd));
    plots.push({ id: 'accuracy-twin', title, svg: svgLineChart(title, { x: 'training step', y: 'test accuracy (%)' }, series) });
  }
  const groupsPlot = (key: SymmetryKey, id: string, what: string) => {
    const runs = dense.filter((r) => r.records.some((e) => e.symmetry[key].copies > 1));
    if (runs.length === 0) return;
    const copies = runs[0].records[0].symmetry[key].copies;
    const title = `Distinct ${what} (${key} bitwise groups, of ${copies})`;
    const series = runs.map((r) => ({
      name: r.entry.id,
      color: color(r),
      points: r.records.map((e) => [e.step, e.symmetry[key].groups] as [number, number]),
    }));
    plots.push({ id, title, svg: svgLineChart(title, { x: 'training step', y: 'groups', logY: true, yMin: 1, yMax: copies }, series) });
  };
  groupsPlot('conv2.out', 'groups-conv2', 'conv2 filters');
  groupsPlot('fc1.out', 'groups-fc1', 'fc1 units');
  const broken = dense.filter((r) => r.records.some((e) => e.symmetry['fc1.out'].maxRelDiff > 0 || e.symmetry['conv1.out'].maxRelDiff > 0));
  if (broken.length > 0) {
    const title = 'Largest difference between conv1 copies, relative to the largest weight';
    const series = broken.map((r) => ({
      name: r.entry.id,
      color: color(r),
      points: r.records.map((e) => [e.step, e.symmetry['conv1.out'].maxRelDiff] as [number, number]),
    }));
    plots.push({
      id: 'maxreldiff-conv1',
      title,
      svg: svgLineChart(title, { x: 'training step', y: 'conv1.out maxRelDiff', logY: true }, series),
    });
  }
  return plots;
}
