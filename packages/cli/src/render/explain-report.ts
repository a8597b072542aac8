// Renders the `explain` report: a self-contained report.html (inline SVG plots from core, no script,
// no external resource: it opens offline and without JavaScript) and report.md, from core's report.
import {
  CONFIG_FIELDS,
  CONFIG_KEYS,
  DEFAULT_CONFIG,
  escapeHtml as esc,
  explainPlots,
  SYMMETRY_KEYS,
  twinScales,
  type ExperimentConfig,
  type ExplainReport,
  type Finding,
  type SuiteResult,
  type SuiteRow,
} from '@mnist-sym-wasm/core';

const pct = (x: number | null) => (x === null || Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(2)}%`);
const text = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v));

/** The `train` command that reruns one run of the suite (flags for what differs from the seed's config). */
export function trainCommand(config: ExperimentConfig): string {
  const flags = CONFIG_KEYS.filter((k) => k !== 'threads' && text(config[k]) !== text(DEFAULT_CONFIG[k])).map(
    (k) => `--${CONFIG_FIELDS[k].flag} ${text(config[k])}`,
  );
  return ['mnist-sym-wasm train', ...flags].join(' ');
}

/** The twin derivation in a few lines, with the multipliers for the run's widths. */
function derivationLines(widths: [number, number, number]): string[] {
  const s = twinScales(widths);
  return [
    'While all copies of a layer are equal, conv2 sums c1 equal input maps, fc1 sums c2 equal channels and fc2 sums f1 equal units, so the dense network computes what a width-1 network computes whose weights are the sums: twin = s * copy with s = 1, 1, c1, 1, c2, 1, f1, 1 (conv1.W, conv1.b, conv2.W, conv2.b, fc1.W, fc1.b, fc2.W, fc2.b).',
    "A tensor with n copies gives the twin the gradient (n / s) times one copy's. Adam is invariant to the gradient's scale except through epsilon, so the twin follows the dense network exactly with lr multiplier s and epsilon multiplier n / s.",
    `For widths ${widths.join(', ')}: lr multipliers ${s.lrScale.join(', ')}; epsilon multipliers ${s.epsScale.join(', ')}.`,
  ];
}

const TABLE_HEAD = ['run', 'steps', 'eval every', 'test', 'first NaN', ...SYMMETRY_KEYS, 'ms/step'];

function tableRows(table: SuiteRow[]): string[][] {
  return table.map((r) => [
    r.id,
    String(r.steps),
    String(r.evalEvery),
    pct(r.test),
    r.firstNanStep === null ? 'none' : String(r.firstNanStep),
    ...SYMMETRY_KEYS.map((k) => r.groups[k]),
    r.msPerStep.toFixed(2),
  ]);
}

const TIMELINE_HEAD = ['step', 'test', ...SYMMETRY_KEYS];

/** A symmetry-breaking run's evaluations where a copy set's group count changed (and the first and last). */
function timelineRows(run: SuiteResult): string[][] {
  const sig = (i: number) => SYMMETRY_KEYS.map((k) => run.records[i].symmetry[k].groups).join(',');
  return run.records
    .filter((_, i) => i === 0 || i === run.records.length - 1 || sig(i) !== sig(i - 1))
    .map((e) => [String(e.step), pct(e.test), ...SYMMETRY_KEYS.map((k) => `${e.symmetry[k].groups}/${e.symmetry[k].copies}`)]);
}

const breaking = (r: SuiteResult) => ['perturb', 'ties', 'reduce-order'].includes(r.entry.role);

function verdict(f: Finding): string {
  return f.shown === null ? 'measured' : f.shown ? 'shown' : 'not shown';
}

function protocolLine(report: ExplainReport): string {
  const p = report.protocol;
  return (
    `Every evaluation scores the first ${p.testImages} test images; ` +
    (p.uniform ? 'every run has the same length' : 'each run is as long as its effect needs') +
    ` (steps in the table); dense widths ${p.widths.join(', ')}. Generated ${report.generated} in ${(report.wallMs / 1000).toFixed(1)} s.`
  );
}

function htmlTable(head: string[], rows: string[][]): string {
  const body = rows.map((row) => `<tr>${row.map((c, i) => `<td${i > 0 ? ' class="n"' : ''}>${esc(c)}</td>`).join('')}</tr>`);
  return `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>\n${body.join('\n')}</table>`;
}

/** report.html: findings, definitions, plots, tables, derivation; one file, no script, no external resources. */
export function renderHtml(report: ExplainReport): string {
  const runs = report.results
    .map((x) => `<li><code>${esc(x.entry.id)}</code>: ${esc(x.entry.label)}<br><code>${esc(trainCommand(x.entry.config))}</code></li>`)
    .join('\n');
  const timelines = report.results
    .filter(breaking)
    .map((r) => `<h3><code>${esc(r.entry.id)}</code></h3>\n${htmlTable(TIMELINE_HEAD, timelineRows(r))}`)
    .join('\n');
  const findings = report.findings
    .map((f) => `<li class="${verdict(f).replace(' ', '-')}"><strong>${esc(verdict(f))}</strong>: ${esc(f.text)}</li>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Why does the constant-initialised CNN learn? (measured)</title>
