// Ctrl-C and SIGTERM during training: the first asks the run to stop at the next step boundary (it
// then writes a checkpoint); a second exits at once. Every file write is synchronous and atomic or
// append-only, and a signal handler only runs between them, so exiting never leaves a torn file.

/** Exit codes of a run stopped by a signal (128 + signal number, as shells report it). */
export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof SIGNAL_EXIT_CODES;

/** The signal received so far, if any. */
export interface StopSignals {
  readonly received: StopSignal | null;
  /** Removes the handlers (default behaviour again). */
  dispose(): void;
}

/** Installs the handlers; `onFirst` tells the user what happens next. */
export function catchStopSignals(onFirst: (signal: StopSignal) => void): StopSignals {
  let received: StopSignal | null = null;
  const handler = (signal: StopSignal) => {
    if (received) process.exit(SIGNAL_EXIT_CODES[signal]);
    received = signal;
    onFirst(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    get received() {
      return received;
    },
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** Thrown by a command to end the process with a given code after it printed its own message. */
export class ExitCodeError extends Error {
  override readonly name = 'ExitCodeError';
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}
