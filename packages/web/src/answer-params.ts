// The Answer view's URL parameters: `view=answer` selects it; `full`, `testImages`, `perturbs` and
// `orderSeeds` size the suite as `explain`'s flags do; any config key (camelCase, as on the main
// page) is laid over every run; `data` and `autorun` as on the main page. Pure, unit-tested in Node.
import { explainSuite, type ExperimentConfig, type SuiteOptions } from '@mnist-sym-wasm/core';
import { configToSearch, readPageParams } from './url-config';

/** Parameters the Answer view reads itself (the rest are config keys). */
export const ANSWER_PARAMS = ['view', 'full', 'testImages', 'perturbs', 'orderSeeds'] as const;

export interface AnswerParams {
  options: SuiteOptions;
  /** Set (and `options` empty) when a parameter is invalid. */
  error: string | null;
  autorun: boolean;
  dataUrl: string;
  dataParam: string | null;
}

/** Whether the URL asks for the Answer view (`view=answer`). */
export function isAnswerView(search: string): boolean {
  return new URLSearchParams(search).get('view') === 'answer';
}

function numberList(raw: string, name: string): number[] {
  const parts = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const out = parts.map(Number);
  if (out.some((x) => !Number.isFinite(x) || x < 0))
    throw new Error(`invalid ${name}: '${raw}' (expected a comma-separated list of numbers >= 0)`);
  return out;
}

/**
 * The query the main page's own views read while the Answer view is shown: without the Answer
 * view's parameters, and without `autorun` (that starts the suite, not a run).
 */
export function mainPageSearch(search: string): string {
  const params = new URLSearchParams(search);
  for (const k of [...ANSWER_PARAMS, 'autorun']) params.delete(k);
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** Reads the Answer view's parameters; problems become `error`, never throw. */
export function readAnswerParams(search: string): AnswerParams {
  const params = new URLSearchParams(search);
  const rest = new URLSearchParams();
  for (const [k, v] of params) if (!(ANSWER_PARAMS as readonly string[]).includes(k)) rest.append(k, v);
  const page = readPageParams(rest.toString());
  const base = { autorun: page.autorun, dataUrl: page.dataUrl, dataParam: page.dataParam };
  try {
    if (page.error) throw new Error(page.error.replace(/^URL parameter: /, ''));
    const options: SuiteOptions = { overrides: page.raw };
    const full = params.get('full');
    if (full !== null) options.full = full === '' || full === '1' || full === 'true';
    const testImages = params.get('testImages');
    if (testImages !== null) {
      if (!/^\s*[1-9]\d*\s*$/.test(testImages)) throw new Error(`invalid testImages: '${testImages}' (expected an integer >= 1)`);
      options.testImages = Number(testImages);
    }
    const perturbs = params.get('perturbs');
    if (perturbs !== null) options.perturbs = numberList(perturbs, 'perturbs');
    const orderSeeds = params.get('orderSeeds');
    if (orderSeeds !== null) options.orderSeeds = numberList(orderSeeds, 'orderSeeds');
    explainSuite(options); // checks the config values now, before any download
    return { ...base, options, error: null };
  } catch (e) {
    return { ...base, options: {}, error: `URL parameter: ${(e as Error).message}` };
  }
}

/** The main page's URL (relative) that reruns one run of the suite, with the same data folder. */
export function rerunHref(config: ExperimentConfig, dataParam: string | null): string {
  const extra: Record<string, string> = { autorun: '1' };
  if (dataParam !== null) extra.data = dataParam;
  return `./${configToSearch(config, extra)}`;
}
