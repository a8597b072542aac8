// Renders the `explain` report: a self-contained report.html (inline SVG plots, no external assets:
// the report must open offline) and report.md, from the collected suite results and findings.
import { SYMMETRY_KEYS, twinScales, type SuiteResult, type SuiteRow } from '@mnist-sym-wasm/core';

/** Everything the report shows (also written as report.json). */
export interface ExplainReport {
  generated: string;
  /** How the suite was sized (steps, evaluation subsets), stated in the report. */
  protocol: { steps: number; evalEvery: number; trainImages: number; testImages: number; widths: [number, number, number] };
  findings: string[];
  table: SuiteRow[];
  results: SuiteResult[];
  wallMs: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

interface Series {
  name: string;
  points: [number, number][];
  /** Index into the palette (the run's position in the suite, so a run keeps its colour). */
  color: number;
}

/** A line chart as inline SVG; non-finite points are left out (NaN losses show as gaps). */
export function svgLineChart(title: string, yLabel: string, series: Series[], options: { log?: boolean } = {}): string {
  const W = 640;
  const H = 300;
  const L = 60;
  const R = 170;
  const T = 28;
  const B = 40;
  const tf = (y: number) => (options.log ? Math.log10(y) : y);
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(tf(y)));
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => tf(p[1]));
  const x0 = Math.min(0, ...xs);
  const x1 = Math.max(1, ...xs);
  let y0 = ys.length ? Math.min(...ys) : 0;
  let y1 = ys.length ? Math.max(...ys) : 1;
  if (y1 - y0 < 1e-9) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const px = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const py = (y: number) => T + (1 - (tf(y) - y0) / (y1 - y0)) * (H - T - B);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<text x="${W / 2 - R / 2}" y="16" text-anchor="middle" font-size="13">${esc(title)}</text>`,
    `<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#999"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = y0 + ((y1 - y0) * i) / 4;
    const y = T + (1 - i / 4) * (H - T - B);
    const digits = Math.max(3, Math.ceil(Math.log10(Math.abs(v) / (y1 - y0) + 1)) + 2);
    const shown = options.log ? `1e${v.toFixed(1)}` : Math.abs(v) >= 100 && y1 - y0 > 10 ? v.toFixed(0) : v.toPrecision(digits);
    parts.push(
      `<line x1="${L - 4}" x2="${L}" y1="${y}" y2="${y}" stroke="#999"/><text x="${L - 6}" y="${y + 4}" text-anchor="end">${shown}</text>`,
    );
    const xv = x0 + ((x1 - x0) * i) / 4;
    const x = px(xv);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${H - B}" y2="${H - B + 4}" stroke="#999"/><text x="${x}" y="${H - B + 16}" text-anchor="middle">${Math.round(xv)}</text>`,
    );
  }
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle">step</text>`);
  parts.push(
    `<text x="14" y="${(T + H - B) / 2}" transform="rotate(-90 14 ${(T + H - B) / 2})" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const color = COLORS[s.color % COLORS.length];
    // Break the line at non-finite values.
    let d = '';
    let pen = false;
    for (const [x, y] of s.points) {
      if (!Number.isFinite(tf(y))) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${px(x).toFixed(1)},${py(y).toFixed(1)}`;
      pen = true;
    }
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.6"${s.color % 2 ? ' stroke-dasharray="5,3"' : ''}/>`);
    const ly = T + 12 + i * 15;
    parts.push(`<line x1="${W - R + 10}" x2="${W - R + 28}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${W - R + 32}" y="${ly}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

function seriesOf(results: SuiteResult[], pick: (r: SuiteResult['records'][number]) => number | null, all = results): Series[] {
  return results.map((r) => ({
    name: r.entry.id,
    points: r.records.map((e) => [e.step, pick(e) ?? NaN] as [number, number]),
    color: all.indexOf(r),
  }));
}

const pct = (x: number | null) => (x === null || Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(2)}%`);

/** The twin derivation in a few lines, with the multipliers for the run's widths. */
function derivationLines(widths: [number, number, number]): string[] {
  const s = twinScales(widths);
  return [
    'While all copies of a layer are equal, conv2 sums c1 equal input maps, fc1 sums c2 equal channels and fc2 sums f1 equal units, so the dense network computes what a width-1 network computes whose weights are the sums: twin = s * copy with s = 1, 1, c1, 1, c2, 1, f1, 1 (conv1.W, conv1.b, conv2.W, conv2.b, fc1.W, fc1.b, fc2.W, fc2.b).',
    "A tensor with n copies gives the twin the gradient (n / s) times one copy's. Adam is invariant to the gradient's scale except through epsilon, so the twin follows the dense network exactly with lr multiplier s and epsilon multiplier n / s.",
    `For widths ${widths.join(', ')}: lr multipliers ${s.lrScale.join(', ')}; epsilon multipliers ${s.epsScale.join(', ')}.`,
  ];
}

