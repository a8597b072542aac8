// The web page end to end in a real headless Chromium, against the BUILT `mnist-sym-wasm serve` on
// the small fixture: the server's rules, config from the URL, autorun, pause/resume/stop, the
// downloads, error display, and bitwise parity with the CLI (same weightsSha256, same CSV bytes).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, test } from 'vitest';
import { HAS_CHROMIUM, untimed, useServedChromium, warnIfNoChromium } from './browser';
import { CLI, FIXTURE, ROOT } from './helpers';

/** Screenshots go to a temp folder unless MSW_SCREENSHOTS_DIR says where (docs/ for the committed ones). */
const SHOTS = process.env.MSW_SCREENSHOTS_DIR
  ? resolve(ROOT, process.env.MSW_SCREENSHOTS_DIR)
  : join(tmpdir(), `msw-web-${process.pid}`, 'shots');
/** Temp folder of this test file, removed at the end. */
const TMP = join(tmpdir(), `msw-web-${process.pid}`);

warnIfNoChromium('web.test');

/** The short run used for parity: CLI flags and the same config as page URL parameters. */
const PARITY_FLAGS = ['--validation-size', '100', '--steps', '3', '--widths', '16,32,32', '--eval-every', '1', '--eval-train', '200'];
const PARITY_QUERY = 'validationSize=100&steps=3&widths=16,32,32&evalEvery=1&evalTrain=200';

type Json = Record<string, unknown>;

/** The CLI's hash for the parity config, kept by the parity test for the picked-files test. */
const PARITY_SHA_FROM_CLI = { value: '' };

