// The experiment page: mounts each view on its part of index.html and wires them together. The
// views (form.ts, data-choice.ts, checkpoint-panel.ts, run-controller.ts, downloads.ts, and with
// ?view=answer answer-view.ts) keep their own state and get what they need from each other as
// parameters. All engine work happens in worker.ts; the page only renders its events.
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { detectCapabilities, unsupportedReason } from './capabilities';
import { isAnswerView, mainPageSearch } from './answer-params';
import { mountAnswerView } from './answer-view';
import { RunCharts } from './charts';
import { mountCheckpointPanel } from './checkpoint-panel';
import { mountDataChoice } from './data-choice';
import { mountDownloads } from './downloads';
import { describeBrowser } from './engine-description';
import { mountConfigForm } from './form';
import { mountMessages } from './messages';
import { mountRunController } from './run-controller';
import { readPageParams } from './url-config';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

// `?view=answer` shows the Answer view (the explain suite) above the page; its own parameters are
// not config keys, and the page's run does not autostart under it.
const answerMode = isAnswerView(location.search);
const params = readPageParams(answerMode ? mainPageSearch(location.search) : location.search);
const capabilities = detectCapabilities();

// ---- the views, one mount each ----

const messages = mountMessages({ error: $('error'), status: $('status'), engine: $('engine') });

const form = mountConfigForm($('config-fields'), {
  params,
  messages,
  isRunning: () => run.running,
  onConfig: (config) => messages.engine(describeBrowser(capabilities, config)),
});

const data = mountDataChoice(
  { server: $('data-server'), files: $('data-files'), picker: $('data-picker'), url: $('data-url') },
  params,
  messages,
);

const checkpoints = mountCheckpointPanel(
  { picker: $('checkpoint-picker'), info: $('checkpoint-info'), clear: $('checkpoint-clear') },
  { form, messages, isRunning: () => run.running, onChange: render },
);

const run = mountRunController(
  {
    start: $('start'),
    pause: $('pause'),
    resume: $('resume'),
    stop: $('stop'),
    progress: $('progress'),
    sha: $('weights-sha256'),
    summary: $('summary-json'),
  },
  {
    form,
    data,
    charts: new RunCharts({ loss: $('chart-loss'), accuracy: $('chart-accuracy'), symmetry: $('chart-symmetry') }),
    messages,
    capabilities,
    resumeFrom: () => checkpoints.loaded,
    onChange: render,
  },
);

const downloads = mountDownloads($('downloads'), run, messages);

if (answerMode) mountAnswerView($('answer'), location.search, messages);

/** Sets every view's buttons for the current run and picked checkpoint. */
function render(): void {
  run.render();
  checkpoints.render(run.running);
  downloads.render();
}

// ---- start-up ----

render();
messages.status('ready');
messages.engine(describeBrowser(capabilities, params.config));
const unsupported = unsupportedReason(capabilities);
if (params.error || unsupported) {
  messages.error(params.error ?? unsupported);
  messages.status('not started');
} else if (params.autorun) {
  void run.start();
}
