// The Data fieldset: the server folder (the URL's `data` parameter, else mnist/) or the four MNIST
// files the user picks, and loading the chosen ones for a run through data-source.ts.
import type { ExperimentConfig, MnistFiles } from '@mnist-sym-wasm/core';
import { fetchMnistFiles, readPickedFiles } from './data-source';
import type { Messages } from './messages';
import type { PageParams } from './url-config';

export interface DataChoice {
  /** The chosen data's four files and its label for config.json (the folder's URL or the file names). */
  load(config: ExperimentConfig): Promise<{ files: MnistFiles; label: string }>;
}

export interface DataElements {
  server: HTMLInputElement;
  files: HTMLInputElement;
  picker: HTMLInputElement;
  /** Where the server folder's URL is shown. */
  url: HTMLElement;
}

export function mountDataChoice(ui: DataElements, params: PageParams, messages: Messages): DataChoice {
  const dataUrl = params.dataUrl;
  ui.url.textContent = dataUrl;
  ui.server.addEventListener('change', () => messages.error(null));
  ui.files.addEventListener('change', () => messages.error(null));
  ui.picker.addEventListener('change', () => (ui.files.checked = true));

  return {
    async load(config) {
      if (ui.files.checked) {
        const picked = ui.picker.files;
        if (!picked || picked.length === 0)
          throw new Error('missing data: pick the four MNIST files (raw or .gz), or choose the server data');
        return { files: await readPickedFiles(picked), label: `files:${[...picked].map((f) => f.name).join(',')}` };
      }
      // Name the URL parameter in a failure when it chose the folder.
      const from = params.dataParam !== null ? `the URL parameter data=${params.dataParam}` : undefined;
      return { files: await fetchMnistFiles(dataUrl, from, config), label: new URL(dataUrl, location.href).href };
    },
  };
}