describe.skipIf(!HAS_CHROMIUM)('web page in headless Chromium', () => {
  const served = useServedChromium(FIXTURE, () => rmSync(TMP, { recursive: true, force: true }));

  async function open(query: string): Promise<Page> {
    const page = await served.browser.newPage({ viewport: { width: 1100, height: 1300 } });
    await page.goto(`${served.base}?${query}`);
    return page;
  }

  /** Waits until the run shows its hash or the page shows an error. */
  async function settled(page: Page, timeout = 60_000): Promise<void> {
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid=weights-sha256]')?.textContent ||
        !(document.querySelector('[data-testid=error]') as HTMLElement | null)?.hidden,
      null,
      { timeout },
    );
  }

  async function download(page: Page, file: 'csv' | 'metrics' | 'config' | 'summary'): Promise<{ name: string; text: string }> {
    const [d] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid=download-${file}]`)]);
    return { name: d.suggestedFilename(), text: readFileSync((await d.path())!, 'utf8') };
  }

  /** Waits until the progress line reaches `step` (or an error shows, which then fails the test). */
  async function reachStep(page: Page, step: number): Promise<void> {
    await page.waitForFunction(
      (min) => {
        const m = /step (\d+)\//.exec(document.querySelector('[data-testid=progress]')?.textContent ?? '');
        return (m && Number(m[1]) >= min) || !(document.querySelector('[data-testid=error]') as HTMLElement | null)?.hidden;
      },
      step,
      { timeout: 60_000 },
    );
    expect(await page.textContent('[data-testid=error]')).toBe('');
  }

  async function stepShown(page: Page): Promise<number> {
    const m = /step (\d+)\//.exec((await page.textContent('[data-testid=progress]')) ?? '');
    return m ? Number(m[1]) : 0;
  }

  test('serve: isolation headers, GET/HEAD only, nothing outside its files', async () => {
    const page = await fetch(served.base);
    expect(page.status).toBe(200);
    expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await page.text()).toContain('data-testid="weights-sha256"');
    expect((await fetch(`${served.base}tfjs-backend-wasm-simd.wasm`)).headers.get('content-type')).toBe('application/wasm');
    const gz = await fetch(`${served.base}mnist/t10k-labels-idx1-ubyte.gz`, { method: 'HEAD' });
    expect(gz.status).toBe(200);
    expect(gz.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    const post = await fetch(served.base, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    // Raw HTTP paths (fetch would normalise the dots away before sending).
    for (const path of [
      '/../package.json',
      '/mnist/../../package.json',
      '/mnist/..%2f..%2fpackage.json',
      '/%2e%2e/package.json',
      '/mnist/README.md',
    ]) {
      const status = await new Promise<number>((ok, fail) => {
        const url = new URL(served.base);
        import('node:http').then(({ request }) =>
          request({ host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
            res.resume();
            ok(res.statusCode ?? 0);
          })
            .on('error', fail)
            .end(),
        );
      });
      expect([path, status]).toEqual([path, 404]);
    }
  });

  test('loads with the config from the URL, a form field per config key, and writes the URL back', async () => {
    const page = await open('init=constant&steps=300&evalEvery=100&evalTrain=1000&seed=0');
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'ready');
    expect(await page.inputValue('[data-testid=config-steps]')).toBe('300');
    expect(await page.inputValue('[data-testid=config-evalEvery]')).toBe('100');
    expect(await page.inputValue('[data-testid=config-evalTrain]')).toBe('1000');
    expect(await page.inputValue('[data-testid=config-init]')).toBe('constant');
    expect(await page.inputValue('[data-testid=config-widths]')).toBe('32,64,1024');
    expect(await page.isHidden('[data-testid=error]')).toBe(true);
    await page.fill('[data-testid=config-batch]', '25');
    await page.dispatchEvent('[data-testid=config-batch]', 'change');
    expect(new URL(page.url()).searchParams.get('batch')).toBe('25');
    expect(new URL(page.url()).searchParams.get('steps')).toBe('300');
    await page.close();
  });

  test('shows bad URL parameters as clear errors and stays usable', async () => {
    const page = await open('steps=abc&autorun=1');
    await page.waitForSelector('[data-testid=error]:visible');
    expect(await page.textContent('[data-testid=error]')).toBe("URL parameter: invalid steps: 'abc' (expected an integer >= 0)");
    expect(await page.isEnabled('[data-testid=start]')).toBe(true);
    expect(await page.textContent('[data-testid=status]')).toBe('not started');
    await page.goto(`${served.base}?stepz=3`);
    await page.waitForSelector('[data-testid=error]:visible');
    expect(await page.textContent('[data-testid=error]')).toMatch(/^URL parameter: unknown config key 'stepz' \(known: .*\bsteps\b/);
    await page.close();
  });

  test('shows missing data and a crashed worker as clear errors', async () => {
    const page = await open(`${PARITY_QUERY}&data=nowhere/&autorun=1`);
    await settled(page);
    expect(await page.textContent('[data-testid=error]')).toMatch(
      /^missing data: .*\/nowhere\/ has no train-labels-idx1-ubyte \(or \.gz\) .*; the folder comes from the URL parameter data=nowhere\/$/,
    );
    expect(await page.isEnabled('[data-testid=start]')).toBe(true);
    // evalTrain larger than the train split: refused from the train labels, before the images are fetched.
    const requested: string[] = [];
    page.on('request', (request) => void requested.push(request.url()));
    await page.goto(`${served.base}?validationSize=100&evalTrain=5000&autorun=1`);
    await settled(page);
    expect(await page.textContent('[data-testid=error]')).toBe('invalid eval-train: 5000 exceeds the train split (1000 images)');
    const fetched = requested.filter((u) => u.includes('/mnist/')).map((u) => new URL(u).pathname);
    expect(fetched.length).toBeGreaterThan(0);
    expect(fetched.filter((p) => !p.startsWith('/mnist/train-labels-idx1-ubyte'))).toEqual([]);
    await page.route('**/worker.js', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'text/javascript',
        headers: { 'Cross-Origin-Embedder-Policy': 'require-corp' },
        body: 'throw new Error("simulated crash");',
      }),
    );
    await page.goto(`${served.base}?${PARITY_QUERY}&autorun=1`);
    await settled(page);
    // The worker's own error, and where it was thrown.
    expect(await page.textContent('[data-testid=error]')).toMatch(
      /^the engine worker crashed: .*simulated crash \(at http:\/\/127\.0\.0\.1:\d+\/worker\.js:1:\d+\)$/,
    );
    expect(await page.isEnabled('[data-testid=start]')).toBe(true);
    await page.close();
  });

  test('threads=1 runs the single-threaded build and gives the same weights as every core', async () => {
    const hashes: string[] = [];
    for (const threads of ['1', 'auto']) {
      const page = await open(`${PARITY_QUERY}&threads=${threads}&autorun=1`);
      await settled(page);
      expect(await page.isHidden('[data-testid=error]')).toBe(true);
      const engine = await page.textContent('[data-testid=engine]');
      // Own kernels on every thread too: the threaded build's heap is shared with their helpers.
      const cores = availableParallelism();
      expect(engine).toMatch(
        threads === '1' ? /, 1 thread \(own kernels: 1\);/ : new RegExp(`, ${cores} threads? \\(own kernels: ${cores}\\);`),
      );
      hashes.push((await page.textContent('[data-testid=weights-sha256]')) ?? '');
      await page.close();
    }
    expect(hashes[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(hashes[1]).toBe(hashes[0]);
  });

  test('symmetric execution in the browser: once per copy set and every unit computed both give the CLI hash', async () => {
    mkdirSync(TMP, { recursive: true });
    const out = mkdtempSync(join(TMP, 'symmetric-'));
    const flags = ['--validation-size', '100', '--steps', '30', '--widths', '16,32,32', '--eval-every', '10', '--eval-train', '200'];
    const cli = spawnSync(process.execPath, [CLI, 'train', '--data', FIXTURE, ...flags, '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(cli.status, cli.stderr).toBe(0);
    const cliSummary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Json;
    expect(cliSummary.stepPaths).toEqual({ symmetric: 30, plain: 0 });
    for (const exec of ['on', 'off']) {
      const page = await open(`validationSize=100&steps=30&widths=16,32,32&evalEvery=10&evalTrain=200&symmetricExec=${exec}&autorun=1`);
      await settled(page);
      expect(await page.isHidden('[data-testid=error]')).toBe(true);
      expect(await page.textContent('[data-testid=weights-sha256]'), `symmetricExec=${exec}`).toBe(cliSummary.weightsSha256);
      // The page's summary says how the steps ran.
      const summary = JSON.parse((await page.textContent('[data-testid=summary-json]')) ?? '{}');
      expect(summary.stepPaths).toEqual(exec === 'on' ? { symmetric: 30, plain: 0 } : { symmetric: 0, plain: 30 });
      await page.close();
    }
  });

  test('PARITY: the browser run equals the CLI run bitwise (weightsSha256, CSV bytes, metrics, config, summary)', async () => {
    mkdirSync(TMP, { recursive: true });
    const out = mkdtempSync(join(TMP, 'parity-')); // train accepts an empty folder
    const cli = spawnSync(process.execPath, [CLI, 'train', '--data', FIXTURE, ...PARITY_FLAGS, '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(cli.status, cli.stderr).toBe(0);
    const cliSummary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Json;

    const page = await open(`${PARITY_QUERY}&autorun=1`);
    await settled(page);
    expect(await page.isHidden('[data-testid=error]')).toBe(true);
    const sha = await page.textContent('[data-testid=weights-sha256]');
    console.log(`[web.test] parity weightsSha256: cli ${cliSummary.weightsSha256}, browser ${sha}`);
    expect(sha).toBe(cliSummary.weightsSha256);
    PARITY_SHA_FROM_CLI.value = String(cliSummary.weightsSha256);

    const csv = await download(page, 'csv');
    expect(csv.name).toBe('validation-curve-accuracy.csv');
    expect(csv.text).toBe(readFileSync(join(out, 'validation-curve-accuracy.csv'), 'utf8'));
    const metrics = await download(page, 'metrics');
    expect(metrics.name).toBe('metrics.jsonl');
    const lines = (text: string) =>
      text
        .trimEnd()
        .split('\n')
        .map((l) => untimed(JSON.parse(l)));
    expect(lines(metrics.text)).toEqual(lines(readFileSync(join(out, 'metrics.jsonl'), 'utf8')));
    const config = await download(page, 'config');
    const cliConfig = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Json;
    const webConfig = JSON.parse(config.text) as Json;
    expect(webConfig.config).toEqual(cliConfig.config);
    expect(untimed(webConfig.engine)).toEqual(untimed(cliConfig.engine));
    console.log(`[web.test] engines: cli ${JSON.stringify(cliConfig.engine)}, browser ${JSON.stringify(webConfig.engine)}`);
    // The page is cross-origin isolated: the threaded build runs in the worker, on every core.
    expect((webConfig.engine as { threads: number }).threads).toBe(availableParallelism());
    expect(webConfig.data).toBe(`${served.base}mnist/`);
    const summary = await download(page, 'summary');
    expect(await page.textContent('[data-testid=summary-json]')).toBe(summary.text);
    expect(untimed(JSON.parse(summary.text))).toEqual(untimed(cliSummary));
    await page.close();
  });

  test('a shuffled summation order (--reduce-order shuffled --reduce-shuffle all) replays in the browser: the CLI hash', async () => {
    mkdirSync(TMP, { recursive: true });
    const out = mkdtempSync(join(TMP, 'shuffled-'));
    const shuffled = ['--reduce-order', 'shuffled', '--reduce-shuffle', 'all', '--seed', '3'];
    const cli = spawnSync(process.execPath, [CLI, 'train', '--data', FIXTURE, ...PARITY_FLAGS, ...shuffled, '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(cli.status, cli.stderr).toBe(0);
    const cliSummary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Json;
    expect((cliSummary.config as Json).reduceShuffle).toBe('all');
    const page = await open(`${PARITY_QUERY}&reduceOrder=shuffled&reduceShuffle=all&seed=3&autorun=1`);
    await settled(page);
    expect(await page.textContent('[data-testid=error]')).toBe('');
    const sha = await page.textContent('[data-testid=weights-sha256]');
    console.log(`[web.test] shuffled weightsSha256: cli ${cliSummary.weightsSha256}, browser ${sha}`);
    expect(sha).toBe(cliSummary.weightsSha256);
    expect(PARITY_SHA_FROM_CLI.value, 'the parity test (which runs the CLI) must pass first').not.toBe('');
    // The orders were drawn: with a fixed order the seed changes nothing here (constant init, first epoch in file order).
    expect(sha).not.toBe(PARITY_SHA_FROM_CLI.value);
    await page.close();
  });

  test('a threaded build that fails to start falls back to single-threaded SIMD, saying why, with the same weights', async () => {
    const page = await open(PARITY_QUERY);
    // The threaded binary missing: detection allows the threaded build, its start then fails.
    await page.route('**/tfjs-backend-wasm-threaded-simd.wasm', (route) => route.fulfill({ status: 404, body: 'gone' }));
    await page.goto(`${served.base}?${PARITY_QUERY}&autorun=1`);
    await settled(page);
    expect(await page.textContent('[data-testid=error]')).toBe('');
    const engine = await page.textContent('[data-testid=engine]');
    console.log(`[web.test] fallback: ${engine}`);
    expect(engine).toMatch(
      /, 1 thread \(own kernels: 1\);.*; single-threaded SIMD build: the threaded SIMD build failed to start: .*HTTP status code is not ok/,
    );
    expect(PARITY_SHA_FROM_CLI.value, 'the parity test (which runs the CLI) must pass first').not.toBe('');
    expect(await page.textContent('[data-testid=weights-sha256]')).toBe(PARITY_SHA_FROM_CLI.value);
    await page.close();
  });

  test('files picked by the user (the fixture .gz files) give the same run as the served ones', async () => {
    const page = await open(PARITY_QUERY);
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent === 'ready');
    await page.setInputFiles(
      '[data-testid=data-picker]',
      ['train-images', 'train-labels', 't10k-images', 't10k-labels'].map((n) =>
        join(FIXTURE, `${n}-idx${n.endsWith('images') ? 3 : 1}-ubyte.gz`),
      ),
    );
    await page.click('[data-testid=start]');
    await settled(page);
    expect(await page.textContent('[data-testid=error]')).toBe('');
    expect(PARITY_SHA_FROM_CLI.value, 'the parity test (which runs the CLI) must pass first').not.toBe('');
    expect(await page.textContent('[data-testid=weights-sha256]')).toBe(PARITY_SHA_FROM_CLI.value);
    expect(JSON.parse((await download(page, 'config')).text).data).toBe(
      'files:train-images-idx3-ubyte.gz,train-labels-idx1-ubyte.gz,t10k-images-idx3-ubyte.gz,t10k-labels-idx1-ubyte.gz',
    );
    await page.close();
  });

  test('autorun, pause/resume (no steps while paused, same result), stop, and screenshots', async () => {
    // Every unit computed: once per copy set, the steps take microseconds and the run can end
    // before the page is paused or stopped.
    const query = 'validationSize=100&steps=80&widths=4,4,8&evalEvery=10&evalTrain=200&symmetricExec=off';
    const page = await open(`${query}&autorun=1`);
    await reachStep(page, 15);
    await page.click('[data-testid=pause]');
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent?.startsWith('paused before step'));
    const pausedAt = await stepShown(page);
    expect(await page.isEnabled('[data-testid=resume]')).toBe(true);
    expect(await page.isDisabled('[data-testid=pause]')).toBe(true);
    await page.waitForTimeout(700);
    expect(await stepShown(page)).toBe(pausedAt);
    expect(await page.textContent('[data-testid=progress]')).toMatch(/steps\/s · ETA \d+:\d\d · batch loss/);
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'web-mid-run.png'), fullPage: true });
    await page.click('[data-testid=resume]');
    await settled(page);
    expect(await page.isHidden('[data-testid=error]')).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'web-end.png'), fullPage: true });
    const pausedSha = await page.textContent('[data-testid=weights-sha256]');
    const csv = (await download(page, 'csv')).text.trimEnd().split('\n');
    expect(csv.map((l) => Number(l.split(';')[0]))).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80]);

    // The same run without a pause ends on the same weights.
    await page.goto(`${served.base}?${query}&autorun=1`);
    await settled(page);
    expect(await page.textContent('[data-testid=weights-sha256]')).toBe(pausedSha);

    // Stop: the run ends early, the page says so, and the downloads hold what was evaluated.
    await page.click('[data-testid=start]');
    await reachStep(page, 12);
    await page.click('[data-testid=stop]');
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent?.startsWith('stopped before step'));
    expect(await page.textContent('[data-testid=weights-sha256]')).toBe('');
    expect(await page.isEnabled('[data-testid=start]')).toBe(true);
    const partial = (await download(page, 'csv')).text.trimEnd().split('\n');
    expect(partial.length).toBeGreaterThanOrEqual(2);
    expect(partial.length).toBeLessThan(9);
    await page.close();
  });
});
