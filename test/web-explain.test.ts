import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { HAS_CHROMIUM, untimed, useServedChromium, warnIfNoChromium } from './browser';
import { FIXTURE, runCli, tempDir } from './helpers';

warnIfNoChromium('web-explain.test');

/** One tiny suite: CLI flags, and the same as explainSuite options (the Answer view's URL gives these). */
const FLAGS = ['--validation-size', '100', '--widths', '4,8,16', '--steps', '6', '--eval-every', '3', '--test-images', '100'];
const OPTIONS = { overrides: { validationSize: '100', widths: '4,8,16', steps: '6', evalEvery: '3' }, testImages: 100 };

/** The same suite as the Answer view's URL parameters. */
const QUERY = 'view=answer&validationSize=100&widths=4,8,16&steps=6&evalEvery=3&testImages=100';

type Json = Record<string, unknown>;

/** The report without what may differ between two runs of it (wall clock, thread counts, generation time). */
function comparable(report: Json): Json {
  const { generated: _g, ...rest } = untimed(report);
  return rest;
}

describe.skipIf(!HAS_CHROMIUM)('explain in the web worker', () => {
  const served = useServedChromium(FIXTURE);

  let cliReport: Json | null = null;
  /** The CLI's report.json for the suite (run once). */
  function cliExplain(): Json {
    if (cliReport) return cliReport;
    const out = join(tempDir(), 'explain');
    const cli = runCli(['explain', '--data', FIXTURE, ...FLAGS, '--out', out]);
    expect(cli.stderr).not.toMatch(/\n\s+at /);
    expect(cli.status).toBe(0);
    cliReport = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as Json;
    return cliReport;
  }

  test("the worker's explain gives the CLI's report.json for the same suite", async () => {
    const cliReport = cliExplain();

    const page = await served.browser.newPage();
    await page.goto(served.base);
    const result = await page.evaluate(async (options) => {
      const names = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
      const keys = ['trainImages', 'trainLabels', 'testImages', 'testLabels'];
      const bytes = await Promise.all(names.map(async (n) => new Uint8Array(await (await fetch(`mnist/${n}.gz`)).arrayBuffer())));
      const files = Object.fromEntries(keys.map((k, i) => [k, bytes[i]]));
      const worker = new Worker('./worker.js', { type: 'module' });
      // comlink's wire format: an APPLY of `explain` with a raw request and a proxied callback,
      // whose calls are answered with RAW undefined; the reply carries the call's id.
      const events: { type: string }[] = [];
      const { port1, port2 } = new MessageChannel();
      port1.onmessage = (ev) => {
        const { id, argumentList } = ev.data as { id: string; argumentList: { value: { type: string } }[] };
        events.push(argumentList[0].value);
        port1.postMessage({ id, type: 'RAW', value: undefined });
      };
      const reply = await new Promise<{ type: string; value: unknown; name?: string }>((resolve) => {
        worker.onmessage = (ev) => {
          if ((ev.data as { id?: string }).id === 'explain-1') resolve(ev.data);
        };
        worker.postMessage(
          {
            id: 'explain-1',
            type: 'APPLY',
            path: ['explain'],
            argumentList: [
              { type: 'RAW', value: { options, files } },
              { type: 'HANDLER', name: 'proxy', value: port2 },
            ],
          },
          [port2],
        );
      });
      worker.terminate();
      return { reply, events: events.map((e) => e.type) };
    }, OPTIONS);
    await page.close();
    expect(result.reply.type, JSON.stringify(result.reply).slice(0, 500)).toBe('RAW');
    const webReport = result.reply.value as Json;
    expect(comparable(webReport)).toEqual(comparable(cliReport));
    // Findings, with their words and numbers, are the CLI's; the worker reported every run.
    expect((webReport.findings as unknown[]).length).toBeGreaterThan(5);
    const runs = (cliReport.results as unknown[]).length;
    expect(result.events.filter((t) => t === 'run-end').length).toBe(runs);
    expect(result.events[0]).toBe('build');
  });

  test("the Answer view shows the same report, and a run's rerun link retrains it", async () => {
    const cli = cliExplain();
    const page = await served.browser.newPage({ viewport: { width: 1100, height: 1300 } });
    await page.goto(`${served.base}?${QUERY}&autorun=1`);
    await page.waitForFunction(
      () =>
        !(document.querySelector('[data-testid=answer-download]') as HTMLElement | null)?.hidden ||
        !(document.querySelector('[data-testid=error]') as HTMLElement | null)?.hidden,
      null,
      { timeout: 120_000 },
    );
    expect(await page.textContent('[data-testid=error]')).toBe('');
    const [d] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=answer-download]')]);
    const shown = JSON.parse(readFileSync((await d.path())!, 'utf8')) as Json;
    expect(comparable(shown)).toEqual(comparable(cli));
    const findings = cli.findings as { id: string; text: string }[];
    expect(await page.locator('[data-testid=answer-finding]').count()).toBe(findings.length);
    for (const f of findings) expect(await page.textContent(`[data-testid=answer-finding][data-id="${f.id}"]`)).toContain(f.text);
    // The first run's link reopens the main page on its config and reruns it: the same weights.
    const table = cli.table as { weightsSha256: string }[];
    await page.click('[data-testid=answer-run] >> nth=0 >> [data-testid=answer-rerun]');
    await page.waitForFunction(() => document.querySelector('[data-testid=weights-sha256]')?.textContent, null, { timeout: 60_000 });
    expect(await page.textContent('[data-testid=weights-sha256]')).toBe(table[0].weightsSha256);
    await page.close();
  });
});
