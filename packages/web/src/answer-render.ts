// The Answer view's report as HTML text: the findings (shown / not shown / measured), what they
// count as, core's SVG plots (the same as report.html's), the final numbers, and each run with a
// link that reruns it on the main page. Pure (strings in, string out), so it is unit-tested in Node.
import { escapeHtml as esc, explainPlots, SYMMETRY_KEYS, type ExplainReport, type Finding } from '@mnist-sym-wasm/core';
import { rerunHref } from './answer-params';

const pct = (x: number | null) => (x === null || Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(2)}%`);

function verdict(f: Finding): string {
  return f.shown === null ? 'measured' : f.shown ? 'shown' : 'not shown';
}

/** The report's HTML (inside the view's own element). `dataParam`: the page's `data` parameter, kept in the rerun links. */
export function answerHtml(report: ExplainReport, dataParam: string | null): string {
  const findings = report.findings
    .map(
      (f) =>
        `<li data-testid="answer-finding" data-id="${esc(f.id)}" data-shown="${String(f.shown)}"><strong>${esc(verdict(f))}</strong>: ${esc(f.text)}</li>`,
    )
    .join('');
  const head = ['run', 'steps', 'eval every', 'test', ...SYMMETRY_KEYS, 'rerun'];
  const rows = report.results
    .map((r, i) => {
      const row = report.table[i];
      const cells = [String(row.steps), String(row.evalEvery), pct(row.test), ...SYMMETRY_KEYS.map((k) => row.groups[k])];
      return (
        `<tr data-testid="answer-run" data-id="${esc(r.entry.id)}"><td title="${esc(r.entry.label)}">${esc(r.entry.id)}</td>` +
        cells.map((c) => `<td class="n">${esc(c)}</td>`).join('') +
        `<td><a href="${esc(rerunHref(r.entry.config, dataParam))}" data-testid="answer-rerun">rerun</a></td></tr>`
      );
    })
    .join('');
  return [
    `<p>Every evaluation scores the first ${report.protocol.testImages} test images; ${report.protocol.uniform ? 'every run has the same length' : 'each run is as long as its effect needs'}. ${report.results.length} runs in ${(report.wallMs / 1000).toFixed(1)} s.</p>`,
    `<h3>Findings</h3><ul data-testid="answer-findings">${findings}</ul>`,
    `<h3>What the findings count as</h3><ul>${report.thresholds.definitions.map((d) => `<li>${esc(d)}</li>`).join('')}</ul>`,
    `<h3>Plots</h3>${explainPlots(report.results)
      .map((p) => p.svg)
      .join('')}`,
    `<h3>Runs</h3><p>A rerun link opens the run on the main page (it evaluates the whole test split, so its accuracies can differ from these; its training and weights hash are the same).</p>`,
    `<table><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows}</table>`,
  ].join('\n');
}
