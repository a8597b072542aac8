// The page's URL parameters: the config keys (camelCase of the CLI flags) go through core's one
// resolver; `autorun` and `data` are the page's own. Pure, so it is unit-tested in Node.
import { CONFIG_FIELDS, CONFIG_KEYS, DEFAULT_CONFIG, resolveConfig, type ExperimentConfig } from '@mnist-sym-wasm/core';

/** Parameters that belong to the page, not to the experiment config. */
export const PAGE_PARAMS = ['autorun', 'data'] as const;

/** Default folder (relative to the page) that `mnist-sym-wasm serve` serves the MNIST files from. */
export const DEFAULT_DATA_URL = 'mnist/';

/** What the page's URL asks for; `error` is set (and `config` is the defaults) when it is invalid. */
export interface PageParams {
  /** Raw config values from the URL, by key, for display in the form even when invalid. */
  raw: Record<string, string>;
  config: ExperimentConfig;
  error: string | null;
  autorun: boolean;
  dataUrl: string;
  /** The `data` parameter as given, or null when absent (errors about the data then name it). */
  dataParam: string | null;
}

/** Why `value` cannot be the data folder (a relative or http(s) URL), or null when it can. */
function badDataUrl(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value, 'http://page.invalid/');
  } catch {
    return `invalid data: '${value}' is not a URL (expected the folder of the four MNIST files, e.g. data=mnist/)`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `invalid data: '${value}' is a ${url.protocol} URL (expected an http(s) folder of the four MNIST files, e.g. data=mnist/)`;
  }
  return null;
}

/** A config value as the text a form field or URL parameter holds. */
export function fieldText(value: unknown): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** Reads the page's parameters from a query string; config problems become `error`, never throw. */
export function readPageParams(search: string): PageParams {
  const params = new URLSearchParams(search);
  const raw: Record<string, string> = {};
  let autorun = false;
  let dataUrl = DEFAULT_DATA_URL;
  let dataParam: string | null = null;
  let dataError: string | null = null;
  for (const [key, value] of params) {
    if (key === 'autorun') autorun = value === '1' || value === 'true' || value === '';
    else if (key === 'data') {
      dataParam = value;
      dataError = badDataUrl(value);
      if (!dataError) dataUrl = value.endsWith('/') ? value : `${value}/`;
    } else raw[key] = value;
  }
  try {
    const config = resolveConfig(raw);
    return { raw, config, error: dataError && `URL parameter: ${dataError}`, autorun, dataUrl, dataParam };
  } catch (e) {
    return { raw, config: resolveConfig(), error: `URL parameter: ${(e as Error).message}`, autorun, dataUrl, dataParam };
  }
}

/** The query string for a config: only the fields that differ from the seed's defaults. */
export function configToSearch(config: ExperimentConfig, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const key of CONFIG_KEYS) {
    const text = fieldText(config[key]);
    if (text !== fieldText(DEFAULT_CONFIG[key])) params.set(key, text);
  }
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  const s = params.toString().replace(/%2C/g, ',');
  return s ? `?${s}` : '';
}

/** Fixed choices of a field when its value name lists words (`constant|truncated-normal`), else null. */
export function fieldChoices(key: keyof ExperimentConfig): string[] | null {
  const parts = CONFIG_FIELDS[key].valueName.split('|');
  if (parts.length < 2 || parts.some((p) => /^[a-z]$/.test(p) || p.includes(','))) return null;
  return parts;
}
