// The page in the other browser engines, from their Debian packages: Firefox ESR (puppeteer-core,
// WebDriver BiDi) and WebKitGTK (WebKitWebDriver over plain HTTP, under xvfb-run), against the
// BUILT `mnist-sym-wasm serve` on the small fixture. Each browser: default settings load and say
// which build runs and why, in an unusual locale; the parity run equals the CLI's (weightsSha256
// and CSV bytes); a bad URL parameter and missing data show their errors. Chromium's own, longer
// suite is web.test.ts.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  HAS_CHROMIUM,
  HAS_FIREFOX,
  HAS_WEBKIT,
  launchChromium,
  launchFirefox,
  launchWebKit,
  startServe,
  waitFor,
  warnIfAbsent,
  type BrowserDriver,
} from './browser';
import { CLI, FIXTURE, ROOT } from './helpers';

/** web.test.ts's parity config: CLI flags and the same config as page URL parameters. */
const PARITY_FLAGS = ['--validation-size', '100', '--steps', '3', '--widths', '16,32,32', '--eval-every', '1', '--eval-train', '200'];
const PARITY_QUERY = 'validationSize=100&steps=3&widths=16,32,32&evalEvery=1&evalTrain=200';

interface Engine {
  name: string;
  present: boolean;
  install: string;
  /** navigator.language the browser is made to report: one Intl refuses, or a right-to-left one. */
  language: string;
  launch: () => Promise<BrowserDriver>;
}

