// The page's three message lines, shared by every view: the status beside the run controls, the
// error alert (hidden when empty) and the muted engine line.

export interface Messages {
  /** Shows a one-line error, or hides the alert for null. */
  error(message: string | null): void;
  status(text: string): void;
  engine(text: string): void;
}

export function mountMessages(elements: { error: HTMLElement; status: HTMLElement; engine: HTMLElement }): Messages {
  return {
    error(message) {
      elements.error.textContent = message ?? '';
      elements.error.hidden = message === null;
    },
    status(text) {
      elements.status.textContent = text;
    },
    engine(text) {
      elements.engine.textContent = text;
    },
  };
}