<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222;line-height:1.4}table{border-collapse:collapse;font-size:12px;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 6px}td.n{text-align:right}svg{display:block;margin:1em 0;max-width:100%;height:auto}code{background:#f4f4f4}li{margin:.4em 0}li.not-shown strong{color:#a40}li.shown strong{color:#060}</style>
</head><body>
<h1>Why does the constant-initialised CNN learn? Measured answers</h1>
<p>${esc(protocolLine(report))}</p>
<h2>Findings</h2>
<ul>${findings}</ul>
<h2>What the findings count as</h2>
<ul>${report.thresholds.definitions.map((d) => `<li>${esc(d)}</li>`).join('\n')}</ul>
<h2>Plots</h2>
${explainPlots(report.results)
  .map((p) => p.svg)
  .join('\n')}
<h2>Final numbers</h2>
${htmlTable(TABLE_HEAD, tableRows(report.table))}
<p>Symmetry columns: bitwise groups / copies of the final weights (1 = every copy still equal); see docs/SYMMETRY.md.</p>
<h2>Copy sets over time (runs that break the symmetry; evaluations where a count changed)</h2>
${timelines}
<h2>Runs (each rerun by its command; the report scores a test subset)</h2>
<ul>${runs}</ul>
<h2>The width-1 twin</h2>
${derivationLines(report.protocol.widths)
  .map((l) => `<p>${esc(l)}</p>`)
  .join('\n')}
</body></html>
`;
}

/** report.md: the same findings, definitions, tables and derivation, as Markdown. */
export function renderMarkdown(report: ExplainReport): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const table = (head: string[], rows: string[][]) => [line(head), line(head.map(() => '---')), ...rows.map(line)];
  return [
    '# Why does the constant-initialised CNN learn? Measured answers',
    '',
    `${protocolLine(report)} Plots: report.html.`,
    '',
    '## Findings',
    '',
    ...report.findings.map((f) => `- **${verdict(f)}**: ${f.text}`),
    '',
    '## What the findings count as',
    '',
    ...report.thresholds.definitions.map((d) => `- ${d}`),
    '',
    '## Final numbers',
    '',
    ...table(TABLE_HEAD, tableRows(report.table)),
    '',
    '## Copy sets over time',
    '',
    ...report.results.filter(breaking).flatMap((r) => [`### ${r.entry.id}`, '', ...table(TIMELINE_HEAD, timelineRows(r)), '']),
    '## Runs',
    '',
    ...report.results.map((r) => `- \`${r.entry.id}\`: ${r.entry.label}: \`${trainCommand(r.entry.config)}\``),
    '',
    '## The width-1 twin',
    '',
    ...derivationLines(report.protocol.widths).flatMap((l) => [l, '']),
  ].join('\n');
}