function tableRows(table: SuiteRow[]): string[][] {
  return table.map((r) => [
    r.id,
    String(r.steps),
    pct(r.train),
    pct(r.test),
    r.firstNanStep === null ? 'none' : String(r.firstNanStep),
    ...SYMMETRY_KEYS.map((k) => r.groups[k]),
    r.msPerStep.toFixed(2),
  ]);
}

const TABLE_HEAD = ['run', 'steps', 'train', 'test', 'first NaN', ...SYMMETRY_KEYS, 'ms/step'];

function protocolLine(p: ExplainReport['protocol']): string {
  return `Each run: ${p.steps} steps, evaluations every ${p.evalEvery} steps on the first ${p.trainImages} train and ${p.testImages} test images, dense widths ${p.widths.join(', ')}.`;
}

/** report.html: findings, plots, table, derivation; one file, no external resources. */
export function renderHtml(report: ExplainReport): string {
  const r = report.results;
  const dense = r.filter((x) => x.entry.config.model === 'dense');
  const charts = [
    svgLineChart(
      'test accuracy',
      'accuracy',
      seriesOf(r, (e) => e.test),
    ),
    svgLineChart(
      'train accuracy (evaluated subset)',
      'accuracy',
      seriesOf(r, (e) => e.train),
    ),
    svgLineChart(
      'test loss (gaps = NaN)',
      'mean loss',
      seriesOf(r, (e) => e.testLoss),
    ),
    svgLineChart(
      'distinct conv1 filters (conv1.out groups)',
      'groups',
      seriesOf(dense, (e) => e.symmetry['conv1.out'].groups, r),
    ),
    svgLineChart(
      'distinct conv2 filters (conv2.out groups)',
      'groups',
      seriesOf(dense, (e) => e.symmetry['conv2.out'].groups, r),
    ),
    svgLineChart(
      'distinct fc1 units (fc1.out groups)',
      'groups',
      seriesOf(dense, (e) => e.symmetry['fc1.out'].groups, r),
    ),
    svgLineChart(
      'largest difference between conv1 copies / largest weight',
      'maxRelDiff (log10)',
      seriesOf(dense, (e) => e.symmetry['conv1.out'].maxRelDiff, r),
      { log: true },
    ),
  ];
  const rows = tableRows(report.table)
    .map((row) => `<tr>${row.map((c, i) => `<td${i > 0 ? ' class="n"' : ''}>${esc(c)}</td>`).join('')}</tr>`)
    .join('\n');
  const labels = report.results.map((x) => `<li><code>${esc(x.entry.id)}</code>: ${esc(x.entry.label)}</li>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Why does the constant-initialised CNN learn? (measured)</title>
<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:3px 6px}td.n{text-align:right}svg{display:block;margin:1em 0}code{background:#f4f4f4}</style>
</head><body>
<h1>Why does the constant-initialised CNN learn? Measured answers</h1>
<p>${esc(protocolLine(report.protocol))} Generated ${esc(report.generated)} in ${(report.wallMs / 1000).toFixed(1)} s.</p>
<h2>Findings</h2>
<ul>${report.findings.map((f) => `<li>${esc(f)}</li>`).join('\n')}</ul>
<h2>Runs</h2><ul>${labels}</ul>
<h2>Plots</h2>
${charts.join('\n')}
<h2>Final numbers</h2>
<table><tr>${TABLE_HEAD.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>
${rows}</table>
<p>Symmetry columns: bitwise groups / copies of the final weights (1 = every copy still equal); see docs/SYMMETRY.md.</p>
<h2>The width-1 twin</h2>
${derivationLines(report.protocol.widths)
  .map((l) => `<p>${esc(l)}</p>`)
  .join('\n')}
</body></html>
`;
}

/** report.md: the same findings, table and derivation, as Markdown. */
export function renderMarkdown(report: ExplainReport): string {
  const rows = tableRows(report.table);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [
    '# Why does the constant-initialised CNN learn? Measured answers',
    '',
    `${protocolLine(report.protocol)} Generated ${report.generated} in ${(report.wallMs / 1000).toFixed(1)} s. Plots: report.html.`,
    '',
    '## Findings',
    '',
    ...report.findings.map((f) => `- ${f}`),
    '',
    '## Final numbers',
    '',
    line(TABLE_HEAD),
    line(TABLE_HEAD.map(() => '---')),
    ...rows.map(line),
    '',
    '## The width-1 twin',
    '',
    ...derivationLines(report.protocol.widths).flatMap((l) => [l, '']),
  ].join('\n');
}
