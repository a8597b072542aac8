// Renders a run's symmetry diagnostics for people: a compact table for the summary and a one-line
// form for the progress log (the numbers themselves come from core's symmetryReport).
import { SYMMETRY_KEYS, type SymmetryReport } from '@mnist-sym-wasm/core';

function rel(x: number): string {
  return Number.isNaN(x) ? 'NaN' : x === 0 ? '0' : x.toExponential(2);
}

/** One row per copy set: copies, bitwise groups, groups within --sym-tol, max relative difference. */
export function formatSymmetryTable(report: SymmetryReport, tol: number): string {
  const shownTol = tol !== 0 && tol < 1e-3 ? tol.toExponential() : String(tol);
  const head = ['copy set', 'copies', 'groups', `groups@${shownTol}`, 'maxRelDiff'];
  const rows = SYMMETRY_KEYS.map((k) => {
    const s = report[k];
    return [k, String(s.copies), String(s.groups), String(s.groupsTol), rel(s.maxRelDiff)];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

/** `groups/copies` per copy set on one line, e.g. `conv1.out 1/32 conv2.out 1/64 ...`. */
export function formatSymmetryInline(report: SymmetryReport): string {
  return SYMMETRY_KEYS.map((k) => `${k} ${report[k].groups}/${report[k].copies}`).join(' ');
}
