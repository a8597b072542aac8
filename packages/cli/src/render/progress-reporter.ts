// Renders run events for people: a progress bar with steps/s and ETA on stderr (only on a TTY),
// one line per evaluation, and the final summary on stdout. --json replaces all of it with events.
import cliProgress from 'cli-progress';
import type { EngineInfo, RunEvent, RunSummary } from '@mnist-sym-wasm/core';
import { toJson } from '../run/run-directory';
import { formatSymmetryInline, formatSymmetryTable } from './symmetry-table';
import { formatActivityInline, formatDeadChannels, formatDeadUnits } from './unit-activity';

/** Receives every run event. */
export type Reporter = ((event: RunEvent) => void) & {
  /** Ends the display early (a run stopped by a signal gets no 'end' event). */
  close?: () => void;
};

/** JSON lines on stdout, one per event. */
export function jsonReporter(write: (line: string) => void = (l) => process.stdout.write(l)): Reporter {
  return (event) => write(`${toJson(event)}\n`);
}

function pct(x: number | null): string {
  return x === null || Number.isNaN(x) ? 'n/a' : `${(100 * x).toFixed(2)}%`;
}

/** Human summary of a finished run. */
export function formatSummary(summary: RunSummary, outDir: string): string {
  const lines = [
    `steps            ${summary.steps}`,
    `train accuracy   ${pct(summary.final.train)}`,
    `test accuracy    ${pct(summary.final.test)}`,
    `final loss       ${summary.final.loss ?? 'n/a'}`,
    `first NaN step   ${summary.firstNanStep ?? 'none'}`,
    `dead fc1 units   ${formatDeadUnits(summary.deadUnits?.fc1)}`,
    ...(['conv1', 'conv2'] as const)
      .filter((layer) => (summary.deadUnits?.[layer]?.dead ?? 0) > 0)
      .map((layer) => `dead ${layer} chan. ${formatDeadUnits(summary.deadUnits![layer])}`),
    `ms per step      ${summary.msPerStep.toFixed(1)}`,
    `engine           ${describeEngine(summary.engine)}`,
    `weights sha256   ${summary.weightsSha256}`,
    `output           ${outDir}`,
    '',
    'symmetry of the final weights (groups = distinct copies; 1 = still fully symmetric)',
    formatSymmetryTable(summary.symmetry, summary.config.symTol),
  ];
  return `${lines.join('\n')}\n`;
}

/** One-line engine description. */
export function describeEngine(engine: EngineInfo): string {
  return `tfjs ${engine.tfjsVersion} ${engine.backend}, SIMD ${engine.simd ? 'on' : 'off'}, ${engine.threads} thread${engine.threads === 1 ? '' : 's'} (own kernels: ${engine.kernelThreads})`;
}

/** Progress bar + evaluation lines on stderr; the summary is printed by the command. */
export function humanReporter(stream: NodeJS.WriteStream = process.stderr): Reporter {
  const bars = new cliProgress.MultiBar(
    {
      stream,
      format: 'train {bar} {value}/{total} steps | {speed} steps/s | ETA {eta_formatted} | loss {loss} | test {test}',
      etaBuffer: 200,
      fps: 5,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let bar: cliProgress.SingleBar | null = null;
  let started = 0;
  let firstStep = 0; // a resumed run starts at its checkpoint's step
  let lastTest = 'n/a';
  // While the bar is drawn, lines go through MultiBar.log so they land above it.
  const log = (line: string) => (bar ? bars.log(`${line}\n`) : stream.write(`${line}\n`));
  const close = () => {
    if (bar) bars.update();
    bars.stop();
    bar = null;
  };
  const reporter: Reporter = (event) => {
    switch (event.type) {
      case 'start':
        started = performance.now();
        firstStep = event.resumedFrom ?? 0;
        stream.write(`engine: ${describeEngine(event.engine)}; ${event.trainImages} train / ${event.testImages} test images evaluated\n`);
        if (event.resumedFrom !== undefined) stream.write(`resuming from step ${event.resumedFrom}\n`);
        if (stream.isTTY) bar = bars.create(event.config.steps, firstStep, { speed: '0.0', loss: 'n/a', test: 'n/a' });
        break;
      case 'step': {
        const seconds = (performance.now() - started) / 1000;
        bar?.update(event.step, {
          speed: ((event.step - firstStep) / seconds).toFixed(2),
          loss: event.loss.toPrecision(5),
          test: lastTest,
        });
        break;
      }
      case 'eval':
        lastTest = pct(event.record.test);
        log(
          `step ${event.record.step}: train ${pct(event.record.train)}, test ${lastTest}, batch loss ${event.record.batchLoss ?? 'n/a'}; groups ${formatSymmetryInline(event.record.symmetry)}${event.record.activity ? `; ${[formatActivityInline(event.record.activity.fc1), formatDeadChannels(event.record.activity)].filter(Boolean).join('; ')}` : ''}${event.path ? `; eval ${event.path}` : ''}${event.stepPath ? `; steps ${event.stepPath}` : ''}`,
        );
        break;
      case 'end':
        // Force a last render so logged lines still buffered (the final evaluation) are written.
        close();
        break;
    }
  };
  reporter.close = close;
  return reporter;
}
