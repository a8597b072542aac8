// Checkpoints across the CLI and the web page, in a real headless Chromium against the BUILT
// `mnist-sym-wasm serve`: a CLI checkpoint resumed on the page, and a checkpoint downloaded from the
// paused page resumed by the CLI (and by the page), each end with the uninterrupted CLI run's
// weightsSha256 and CSV bytes; corrupted checkpoints and other data are refused on the page.
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HAS_CHROMIUM, launchChromium, startServe, untimed, warnIfNoChromium } from './browser';
import { FIXTURE, ROOT, runCli, tempDir } from './helpers';

const TMP = tempDir('msw-web-ckpt-');
/** Screenshots go to the temp folder unless MSW_SCREENSHOTS_DIR says where (docs/ for committed ones). */
const SHOTS = process.env.MSW_SCREENSHOTS_DIR ? resolve(ROOT, process.env.MSW_SCREENSHOTS_DIR) : join(TMP, 'shots');

warnIfNoChromium('web-checkpoint.test');

/** One run, as CLI flags and as page URL parameters; long enough to pause the page mid-run. */
// Every unit computed: the page must still be running when the test pauses it (a symmetric step takes microseconds here).
const FLAGS = [
  '--validation-size',
  '100',
  '--steps',
  '100',
  '--widths',
  '4,4,8',
  '--eval-every',
  '10',
  '--eval-train',
  '200',
  '--symmetric-exec',
  'off',
];
const QUERY = 'validationSize=100&steps=100&widths=4,4,8&evalEvery=10&evalTrain=200&symmetricExec=off';
const CSV = 'validation-curve-accuracy.csv';

type Json = Record<string, unknown>;

const lines = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => untimed(JSON.parse(l)));

