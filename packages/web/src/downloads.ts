// The Files section: the run's four files (the same content as `train --out DIR` writes) and its
// checkpoint as download buttons, enabled when there is something to save.
import { RUN_FILES } from '@mnist-sym-wasm/core';
import type { CheckpointBytes } from './engine-api';
import type { Messages } from './messages';

/** The current (or last) run's file contents, '' until it has some. */
export interface RunFiles {
  csv: string;
  metrics: string;
  config: string;
  summary: string;
}

/** What the buttons save: the run controller's files and checkpoint. */
export interface RunOutputs {
  readonly files: Readonly<RunFiles>;
  /** Whether there is a checkpoint to save (a run going, or the last run's final one). */
  readonly hasCheckpoint: boolean;
  /** The running run's checkpoint (taken now), or the last run's, or null. */
  checkpoint(): Promise<CheckpointBytes | null>;
}

export interface Downloads {
  /** Enables the buttons that have something to save. */
  render(): void;
}

const DOWNLOADS: [keyof RunFiles, string, string][] = [
  ['csv', RUN_FILES.csv, 'text/csv'],
  ['metrics', RUN_FILES.metrics, 'application/x-ndjson'],
  ['config', RUN_FILES.config, 'application/json'],
  ['summary', RUN_FILES.summary, 'application/json'],
];

function saveAs(content: BlobPart, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([content], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function mountDownloads(container: HTMLElement, run: RunOutputs, messages: Messages): Downloads {
  for (const [key, name, type] of DOWNLOADS) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = name;
    button.dataset.file = key;
    button.dataset.testid = `download-${key}`;
    button.addEventListener('click', () => saveAs(run.files[key], name, type));
    container.append(button);
  }
  {
    // The CLI's file name, so it can go straight into a run folder's checkpoints/ (see docs/WEB.md).
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'checkpoint (.ckpt)';
    button.title = 'the run at its current step when paused (else at the next step), or its final state';
    button.dataset.file = 'checkpoint';
    button.dataset.testid = 'download-checkpoint';
    button.addEventListener('click', async () => {
      try {
        const checkpoint = await run.checkpoint();
        if (!checkpoint) return;
        saveAs(checkpoint.bytes as BlobPart, `step-${String(checkpoint.step).padStart(8, '0')}.ckpt`, 'application/octet-stream');
      } catch (e) {
        messages.error(`checkpoint: ${(e as Error)?.message ?? String(e)}`);
      }
    });
    container.append(button);
  }

  return {
    render() {
      for (const b of container.querySelectorAll('button')) {
        b.disabled = b.dataset.file === 'checkpoint' ? !run.hasCheckpoint : run.files[b.dataset.file as keyof RunFiles] === '';
      }
    },
  };
}
