// The text of a run's four output files, shared by every front end (the CLI writes them to --out,
// the web page offers them as downloads) so both produce the same bytes for the same run.
import type { EngineInfo } from '../engine/engine';
import type { ExperimentConfig } from '../config';
import type { EvalRecord, RunSummary } from './run-experiment';

/** File names of a run's outputs. */
export const RUN_FILES = {
  csv: 'validation-curve-accuracy.csv',
  metrics: 'metrics.jsonl',
  config: 'config.json',
  summary: 'summary.json',
} as const;

/** JSON with non-finite numbers kept visible as the strings "NaN", "Infinity", "-Infinity". */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), indent);
}

/** config.json: the resolved config, the engine it ran on, and where the data came from. */
export function configFileText(config: ExperimentConfig, engine: EngineInfo, data: string): string {
  return `${toJson({ config, engine, data }, 2)}\n`;
}

/** One line of metrics.jsonl. */
export function metricsLine(record: EvalRecord): string {
  return `${toJson(record)}\n`;
}

/** summary.json. */
export function summaryFileText(summary: RunSummary): string {
  return `${toJson(summary, 2)}\n`;
}
