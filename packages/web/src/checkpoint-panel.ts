// The Resume fieldset: reading a picked checkpoint in a short-lived engine worker, showing what it
// holds (its config goes into the form), and forgetting it for a fresh run. The next start
// resumes the checkpoint this panel holds.
import * as Comlink from 'comlink';
import { RESUME_SAFE_KEYS } from '@mnist-sym-wasm/core';
import type { CheckpointInfo } from './engine-api';
import { engineWorker } from './engine-worker';
import type { ConfigForm } from './form';
import type { Messages } from './messages';

/** A picked checkpoint: its file name, its bytes (copied to each run that resumes it) and what it holds. */
export interface LoadedCheckpoint {
  name: string;
  bytes: Uint8Array;
  info: CheckpointInfo;
}

export interface CheckpointPanel {
  /** The picked checkpoint the next start resumes, or null for a fresh run. */
  readonly loaded: LoadedCheckpoint | null;
  /** Disables picking and forgetting while a run is going. */
  render(running: boolean): void;
}

export interface CheckpointElements {
  picker: HTMLInputElement;
  info: HTMLElement;
  clear: HTMLButtonElement;
}

export interface CheckpointPanelOptions {
  form: ConfigForm;
  messages: Messages;
  isRunning: () => boolean;
  /** Called when the loaded checkpoint changes (the start button names it). */
  onChange: () => void;
}

export function mountCheckpointPanel(ui: CheckpointElements, options: CheckpointPanelOptions): CheckpointPanel {
  const { form, messages } = options;
  let loaded: LoadedCheckpoint | null = null;

  /** Shows the form for a resume (the checkpoint's config; only RESUME_SAFE_KEYS editable) or a fresh run. */
  function showLoaded(): void {
    form.showCheckpoint(loaded && { name: loaded.name, config: loaded.info.config });
    ui.info.textContent = loaded
      ? `${loaded.name}: step ${loaded.info.step} of ${loaded.info.config.steps}. The config above comes from the checkpoint ` +
        `(only ${RESUME_SAFE_KEYS.join(' and ')} may change); the data must be the MNIST it was trained on.` +
        (loaded.info.hasHistory
          ? ''
          : ` It carries no evaluations before its step: the CSV and metrics.jsonl start after step ${loaded.info.step}.`)
      : '';
    ui.clear.hidden = loaded === null;
    options.onChange();
  }

  async function pickCheckpoint(file: File): Promise<void> {
    messages.error(null);
    loaded = null;
    showLoaded();
    messages.status('reading the checkpoint…');
    const { worker, api, crashed } = engineWorker();
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const copy = bytes.slice();
      const info = await Promise.race([api.readCheckpoint(Comlink.transfer(copy, [copy.buffer as ArrayBuffer])), crashed]);
      loaded = { name: file.name, bytes, info };
      form.writeUrl(info.config);
      messages.status('ready');
    } catch (e) {
      ui.picker.value = '';
      messages.status('ready');
      messages.error(`${file.name}: ${(e as Error)?.message ?? String(e)}`);
    } finally {
      worker.terminate();
      showLoaded();
    }
  }

  ui.picker.addEventListener('change', () => {
    const file = ui.picker.files?.[0];
    if (file && !options.isRunning()) void pickCheckpoint(file);
  });
  ui.clear.addEventListener('click', () => {
    loaded = null;
    ui.picker.value = '';
    showLoaded();
  });

  return {
    get loaded() {
      return loaded;
    },
    render(running) {
      ui.picker.disabled = running;
      ui.clear.disabled = running;
    },
  };
}