describe.skipIf(!HAS_CHROMIUM)('checkpoints between the CLI and the web page', () => {
  let server: ChildProcess;
  let base = '';
  let browser: Browser;
  /** The uninterrupted CLI run (it wrote checkpoints at 30, 60, 90, 100). */
  const cliRun = join(TMP, 'cli');
  let reference: { sha: string; csv: string; metrics: string; summary: Json };

  beforeAll(async () => {
    ({ server, base } = await startServe(FIXTURE));
    browser = await launchChromium();
    const cli = runCli(['train', '--data', FIXTURE, ...FLAGS, '--checkpoint-every', '30', '--keep', '4', '--out', cliRun]);
    expect(cli.status, cli.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(cliRun, 'summary.json'), 'utf8')) as Json;
    reference = {
      sha: String(summary.weightsSha256),
      csv: readFileSync(join(cliRun, CSV), 'utf8'),
      metrics: readFileSync(join(cliRun, 'metrics.jsonl'), 'utf8'),
      summary,
    };
    console.log(`[web-checkpoint.test] uninterrupted CLI run weightsSha256 ${reference.sha}`);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    server?.kill('SIGTERM');
    rmSync(TMP, { recursive: true, force: true });
  });

  async function open(query = ''): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1100, height: 1300 } });
    await page.goto(`${base}?${query}`);
    await page.waitForFunction(() => /^(ready|training|loading)/.test(document.querySelector('[data-testid=status]')?.textContent ?? ''));
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

  async function download(
    page: Page,
    file: 'csv' | 'metrics' | 'config' | 'summary' | 'checkpoint',
  ): Promise<{ name: string; bytes: Buffer }> {
    const [d] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid=download-${file}]`)]);
    return { name: d.suggestedFilename(), bytes: readFileSync((await d.path())!) };
  }

  /** Picks a checkpoint file and waits until the page has read it (or shows an error). */
  async function pickCheckpoint(page: Page, file: string | { name: string; mimeType: string; buffer: Buffer }): Promise<void> {
    await page.setInputFiles('[data-testid=checkpoint-picker]', file);
    await page.waitForFunction(
      () =>
        document.querySelector('[data-testid=status]')?.textContent === 'ready' &&
        (document.querySelector('[data-testid=checkpoint-info]')?.textContent ||
          !(document.querySelector('[data-testid=error]') as HTMLElement | null)?.hidden),
    );
  }

  /** The page's finished run equals the uninterrupted CLI run: hash, CSV bytes, metrics and summary. */
  async function expectReference(page: Page, label: string): Promise<void> {
    await settled(page);
    expect(await page.textContent('[data-testid=error]')).toBe('');
    const sha = await page.textContent('[data-testid=weights-sha256]');
    console.log(`[web-checkpoint.test] ${label}: weightsSha256 ${sha}`);
    expect(sha).toBe(reference.sha);
    expect((await download(page, 'csv')).bytes.toString('utf8')).toBe(reference.csv);
    expect(lines((await download(page, 'metrics')).bytes.toString('utf8'))).toEqual(lines(reference.metrics));
    expect(untimed(JSON.parse((await download(page, 'summary')).bytes.toString('utf8')))).toEqual(untimed(reference.summary));
  }

  test('a CLI checkpoint resumed on the page ends like the uninterrupted CLI run (hash, CSV bytes, metrics, summary)', async () => {
    const page = await open();
    await pickCheckpoint(page, join(cliRun, 'checkpoints', 'step-00000030.ckpt'));
    expect(await page.textContent('[data-testid=error]')).toBe('');
    expect(await page.textContent('[data-testid=checkpoint-info]')).toMatch(
      /^step-00000030\.ckpt: step 30 of 100\. The config above comes from the checkpoint/,
    );
    // The form shows the checkpoint's config; only the resume-safe fields stay editable.
    expect(await page.inputValue('[data-testid=config-widths]')).toBe('4,4,8');
    expect(await page.inputValue('[data-testid=config-steps]')).toBe('100');
    expect(await page.isDisabled('[data-testid=config-widths]')).toBe(true);
    expect(await page.isEnabled('[data-testid=config-steps]')).toBe(true);
    expect(await page.textContent('[data-testid=start]')).toBe('Resume from step 30');
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'web-resume.png'), fullPage: true });
    await page.click('[data-testid=start]');
    await expectReference(page, 'CLI step-30 checkpoint resumed on the page');
    // The finished run's checkpoint is its final state, under the CLI's file name.
    const final = await download(page, 'checkpoint');
    expect(final.name).toBe('step-00000100.ckpt');
    await page.close();
  });

  test('a checkpoint downloaded from the paused page resumes with `train --resume` (and on the page) to the same hash', async () => {
    const page = await open(`${QUERY}&autorun=1`);
    await page.waitForFunction(
      () => Number(/step (\d+)\//.exec(document.querySelector('[data-testid=progress]')?.textContent ?? '')?.[1] ?? 0) >= 12,
      null,
      { timeout: 60_000 },
    );
    // While running, the checkpoint is taken at the next step boundary.
    const shownBefore = Number(/step (\d+)\//.exec((await page.textContent('[data-testid=progress]')) ?? '')![1]);
    const running = await download(page, 'checkpoint');
    expect(Number(/^step-(\d{8})\.ckpt$/.exec(running.name)![1])).toBeGreaterThanOrEqual(shownBefore);
    await page.click('[data-testid=pause]');
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent?.startsWith('paused before step'));
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'web-paused-checkpoint.png'), fullPage: true });
    const pausedAt = Number(/step (\d+)\//.exec((await page.textContent('[data-testid=progress]')) ?? '')![1]);
    expect(pausedAt).toBeLessThan(100);
    // While paused, the checkpoint is at the current step; the CSV and metrics end at the same point.
    const ckpt = await download(page, 'checkpoint');
    expect(ckpt.name).toBe(`step-${String(pausedAt).padStart(8, '0')}.ckpt`);
    const csv = await download(page, 'csv');
    const metrics = await download(page, 'metrics');
    await page.click('[data-testid=resume]');
    await settled(page);
    expect(await page.textContent('[data-testid=weights-sha256]')).toBe(reference.sha);

    // The CLI resumes it from a run folder made of the page's downloads.
    const dir = join(TMP, 'from-page');
    mkdirSync(join(dir, 'checkpoints'), { recursive: true });
    writeFileSync(join(dir, 'checkpoints', ckpt.name), ckpt.bytes);
    writeFileSync(join(dir, CSV), csv.bytes);
    writeFileSync(join(dir, 'metrics.jsonl'), metrics.bytes);
    const cli = runCli(['train', '--resume', dir, '--data', FIXTURE, '--json']);
    expect(cli.status, cli.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as Json;
    console.log(`[web-checkpoint.test] page checkpoint at step ${pausedAt} resumed by the CLI: weightsSha256 ${summary.weightsSha256}`);
    expect(summary.weightsSha256).toBe(reference.sha);
    expect(readFileSync(join(dir, CSV), 'utf8')).toBe(reference.csv);
    expect(lines(readFileSync(join(dir, 'metrics.jsonl'), 'utf8'))).toEqual(lines(reference.metrics));

    // The page resumes its own checkpoint too, rebuilding the earlier CSV/metrics lines from it.
    await page.goto(base);
    await pickCheckpoint(page, { name: ckpt.name, mimeType: 'application/octet-stream', buffer: ckpt.bytes });
    await page.click('[data-testid=start]');
    await expectReference(page, `page checkpoint at step ${pausedAt} resumed on the page`);
    await page.close();
  });

  test('corrupted and foreign checkpoints, and other data, are refused with clear errors; the page stays usable', async () => {
    const good = readFileSync(join(cliRun, 'checkpoints', 'step-00000060.ckpt'));
    const bad = Buffer.from(good);
    bad[bad.length >> 1] ^= 0x40;
    const page = await open(QUERY);
    await pickCheckpoint(page, { name: 'bad.ckpt', mimeType: 'application/octet-stream', buffer: bad });
    expect(await page.textContent('[data-testid=error]')).toBe('bad.ckpt: checkpoint is corrupted (SHA-256 checksum mismatch)');
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'web-bad-checkpoint.png'), fullPage: true });
    await pickCheckpoint(page, { name: 'short.ckpt', mimeType: 'application/octet-stream', buffer: good.subarray(0, 1000) });
    expect(await page.textContent('[data-testid=error]')).toBe(`short.ckpt: checkpoint is truncated (1000 of ${good.length} bytes)`);
    await pickCheckpoint(page, join(cliRun, CSV));
    expect(await page.textContent('[data-testid=error]')).toBe(`${CSV}: not a mnist-sym-wasm checkpoint (unknown file signature)`);
    // Still a fresh-run page: the form is editable and Start starts.
    expect(await page.textContent('[data-testid=checkpoint-info]')).toBe('');
    expect(await page.isEnabled('[data-testid=config-widths]')).toBe(true);
    expect(await page.textContent('[data-testid=start]')).toBe('Start');
    // ...and a stopped run can still be downloaded, at the step it stopped.
    await page.click('[data-testid=start]');
    await page.waitForFunction(
      () => Number(/step (\d+)\//.exec(document.querySelector('[data-testid=progress]')?.textContent ?? '')?.[1] ?? 0) >= 5,
    );
    await page.click('[data-testid=stop]');
    await page.waitForFunction(() => document.querySelector('[data-testid=status]')?.textContent?.startsWith('stopped before step'));
    const stoppedAt = Number(/stopped before step (\d+)/.exec((await page.textContent('[data-testid=status]')) ?? '')![1]) - 1;
    expect((await download(page, 'checkpoint')).name).toBe(`step-${String(stoppedAt).padStart(8, '0')}.ckpt`);

    // Other MNIST (one test pixel changed): core's fingerprint check refuses the resume at start.
    const other = join(TMP, 'other-data');
    mkdirSync(other, { recursive: true });
    for (const n of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-labels-idx1-ubyte'])
      copyFileSync(join(FIXTURE, `${n}.gz`), join(other, `${n}.gz`));
    const images = gunzipSync(readFileSync(join(FIXTURE, 't10k-images-idx3-ubyte.gz')));
    images[16 + 400] ^= 0xff;
    writeFileSync(join(other, 't10k-images-idx3-ubyte'), images);
    await pickCheckpoint(page, join(cliRun, 'checkpoints', 'step-00000060.ckpt'));
    expect(await page.textContent('[data-testid=error]')).toBe('');
    await page.setInputFiles(
      '[data-testid=data-picker]',
      ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte'].map((n) =>
        join(other, n),
      ),
    );
    await page.click('[data-testid=start]');
    await settled(page);
    expect(await page.textContent('[data-testid=error]')).toBe(
      'checkpoint was trained on different MNIST data (fingerprint differs); pass the data the run used',
    );
    expect(await page.isEnabled('[data-testid=start]')).toBe(true);
    // Back to the served data: the same checkpoint now resumes to the reference hash.
    await page.check('#data-server');
    await page.click('[data-testid=start]');
    await settled(page);
    expect(await page.textContent('[data-testid=error]')).toBe('');
    expect(await page.textContent('[data-testid=weights-sha256]')).toBe(reference.sha);
    await page.close();
  });
});