const ENGINES: Engine[] = [
  { name: 'Firefox', present: HAS_FIREFOX, install: 'apt-get install firefox-esr', language: 'ar', launch: () => launchFirefox('ar') },
  {
    name: 'WebKit',
    present: HAS_WEBKIT,
    install: 'apt-get install webkit2gtk-driver xvfb',
    language: 'C',
    // The machine locale that made WebKitGTK report navigator.language "C".
    launch: () => launchWebKit({ LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' }),
  },
];
for (const e of ENGINES) warnIfAbsent('web-browsers.test', e.name, e.present, e.install);

const TMP = mkdtempSync(join(tmpdir(), 'msw-web-browsers-'));
let server: ChildProcess | undefined;
let base = '';
/** The CLI's run of the parity config: the reference every browser must equal. */
const cli = { sha: '', csv: '' };

const anyPresent = ENGINES.some((e) => e.present);

beforeAll(async () => {
  if (!anyPresent) return;
  ({ server, base } = await startServe(FIXTURE));
  const out = join(TMP, 'cli');
  const run = spawnSync(process.execPath, [CLI, 'train', '--data', FIXTURE, ...PARITY_FLAGS, '--out', out], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(run.status, run.stderr).toBe(0);
  cli.sha = (JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { weightsSha256: string }).weightsSha256;
  cli.csv = readFileSync(join(out, 'validation-curve-accuracy.csv'), 'utf8');
}, 120_000);

afterAll(() => {
  server?.kill('SIGTERM');
  rmSync(TMP, { recursive: true, force: true });
});

const text = (id: string) => `return document.querySelector('[data-testid=${id}]')?.textContent ?? '';`;
const SETTLED = `document.querySelector('[data-testid=weights-sha256]')?.textContent || !document.querySelector('[data-testid=error]').hidden`;
const ERROR_SHOWN = `!document.querySelector('[data-testid=error]').hidden`;

/** Clicks a download button and returns the file's text, read from the blob the page saves. */
function downloaded(file: string): string {
  return `
    const click = HTMLAnchorElement.prototype.click;
    let saved;
    HTMLAnchorElement.prototype.click = function () { saved = fetch(this.href).then((r) => r.text()); };
    try { document.querySelector('[data-testid=download-${file}]').click(); } finally { HTMLAnchorElement.prototype.click = click; }
    return await saved;`;
}

describe.each(ENGINES)('web page in $name', (engine) => {
  let driver: BrowserDriver;

  beforeAll(async () => {
    if (!engine.present) return;
    driver = await engine.launch();
  }, 60_000);

  afterAll(async () => {
    await driver?.close();
  });

  test.skipIf(!engine.present)('default settings load, say which build runs and why, in a locale Intl may refuse', async () => {
    await driver.goto(base);
    await waitFor(driver, `document.querySelector('[data-testid=status]')?.textContent === 'ready'`, 30_000);
    expect(await driver.run(text('error'))).toBe('');
    // Shared memory reaches a worker only with a global SharedArrayBuffer in an isolated page.
    const threaded = await driver.run<boolean>(`return crossOriginIsolated && typeof SharedArrayBuffer === 'function';`);
    const engineLine = await driver.run<string>(text('engine'));
    console.log(`[web-browsers.test] ${driver.version}, language '${engine.language}': ${engineLine}`);
    expect(engineLine).toMatch(
      threaded ? /^this browser: threaded SIMD build, \d+ threads/ : /^this browser: single-threaded SIMD build: /,
    );
    // The page's scope reports a tag Intl accepts (its guard replaced one that is not).
    expect(await driver.run('return navigator.language;')).toBe(engine.language === 'C' ? 'en-US' : engine.language);
    if (engine.language === 'C') expect(engineLine).toContain("numbers in en-US (the browser's language 'C' is not a tag Intl accepts)");
  });

  test.skipIf(!engine.present)('PARITY: the run with default threads equals the CLI run (weightsSha256, CSV bytes)', async () => {
    await driver.goto(`${base}?${PARITY_QUERY}&autorun=1`);
    await waitFor(driver, SETTLED, 90_000);
    expect(await driver.run(text('error'))).toBe('');
    const sha = await driver.run<string>(text('weights-sha256'));
    const engineLine = await driver.run<string>(text('engine'));
    console.log(`[web-browsers.test] ${driver.version} parity: cli ${cli.sha}, browser ${sha}; ${engineLine}`);
    expect(sha).toBe(cli.sha);
    expect(await driver.run(downloaded('csv'))).toBe(cli.csv);
    expect(engineLine).toMatch(/; (threaded|single-threaded) SIMD build/);
    // The charts were drawn (uPlot formats their numbers in the page's locale).
    expect(await driver.run<number>(`return document.querySelectorAll('.uplot').length;`)).toBeGreaterThanOrEqual(2);
  });

  test.skipIf(!engine.present)('a bad URL parameter and missing data show errors naming the cause', async () => {
    await driver.goto(`${base}?steps=abc&autorun=1`);
    await waitFor(driver, ERROR_SHOWN, 30_000);
    expect(await driver.run(text('error'))).toBe("URL parameter: invalid steps: 'abc' (expected an integer >= 0)");
    expect(await driver.run(text('status'))).toBe('not started');
    await driver.goto(`${base}?${PARITY_QUERY}&data=nowhere/&autorun=1`);
    await waitFor(driver, SETTLED, 30_000);
    expect(await driver.run(text('error'))).toMatch(
      /^missing data: http:\/\/127\.0\.0\.1:\d+\/nowhere\/ has no train-labels-idx1-ubyte \(or \.gz\) \(.*HTTP 404.*\); the folder comes from the URL parameter data=nowhere\/$/,
    );
    expect(await driver.run<boolean>(`return !document.querySelector('[data-testid=start]').disabled;`)).toBe(true);
  });
});

// Firefox cannot turn SIMD alone off (javascript.options.wasm_simd is gone), so this is the same
// start-up check with WebAssembly itself off; SIMD's own message is unit-tested (capabilities.test.ts).
describe.skipIf(!HAS_FIREFOX)('web page in Firefox without WebAssembly', () => {
  test('says so and does not start', async () => {
    const driver = await launchFirefox('en-US', { 'javascript.options.wasm': false });
    try {
      await driver.goto(`${base}?${PARITY_QUERY}&autorun=1`);
      await waitFor(driver, ERROR_SHOWN, 30_000);
      const reason = 'this browser has no WebAssembly support; the engine needs WebAssembly with SIMD';
      expect(await driver.run(text('error'))).toBe(reason);
      expect(await driver.run(text('status'))).toBe('not started');
      expect(await driver.run(text('engine'))).toBe(reason);
    } finally {
      await driver.close();
    }
  }, 60_000);
});

/**
 * ms/step in each browser, for docs/WEB.md (printed, never asserted; off unless asked for):
 * `MSW_BROWSER_MS_PER_STEP=1 npx vitest run test/web-browsers.test.ts -t 'ms/step'`.
 */
describe.runIf(process.env.MSW_BROWSER_MS_PER_STEP === '1')('ms/step', () => {
  const engines = [
    ...ENGINES,
    {
      name: 'Chromium',
      present: HAS_CHROMIUM,
      launch: async (): Promise<BrowserDriver> => {
        const browser = await launchChromium();
        const page = await browser.newPage();
        return {
          version: `Chromium ${browser.version()}`,
          goto: async (url) => void (await page.goto(url)),
          run: <T>(body: string) => page.evaluate(`(async () => { ${body} })()`) as Promise<T>,
          close: () => browser.close(),
        };
      },
    },
  ];
  test.each(engines.filter((e) => e.present))(
    'ms/step in $name (the seed model, 60 steps)',
    async (engine) => {
      const driver = await engine.launch();
      try {
        await driver.goto(`${base}?steps=60&evalEvery=60&evalTrain=200&validationSize=100&seed=3&autorun=1`);
        await waitFor(driver, SETTLED, 300_000);
        expect(await driver.run(text('error'))).toBe('');
        const summary = JSON.parse(await driver.run<string>(text('summary-json'))) as { msPerStep: number };
        console.log(
          `[web-browsers.test] ms/step: ${driver.version}: ${summary.msPerStep.toFixed(1)} ms/step; ${await driver.run<string>(text('engine'))}`,
        );
      } finally {
        await driver.close();
      }
    },
    320_000,
  );
});
