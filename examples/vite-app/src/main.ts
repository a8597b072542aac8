// The page: starts the training worker and shows what it reports.
import type { WorkerMessage } from './worker';

const log = document.getElementById('log')!;
const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
  const message = event.data;
  if (message.kind === 'log') log.textContent += `${message.text}\n`;
  if (message.kind === 'done') document.getElementById('weights-sha256')!.textContent = message.weightsSha256;
  if (message.kind === 'error') document.getElementById('error')!.textContent = message.text;
};
worker.onerror = (event) => {
  document.getElementById('error')!.textContent = `worker crashed: ${event.message}`;
};
