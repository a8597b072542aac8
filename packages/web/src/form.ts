// The config form: one input per field of core's CONFIG_FIELDS (so new fields appear without page
// changes), resolved by core's resolver and mirrored in the URL; for a resume it shows the
// checkpoint's config with only RESUME_SAFE_KEYS editable.
import { CONFIG_FIELDS, CONFIG_KEYS, DEFAULT_CONFIG, RESUME_SAFE_KEYS, resolveConfig, type ExperimentConfig } from '@mnist-sym-wasm/core';
import type { Messages } from './messages';
import { configToSearch, DEFAULT_DATA_URL, fieldChoices, fieldText, type PageParams } from './url-config';

export interface ConfigForm {
  /** The form's config through core's resolver (throws ConfigError with a one-line message). */
  config(): ExperimentConfig;
  /** Puts `config` (and a non-default data folder) in the page's URL, replacing the history entry. */
  writeUrl(config: ExperimentConfig): void;
  /** Shows a checkpoint's config for a resume (only RESUME_SAFE_KEYS editable), or null for a fresh run. */
  showCheckpoint(checkpoint: { name: string; config: ExperimentConfig } | null): void;
}

export interface ConfigFormOptions {
  /** The page's URL parameters: the inputs' first values and the data folder kept in the URL. */
  params: PageParams;
  messages: Messages;
  /** While a run is going, edits are neither checked nor written to the URL. */
  isRunning: () => boolean;
  /** Called with the form's config after an edit that resolves (before its error is cleared). */
  onConfig: (config: ExperimentConfig) => void;
}

/** Fills `fieldset` (whose legend it keeps for a fresh run) with the config inputs. */
export function mountConfigForm(fieldset: HTMLFieldSetElement, options: ConfigFormOptions): ConfigForm {
  const { params, messages } = options;
  const inputs = {} as Record<keyof ExperimentConfig, HTMLInputElement | HTMLSelectElement>;
  const legend = fieldset.querySelector('legend')!;
  const freshLegend = legend.textContent;

  const form: ConfigForm = {
    config() {
      const raw: Record<string, string> = {};
      for (const key of CONFIG_KEYS) raw[key] = inputs[key].value.trim();
      return resolveConfig(raw);
    },

    writeUrl(config) {
      const search = configToSearch(config, params.dataUrl !== DEFAULT_DATA_URL ? { data: params.dataUrl } : {});
      history.replaceState(null, '', `${location.pathname}${search}`);
    },

    showCheckpoint(checkpoint) {
      for (const key of CONFIG_KEYS) {
        if (checkpoint) inputs[key].value = fieldText(checkpoint.config[key]);
        inputs[key].disabled = checkpoint !== null && !(RESUME_SAFE_KEYS as readonly string[]).includes(key);
      }
      fieldset.classList.toggle('from-checkpoint', checkpoint !== null);
      legend.textContent = checkpoint
        ? `Experiment (from the checkpoint ${checkpoint.name}; only ${RESUME_SAFE_KEYS.join(' and ')} may change)`
        : freshLegend;
    },
  };

  function onChange(): void {
    if (options.isRunning()) return;
    try {
      const config = form.config();
      form.writeUrl(config);
      options.onConfig(config);
      messages.error(null);
    } catch (e) {
      messages.error((e as Error).message);
    }
  }

  for (const key of CONFIG_KEYS) {
    const field = CONFIG_FIELDS[key];
    const label = document.createElement('label');
    label.title = field.help;
    const name = document.createElement('span');
    name.textContent = key;
    const choices = fieldChoices(key);
    let input: HTMLInputElement | HTMLSelectElement;
    if (choices) {
      input = document.createElement('select');
      for (const c of choices) input.append(new Option(c, c));
    } else {
      input = document.createElement('input');
      input.type = 'text';
      input.placeholder = field.valueName;
      input.spellcheck = false;
    }
    input.name = key;
    input.dataset.testid = `config-${key}`;
    input.value = params.raw[key] ?? fieldText(params.config[key]);
    input.addEventListener('change', onChange);
    const help = document.createElement('small');
    help.textContent = `${field.help} (default ${fieldText(DEFAULT_CONFIG[key])})`;
    label.append(name, input, help);
    fieldset.append(label);
    inputs[key] = input;
  }

  return form;
}
